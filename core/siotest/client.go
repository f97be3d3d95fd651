package siotest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/siokit/siokit/core/eiotest"
	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/socketio"
)

// clientWait bounds every wait of the client scenarios.
const clientWait = 5 * time.Second

// RunClient drives the Go Socket.IO client ([socketio.Client] and
// [socketio.SimpleClient]) against the Go server mounted with mount, over
// polling only, WebSocket only and polling with upgrade: every argument
// type both ways (binary included), acknowledgements both ways, the
// catch-all, auth accepted and refused with data, unknown namespaces,
// several namespaces over one connection, rooms and broadcasts, a
// server-side disconnect, a server restart that the client survives by
// reconnecting (emits made meanwhile are delivered), connection state
// recovery, and 1,000 connect/disconnect cycles. Every scenario ends with a
// goroutine-leak check, so RunClient must not run in parallel with other
// tests of the process.
func RunClient(t *testing.T, mount eiotest.Mount) {
	t.Helper()
	for _, sc := range clientScenarios {
		t.Run(sc.name, func(t *testing.T) {
			for _, m := range clientModes {
				if sc.modes != nil && !slices.Contains(sc.modes, m.name) {
					continue
				}
				t.Run(m.name, func(t *testing.T) { sc.run(t, mount, m.transports) })
			}
		})
	}
}

var clientScenarios = []struct {
	name  string
	modes []string // nil: all
	run   func(t *testing.T, mount eiotest.Mount, transports []string)
}{
	{"EventsAndAcks", nil, testClientEvents},
	{"Auth", nil, testClientAuth},
	{"Namespaces", nil, testClientNamespaces},
	{"RoomsAndBroadcast", nil, testClientRooms},
	{"ServerDisconnect", nil, testClientServerDisconnect},
	{"Reconnect", nil, testClientReconnect},
	{"Recovery", nil, testClientRecovery},
	{"ReconnectGivesUp", nil, testClientReconnectFails},
	{"DecodeErrorReconnects", nil, testClientDecodeError},
	{"SimpleClient", nil, testSimpleClient},
	{"ConnectDisconnectCycles", []string{"websocket"}, testClientCycles},
}

var clientModes = []struct {
	name       string
	transports []string
}{
	{"polling", []string{engineio.TransportPolling}},
	{"websocket", []string{engineio.TransportWebSocket}},
	{"upgrade", nil},
}

// switchHandler serves the current server, and answers 503 while there is
// none, so that a scenario can restart the server behind one URL. raw, when
// set, takes the next handshake and the requests of its sessions.
type switchHandler struct {
	cur     atomic.Pointer[socketio.Server]
	raw     atomic.Pointer[engineio.Server]
	rawUsed atomic.Bool
}

func (h *switchHandler) ServeRequest(w engineio.ResponseWriter, r engineio.Request) {
	if s := h.raw.Load(); s != nil {
		q, _ := url.ParseQuery(r.RawQuery())
		sid := q.Get("sid")
		if sid == "" && h.rawUsed.CompareAndSwap(false, true) || sid != "" && s.Session(sid) != nil {
			s.ServeRequest(w, r)
			return
		}
	}
	if s := h.cur.Load(); s != nil {
		s.ServeRequest(w, r)
		return
	}
	w.WriteHeader(503)
}

func (h *switchHandler) Match(path string) bool {
	return strings.HasPrefix(path, socketio.DefaultPath) || path+"/" == socketio.DefaultPath
}

// clientEnv is a Go server for client scenarios.
type clientEnv struct {
	t     *testing.T
	base  string
	sw    *switchHandler
	opts  socketio.Options
	setup func(srv *socketio.Server)
}

// startClientEnv mounts a server built with opts and setup, after arming a
// leak check that runs once everything the scenario started is shut down.
func startClientEnv(t *testing.T, mount eiotest.Mount, opts socketio.Options, setup func(srv *socketio.Server)) *clientEnv {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	e := &clientEnv{t: t, sw: &switchHandler{}, opts: opts, setup: setup}
	e.sw.cur.Store(e.build())
	e.base = mount(t, e.sw)
	t.Cleanup(func() {
		if s := e.sw.cur.Swap(nil); s != nil {
			_ = s.Close()
		}
	})
	return e
}

