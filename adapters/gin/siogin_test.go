package siogin_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	siogin "github.com/siokit/siokit/adapters/gin"
	"github.com/siokit/siokit/core/app"
	"github.com/siokit/siokit/core/apptest"
	"github.com/siokit/siokit/core/eiotest"
	"github.com/siokit/siokit/core/engineio"
)

func init() { gin.SetMode(gin.TestMode) }

// routes adds the ordinary routes of an existing application.
func routes(r gin.IRoutes) {
	r.GET("/api/ping", func(c *gin.Context) { c.String(http.StatusOK, "pong") })
	r.POST("/api/echo", func(c *gin.Context) {
		b, _ := io.ReadAll(c.Request.Body)
		c.Data(http.StatusOK, "text/plain", b)
	})
}

// enginePaths are the default paths of an Engine.IO server and of a
// Socket.IO server; the route mount serves both, so that the eiotest and
// siotest kits run through it.
var enginePaths = []string{"/engine.io", "/socket.io"}

// mountRoute mounts h on a route group next to the application's routes.
func mountRoute(h engineio.Handler) http.Handler {
	r := gin.New()
	routes(r)
	for _, p := range enginePaths {
		r.Group(p).Any("/*any", siogin.Handler(h))
	}
	return r
}

// mountMiddleware puts h in front of the application's routes.
func mountMiddleware(h engineio.Handler) http.Handler {
	r := gin.New()
	r.Use(siogin.Middleware(h))
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
// gin's NoRoute handler, so that what neither it nor a route answers
// reaches the App's fallback.
func mountApp(h engineio.Handler) http.Handler {
	r := gin.New()
	r.Use(siogin.Middleware(h))
	routes(r)
	r.NoRoute(siogin.Handler(h))
	return r
}

// TestApp runs the App scenarios through gin, then checks that the
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

// TestPollingSurvivesServerTimeouts: a gin service on an http.Server with
// WriteTimeout and ReadTimeout of 2 s keeps a long-polling client on one
// sid for a minute (polls wait up to the 25 s ping interval).
func TestPollingSurvivesServerTimeouts(t *testing.T) {
	t.Parallel()
	t.Run("gin, WriteTimeout and ReadTimeout 2s, 60s", func(t *testing.T) {
		t.Parallel()
		eiotest.HoldPolling(t, func(h engineio.Handler) string {
			ts := httptest.NewUnstartedServer(mountRoute(h))
			ts.Config.WriteTimeout = 2 * time.Second
			ts.Config.ReadTimeout = 2 * time.Second
			ts.Config.IdleTimeout = 2 * time.Second
			ts.Start()
			t.Cleanup(ts.Close)
			return ts.URL
		}, time.Minute)
	})
}
