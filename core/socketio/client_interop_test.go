package socketio_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/siokit/siokit/core/eiotest"
	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/socketio"
)

// interopWait bounds every wait of the interop tests.
const interopWait = 10 * time.Second

// peerServer is a Socket.IO server process written by others: the official
// Node.js server or python-socketio's.
type peerServer struct {
	t    *testing.T
	kind string // "node" or "python"
	args []string
	port int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	out  strings.Builder
}

// startPeer starts a server of kind on a free port and waits until it
// listens. The test fails, and does not skip, when the runtime or its
// packages are missing; the process is killed at the end of the test.
func startPeer(t *testing.T, kind string, args ...string) *peerServer {
	t.Helper()
	p := &peerServer{t: t, kind: kind, args: args}
	p.start()
	t.Cleanup(p.kill)
	return p
}

func (p *peerServer) command() *exec.Cmd {
	t := p.t
	root := eiotest.RepoRoot(t)
	port := strconv.Itoa(p.port)
	switch p.kind {
	case "node":
		node, err := exec.LookPath("node")
		if err != nil {
			t.Fatalf("node not found (%v); run `make deps`", err)
		}
		modules := filepath.Join(root, "node_modules")
		if _, err := os.Stat(filepath.Join(modules, "socket.io")); err != nil {
			t.Fatalf("the npm package socket.io is missing (%v); run `make deps` (npm ci)", err)
		}
		cmd := exec.Command(node, append([]string{filepath.Join("testdata", "client_node_server.js"), port}, p.args...)...)
		cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
		return cmd
	default:
		// Debian's interpreter, which has python3-socketio; the python3 on
		// PATH may be another one.
		const python = "/usr/bin/python3"
		if err := exec.Command(python, "-c", "import socketio, aiohttp").Run(); err != nil {
			t.Fatalf("%s cannot import socketio and aiohttp (%v); run `make deps`", python, err)
		}
		return exec.Command(python, append([]string{filepath.Join("testdata", "client_py_server.py"), port}, p.args...)...)
	}
}

// start runs the process and waits for its LISTENING line. A restart on a
// fixed port retries while the port is still taken.
func (p *peerServer) start() {
	t := p.t
	t.Helper()
	deadline := time.Now().Add(interopWait)
	for {
		err := p.try()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s server did not start: %v\noutput:\n%s", p.kind, err, p.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *peerServer) try() error {
	cmd := p.command()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = writerFunc(p.log)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	ready := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			_, _ = p.log([]byte(line + "\n"))
			if rest, ok := strings.CutPrefix(line, "LISTENING "); ok {
				if n, err := strconv.Atoi(rest); err == nil {
					ready <- n
				}
			}
		}
		_ = cmd.Wait()
		close(done)
	}()
	select {
	case n := <-ready:
		p.mu.Lock()
		p.cmd, p.done, p.port = cmd, done, n
		p.mu.Unlock()
		return nil
	case <-done:
		return errors.New("the process exited")
	case <-time.After(interopWait):
		_ = cmd.Process.Kill()
		<-done
		return errors.New("no LISTENING line")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

func (p *peerServer) log(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out.Write(b)
	return len(b), nil
}

func (p *peerServer) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// kill ends the process with SIGKILL and waits for it.
func (p *peerServer) kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

func (p *peerServer) url() string { return "http://127.0.0.1:" + strconv.Itoa(p.port) }

var interopModes = []struct {
	name       string
	transports []string
}{
	{"polling", []string{engineio.TransportPolling}},
	{"websocket", []string{engineio.TransportWebSocket}},
	{"upgrade", nil},
}

var secret = map[string]string{"token": "secret"}

// TestClientInterop drives the Go client against the official Node.js
// server and python-socketio's, over polling, WebSocket and upgrade.
func TestClientInterop(t *testing.T) {
	for _, kind := range []string{"node", "python"} {
		t.Run(kind, func(t *testing.T) {
			shared := startPeer(t, kind)
			restartable := startPeer(t, kind)
			var recovering *peerServer
			if kind == "node" {
				recovering = startPeer(t, kind, "recovery")
			}
			for _, m := range interopModes {
				t.Run(m.name, func(t *testing.T) {
					t.Run("EventsAndAcks", func(t *testing.T) { interopEvents(t, shared.url(), m.transports) })
					t.Run("Auth", func(t *testing.T) { interopAuth(t, shared.url(), m.transports) })
					t.Run("Rooms", func(t *testing.T) { interopRooms(t, shared.url(), m.transports) })
					t.Run("ServerDisconnect", func(t *testing.T) { interopKick(t, shared.url(), m.transports) })
					t.Run("Restart", func(t *testing.T) { interopRestart(t, restartable, m.transports) })
					if recovering != nil {
						t.Run("Recovery", func(t *testing.T) { interopRecovery(t, recovering.url(), m.transports) })
					}
				})
			}
		})
	}
}

func newClient(t *testing.T, url string, transports []string, opts socketio.ClientOptions) *socketio.Client {
	t.Helper()
	opts.Engine.Transports = transports
	if opts.ReconnectionDelay == nil {
		opts.ReconnectionDelay = new(50 * time.Millisecond)
		opts.ReconnectionDelayMax = 200 * time.Millisecond
	}
	c := socketio.NewClient(url, &opts)
	t.Cleanup(func() {
		_ = c.Close()
		select {
		case <-c.Done():
		case <-time.After(interopWait):
			t.Errorf("client still running %v after Close", interopWait)
		}
	})
	return c
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), interopWait)
	t.Cleanup(cancel)
	return ctx
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(interopWait):
		t.Fatalf("timed out after %v waiting for %s", interopWait, what)
		var zero T
		return zero
	}
}

