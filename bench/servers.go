package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/socketio"
)

// goServers are the servers this binary runs itself; "node" runs
// bench/node/server.js.
var goServers = map[string]func(addr string) error{
	"siohttp":  serveSiohttp,
	"raw":      serveRaw,
	"rawbatch": serveRawBatch,
}

func serveCmd(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	name := fs.String("server", "siohttp", "server: siohttp, siofiber, raw or rawbatch")
	addr := fs.String("addr", "127.0.0.1:4000", "listen address")
	_ = fs.Parse(args)
	serve, ok := goServers[*name]
	if !ok {
		return fmt.Errorf("unknown server %q", *name)
	}
	if pp := os.Getenv("SIOBENCH_PPROF"); pp != "" {
		// Profiles of the server under load: go tool pprof http://$SIOBENCH_PPROF/debug/pprof/profile
		go func() { _ = listenAndServe(pp, pprofMux()) }()
	}
	return serve(*addr)
}

// pprofMux serves the runtime profiles under /debug/pprof/, on their own
// listener, never beside the server under test.
func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// listenAndServe serves h on addr. Only the request header has a deadline:
// long-polling requests and WebSocket connections are long-lived by design.
func listenAndServe(addr string, h http.Handler) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	return srv.ListenAndServe()
}

// newBenchServer returns a siokit server implementing the bench contract
// (see the package doc). "echo" and "bcast" take their arguments as
// json.RawMessage, untouched; "echoany", "join" and "rbcast" are written
// the way the README's tour writes handlers: decoded values (...any, a
// string) and return values as the ack.
func newBenchServer() *socketio.Server {
	srv := socketio.NewServer(&socketio.Options{
		Engine: engineio.Options{
			CORS: engineio.CORSOptions{AllowedOrigins: []string{"*"}},
			// Every load client connects from the loopback address (the
			// idle scenario opens 2,000): no per-address cap.
			MaxConnectionsPerAddress: -1,
		},
	})
	must(srv.On("echo", func(_ *socketio.Socket, ack socketio.AckFunc, args ...json.RawMessage) {
		_ = ack(rawArgs(args)...)
	}))
	must(srv.On("echoany", func(_ *socketio.Socket, ack socketio.AckFunc, args ...any) {
		_ = ack(args...)
	}))
	must(srv.On("bcast", func(_ *socketio.Socket, args ...json.RawMessage) {
		_ = srv.Emit("bcast", rawArgs(args)...)
	}))
	must(srv.On("join", func(s *socketio.Socket, room string) string {
		s.Join(room)
		return room
	}))
	must(srv.On("rbcast", func(_ *socketio.Socket, room string, args ...any) {
		_ = srv.To(room).Emit("rbcast", args...)
	}))
	return srv
}

func rawArgs(args []json.RawMessage) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a
	}
	return out
}

func must(err error) {
	if err != nil {
		slog.Error("bench server", "err", err)
		os.Exit(1)
	}
}

func serveSiohttp(addr string) error {
	return listenAndServe(addr, siohttp.Handler(newBenchServer()))
}
