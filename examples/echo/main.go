// Command echo is a small echo service with siokit mounted on routes of its
// own: sioecho.Handler serves the Socket.IO path and the chat page's URLs,
// next to the service's routes (GET /api/health, GET /api/messages,
// POST /api/announce).
//
// Run it from the repository root (the chat page needs the browser client:
// `make deps` or `npm ci` first), then open http://127.0.0.1:8000/:
//
//	go run ./examples/echo -addr 127.0.0.1:8000
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	sioecho "github.com/siokit/siokit/adapters/echo"
	"github.com/siokit/siokit/core/app"
	"github.com/siokit/siokit/examples/chat/chatserver"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "listen address")
	static := flag.String("static", "examples/chat/static", "directory of the chat page")
	client := flag.String("client", "node_modules/socket.io-client/dist", "directory of the socket.io-client browser bundle")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Error("listen", "err", err)
		os.Exit(1)
	}
	log.Info("echo service listening", "url", "http://"+ln.Addr().String()+"/")
	if err := run(ctx, ln, chatserver.StaticRules(*static, *client), log); err != nil {
		log.Error("server stopped", "err", err)
		stop()
		os.Exit(1)
	}
}

// run serves the service on ln until ctx is done, then closes the chat and
// shuts echo down.
func run(ctx context.Context, ln net.Listener, static []app.StaticRule, log *slog.Logger) error {
	chat, err := chatserver.New(log)
	if err != nil {
		return err
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Listener = ln
	// Timeouts for slow and idle clients that leave long-polling alone: a
	// long-poll waits up to the ping interval (25 s) before it is answered,
	// within ReadTimeout and WriteTimeout. net/http clears them on a
	// WebSocket.
	e.Server.ReadHeaderTimeout = 10 * time.Second
	e.Server.ReadTimeout = 40 * time.Second
	e.Server.WriteTimeout = 40 * time.Second
	e.Server.IdleTimeout = 60 * time.Second
	e.Use(middleware.Recover())

	// siokit on routes of its own: the Socket.IO path and the chat page.
	sio := sioecho.Handler(app.New(chat, &app.Options{Static: static}))
	e.Any("/socket.io/*", sio)
	e.GET("/", sio)
	e.GET("/static/*", sio)
	e.GET("/vendor/*", sio)

	api := e.Group("/api")
	api.GET("/health", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"status": "ok", "clients": chat.Clients()})
	})
	api.GET("/messages", func(c echo.Context) error { return c.JSON(http.StatusOK, chat.Recent()) })
	api.POST("/announce", func(c echo.Context) error {
		var req struct {
			Text string `json:"text"`
		}
		if err := c.Bind(&req); err != nil {
			return err // an *echo.HTTPError with status 400
		}
		m, err := chat.Announce(req.Text)
		switch {
		case errors.Is(err, chatserver.ErrEmptyText):
			return echo.NewHTTPError(http.StatusBadRequest, err.Error())
		case err != nil:
			return err
		}
		return c.JSON(http.StatusOK, m)
	})

	served := make(chan error, 1)
	go func() { served <- e.Start("") }() // serves e.Listener
	select {
	case err := <-served:
		return errors.Join(err, chat.Close())
	case <-ctx.Done():
	}
	// Close the chat first: every session ends and pending long-polls
	// return, so Shutdown does not wait for them. Shutdown then waits for
	// the requests in flight (downloads included), up to 20 s.
	closeErr := chat.Close()
	shutdown, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.Shutdown(shutdown); err != nil {
		return errors.Join(closeErr, err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return errors.Join(closeErr, err)
	}
	return closeErr
}