var (
	sampleArgs = []any{
		"héllo", 42, 1.5, true, nil, map[string]any{"k": []any{1, "x"}},
		[]byte{0, 1, 2, 255}, map[string]any{"bin": []byte{9, 8}, "n": 1},
	}
	sampleDecoded = []any{
		"héllo", 42.0, 1.5, true, nil, map[string]any{"k": []any{1.0, "x"}},
		[]byte{0, 1, 2, 255}, map[string]any{"bin": []byte{9, 8}, "n": 1.0},
	}
)

type nested struct {
	Bin []byte `json:"bin"`
	N   int    `json:"n"`
}

type welcomeArgs struct {
	S    string
	N    int
	F    float64
	B    bool
	Null *int
	M    map[string][]any
	Bin  []byte
	Nest nested
}

func interopEvents(t *testing.T, url string, transports []string) {
	c := newClient(t, url, transports, socketio.ClientOptions{Auth: secret})
	admin := c.Of("/admin")
	welcomes := make(chan welcomeArgs, 1)
	err := c.On("welcome", func(s string, n int, f float64, b bool, null *int, m map[string][]any, bin []byte, nest nested) {
		welcomes <- welcomeArgs{s, n, f, b, null, m, bin, nest}
	})
	if err != nil {
		t.Fatal(err)
	}
	echoed := make(chan []any, 1)
	_ = c.On("echoed", func(args ...any) { echoed <- args })
	_ = c.On("double", func(n int) int { return 2 * n })
	answers := make(chan string, 1)
	_ = c.On("answer", func(v int, status string) { answers <- fmt.Sprint(v, " ", status) })
	anys := make(chan []any, 1)
	_ = c.OnAny(func(event string, args ...any) { anys <- append([]any{event}, args...) })
	if err := c.Connect(waitCtx(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}

	w := recv(t, welcomes, "welcome")
	want := welcomeArgs{S: "héllo", N: 42, F: 1.5, B: true, M: map[string][]any{"k": {1.0, "x"}},
		Bin: []byte{0, 1, 2, 255}, Nest: nested{Bin: []byte{9, 8}, N: 1}}
	if !reflect.DeepEqual(w, want) {
		t.Errorf("welcome decoded as\n %#v\nwant\n %#v", w, want)
	}
	r, err := c.EmitWithAck(waitCtx(t), "echo", sampleArgs...)
	if err != nil {
		t.Fatalf("EmitWithAck(echo): %v", err)
	}
	if vals, err := r.Values(); err != nil || !reflect.DeepEqual(vals, sampleDecoded) {
		t.Errorf("echo ack %#v (%v), want %#v", vals, err, sampleDecoded)
	}
	_ = c.Emit("echo-back", sampleArgs...)
	if args := recv(t, echoed, "echoed"); !reflect.DeepEqual(args, sampleDecoded) {
		t.Errorf("echoed %#v, want %#v", args, sampleDecoded)
	}
	_ = c.Emit("ask", 21)
	if a := recv(t, answers, "answer"); a != "42 ok" {
		t.Errorf("server's call of the client gave %q, want 42", a)
	}
	_ = c.Emit("poke")
	if a := recv(t, anys, "catch-all"); !reflect.DeepEqual(a, []any{"unhandled", "x", 1.0}) {
		t.Errorf("catch-all got %#v", a)
	}
	for _, s := range []*socketio.ClientSocket{c.Socket(), admin} {
		r, err := s.Call(waitCtx(t), "whoami")
		var who string
		if err != nil || r.Decode(&who) != nil || who != s.Namespace()+" "+s.ID() {
			t.Errorf("whoami on %s = %q, %v; want %q", s.Namespace(), who, err, s.Namespace()+" "+s.ID())
		}
	}
}

func interopAuth(t *testing.T, url string, transports []string) {
	c := newClient(t, url, transports, socketio.ClientOptions{Auth: map[string]string{"token": "wrong"}})
	refused := make(chan error, 1)
	c.OnConnectError(func(err error) { refused <- err })
	err := c.Connect(waitCtx(t))
	var ce *socketio.ConnectionRefusedError
	if !errors.As(err, &ce) || !errors.Is(err, socketio.ErrConnectionRefused) || errors.Is(err, socketio.ErrBadNamespace) {
		t.Fatalf("Connect with a bad token = %v, want a ConnectionRefusedError", err)
	}
	var data struct{ Reason string }
	if ce.Message != "unauthorized" || ce.DecodeData(&data) != nil || data.Reason != "bad token" {
		t.Errorf("refusal %q with data %s, want unauthorized / bad token", ce.Message, ce.Data)
	}
	if e := recv(t, refused, "connect_error"); !errors.Is(e, socketio.ErrConnectionRefused) {
		t.Errorf("connect_error handler got %v", e)
	}

	var calls atomic.Int32
	ok := newClient(t, url, transports, socketio.ClientOptions{AuthFunc: func(context.Context, string) (any, error) {
		calls.Add(1)
		return secret, nil
	}})
	if err := ok.Connect(waitCtx(t)); err != nil || calls.Load() != 1 {
		t.Errorf("Connect with AuthFunc: %v, %d calls", err, calls.Load())
	}

	bad := newClient(t, url, transports, socketio.ClientOptions{Namespaces: []string{"/nope"}})
	if err := bad.Connect(waitCtx(t)); !errors.Is(err, socketio.ErrBadNamespace) {
		t.Errorf("Connect to an unknown namespace = %v, want ErrBadNamespace", err)
	}
}

func interopRooms(t *testing.T, url string, transports []string) {
	type rec struct{ room, news chan string }
	var cs []*socketio.Client
	var recs []rec
	for range 2 {
		c := newClient(t, url, transports, socketio.ClientOptions{Auth: secret})
		r := rec{make(chan string, 4), make(chan string, 4)}
		_ = c.On("room-msg", func(m string) { r.room <- m })
		_ = c.On("news", func(m string) { r.news <- m })
		if err := c.Connect(waitCtx(t)); err != nil {
			t.Fatal(err)
		}
		cs, recs = append(cs, c), append(recs, r)
	}
	room := "room-" + cs[0].ID()
	if _, err := cs[0].Call(waitCtx(t), "join", room); err != nil {
		t.Fatal(err)
	}
	_ = cs[0].Emit("to-room", room, "to the room")
	if m := recv(t, recs[0].room, "room message"); m != "to the room" {
		t.Errorf("room message %q", m)
	}
	_ = cs[0].Emit("shout", "to all")
	for i, r := range recs {
		if m := recv(t, r.news, "broadcast"); m != "to all" {
			t.Errorf("client %d got broadcast %q", i, m)
		}
	}
	if _, err := cs[1].Call(waitCtx(t), "whoami"); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-recs[1].room:
		t.Errorf("a client outside the room got %q", m)
	default:
	}
}