func (e *clientEnv) build() *socketio.Server {
	srv := socketio.NewServer(&e.opts)
	if e.setup != nil {
		e.setup(srv)
	}
	return srv
}

func (e *clientEnv) server() *socketio.Server { return e.sw.cur.Load() }

// stop closes the server; requests get 503 until start.
func (e *clientEnv) stop() {
	if s := e.sw.cur.Swap(nil); s != nil {
		_ = s.Close()
	}
}

// start serves a new server at the same URL.
func (e *clientEnv) start() { e.sw.cur.Store(e.build()) }

// client returns a client over transports with fast reconnection, closed
// (and waited for) at the end of the test.
func (e *clientEnv) client(transports []string, opts *socketio.ClientOptions) *socketio.Client {
	e.t.Helper()
	var o socketio.ClientOptions
	if opts != nil {
		o = *opts
	}
	o.Engine.Transports = transports
	if o.ReconnectionDelay == nil {
		o.ReconnectionDelay = new(20 * time.Millisecond)
		o.ReconnectionDelayMax = 100 * time.Millisecond
	}
	c := socketio.NewClient(e.base, &o)
	e.t.Cleanup(func() { closeClient(e.t, c) })
	return c
}

// closeClient closes c and waits for its goroutines.
func closeClient(t testing.TB, c *socketio.Client) {
	t.Helper()
	_ = c.Close()
	select {
	case <-c.Done():
	case <-time.After(clientWait):
		t.Errorf("client goroutines still running %v after Close", clientWait)
	}
}

func ctxWait(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), clientWait)
	t.Cleanup(cancel)
	return ctx
}

// recv waits for a value on ch.
func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(clientWait):
		t.Fatalf("timed out after %v waiting for %s", clientWait, what)
		var zero T
		return zero
	}
}

