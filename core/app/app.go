package app

import (
	"io"
	"net/http"
	"strconv"

	"github.com/siokit/siokit/core/engineio"
)

// Options configures an [App]. nil selects the defaults: no static files and
// no other application.
type Options struct {
	// Static lists the static-file rules. Default none.
	Static []StaticRule
	// Other, if set, answers every request that is neither for the engine nor
	// for a static file. Default nil: those requests get 404 "Not Found".
	Other engineio.Handler
}

// App routes requests to an engine, to static files and to another
// application, by the precedence in the package documentation. It is an
// [engineio.Handler], safe for concurrent use, and immutable once built.
type App struct {
	engine engineio.Handler
	other  engineio.Handler
	rules  *rules
}

var _ engineio.Handler = (*App)(nil)

// New returns an App serving engine, with the given options (nil for none).
// The rules are copied; later changes to opts have no effect.
func New(engine engineio.Handler, opts *Options) *App {
	var o Options
	if opts != nil {
		o = *opts
	}
	return &App{engine: engine, other: o.Other, rules: compile(o.Static)}
}

// Match reports whether the App itself answers a request for path: the
// engine's paths, and URLs a static rule maps to an existing regular file.
// It reads the file system for the latter.
func (a *App) Match(path string) bool {
	if a.engine.Match(path) {
		return true
	}
	t, ok := a.rules.resolve(path)
	return ok && t.exists()
}

// ServeRequest answers one request.
func (a *App) ServeRequest(w engineio.ResponseWriter, r engineio.Request) {
	p := r.Path()
	if a.engine.Match(p) {
		a.engine.ServeRequest(w, r)
		return
	}
	if m := r.Method(); m == http.MethodGet || m == http.MethodHead {
		if t, ok := a.rules.resolve(p); ok && serveFile(w, t, m == http.MethodHead) {
			return
		}
	}
	if a.other != nil {
		a.other.ServeRequest(w, r)
		return
	}
	NotFound(w)
}

// StreamWriter is an optional capability of an [engineio.ResponseWriter]:
// sending a response body from a reader, which the writer takes over. The App
// finds it by type assertion and serves static files through it, so a server
// that otherwise buffers a whole response body before sending it (fasthttp)
// sends a file as a stream, with bounded memory however large the file is.
type StreamWriter interface {
	engineio.ResponseWriter
	// WriteStream sends body, size bytes long, as the response body, after
	// the status and headers already set. It takes body over: body is closed
	// once sent, or once the server gives up on the connection. It may return
	// before the body is sent.
	WriteStream(body io.ReadCloser, size int64)
}

// serveFile writes the target's file and reports whether it existed.
func serveFile(w engineio.ResponseWriter, t target, head bool) bool {
	f, fi, err := t.open()
	if err != nil {
		return false
	}
	w.SetHeader("Content-Type", t.ctype)
	w.SetHeader("Content-Length", strconv.FormatInt(fi.Size(), 10))
	w.SetHeader("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if sw, ok := w.(StreamWriter); ok && !head {
		sw.WriteStream(f, fi.Size())
		return true
	}
	defer func() { _ = f.Close() }()
	if !head {
		// An error here is the client going away; the status is already sent.
		_, _ = io.Copy(w, f)
	}
	return true
}

// NotFound answers status 404 with the text "Not Found", as python-socketio
// does for a request nothing routes.
func NotFound(w engineio.ResponseWriter) {
	w.SetHeader("Content-Type", "text/plain")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte("Not Found"))
}
