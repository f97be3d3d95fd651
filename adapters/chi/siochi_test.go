package siochi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"

	siochi "github.com/siokit/siokit/adapters/chi"
	"github.com/siokit/siokit/core/app"
	"github.com/siokit/siokit/core/apptest"
	"github.com/siokit/siokit/core/eiotest"
	"github.com/siokit/siokit/core/engineio"
)

// routes adds the ordinary routes of an existing application.
func routes(r chi.Router) {
	r.Get("/api/ping", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "pong") })
	r.Post("/api/echo", func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(w, r.Body) })
}

// enginePaths are the default paths of an Engine.IO server and of a
// Socket.IO server; the route mount serves both, so that the eiotest and
// siotest kits run through it.
var enginePaths = []string{"/engine.io", "/socket.io"}

// mountRoute mounts h on a route group next to the application's routes.
func mountRoute(h engineio.Handler) http.Handler {
	r := chi.NewRouter()
	routes(r)
	for _, p := range enginePaths {
		r.Route(p, func(r chi.Router) { r.Handle("/*", siochi.Handler(h)) })
	}
	return r
}

// mountMiddleware puts h in front of the application's routes.
func mountMiddleware(h engineio.Handler) http.Handler {
	r := chi.NewRouter()
	r.Use(siochi.Middleware(h))
	routes(r)
	return r
}

func serve(build func(engineio.Handler) http.Handler) eiotest.Mount {
	return func(t testing.TB, h engineio.Handler) string {
		ts := httptest.NewServer(build(h))
		t.Cleanup(ts.Close)
		return ts.URL
	}
}

func TestEngineIORoute(t *testing.T)      { eiotest.Run(t, serve(mountRoute)) }
func TestEngineIOMiddleware(t *testing.T) { eiotest.Run(t, serve(mountMiddleware)) }

// mountApp puts an App in front of the application's routes and makes it
// chi's not-found handler, so that what neither it nor a route answers
// reaches the App's fallback.
func mountApp(h engineio.Handler) http.Handler {
	r := chi.NewRouter()
	r.Use(siochi.Middleware(h))
	routes(r)
	r.NotFound(siochi.Handler(h).ServeHTTP)
	return r
}

// TestApp runs the App scenarios through chi, then checks that the
// application's own routes still answer beside the App.
func TestApp(t *testing.T) {
	apptest.Run(t, serve(mountApp))
	srv := engineio.NewServer(nil)
	defer func() { _ = srv.Close() }()
	ts := httptest.NewServer(mountApp(app.New(srv, nil)))
	defer ts.Close()
	apptest.CheckRoutes(t, ts.URL)
}

// TestShutdown closes the engine, then shuts the HTTP server down: every
// session ends with "server shutting down" and no goroutine is left.
func TestShutdown(t *testing.T) { eiotest.RunShutdown(t, eiotest.HTTPStart(mountRoute)) }

// TestEngineIOClient drives the Go Engine.IO client through this adapter.
func TestEngineIOClient(t *testing.T) { eiotest.RunClient(t, serve(mountRoute)) }

// TestEngineIOClientInterop drives the official JavaScript engine.io-client
// through this adapter.
func TestEngineIOClientInterop(t *testing.T) { eiotest.RunClientInterop(t, serve(mountMiddleware)) }
