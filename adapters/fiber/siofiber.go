// Package siofiber mounts siokit on Fiber v2, natively on fasthttp. [Handler]
// serves an engine (an Engine.IO server, a Socket.IO server or an
// [github.com/siokit/siokit/core/app.App]) on a route next to the
// application's own (web is the *fiber.App, so as not to shadow siokit's
// package app):
//
//	web.All("/socket.io/*", siofiber.Handler(server))
//
// and [Middleware] serves every request the engine matches and passes the
// others on:
//
//	web.Use(siofiber.Middleware(server))
//
// It implements siokit's adapter contract on fasthttp itself, without a
// net/http bridge. For WebSocket it only hands the connection over
// (fasthttp's hijack, with no response of its own): the engine answers the
// handshake and speaks the protocol itself.
//
// # fasthttp specifics
//
// fasthttp pools its request contexts, so every string the engine reads
// (method, path, query, headers, remote address) is copied out of the
// context, and so is the body. The path is the raw one from the request line,
// before fasthttp's unescaping and normalization.
//
// fasthttp hands a connection over only after the handler returns, so the
// engine's WebSocket loop runs from fasthttp's hijack handler.
//
// A long-polling GET holds its handler, and so one of fasthttp's workers,
// until there is something to send or the ping interval passes; size
// fiber.Config.Concurrency for the polling clients you expect.
//
// The engine never relies on the request's context to notice a client that
// goes away (fasthttp signals it only at server shutdown); the Engine.IO
// heartbeat reaps dead peers. Request.Context is fiber's user context.
//
// # Server configuration
//
// Build the Fiber app with [Config], which fills in what siokit needs and
// leaves every other field as given:
//
//	a := fiber.New(siofiber.Config(fiber.Config{}))
//
// It streams request bodies (fiber.Config.StreamRequestBody) and sets read,
// write and idle timeouts ([DefaultReadTimeout], [DefaultWriteTimeout], [DefaultIdleTimeout])
// where the given config has none. Without a streamed body, fasthttp reads
// every request body whole before any handler runs, up to
// fiber.Config.BodyLimit (default 4 MiB): a client that announces a
// Content-Length of 4 MB and sends one byte makes the server allocate the
// 4 MB, and 300 of them take a gigabyte. Without a read timeout a client
// that never finishes its request holds its connection for ever, and the
// server's shutdown waits for it. [Handler] and [Middleware] log one warning
// through slog.Default, at their first request, when the app's config does
// not stream bodies or has no read timeout.
//
// The timeouts leave long-polling and WebSocket alone: fasthttp starts its
// write timeout only when the handler returns, so a long-poll held up to the
// ping interval is not cut, and a WebSocket's connection leaves fasthttp's
// request loop once upgraded. A static file of an [app.App] is sent as a
// stream (fasthttp's body stream, never whole in memory), and the write
// deadline moves forward each time the client takes another chunk, so a
// large download to a slow client is cut only when the client stops
// reading for WriteTimeout.
//
// With a streamed body, the engine's MaxHTTPBufferSize applies exactly: an
// oversized polling POST, by Content-Length or chunked, gets 413, its
// session is closed, and no more than the limit plus one byte is buffered;
// the connection of a body left unread is closed after the answer. Keep
// BodyLimit above MaxHTTPBufferSize (a stream also ends at BodyLimit), so
// that every oversized body gets the engine's answer.
//
// # Shutdown
//
// Close the engine first, so every session ends with reason "server shutting
// down", blocked long-polls return and WebSocket loops end, then shut Fiber
// down:
//
//	server.Close()
//	web.Shutdown()
package siofiber

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/siokit/siokit/core/engineio"
)

// Handler returns a Fiber handler serving h. Mount it on h's path with a
// wildcard, e.g. web.All("/socket.io/*", siofiber.Handler(h)). At its first
// request it checks the app's configuration (see [Config]).
func Handler(h engineio.Handler) fiber.Handler {
	var check sync.Once
	return func(c *fiber.Ctx) error {
		check.Do(func() { warnConfig(c.App().Config()) })
		Serve(h, c)
		return nil
	}
}

