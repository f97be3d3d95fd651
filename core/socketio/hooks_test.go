package socketio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/hooks"
)

// recorder keeps every hook call as a line.
type recorder struct {
	mu    sync.Mutex
	lines []string
	ev    []hooks.Event
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *recorder) has(line string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.lines, line)
}

func (r *recorder) hooks() *hooks.Hooks {
	return &hooks.Hooks{
		ConnOpened:         func(tr string) { r.add("open %s", tr) },
		ConnClosed:         func(tr, reason string) { r.add("close %s %s", tr, reason) },
		SocketConnected:    func(nsp, tr string) { r.add("join %s %s", nsp, tr) },
		SocketDisconnected: func(nsp, tr, reason string) { r.add("leave %s %s %s", nsp, tr, reason) },
		PacketIn: func(p hooks.Packet) {
			r.add("in %s %s %q %d %d", p.Namespace, p.Type, p.Event, p.Bytes, p.Attachments)
		},
		PacketOut: func(p hooks.Packet) {
			r.add("out %s %s %q %d %d", p.Namespace, p.Type, p.Event, p.Bytes, p.Attachments)
		},
		EventStart: func(e hooks.Event) any {
			r.mu.Lock()
			r.ev = append(r.ev, e)
			r.mu.Unlock()
			return "state-" + e.Name
		},
		EventEnd: func(e hooks.Event, state any, _ time.Duration, err error) {
			r.add("handled %s %v %v", e.Name, state, err)
		},
		ConnectStart: func(e hooks.Event) any { return "c" },
		ConnectEnd: func(e hooks.Event, state any, _ time.Duration, err error) {
			r.add("connected %s %v %v", e.Namespace, state, err)
		},
		AckLatency: func(nsp string, d time.Duration) { r.add("ack %s %v", nsp, d > 0) },
		Broadcast:  func(nsp string, n, size int) { r.add("broadcast %s %d %d", nsp, n, size) },
		Error:      func(kind string, err error) { r.add("error %s", kind) },
	}
}

// waitFor waits until the recorder has line (hooks run on the server's
// goroutines, some after the packet that shows their effect).
func (r *recorder) waitFor(t *testing.T, line string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !r.has(line) {
		if time.Now().After(deadline) {
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("no hook call %q; got:\n%q", line, r.lines)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestHooks(t *testing.T) {
	rec := &recorder{}
	srv := NewServer(&Options{Engine: engineio.Options{PingInterval: time.Hour}, Hooks: rec.hooks()})
	t.Cleanup(func() { _ = srv.Close() })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(srv.On("echo", func(v any) any { return v }))
	must(srv.On("boom", func() { panic("boom") }))

	c := dialMem(t, srv)
	s := c.connect(srv)
	rec.waitFor(t, "open websocket")
	rec.waitFor(t, "join / websocket")
	rec.waitFor(t, `in / CONNECT "" 0 0`)
	rec.waitFor(t, "connected / c <nil>")

	c.send(`21["echo",{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}]`)
	if got := c.next(); got != `31[{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}]` {
		t.Fatalf("ack %q", got)
	}
	rec.waitFor(t, `in / EVENT "echo" 82 0`)
	rec.waitFor(t, "handled echo state-echo <nil>")
	rec.mu.Lock()
	if len(rec.ev) != 1 || rec.ev[0].TraceParent != "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" || rec.ev[0].SocketID != s.ID() {
		t.Fatalf("events %+v", rec.ev)
	}
	rec.mu.Unlock()

	// A server-side ack: the memClient answers by hand.
	res := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := s.EmitWithAck(ctx, "q")
		res <- err
	}()
	if got := c.next(); got != `20["q"]` {
		t.Fatalf("server event %q", got)
	}
	rec.waitFor(t, `out / EVENT "q" 5 0`)
	c.send(`30["a"]`)
	must(<-res)
	rec.waitFor(t, "ack / true")

	must(srv.Emit("news", []byte{1, 2}))
	if got := c.next(); got != `51-["news",{"_placeholder":true,"num":0}]` {
		t.Fatalf("broadcast %q", got)
	}
	rec.waitFor(t, "broadcast / 1 40")

	c.send(`2["boom"]`)
	rec.waitFor(t, "error handler")

	c.conn.sendText("4" + "2[") // malformed: closes the connection
	rec.waitFor(t, "error parse")
	rec.waitFor(t, "leave / websocket parse error")
	rec.waitFor(t, "close websocket parse error")
}

func TestHooksMerge(t *testing.T) {
	var a, b []string
	h := hooks.Merge(nil, &hooks.Hooks{ConnOpened: func(tr string) { a = append(a, tr) }},
		&hooks.Hooks{ConnOpened: func(tr string) { b = append(b, tr) }, Error: func(k string, _ error) { b = append(b, k) }})
	h.ConnOpened("polling")
	h.Error("parse", errors.New("x"))
	if !slices.Equal(a, []string{"polling"}) || !slices.Equal(b, []string{"polling", "parse"}) {
		t.Fatalf("a %q b %q", a, b)
	}
	if h.PacketIn != nil {
		t.Fatal("a hook nobody set is not nil")
	}
	if hooks.Merge(nil, nil) != nil {
		t.Fatal("Merge of nothing is not nil")
	}
}

// BenchmarkHooksEchoAck is BenchmarkEchoAck without hooks, with a Hooks
// value whose functions are all nil, and with counting listeners on every
// hook of the event path: the first two must allocate the same.
func BenchmarkHooksEchoAck(b *testing.B) {
	var n int64
	count := &hooks.Hooks{
		PacketIn:   func(hooks.Packet) { n++ },
		PacketOut:  func(hooks.Packet) { n++ },
		EventStart: func(hooks.Event) any { return nil },
		EventEnd:   func(hooks.Event, any, time.Duration, error) { n++ },
	}
	for _, bc := range []struct {
		name string
		h    *hooks.Hooks
	}{{"none", nil}, {"empty", &hooks.Hooks{}}, {"counting", count}} {
		b.Run(bc.name, func(b *testing.B) { benchEchoAck(b, bc.h) })
	}
}

func benchEchoAck(b *testing.B, h *hooks.Hooks) {
	srv := NewServer(&Options{Engine: engineio.Options{PingInterval: 1 << 40}, Hooks: h})
	defer func() { _ = srv.Close() }()
	if err := srv.On("echo", func(_ *Socket, ack AckFunc, args ...json.RawMessage) {
		vals := make([]any, len(args))
		for i, a := range args {
			vals[i] = a
		}
		_ = ack(vals...)
	}); err != nil {
		b.Fatal(err)
	}
	got := make(chan struct{}, 1)
	connected := make(chan struct{}, 1)
	conn := newMemConn(func(typ int, parts [][]byte) {
		data := bytes.Join(parts, nil)
		switch {
		case bytes.HasPrefix(data, []byte("40{")):
			connected <- struct{}{}
		case bytes.HasPrefix(data, []byte("43")):
			got <- struct{}{}
		}
	})
	serveMem(srv, conn)
	conn.sendText("40")
	<-connected
	msg := `421["echo",{"user":"bench","n":12345,"text":"hello, world"}]`
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		conn.sendText(msg)
		<-got
	}
}
