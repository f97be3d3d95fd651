// Command engineio is a plain Engine.IO echo server: every message a client
// sends comes back to it. It is the server the official engine.io-protocol
// test suite runs against.
package main

import (
	"flag"
	"log/slog"
	"net/http"
	"os"
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
	if err := http.ListenAndServe(*addr, siohttp.Handler(srv)); err != nil {
		slog.Error("server stopped", "err", err)
		os.Exit(1)
	}
}