func connect(t testing.TB, c *socketio.Client) {
	t.Helper()
	if err := c.Connect(ctxWait(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
}

// sample holds one value of every argument type, and how each decodes
// into plain Go values.
var (
	sampleArgs = []any{
		"héllo", 42, 1.5, true, nil,
		map[string]any{"k": []any{1, "x"}},
		[]byte{0, 1, 2, 255},
		map[string]any{"bin": []byte{9, 8}, "n": 1},
	}
	sampleDecoded = []any{
		"héllo", 42.0, 1.5, true, nil,
		map[string]any{"k": []any{1.0, "x"}},
		[]byte{0, 1, 2, 255},
		map[string]any{"bin": []byte{9, 8}, "n": 1.0},
	}
)

// welcome is what the server sends on connect, decoded into typed
// parameters by the client.
type welcome struct {
	S      string
	N      int
	F      float64
	B      bool
	Null   *int
	M      map[string][]any
	Bin    []byte
	Nested struct {
		Bin []byte `json:"bin"`
		N   int    `json:"n"`
	}
}

func testClientEvents(t *testing.T, mount eiotest.Mount, transports []string) {
	got := make(chan string, 4)
	e := startClientEnv(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		_ = srv.On("echo", func(ack socketio.AckFunc, args ...any) { _ = ack(args...) })
		_ = srv.On("echo-back", func(s *socketio.Socket, args ...any) { _ = s.Emit("echoed", args...) })
		_ = srv.On("message", func(msg string) { got <- msg })
		_ = srv.On("volatile", func(msg string) { got <- msg })
		_ = srv.On("ask", func(s *socketio.Socket, n int) {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), clientWait)
				defer cancel()
				r, err := s.EmitWithAck(ctx, "double", n)
				var v int
				if err == nil {
					err = r.Decode(&v)
				}
				_ = s.Emit("answer", v, fmt.Sprint(err))
			}()
		})
		srv.OnConnect(func(s *socketio.Socket) error {
			return s.Emit("welcome", sampleArgs...)
		})
		_ = srv.On("poke", func(s *socketio.Socket) { _ = s.Emit("unhandled", "x", 1) })
	})
	c := e.client(transports, nil)
	welcomes := make(chan welcome, 1)
	if err := c.On("welcome", func(s string, n int, f float64, b bool, null *int, m map[string][]any, bin []byte, nested struct {
		Bin []byte `json:"bin"`
		N   int    `json:"n"`
	}) {
		welcomes <- welcome{s, n, f, b, null, m, bin, nested}
	}); err != nil {
		t.Fatal(err)
	}
	echoed := make(chan []any, 1)
	_ = c.On("echoed", func(args ...any) { echoed <- args })
	_ = c.On("double", func(n int) int { return 2 * n })
	answers := make(chan [2]any, 1)
	_ = c.On("answer", func(v int, err string) { answers <- [2]any{v, err} })
	anys := make(chan []any, 1)
	_ = c.OnAny(func(s *socketio.ClientSocket, event string, args ...any) {
		anys <- append([]any{event}, args...)
	})
	connect(t, c)
	if c.ID() == "" || !c.Connected() {
		t.Fatalf("after Connect: ID %q, Connected %v", c.ID(), c.Connected())
	}

	w := recv(t, welcomes, "the welcome event")
	want := welcome{S: "héllo", N: 42, F: 1.5, B: true, M: map[string][]any{"k": {1.0, "x"}}, Bin: []byte{0, 1, 2, 255}}
	want.Nested.Bin, want.Nested.N = []byte{9, 8}, 1
	if !reflect.DeepEqual(w, want) {
		t.Errorf("welcome decoded as\n %#v\nwant\n %#v", w, want)
	}

	r, err := c.EmitWithAck(ctxWait(t), "echo", sampleArgs...)
	if err != nil {
		t.Fatalf("EmitWithAck: %v", err)
	}
	if vals, err := r.Values(); err != nil || !reflect.DeepEqual(vals, sampleDecoded) {
		t.Errorf("ack values %#v (%v), want %#v", vals, err, sampleDecoded)
	}
	if err := c.Emit("echo-back", sampleArgs...); err != nil {
		t.Fatal(err)
	}
	if args := recv(t, echoed, "echoed"); !reflect.DeepEqual(args, sampleDecoded) {
		t.Errorf("echoed %#v, want %#v", args, sampleDecoded)
	}

	// The server calls the client, which acknowledges with its return value.
	if err := c.Emit("ask", 21); err != nil {
		t.Fatal(err)
	}
	if a := recv(t, answers, "the answer"); a != [2]any{42, "<nil>"} {
		t.Errorf("server got %v from the client's ack, want 42", a)
	}

	if err := c.Send("sent"); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, got, "message"); m != "sent" {
		t.Errorf("message %q", m)
	}
	if err := c.Socket().EmitVolatile("volatile", "v"); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, got, "volatile"); m != "v" {
		t.Errorf("volatile %q", m)
	}
	if err := c.Emit("poke"); err != nil {
		t.Fatal(err)
	}
	if a := recv(t, anys, "catch-all"); !reflect.DeepEqual(a, []any{"unhandled", "x", 1.0}) {
		t.Errorf("catch-all got %#v", a)
	}
	if err := c.Emit("connect"); !errors.Is(err, socketio.ErrReservedEvent) {
		t.Errorf("Emit(connect) = %v, want ErrReservedEvent", err)
	}

	// An ack that never comes times out.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.EmitWithAck(ctx, "no-handler"); !errors.Is(err, socketio.ErrTimeout) {
		t.Errorf("EmitWithAck without answer = %v, want ErrTimeout", err)
	}
}

type authArgs struct {
	Token string `json:"token"`
}

