// Command nethttp is a small net/http service with siokit in front of it:
// siohttp.Middleware answers the Socket.IO path and the chat page, and hands
// every other request to the service's own ServeMux (GET /api/health,
// GET /api/messages, POST /api/announce).
//
// Run it from the repository root (the chat page needs the browser client:
// `make deps` or `npm ci` first), then open http://127.0.0.1:8000/:
//
//	go run ./examples/nethttp -addr 127.0.0.1:8000
package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/app"
	"github.com/siokit/siokit/examples/chat/chatserver"
)

func main() { chatserver.Main("net/http", run) }

// run serves the service on ln until ctx is done, then closes the chat and
// shuts the HTTP server down.
func run(ctx context.Context, ln net.Listener, static []app.StaticRule, log *slog.Logger) error {
	chat, err := chatserver.New(log)
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/health", chat.ServeHealth)
	mux.HandleFunc("GET /api/messages", chat.ServeMessages)
	mux.HandleFunc("POST /api/announce", chat.ServeAnnounce)

	// siokit in front of the mux: the Socket.IO path and the chat page.
	handler := siohttp.Middleware(app.New(chat, &app.Options{Static: static}), mux)

	return chat.Serve(ctx, ln, handler)
}
