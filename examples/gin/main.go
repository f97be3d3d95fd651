// Command gin is a small gin service with siokit in front of it:
// siogin.Middleware answers the Socket.IO path and the chat page before gin
// routes the request, and passes every other request on to gin's own routes
// (GET /api/health, GET /api/messages, POST /api/announce).
//
// Run it from the repository root (the chat page needs the browser client:
// `make deps` or `npm ci` first), then open http://127.0.0.1:8000/:
//
//	go run ./examples/gin -addr 127.0.0.1:8000
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

	"github.com/gin-gonic/gin"

	siogin "github.com/siokit/siokit/adapters/gin"
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
	log.Info("gin service listening", "url", "http://"+ln.Addr().String()+"/")
	if err := run(ctx, ln, chatserver.StaticRules(*static, *client), log); err != nil {
		log.Error("server stopped", "err", err)
		stop()
		os.Exit(1)
	}
}

// run serves the service on ln until ctx is done, then closes the chat and
// shuts the HTTP server down.
func run(ctx context.Context, ln net.Listener, static []app.StaticRule, log *slog.Logger) error {
	chat, err := chatserver.New(log)
	if err != nil {
		return err
	}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery())

	// siokit in front of gin's routes: the Socket.IO path and the chat page.
	r.Use(siogin.Middleware(app.New(chat, &app.Options{Static: static})))

	api := r.Group("/api")
	api.GET("/health", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"status": "ok", "clients": chat.Clients()})
	})
	api.GET("/messages", func(c *gin.Context) { c.JSON(http.StatusOK, chat.Recent()) })
	api.POST("/announce", func(c *gin.Context) {
		var req struct {
			Text string `json:"text"`
		}
		if err := c.ShouldBindJSON(&req); err != nil {
			c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
			return
		}
		m, err := chat.Announce(req.Text)
		switch {
		case errors.Is(err, chatserver.ErrEmptyText):
			c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
		case err != nil:
			c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
		default:
			c.JSON(http.StatusOK, m)
		}
	})

	// Timeouts for slow and idle clients that leave long-polling alone: a
	// long-poll waits up to the ping interval (25 s) before it is answered,
	// within ReadTimeout and WriteTimeout. net/http clears them on a
	// WebSocket.
	hs := &http.Server{
		Handler:           r,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       40 * time.Second,
		WriteTimeout:      40 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
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
	err = hs.Shutdown(shutdown)
	<-served // http.ErrServerClosed, as soon as Shutdown starts
	return errors.Join(closeErr, err)
}