func testClientAuth(t *testing.T, mount eiotest.Mount, transports []string) {
	e := startClientEnv(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		srv.Use(func(s *socketio.Socket) error {
			var a authArgs
			if err := s.Handshake().DecodeAuth(&a); err != nil || a.Token != "secret" {
				return socketio.NewConnectError("unauthorized", map[string]string{"reason": "bad token"})
			}
			return nil
		})
		_ = srv.On("whoami", func(s *socketio.Socket) string { return s.ID() })
	})

	refused := make(chan error, 1)
	c := e.client(transports, &socketio.ClientOptions{Auth: authArgs{Token: "wrong"}})
	c.OnConnectError(func(err error) { refused <- err })
	err := c.Connect(ctxWait(t))
	var ce *socketio.ConnectionRefusedError
	if !errors.As(err, &ce) || !errors.Is(err, socketio.ErrConnectionRefused) || errors.Is(err, socketio.ErrBadNamespace) {
		t.Fatalf("Connect with a bad token = %v, want a ConnectionRefusedError", err)
	}
	var data struct{ Reason string }
	if ce.Message != "unauthorized" || ce.DecodeData(&data) != nil || data.Reason != "bad token" {
		t.Errorf("refusal %+v (data %s), want unauthorized / bad token", ce, ce.Data)
	}
	if err := recv(t, refused, "connect_error"); !errors.As(err, &ce) || ce.Message != "unauthorized" {
		t.Errorf("connect_error handler got %v", err)
	}

	var calls atomic.Int32
	ok := e.client(transports, &socketio.ClientOptions{AuthFunc: func(ctx context.Context, nsp string) (any, error) {
		calls.Add(1)
		return map[string]string{"token": "secret"}, nil
	}})
	connect(t, ok)
	r, err := ok.Call(ctxWait(t), "whoami")
	var id string
	if err != nil || r.Decode(&id) != nil || id != ok.ID() {
		t.Errorf("whoami = %v %v, want %q", id, err, ok.ID())
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("AuthFunc called %d times, want 1", n)
	}

	bad := e.client(transports, &socketio.ClientOptions{Namespaces: []string{"/nope"}})
	if err := bad.Connect(ctxWait(t)); !errors.Is(err, socketio.ErrBadNamespace) || !errors.Is(err, socketio.ErrConnectionRefused) {
		t.Errorf("Connect to an unknown namespace = %v, want ErrBadNamespace", err)
	}

	nobody := socketio.NewClient("http://127.0.0.1:1", &socketio.ClientOptions{Engine: engineio.ClientOptions{Transports: transports}})
	t.Cleanup(func() { closeClient(t, nobody) })
	if err := nobody.Connect(ctxWait(t)); !errors.Is(err, socketio.ErrConnection) || !errors.Is(err, engineio.ErrHandshake) {
		t.Errorf("Connect to a closed port = %v, want ErrConnection wrapping engineio.ErrHandshake", err)
	}
}

func testClientNamespaces(t *testing.T, mount eiotest.Mount, transports []string) {
	var mu sync.Mutex
	engines := map[string]string{}
	left := make(chan string, 4)
	e := startClientEnv(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		for _, n := range []string{"/", "/admin", "/late"} {
			nsp := srv.Of(n)
			nsp.OnConnect(func(s *socketio.Socket) error {
				mu.Lock()
				engines[n] = s.EngineID()
				mu.Unlock()
				return nil
			})
			nsp.OnDisconnect(func(s *socketio.Socket, reason string) { left <- n + " " + reason })
			_ = nsp.On("whoami", func(s *socketio.Socket) string { return n + " " + s.ID() })
		}
	})
	c := e.client(transports, nil)
	admin := c.Of("admin")
	connect(t, c)
	if !admin.Connected() || admin.ID() == c.ID() {
		t.Fatalf("admin connected %v with id %q (root %q)", admin.Connected(), admin.ID(), c.ID())
	}
	for _, s := range []*socketio.ClientSocket{c.Socket(), admin} {
		r, err := s.Call(ctxWait(t), "whoami")
		var who string
		if err != nil || r.Decode(&who) != nil || who != s.Namespace()+" "+s.ID() {
			t.Errorf("whoami on %s = %q %v", s.Namespace(), who, err)
		}
	}
	late := c.Of("/late")
	if late.Connected() {
		t.Fatal("a namespace obtained after Connect connected by itself")
	}
	if err := late.Connect(ctxWait(t)); err != nil {
		t.Fatalf("late Connect: %v", err)
	}
	mu.Lock()
	if len(engines) != 3 || engines["/"] != engines["/admin"] || engines["/"] != engines["/late"] {
		t.Errorf("namespaces used engine sessions %v, want one", engines)
	}
	mu.Unlock()
	admin.Disconnect()
	if got := recv(t, left, "admin's disconnect"); got != "/admin client namespace disconnect" {
		t.Errorf("server saw %q", got)
	}
	if err := admin.Emit("whoami"); !errors.Is(err, socketio.ErrDisconnected) {
		t.Errorf("Emit on a left namespace = %v, want ErrDisconnected", err)
	}
	if _, err := c.Call(ctxWait(t), "whoami"); err != nil {
		t.Errorf("root namespace after admin left: %v", err)
	}
}

