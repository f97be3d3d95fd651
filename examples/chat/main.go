// Command chat is a small browser chat built on siokit: nicknames, rooms and
// a typing notice. It serves its page and the official browser client
// through the App's static-file rules, next to the Socket.IO server. The
// chat itself lives in package chatserver, which the framework examples
// (examples/gin, examples/echo, ...) reuse.
//
// Run it from the repository root with `make run` (which installs the
// socket.io-client npm package first), then open http://127.0.0.1:8000/.
package main

import (
	"context"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/app"
	"github.com/siokit/siokit/examples/chat/chatserver"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "listen address")
	static := flag.String("static", "examples/chat/static", "directory of the chat page")
	client := flag.String("client", "node_modules/socket.io-client/dist", "directory of the socket.io-client browser bundle")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	chat, err := chatserver.New(log)
	if err != nil {
		log.Error("chat", "err", err)
		os.Exit(1)
	}
	handler := app.New(chat, &app.Options{Static: chatserver.StaticRules(*static, *client)})

	// Timeouts for slow and idle clients that leave long-polling alone: a
	// long-poll waits up to the ping interval (25 s) before it is answered,
	// within ReadTimeout and WriteTimeout. net/http clears them on a
	// WebSocket.
	hs := &http.Server{
		Addr:              *addr,
		Handler:           siohttp.Handler(handler),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       40 * time.Second,
		WriteTimeout:      40 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- hs.ListenAndServe() }()
	log.Info("chat listening", "url", "http://"+*addr+"/")
	select {
	case err := <-served:
		log.Error("server stopped", "err", err)
		stop()
		os.Exit(1)
	case <-ctx.Done():
	}
	// Close the chat first: every session ends and pending long-polls
	// return. Then wait for Shutdown, which lets the requests in flight
	// (downloads included) finish, up to 20 s: main must not return before.
	_ = chat.Close()
	shutdown, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		log.Error("shutdown", "err", err)
		cancel()
		stop()
		os.Exit(1)
	}
}
