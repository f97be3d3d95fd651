// Command chi is a small chi service with siokit mounted on routes of its
// own: siochi.Handler serves the Socket.IO path and the chat page's URLs,
// next to the service's routes (GET /api/health, GET /api/messages,
// POST /api/announce).
//
// Run it from the repository root (the chat page needs the browser client:
// `make deps` or `npm ci` first), then open http://127.0.0.1:8000/:
//
//	go run ./examples/chi -addr 127.0.0.1:8000
package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	siochi "github.com/siokit/siokit/adapters/chi"
	"github.com/siokit/siokit/core/app"
	"github.com/siokit/siokit/examples/chat/chatserver"
)

func main() { chatserver.Main("chi", run) }

// run serves the service on ln until ctx is done, then closes the chat and
// shuts the HTTP server down.
func run(ctx context.Context, ln net.Listener, static []app.StaticRule, log *slog.Logger) error {
	chat, err := chatserver.New(log)
	if err != nil {
		return err
	}

	r := chi.NewRouter()
	r.Use(middleware.Recoverer)

	// siokit on routes of its own: the Socket.IO path and the chat page.
	sio := siochi.Handler(app.New(chat, &app.Options{Static: static}))
	r.Mount("/socket.io", sio)
	r.Method(http.MethodGet, "/", sio)
	r.Method(http.MethodGet, "/static/*", sio)
	r.Method(http.MethodGet, "/vendor/*", sio)

	r.Route("/api", func(r chi.Router) {
		r.Get("/health", chat.ServeHealth)
		r.Get("/messages", chat.ServeMessages)
		r.Post("/announce", chat.ServeAnnounce)
	})

	return chat.Serve(ctx, ln, r)
}