func testClientRooms(t *testing.T, mount eiotest.Mount, transports []string) {
	e := startClientEnv(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		_ = srv.On("join", func(s *socketio.Socket, room string) string { s.Join(room); return "ok" })
		_ = srv.On("to-room", func(s *socketio.Socket, room, msg string) {
			_ = s.Namespace().To(room).Emit("room-msg", msg)
		})
		_ = srv.On("shout", func(s *socketio.Socket, msg string) { _ = s.Namespace().Emit("news", msg) })
	})
	type rec struct {
		room, news chan string
	}
	clients := make([]*socketio.Client, 3)
	recs := make([]rec, 3)
	for i := range clients {
		c := e.client(transports, nil)
		r := rec{make(chan string, 4), make(chan string, 4)}
		_ = c.On("room-msg", func(m string) { r.room <- m })
		_ = c.On("news", func(m string) { r.news <- m })
		connect(t, c)
		clients[i], recs[i] = c, r
	}
	for _, c := range clients[:2] {
		if _, err := c.Call(ctxWait(t), "join", "r1"); err != nil {
			t.Fatal(err)
		}
	}
	_ = clients[0].Emit("to-room", "r1", "hello r1")
	_ = clients[0].Emit("shout", "hello all")
	for i, r := range recs {
		if i < 2 {
			if m := recv(t, r.room, "room message"); m != "hello r1" {
				t.Errorf("client %d got room message %q", i, m)
			}
		}
		if m := recv(t, r.news, "broadcast"); m != "hello all" {
			t.Errorf("client %d got broadcast %q", i, m)
		}
	}
	select {
	case m := <-recs[2].room:
		t.Errorf("client outside the room got %q", m)
	default:
	}
}

func testClientServerDisconnect(t *testing.T, mount eiotest.Mount, transports []string) {
	e := startClientEnv(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		_ = srv.On("kick", func(s *socketio.Socket) { s.Disconnect(false) })
	})
	c := e.client(transports, nil)
	reasons := make(chan string, 2)
	c.OnDisconnect(func(r string) { reasons <- r })
	var attempts atomic.Int32
	c.OnReconnectAttempt(func(int) { attempts.Add(1) })
	connect(t, c)
	_ = c.Emit("kick")
	if r := recv(t, reasons, "disconnect"); r != socketio.ReasonIOServerDisconnect {
		t.Errorf("disconnect reason %q, want %q", r, socketio.ReasonIOServerDisconnect)
	}
	if err := c.Wait(ctxWait(t)); err != nil {
		t.Fatalf("Wait after the server's disconnect: %v", err)
	}
	if n := attempts.Load(); n != 0 || c.Connected() {
		t.Errorf("after a server disconnect: %d reconnection attempts, connected %v", n, c.Connected())
	}
	if err := c.Emit("kick"); !errors.Is(err, socketio.ErrDisconnected) {
		t.Errorf("Emit after the end = %v, want ErrDisconnected", err)
	}
}

func testClientReconnect(t *testing.T, mount eiotest.Mount, transports []string) {
	notes := make(chan string, 4)
	e := startClientEnv(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		_ = srv.On("note", func(s string) { notes <- s })
	})
	var auths atomic.Int32
	c := e.client(transports, &socketio.ClientOptions{AuthFunc: func(context.Context, string) (any, error) {
		auths.Add(1)
		return nil, nil
	}})
	seq := make(chan string, 8)
	c.OnConnect(func() { seq <- "connect" })
	c.OnDisconnect(func(r string) { seq <- "disconnect" })
	reconnected := make(chan int, 1)
	var attempts atomic.Int32
	c.OnReconnectAttempt(func(int) { attempts.Add(1) })
	c.OnReconnect(func(n int) { reconnected <- n })
	connect(t, c)
	recv(t, seq, "connect")
	first := c.ID()

	e.stop()
	if s := recv(t, seq, "disconnect"); s != "disconnect" {
		t.Fatalf("got %q, want disconnect", s)
	}
	if err := c.Emit("note", "while down"); err != nil {
		t.Fatalf("Emit while reconnecting: %v", err)
	}
	e.start()
	recv(t, reconnected, "reconnect")
	if s := recv(t, seq, "connect"); s != "connect" {
		t.Fatalf("got %q, want connect", s)
	}
	if n := recv(t, notes, "the note emitted while down"); n != "while down" {
		t.Errorf("note %q", n)
	}
	if c.ID() == first || !c.Connected() || c.Socket().Recovered() {
		t.Errorf("after reconnecting: id %q (was %q), connected %v, recovered %v", c.ID(), first, c.Connected(), c.Socket().Recovered())
	}
	if n := auths.Load(); n != 2 || attempts.Load() < 1 {
		t.Errorf("AuthFunc called %d times, %d attempts; want 2 and at least 1", n, attempts.Load())
	}
}

