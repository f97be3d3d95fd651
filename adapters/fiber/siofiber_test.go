package siofiber_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	siofiber "github.com/siokit/siokit/adapters/fiber"
	"github.com/siokit/siokit/core/app"
	"github.com/siokit/siokit/core/apptest"
	"github.com/siokit/siokit/core/eiotest"
	"github.com/siokit/siokit/core/engineio"
)

// TestMain serves one request before the tests, so that fasthttp's
// process-wide date ticker (started on the first response, never stopped)
// exists before any goroutine-leak baseline is taken.
func TestMain(m *testing.M) {
	a := fiber.New(fiber.Config{DisableStartupMessage: true})
	a.Get("/", func(c *fiber.Ctx) error { return c.SendString("warm") })
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		go func() { _ = a.Listener(ln) }()
		if res, err := http.Get("http://" + ln.Addr().String() + "/"); err == nil {
			res.Body.Close()
		}
		_ = a.ShutdownWithTimeout(5 * time.Second)
		http.DefaultClient.CloseIdleConnections()
	}
	os.Exit(m.Run())
}

// routes adds the ordinary routes of an existing application.
func routes(a *fiber.App) {
	a.Get("/api/ping", func(c *fiber.Ctx) error { return c.SendString("pong") })
	a.Post("/api/echo", func(c *fiber.Ctx) error { return c.Send(c.Body()) })
}

// enginePaths are the default paths of an Engine.IO server and of a
// Socket.IO server; the route mount serves both, so that the eiotest and
// siotest kits run through it.
var enginePaths = []string{"/engine.io", "/socket.io"}

// mountRoute mounts h on a group next to the application's routes.
func mountRoute(h engineio.Handler) *fiber.App {
	a := fiber.New(fiber.Config{DisableStartupMessage: true})
	routes(a)
	for _, p := range enginePaths {
		a.Group(p).All("/*", siofiber.Handler(h))
	}
	return a
}

// mountMiddleware puts h in front of the application's routes, on a server
// that streams request bodies (mountRoute's reads them whole), so that the
// kits run through both of siofiber's body paths.
func mountMiddleware(h engineio.Handler) *fiber.App {
	a := fiber.New(fiber.Config{DisableStartupMessage: true, StreamRequestBody: true})
	a.Use(siofiber.Middleware(h))
	routes(a)
	return a
}

// listen serves a on a loopback listener and returns its base URL and a
// function that shuts it down and waits for Listener to return.
//
// fasthttp's worker-pool cleaner notices a shutdown only when it wakes, every
// MaxIdleWorkerDuration (default 10s); a short one lets it end before the
// goroutine-leak checks give up.
func listen(t testing.TB, a *fiber.App) (string, func()) {
	a.Server().MaxIdleWorkerDuration = 20 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Listener(ln) }()
	return "http://" + ln.Addr().String(), func() {
		if err := a.ShutdownWithTimeout(5 * time.Second); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Listener: %v", err)
		}
	}
}

func serve(build func(engineio.Handler) *fiber.App) eiotest.Mount {
	return func(t testing.TB, h engineio.Handler) string {
		base, stop := listen(t, build(h))
		t.Cleanup(stop)
		return base
	}
}

func TestEngineIORoute(t *testing.T)      { eiotest.Run(t, serve(mountRoute)) }
func TestEngineIOMiddleware(t *testing.T) { eiotest.Run(t, serve(mountMiddleware)) }

// mountApp puts an App in front of the application's routes and serves it
// again from a last catch-all handler, so that what neither it nor a route
// answers reaches the App's fallback.
func mountApp(h engineio.Handler) *fiber.App {
	a := fiber.New(fiber.Config{DisableStartupMessage: true})
	a.Use(siofiber.Middleware(h))
	routes(a)
	a.Use(siofiber.Handler(h))
	return a
}

// TestApp runs the App scenarios through Fiber, then checks that the
// application's own routes still answer beside the App.
func TestApp(t *testing.T) {
	apptest.Run(t, serve(mountApp))
	srv := engineio.NewServer(nil)
	defer func() { _ = srv.Close() }()
	base, stop := listen(t, mountApp(app.New(srv, nil)))
	defer stop()
	apptest.CheckRoutes(t, base)
}

