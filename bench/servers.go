package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/socketio"
)

// goServers are the servers this binary runs itself; "node" runs
// bench/node/server.js.
var goServers = map[string]func(addr string) error{
	"siohttp": serveSiohttp,
	"raw":     serveRaw,
}

func serveCmd(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	name := fs.String("server", "siohttp", "server: siohttp, siofiber or raw")
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

// newBenchServer returns a siokit server implementing the bench contract.
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
	must(srv.On("bcast", func(_ *socketio.Socket, args ...json.RawMessage) {
		_ = srv.Emit("bcast", rawArgs(args)...)
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

// The raw server is the ceiling: a bare gorilla/websocket server that
// answers the contract's frames with as little work as possible — no
// sessions, heartbeat, queue or JSON decoding.
type rawServer struct {
	mu    sync.RWMutex
	conns map[*rawConn]struct{}
}

type rawConn struct {
	mu sync.Mutex
	ws *websocket.Conn
}

func (c *rawConn) write(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

var rawUpgrader = websocket.Upgrader{
	CheckOrigin:     func(*http.Request) bool { return true },
	WriteBufferPool: &sync.Pool{},
}

func serveRaw(addr string) error {
	rs := &rawServer{conns: make(map[*rawConn]struct{})}
	return listenAndServe(addr, http.HandlerFunc(rs.serve))
}

var (
	rawOpen    = []byte(`0{"sid":"raw","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)
	rawConnect = []byte(`40{"sid":"raw"}`)
	echoPrefix = []byte(`["echo",`)
	bcastHead  = []byte(`42["bcast"`)
)

func (rs *rawServer) serve(w http.ResponseWriter, r *http.Request) {
	ws, err := rawUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &rawConn{ws: ws}
	defer ws.Close()
	if c.write(rawOpen) != nil {
		return
	}
	rs.mu.Lock()
	rs.conns[c] = struct{}{}
	rs.mu.Unlock()
	defer func() {
		rs.mu.Lock()
		delete(rs.conns, c)
		rs.mu.Unlock()
	}()
	out := make([]byte, 0, 256)
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return
		}
		switch {
		case bytes.Equal(msg, []byte("40")):
			err = c.write(rawConnect)
		case bytes.HasPrefix(msg, bcastHead):
			rs.mu.RLock()
			for peer := range rs.conns {
				_ = peer.write(msg)
			}
			rs.mu.RUnlock()
		case bytes.HasPrefix(msg, []byte("42")):
			// 42<id>["echo",args...] -> 43<id>[args...]
			i := bytes.IndexByte(msg, '[')
			if i < 0 || !bytes.HasPrefix(msg[i:], echoPrefix) {
				continue
			}
			out = append(append(append(out[:0], "43"...), msg[2:i]...), '[')
			out = append(out, msg[i+len(echoPrefix):]...)
			err = c.write(out)
		}
		if err != nil {
			return
		}
	}
}