func testClientRecovery(t *testing.T, mount eiotest.Mount, transports []string) {
	e := startClientEnv(t, mount, socketio.Options{Recovery: &socketio.RecoveryOptions{}}, func(srv *socketio.Server) {
		_ = srv.On("shout", func(s *socketio.Socket, msg string) { _ = s.Namespace().Emit("news", msg) })
	})
	c := e.client(transports, nil)
	news := make(chan string, 4)
	_ = c.On("news", func(m string) { news <- m })
	seq := make(chan string, 4)
	c.OnConnect(func() { seq <- "connect" })
	c.OnDisconnect(func(string) { seq <- "disconnect" })
	connect(t, c)
	recv(t, seq, "connect")
	id := c.ID()
	_ = c.Emit("shout", "one")
	if m := recv(t, news, "news one"); m != "one" {
		t.Fatalf("news %q", m)
	}
	// Drop the connection from the server side, then broadcast while the
	// client is away.
	srv := e.server()
	sock := srv.Of("/").Socket(id)
	if sock == nil {
		t.Fatal("server has no socket for the client")
	}
	_ = srv.Engine().Session(sock.EngineID()).Close()
	recv(t, seq, "disconnect")
	_ = srv.Emit("news", "missed")
	recv(t, seq, "connect")
	if m := recv(t, news, "the missed news"); m != "missed" {
		t.Errorf("news %q, want missed", m)
	}
	if !c.Socket().Recovered() || c.ID() != id {
		t.Errorf("recovered %v, id %q (was %q); want the same session", c.Socket().Recovered(), c.ID(), id)
	}
}

func testSimpleClient(t *testing.T, mount eiotest.Mount, transports []string) {
	e := startClientEnv(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		srv.OnConnect(func(s *socketio.Socket) error { return s.Emit("hello", "you", []byte{1}) })
		_ = srv.On("sum", func(a, b int) int { return a + b })
		_ = srv.On("bounce", func(s *socketio.Socket, v any) { _ = s.Emit("bounced", v) })
		_ = srv.On("bye", func(s *socketio.Socket) { s.Disconnect(false) })
	})
	ctx := ctxWait(t)
	sc, err := socketio.SimpleConnect(ctx, e.base, &socketio.ClientOptions{Engine: engineio.ClientOptions{Transports: transports}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sc.Disconnect() }()
	if sc.ID() == "" || sc.Transport() == "" {
		t.Errorf("ID %q transport %q", sc.ID(), sc.Transport())
	}
	ev, args, err := sc.Receive(ctx)
	if err != nil || ev != "hello" || !reflect.DeepEqual(args, []any{"you", []byte{1}}) {
		t.Errorf("Receive = %q %#v %v", ev, args, err)
	}
	r, err := sc.Call(ctx, "sum", 2, 3)
	var sum int
	if err != nil || r.Decode(&sum) != nil || sum != 5 {
		t.Errorf("Call(sum) = %d, %v", sum, err)
	}
	_ = sc.Emit("bounce", map[string]any{"a": "b"})
	if ev, args, err := sc.Receive(ctx); err != nil || ev != "bounced" || !reflect.DeepEqual(args, []any{map[string]any{"a": "b"}}) {
		t.Errorf("Receive = %q %#v %v", ev, args, err)
	}
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if _, _, err := sc.Receive(short); !errors.Is(err, socketio.ErrTimeout) {
		t.Errorf("Receive with nothing to receive = %v, want ErrTimeout", err)
	}
	_ = sc.Emit("bye")
	if _, _, err := sc.Receive(ctx); !errors.Is(err, socketio.ErrDisconnected) {
		t.Errorf("Receive after the server's disconnect = %v, want ErrDisconnected", err)
	}
}

