// Command conformance is a Socket.IO server configured as the official
// socket.io-protocol test suite asks (its test-suite/ directory): port 3000,
// pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1,000,000, connect
// timeout 1 s, any origin; namespaces "/" and "/custom" greet each client
// with an "auth" event carrying its auth, "/" echoes "message" as
// "message-back" and acknowledges "message-with-ack" with its arguments.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/socketio"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "listen address")
	flag.Parse()
	srv := New()
	slog.Info("conformance server listening", "addr", *addr)
	hs := &http.Server{
		Addr:              *addr,
		Handler:           siohttp.Handler(srv),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       40 * time.Second, // above the ping interval, the longest a long-poll waits
		WriteTimeout:      40 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- hs.ListenAndServe() }()
	select {
	case err := <-served:
		slog.Error("server stopped", "err", err)
		stop()
		os.Exit(1)
	case <-ctx.Done():
	}
	// The engine first: sessions end and pending long-polls return; then
	// wait for Shutdown, which lets requests in flight finish.
	_ = srv.Close()
	shutdown, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		slog.Error("shutdown", "err", err)
	}
}

// New returns the server the protocol suite expects.
func New() *socketio.Server {
	srv := socketio.NewServer(&socketio.Options{
		Engine: engineio.Options{
			PingInterval:      300 * time.Millisecond,
			PingTimeout:       200 * time.Millisecond,
			MaxHTTPBufferSize: 1_000_000,
			CORS:              engineio.CORSOptions{AllowedOrigins: []string{"*"}},
		},
		ConnectTimeout: time.Second,
	})
	greet := func(s *socketio.Socket) error {
		auth := s.Handshake().Auth
		if len(auth) == 0 {
			auth = json.RawMessage("{}")
		}
		return s.Emit("auth", auth)
	}
	srv.OnConnect(greet)
	srv.Of("/custom").OnConnect(greet)
	must(srv.On("message", func(s *socketio.Socket, args ...any) {
		_ = s.Emit("message-back", args...)
	}))
	must(srv.On("message-with-ack", func(_ *socketio.Socket, ack socketio.AckFunc, args ...any) {
		_ = ack(args...)
	}))
	return srv
}

func must(err error) {
	if err != nil {
		slog.Error("bad handler", "err", err)
		os.Exit(1)
	}
}
