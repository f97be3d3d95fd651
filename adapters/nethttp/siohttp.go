// Package siohttp mounts siokit on net/http: [Handler] serves an engine (an
// Engine.IO server, a Socket.IO server or an App) as an http.Handler, and
// [Middleware] puts it in front of an existing handler, forwarding every
// request that is not for it.
//
// It is the one net/http translation of siokit's adapter contract; the chi,
// gin and echo adapters hand their (w, r) to it.
package siohttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/siokit/siokit/core/engineio"
)

// Handler returns an http.Handler that serves h.
func Handler(h engineio.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Serve(h, w, r)
	})
}

// Middleware returns an http.Handler that serves requests for h's path with h
// and forwards every other request to next.
func Middleware(h engineio.Handler, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.Match(r.URL.EscapedPath()) { // the path the engine sees as Request.Path
			Serve(h, w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Serve answers one request with h. Adapters of frameworks built on net/http
// call it with their (w, r).
func Serve(h engineio.Handler, w http.ResponseWriter, r *http.Request) {
	q := &request{r: r, w: w} // the request and its response, in one allocation
	h.ServeRequest(q, q)
	if q.extended {
		q.clearDeadlines()
	}
}

// Unwrap returns the *http.Request behind a request handed to the engine by
// this package. It panics on a request of another adapter.
func Unwrap(r engineio.Request) *http.Request {
	req, ok := r.(*request)
	if !ok {
		panic(fmt.Sprintf("siohttp: Unwrap called on %T, not a siohttp request", r))
	}
	return req.r
}

var (
	_ engineio.Request          = (*request)(nil)
	_ engineio.Hijacker         = (*request)(nil)
	_ engineio.ResponseWriter   = (*request)(nil)
	_ engineio.TLSRequest       = (*request)(nil)
	_ engineio.DeadlineExtender = (*request)(nil)
)

type request struct {
	r        *http.Request
	w        http.ResponseWriter
	extended bool // ExtendDeadlines moved the connection's deadlines
}

func (q *request) Context() context.Context { return q.r.Context() }
func (q *request) Method() string           { return q.r.Method }
func (q *request) Path() string             { return q.r.URL.EscapedPath() }
func (q *request) RawQuery() string         { return q.r.URL.RawQuery }
func (q *request) RemoteAddr() string       { return q.r.RemoteAddr }
func (q *request) Body() io.Reader          { return q.r.Body }
func (q *request) Headers() http.Header {
	h := q.r.Header.Clone()
	h.Set("Host", q.r.Host)
	return h
}

// TLS reports whether the request came over TLS, for the engine's
// same-origin check.
func (q *request) TLS() bool { return q.r.TLS != nil }

// ExtendDeadlines moves the connection's read and write deadlines to t
// through http.ResponseController, so that an http.Server's ReadTimeout and
// WriteTimeout do not cut a long-poll: the engine calls it before a poll
// waits and before a POST's packets are delivered. Without it a ReadTimeout
// cancels the request's context once it expires (net/http's background
// read fails), and a WriteTimeout fails the poll's response.
//
// The deadlines are cleared when the request ends (see clearDeadlines).
func (q *request) ExtendDeadlines(t time.Time) error {
	rc := http.NewResponseController(q.w)
	errR := rc.SetReadDeadline(t)
	errW := rc.SetWriteDeadline(t)
	q.extended = true
	return errors.Join(errR, errW)
}

// clearDeadlines removes the deadlines ExtendDeadlines set once the handler
// is done, so that they cannot outlive the request on a keep-alive
// connection: net/http sets its own again for the next request where the
// server has ReadTimeout or WriteTimeout, and documents no reset of a
// handler's deadline where it has none.
func (q *request) clearDeadlines() {
	rc := http.NewResponseController(q.w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
}

func (q *request) Header(name string) string {
	if name == "Host" {
		return q.r.Host
	}
	return q.r.Header.Get(name)
}

// Hijack takes the connection over from net/http (through
// http.ResponseController, so wrapped writers that Unwrap work) and runs fn
// on it, on a new goroutine; it returns at once. The engine answers the
// WebSocket handshake itself.
func (q *request) Hijack(fn func(conn net.Conn, buffered []byte)) error {
	conn, brw, err := http.NewResponseController(q.w).Hijack()
	if err != nil {
		return fmt.Errorf("siohttp: response cannot be hijacked: %w: %w", engineio.ErrUpgradeNotSupported, err)
	}
	var buffered []byte
	if n := brw.Reader.Buffered(); n > 0 {
		p, _ := brw.Peek(n)
		buffered = bytes.Clone(p)
	}
	// The connection is served on a goroutine of its own so that this
	// handler returns: net/http then drops its per-connection state (request
	// buffers, a grown stack), which an idle WebSocket would otherwise hold
	// for its whole life.
	go fn(conn, buffered)
	return nil
}

// The response side of a request.

func (q *request) SetHeader(name, value string) { q.w.Header().Set(name, value) }
func (q *request) WriteHeader(status int)       { q.w.WriteHeader(status) }
func (q *request) Write(b []byte) (int, error)  { return q.w.Write(b) }