func testClientCycles(t *testing.T, mount eiotest.Mount, transports []string) {
	e := startClientEnv(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		_ = srv.On("ping", func() string { return "pong" })
	})
	const cycles = 1000
	for i := range cycles {
		ctx, cancel := context.WithTimeout(context.Background(), clientWait)
		c, err := socketio.Connect(ctx, e.base, &socketio.ClientOptions{Engine: engineio.ClientOptions{Transports: transports}})
		if err != nil {
			cancel()
			t.Fatalf("cycle %d: %v", i, err)
		}
		if i%100 == 0 {
			if _, err := c.Call(ctx, "ping"); err != nil {
				t.Errorf("cycle %d: %v", i, err)
			}
		}
		_ = c.Close()
		select {
		case <-c.Done():
		case <-ctx.Done():
			t.Fatalf("cycle %d: client did not finish", i)
		}
		cancel()
	}
	deadline := time.Now().Add(clientWait)
	for e.server().Engine().Count() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := e.server().Engine().Count(); n != 0 {
		t.Errorf("%d sessions still open on the server after %d cycles", n, cycles)
	}
}

func testClientReconnectFails(t *testing.T, mount eiotest.Mount, transports []string) {
	e := startClientEnv(t, mount, socketio.Options{}, nil)
	c := e.client(transports, &socketio.ClientOptions{ReconnectionAttempts: 3})
	var attempts, errs atomic.Int32
	c.OnReconnectAttempt(func(int) { attempts.Add(1) })
	c.OnReconnectError(func(error) { errs.Add(1) })
	failed := make(chan struct{})
	c.OnReconnectFailed(func() { close(failed) })
	reasons := make(chan string, 1)
	c.OnDisconnect(func(r string) { reasons <- r })
	connect(t, c)
	e.stop()
	if r := recv(t, reasons, "disconnect"); r == socketio.ReasonIOServerDisconnect || r == socketio.ReasonIOClientDisconnect {
		t.Errorf("disconnect reason %q for a server that went away", r)
	}
	recv(t, failed, "reconnect_failed")
	if err := c.Wait(ctxWait(t)); err != nil {
		t.Fatalf("Wait after giving up: %v", err)
	}
	if a, n := attempts.Load(), errs.Load(); a != 3 || n != 3 {
		t.Errorf("%d attempts and %d errors, want 3 of each", a, n)
	}
	// The client that gave up says so: emits fail at once, acks too.
	if err := c.Emit("late"); !errors.Is(err, socketio.ErrDisconnected) || !errors.Is(err, socketio.ErrReconnectFailed) {
		t.Errorf("Emit after giving up = %v, want ErrDisconnected and ErrReconnectFailed", err)
	}
	if _, err := c.EmitWithAck(ctxWait(t), "late"); !errors.Is(err, socketio.ErrReconnectFailed) {
		t.Errorf("EmitWithAck after giving up = %v, want ErrReconnectFailed", err)
	}
	if tr := c.Transport(); tr != "" {
		t.Errorf("Transport after giving up = %q, want \"\"", tr)
	}
}

// testClientDecodeError serves a connection that answers CONNECT and then
// sends an undecodable packet: the client disconnects with "parse error" and
// reconnects, here to a real server.
func testClientDecodeError(t *testing.T, mount eiotest.Mount, transports []string) {
	e := startClientEnv(t, mount, socketio.Options{}, nil)
	bad := engineio.NewServer(&engineio.Options{Path: socketio.DefaultPath})
	bad.OnConnection = func(s *engineio.Session) {
		s.OnMessage(func(data []byte, _ bool) {
			if len(data) > 0 && data[0] == '0' {
				_ = s.Send([]byte(`0{"sid":"fake"}`), false)
				_ = s.Send([]byte(`2["unterminated"`), false)
			}
		})
	}
	t.Cleanup(func() { _ = bad.Close() })
	e.sw.raw.Store(bad)
	c := e.client(transports, nil)
	seq := make(chan string, 4)
	c.OnConnect(func() { seq <- "connect " + c.ID() })
	c.OnDisconnect(func(r string) { seq <- "disconnect " + r })
	connect(t, c)
	if s := recv(t, seq, "connect"); s != "connect fake" {
		t.Fatalf("got %q", s)
	}
	if s := recv(t, seq, "disconnect"); s != "disconnect "+socketio.ReasonParseError {
		t.Errorf("got %q, want a parse error disconnect", s)
	}
	if s := recv(t, seq, "reconnect"); s == "connect fake" || !strings.HasPrefix(s, "connect ") {
		t.Errorf("got %q, want a connection to the real server", s)
	}
}