func interopKick(t *testing.T, url string, transports []string) {
	c := newClient(t, url, transports, socketio.ClientOptions{Auth: secret})
	reasons := make(chan string, 2)
	c.OnDisconnect(func(r string) { reasons <- r })
	var attempts atomic.Int32
	c.OnReconnectAttempt(func(int) { attempts.Add(1) })
	if err := c.Connect(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
	_ = c.Emit("kick")
	if r := recv(t, reasons, "disconnect"); r != socketio.ReasonIOServerDisconnect {
		t.Errorf("disconnect reason %q, want %q", r, socketio.ReasonIOServerDisconnect)
	}
	if err := c.Wait(waitCtx(t)); err != nil {
		t.Fatalf("Wait after the server's disconnect: %v", err)
	}
	if n := attempts.Load(); n != 0 {
		t.Errorf("%d reconnection attempts after a server disconnect", n)
	}
}

// interopRestart kills the server process and starts it again on the same
// port: the client reconnects by itself.
func interopRestart(t *testing.T, p *peerServer, transports []string) {
	var auths atomic.Int32
	c := newClient(t, p.url(), transports, socketio.ClientOptions{
		AuthFunc: func(context.Context, string) (any, error) { auths.Add(1); return secret, nil },
	})
	seq := make(chan string, 8)
	c.OnConnect(func() { seq <- "connect" })
	c.OnDisconnect(func(r string) { seq <- "disconnect " + r })
	if err := c.Connect(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
	recv(t, seq, "connect")
	first := c.ID()
	p.kill()
	if s := recv(t, seq, "disconnect"); !strings.HasPrefix(s, "disconnect transport") {
		t.Errorf("got %q, want a transport disconnect", s)
	}
	p.start()
	if s := recv(t, seq, "connect after the restart"); s != "connect" {
		t.Fatalf("got %q, want connect", s)
	}
	r, err := c.Call(waitCtx(t), "whoami")
	var who string
	if err != nil || r.Decode(&who) != nil || who != "/ "+c.ID() || c.ID() == first {
		t.Errorf("after the restart: whoami %q, %v; id %q (was %q)", who, err, c.ID(), first)
	}
	if n := auths.Load(); n < 2 {
		t.Errorf("AuthFunc called %d times, want once per connection", n)
	}
}

func interopRecovery(t *testing.T, url string, transports []string) {
	c := newClient(t, url, transports, socketio.ClientOptions{
		Auth: secret, ReconnectionDelay: new(300 * time.Millisecond), RandomizationFactor: new(0.0),
	})
	news := make(chan string, 4)
	_ = c.On("news", func(m string) { news <- m })
	seq := make(chan string, 4)
	c.OnConnect(func() { seq <- "connect" })
	c.OnDisconnect(func(string) { seq <- "disconnect" })
	if err := c.Connect(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
	recv(t, seq, "connect")
	id := c.ID()
	if c.Socket().Recovered() {
		t.Error("a first connection reports recovered")
	}
	_ = c.Emit("shout", "one")
	if m := recv(t, news, "news"); m != "one" {
		t.Fatalf("news %q", m)
	}
	_ = c.Emit("drop", "missed")
	recv(t, seq, "disconnect")
	recv(t, seq, "connect")
	if m := recv(t, news, "the news missed while away"); m != "missed" {
		t.Errorf("news %q, want missed", m)
	}
	if !c.Socket().Recovered() || c.ID() != id {
		t.Errorf("recovered %v, id %q (was %q); want the same session back", c.Socket().Recovered(), c.ID(), id)
	}
}
