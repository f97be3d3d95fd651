package engineio

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

// Request is the transport-agnostic view of one HTTP request that the engine
// needs. Adapters implement it for their framework; it exposes only strings,
// readers and a context, never a framework type.
//
// A Request is used only during the call to [Server.ServeRequest] (and, for a
// WebSocket, until the upgrade callback returns). Adapters whose framework
// pools request objects must copy what these methods return before reuse.
type Request interface {
	// Context is cancelled when the client goes away or the server stops,
	// where the framework can tell. The engine never relies on it alone: the
	// heartbeat reaps dead peers.
	Context() context.Context
	// Method is the HTTP method, upper case.
	Method() string
	// Path is the URL path, not unescaped.
	Path() string
	// RawQuery is the URL query without the leading '?'.
	RawQuery() string
	// Header returns the first value of the named header, or "". "Host"
	// returns the host the request was sent to, even where the framework
	// keeps it apart from the other headers.
	Header(name string) string
	// Headers returns a copy of all request headers. The engine calls it once
	// per session, at the handshake.
	Headers() http.Header
	// RemoteAddr is the peer's address as host:port.
	RemoteAddr() string
	// Body reads the request body.
	Body() io.Reader
}

// ResponseWriter is the response half of an adapter.
type ResponseWriter interface {
	// SetHeader sets a response header. It must be called before WriteHeader.
	SetHeader(name, value string)
	// WriteHeader sends the status line and headers.
	WriteHeader(status int)
	// Write writes body bytes, sending status 200 first if WriteHeader was not called.
	Write(p []byte) (int, error)
}

// Upgrader is an optional capability of a [Request]: switching the connection
// to the WebSocket protocol. The engine finds it by type assertion.
//
// Upgrade answers the handshake and hands the connection to fn. It is shaped
// as a callback because some servers (fasthttp) can hand over the connection
// only after the request handler returns. fn may run inline (Upgrade then
// returns when it does) or on another goroutine after Upgrade returns:
// siohttp starts one so that net/http releases its per-request state, and
// fasthttp adapters call fn from the hijack handler. fn owns the connection
// until it returns, then the adapter closes it: once fn has returned, the
// engine makes no call on the connection but Close, which may come from any
// goroutine at any time, so Close must stay safe to call after the adapter
// has closed the connection. Cross-origin checks have been done by the
// engine when Upgrade is called, so adapters must accept any Origin.
//
// An adapter that cannot upgrade this request returns, having written
// nothing, an error for which errors.Is(err, ErrUpgradeNotSupported) holds;
// the engine then answers. Any other error means the adapter has answered
// (a malformed WebSocket handshake, typically with status 400).
type Upgrader interface {
	Upgrade(w ResponseWriter, fn func(WebSocketConn)) error
}

// ErrUpgradeNotSupported is matched (with errors.Is) by the error an adapter
// returns when a request cannot be switched to WebSocket. The session then
// stays on long-polling.
var ErrUpgradeNotSupported = errors.New("engineio: websocket upgrade not supported")

// WebSocket message types, the RFC 6455 opcodes used by gorilla/websocket and
// fasthttp/websocket alike.
const (
	TextMessage   = 1
	BinaryMessage = 2
	CloseMessage  = 8
)

// WebSocketConn is a message-oriented WebSocket connection. The method set is
// the one of gorilla/websocket's and fasthttp/websocket's *Conn, so both fit
// without a wrapper.
//
// The engine reads from one goroutine and writes from one goroutine at a time;
// WriteControl may be called concurrently with the others.
type WebSocketConn interface {
	// NextReader returns the type and a reader of the next message.
	NextReader() (messageType int, r io.Reader, err error)
	// NextWriter returns a writer for one message of the given type.
	NextWriter(messageType int) (io.WriteCloser, error)
	// WriteMessage writes one whole message.
	WriteMessage(messageType int, data []byte) error
	// WriteControl writes a control frame (close, ping, pong) before deadline.
	WriteControl(messageType int, data []byte, deadline time.Time) error
	// SetReadLimit sets the largest message, fragments included, that may be
	// read; a larger one closes the connection with status 1009.
	SetReadLimit(limit int64)
	// SetReadDeadline sets the deadline for reads.
	SetReadDeadline(t time.Time) error
	// SetWriteDeadline sets the deadline for writes.
	SetWriteDeadline(t time.Time) error
	// Close closes the underlying network connection.
	Close() error
}

// RawWebSocketConn is an optional capability of a [WebSocketConn]: the
// network connection under it, which gorilla/websocket's and
// fasthttp/websocket's *Conn both offer. The engine then writes its
// messages on that connection itself, framing every message queued for the
// client into one write, and answers the client's pings and close frame
// through the handlers it sets, under the same lock. It still reads through
// the WebSocketConn; the one write left to the library is the close frame
// it sends itself when a read fails (a protocol error, an oversized
// message), as the connection ends.
type RawWebSocketConn interface {
	WebSocketConn
	// NetConn returns the network connection the WebSocket runs on, after
	// the handshake (nil: the engine writes through the WebSocketConn).
	NetConn() net.Conn
	// SetPingHandler sets the function run for each ping frame read.
	SetPingHandler(h func(appData string) error)
	// SetCloseHandler sets the function run for the close frame read.
	SetCloseHandler(h func(code int, text string) error)
}