// Middleware returns Fiber middleware that answers the requests h matches and
// calls c.Next for every other request. At its first request it checks the
// app's configuration (see [Config]).
func Middleware(h engineio.Handler) fiber.Handler {
	var check sync.Once
	return func(c *fiber.Ctx) error {
		check.Do(func() { warnConfig(c.App().Config()) })
		if !h.Match(string(c.Context().URI().PathOriginal())) {
			return c.Next()
		}
		Serve(h, c)
		return nil
	}
}

// Serve answers one request with h. It does not check the app's
// configuration; [Handler] and [Middleware] do.
func Serve(h engineio.Handler, c *fiber.Ctx) {
	rc := c.Context()
	req := &request{
		c:      c,
		rc:     rc,
		ctx:    c.UserContext(),
		method: string(rc.Method()),
		path:   string(rc.URI().PathOriginal()),
		query:  string(rc.URI().QueryString()),
		remote: rc.RemoteAddr().String(),
		tls:    rc.IsTLS(),
	}
	h.ServeRequest(response{rc: rc, writeTimeout: c.App().Server().WriteTimeout}, req)
	req.finishBody()
	req.c = nil // the Ctx goes back to Fiber's pool
}

// maxDrain is how much of a streamed body the engine left unread is
// discarded to keep the connection; past it the connection is closed.
const maxDrain = 64 << 10

// finishBody makes sure fasthttp will not read the rest of a streamed body
// as the next request: it discards up to maxDrain bytes of it, or else
// takes the connection over once the response is sent, to close it.
func (q *request) finishBody() {
	s := q.rc.RequestBodyStream()
	if s == nil || q.rc.Request.Header.ContentLength() == 0 || q.stream != nil && q.stream.eof {
		return
	}
	if q.stream != nil {
		s = q.stream
	}
	if n, err := io.CopyN(io.Discard, s, maxDrain+1); n > maxDrain || !errors.Is(err, io.EOF) {
		// Not SetConnectionClose: fasthttp would close the connection
		// right after the response, without running the hijack handler.
		q.rc.Hijack(lingeringClose)
	}
}

// lingerTimeout bounds how long lingeringClose waits for the client.
const lingerTimeout = 500 * time.Millisecond

// lingeringClose runs once fasthttp has sent the response, on a connection
// whose request body is still arriving: it shuts the sending side, then
// discards what the client still sends until the client closes or
// lingerTimeout passes, as net/http does. Closing at once with unread data
// would reset the connection, and a client still writing its body could
// lose the response. fasthttp closes the connection when it returns.
func lingeringClose(c net.Conn) {
	if u, ok := c.(interface{ UnsafeConn() net.Conn }); ok {
		c = u.UnsafeConn()
	}
	cw, ok := c.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil || c.SetReadDeadline(time.Now().Add(lingerTimeout)) != nil {
		return
	}
	_, _ = io.Copy(io.Discard, c)
}

// Unwrap returns the *fiber.Ctx behind a request the engine received through
// this package. It panics on a request of another adapter. The Ctx is valid
// only while the engine serves the request (during ServeRequest, in a
// handshake check such as Options.AllowRequest); Fiber reuses it afterwards,
// so never keep it, nor use it from a WebSocket loop. Unwrap returns nil once
// the request has been served.
func Unwrap(r engineio.Request) *fiber.Ctx {
	req, ok := r.(*request)
	if !ok {
		panic(fmt.Sprintf("siofiber: Unwrap called on %T, not a siofiber request", r))
	}
	return req.c
}

var (
	_ engineio.Request        = (*request)(nil)
	_ engineio.Hijacker       = (*request)(nil)
	_ engineio.TLSRequest     = (*request)(nil)
	_ engineio.ResponseWriter = response{}
)