// TestShutdown closes the engine, then shuts Fiber down: every session ends
// with "server shutting down" and no goroutine is left.
func TestShutdown(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := engineio.NewServer(nil)
	reasons := make(chan string, 2)
	srv.OnConnection = func(s *engineio.Session) { s.OnClose(func(r string) { reasons <- r }) }
	arrived := make(chan struct{}, 1) // the long-poll reached the server
	a := fiber.New(fiber.Config{DisableStartupMessage: true})
	a.Use(func(c *fiber.Ctx) error {
		if c.Query("sid") != "" {
			arrived <- struct{}{}
		}
		return c.Next()
	})
	a.All("/engine.io/*", siofiber.Handler(srv))
	root, stop := listen(t, a)
	base := root + "/engine.io/?EIO=4&transport="
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}

	res, err := client.Get(base + "polling")
	if err != nil {
		t.Fatal(err)
	}
	open, _ := io.ReadAll(res.Body)
	res.Body.Close()
	sid := strings.SplitN(strings.TrimPrefix(string(open), `0{"sid":"`), `"`, 2)[0]
	poll := make(chan string, 1)
	go func() {
		res, err := client.Get(base + "polling&sid=" + sid)
		if err != nil {
			poll <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		poll <- string(b)
	}()
	ws, wsRes, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = wsRes.Body.Close()
	defer ws.Close()
	if _, _, err := ws.ReadMessage(); err != nil {
		t.Fatal(err)
	}

	<-arrived
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	stop()
	for range 2 {
		if r := <-reasons; r != engineio.ReasonServerShuttingDown {
			t.Errorf("close reason %q, want %q", r, engineio.ReasonServerShuttingDown)
		}
	}
	if got := <-poll; got != "1" && !strings.Contains(got, `"code":1`) {
		t.Errorf("pending poll got %q, want the close packet", got)
	}
	if _, msg, err := ws.ReadMessage(); err == nil && string(msg) != "1" {
		t.Errorf("websocket got %q, want the close packet", msg)
	}
}

// TestEngineIOClient drives the Go Engine.IO client against Fiber.
func TestEngineIOClient(t *testing.T) { eiotest.RunClient(t, serve(mountRoute)) }

// TestEngineIOClientInterop drives the official JavaScript engine.io-client
// against Fiber.
func TestEngineIOClientInterop(t *testing.T) { eiotest.RunClientInterop(t, serve(mountMiddleware)) }

// TestPollingSurvivesServerTimeouts: a Fiber app with ReadTimeout,
// WriteTimeout and IdleTimeout of 2 s keeps a long-polling client on one
// sid for a minute (polls wait up to the 25 s ping interval). fasthttp sets
// a response's write deadline after the handler returns and reads nothing
// while it runs, so its timeouts do not cut a long-poll; siofiber needs no
// deadline handling of its own, and this test holds it to that.
func TestPollingSurvivesServerTimeouts(t *testing.T) {
	t.Parallel()
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("timeouts 2s, StreamRequestBody %v, 60s", stream), func(t *testing.T) {
			t.Parallel()
			eiotest.HoldPolling(t, func(h engineio.Handler) string {
				a := fiber.New(fiber.Config{
					DisableStartupMessage: true, StreamRequestBody: stream,
					ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second, IdleTimeout: 2 * time.Second,
				})
				a.All("/engine.io/*", siofiber.Handler(h))
				base, stop := listen(t, a)
				t.Cleanup(stop)
				return base
			}, time.Minute)
		})
	}
}

// TestWebSocket holds the WebSocket protocol to three independent clients
// (gorilla, npm ws, python websocket-client), over plain TCP.
func TestWebSocket(t *testing.T) { eiotest.RunWebSocket(t, serve(mountMiddleware)) }

// TestWebSocketTLS is TestWebSocket over a TLS listener.
func TestWebSocketTLS(t *testing.T) {
	eiotest.RunWebSocket(t, func(t testing.TB, h engineio.Handler) string {
		// httptest's loopback certificate, taken from a server made for it.
		ts := httptest.NewTLSServer(http.NotFoundHandler())
		cfg := ts.TLS.Clone()
		ts.Close()
		a := mountMiddleware(h)
		a.Server().MaxIdleWorkerDuration = 20 * time.Millisecond
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- a.Listener(tls.NewListener(ln, cfg)) }()
		t.Cleanup(func() {
			if err := a.ShutdownWithTimeout(5 * time.Second); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			<-done
		})
		return "https://" + ln.Addr().String()
	})
}
