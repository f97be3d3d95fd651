// Command engineio is a plain Engine.IO echo server: every message a client
// sends comes back to it. It is the server the official engine.io-protocol
// test suite runs against.
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
	"github.com/siokit/siokit/core/engineio"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "listen address")
	pingInterval := flag.Duration("ping-interval", 300*time.Millisecond, "ping interval")
	pingTimeout := flag.Duration("ping-timeout", 200*time.Millisecond, "ping timeout")
	maxPayload := flag.Int64("max-payload", 1_000_000, "largest message in bytes")
	debug := flag.Bool("debug", false, "log every refused request")
	flag.Parse()

	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	srv := engineio.NewServer(&engineio.Options{
		PingInterval:      *pingInterval,
		PingTimeout:       *pingTimeout,
		MaxHTTPBufferSize: *maxPayload,
		CORS:              engineio.CORSOptions{AllowedOrigins: []string{"*"}},
		Logger:            slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	})
	srv.OnConnection = func(s *engineio.Session) {
		s.OnMessage(func(data []byte, binary bool) { _ = s.Send(data, binary) })
	}
	slog.Info("engine.io echo server listening", "addr", *addr, "path", srv.Options().Path)
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