// request holds copies of what the engine reads; rc is read only during
// ServeRequest.
type request struct {
	c                           *fiber.Ctx
	rc                          *fasthttp.RequestCtx
	ctx                         context.Context
	method, path, query, remote string
	tls                         bool
	stream                      *bodyStream // the body, if fasthttp streams it
}

func (q *request) Context() context.Context { return q.ctx }
func (q *request) Method() string           { return q.method }
func (q *request) Path() string             { return q.path }
func (q *request) RawQuery() string         { return q.query }
func (q *request) RemoteAddr() string       { return q.remote }

// TLS reports whether the request came over TLS, for the engine's
// same-origin check.
func (q *request) TLS() bool { return q.tls }

// Body returns fasthttp's body stream when the server streams request
// bodies (readable only while the engine serves the request), or else a copy
// of the body, which fasthttp has read already.
func (q *request) Body() io.Reader {
	if s := q.rc.RequestBodyStream(); s != nil {
		if q.stream == nil {
			q.stream = &bodyStream{r: s}
		}
		return q.stream
	}
	return bytes.NewReader(bytes.Clone(q.rc.Request.Body()))
}

// bodyStream notes whether the request body was read to its end.
type bodyStream struct {
	r   io.Reader
	eof bool
}

func (b *bodyStream) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if errors.Is(err, io.EOF) {
		b.eof = true
	}
	return n, err
}

func (q *request) Header(name string) string {
	if http.CanonicalHeaderKey(name) == "Host" {
		return string(q.rc.Host())
	}
	return string(q.rc.Request.Header.Peek(name))
}

func (q *request) Headers() http.Header {
	h := make(http.Header)
	for k, v := range q.rc.Request.Header.All() {
		h.Add(string(k), string(v))
	}
	h.Set("Host", string(q.rc.Host()))
	return h
}

// Hijack takes the connection over: fasthttp sends no response of its own
// (the engine answers the WebSocket handshake) and runs fn from its hijack
// handler, after the request handler has returned; it closes the
// connection when fn returns.
func (q *request) Hijack(fn func(conn net.Conn, buffered []byte)) error {
	q.rc.HijackSetNoResponse(true)
	q.rc.Hijack(func(c net.Conn) {
		fn(newHijacked(c), nil)
	})
	return nil
}

// hijacked is fasthttp's hijacked connection with a Close that reaches the
// network connection: fasthttp's wrapper ignores Close until the hijack
// handler returns, so a read blocked in the engine's loop would never end.
// Reads go through the wrapper, which first returns what fasthttp had
// buffered; writes, deadlines and Close go to the network connection.
//
// When the hijack handler returns, fasthttp recycles its wrapper. Nothing
// reads it then: the engine makes no call on the connection once fn has
// returned but Close, which uses the network connection itself.
type hijacked struct {
	net.Conn           // the network connection under fasthttp's wrapper
	r        io.Reader // fasthttp's wrapper
}

func newHijacked(c net.Conn) *hijacked {
	raw := c
	if u, ok := c.(interface{ UnsafeConn() net.Conn }); ok {
		raw = u.UnsafeConn()
	}
	return &hijacked{Conn: raw, r: c}
}

func (h *hijacked) Read(p []byte) (int, error) { return h.r.Read(p) }

// CloseWrite shuts the sending side of the network connection, where it
// has one (TCP, TLS).
func (h *hijacked) CloseWrite() error {
	if cw, ok := h.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Close closes the network connection; a blocked read or write returns.
func (h *hijacked) Close() error {
	if err := h.Conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// response buffers the body in fasthttp's response, sent when the handler
// returns; a static file of the App goes out as a stream (app.StreamWriter).
type response struct {
	rc           *fasthttp.RequestCtx
	writeTimeout time.Duration // the server's, moved forward by a file stream
}

func (p response) SetHeader(name, value string) { p.rc.Response.Header.Set(name, value) }
func (p response) WriteHeader(status int)       { p.rc.SetStatusCode(status) }
func (p response) Write(b []byte) (int, error)  { return p.rc.Write(b) }
