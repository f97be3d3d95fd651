package engineio

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
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

// Hijacker is an optional capability of a [Request]: taking its connection
// over, for the WebSocket protocol. The engine finds it by type assertion,
// having checked the WebSocket handshake and applied its CORS policy, so
// adapters must accept any Origin.
//
// Hijack takes the network connection from the HTTP server and hands it to
// fn with the bytes the server had already read past the request (nil when
// conn's own Read returns them first). The engine writes the handshake
// response (101 Switching Protocols) itself: the adapter sends nothing. It
// clears the connection's deadlines and closes it when fn returns, and
// reads and writes everything on it (frames, pings, close frames) in
// between. fn may run inline (Hijack then returns when it does) or on
// another goroutine after Hijack returns: it is shaped as a callback
// because some servers (fasthttp) can hand over the connection only after
// the request handler returns.
//
// An adapter that cannot take this connection over returns, having written
// nothing, an error for which errors.Is(err, ErrUpgradeNotSupported) holds;
// the engine then answers. It must not call fn then.
type Hijacker interface {
	Hijack(fn func(conn net.Conn, buffered []byte)) error
}

// ErrUpgradeNotSupported is matched (with errors.Is) by the error an adapter
// returns when a request cannot be switched to WebSocket. The session then
// stays on long-polling.
var ErrUpgradeNotSupported = errors.New("engineio: websocket upgrade not supported")
