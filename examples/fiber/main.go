// Command fiber is a small Fiber service with siokit in front of it:
// siofiber.Middleware, native on fasthttp, answers the Socket.IO path and
// the chat page and passes every other request on to the service's own
// routes (GET /api/health, GET /api/messages, POST /api/announce).
//
// Run it from the repository root (the chat page needs the browser client:
// `make deps` or `npm ci` first), then open http://127.0.0.1:8000/:
//
//	go run ./examples/fiber -addr 127.0.0.1:8000
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"

	siofiber "github.com/siokit/siokit/adapters/fiber"
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
	log.Info("fiber service listening", "url", "http://"+ln.Addr().String()+"/")
	if err := run(ctx, ln, chatserver.StaticRules(*static, *client), log); err != nil {
		log.Error("server stopped", "err", err)
		stop()
		os.Exit(1)
	}
}

// run serves the service on ln until ctx is done, then closes the chat and
// shuts Fiber down.
func run(ctx context.Context, ln net.Listener, static []app.StaticRule, log *slog.Logger) error {
	chat, err := chatserver.New(log)
	if err != nil {
		return err
	}

	// siofiber.Config streams request bodies (fasthttp would otherwise
	// allocate each request's declared Content-Length up front) and sets
	// read, write and idle timeouts that leave long-polling alone.
	a := fiber.New(siofiber.Config(fiber.Config{DisableStartupMessage: true}))
	a.Use(recover.New())

	// siokit in front of Fiber's routes: the Socket.IO path and the chat page.
	a.Use(siofiber.Middleware(app.New(chat, &app.Options{Static: static})))

	api := a.Group("/api")
	api.Get("/health", func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"status": "ok", "clients": chat.Clients()})
	})
	api.Get("/messages", func(c *fiber.Ctx) error { return c.JSON(chat.Recent()) })
	api.Post("/announce", func(c *fiber.Ctx) error {
		var req struct {
			Text string `json:"text"`
		}
		if err := c.BodyParser(&req); err != nil {
			return fiber.NewError(fiber.StatusBadRequest, err.Error())
		}
		m, err := chat.Announce(req.Text)
		switch {
		case errors.Is(err, chatserver.ErrEmptyText):
			return fiber.NewError(fiber.StatusBadRequest, err.Error())
		case err != nil:
			return err
		}
		return c.JSON(m)
	})

	served := make(chan error, 1)
	go func() { served <- a.Listener(ln) }()
	select {
	case err := <-served:
		return errors.Join(err, chat.Close())
	case <-ctx.Done():
	}
	// Close the chat first: every session ends, pending long-polls return
	// and WebSocket loops end, so Shutdown does not wait for them. Shutdown
	// then waits for the requests in flight (downloads included), up to 20 s.
	closeErr := chat.Close()
	shutdown, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := a.ShutdownWithContext(shutdown); err != nil {
		return errors.Join(closeErr, err)
	}
	return errors.Join(closeErr, <-served)
}
