package socketio

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/core/engineio"
)

// Handlers of WebSocket events run on the connection's reader. These tests
// check that one that blocks never stalls its connection: reading, writing
// and the heartbeat go on, and a socket's events keep their order.
func TestHandlerOnReaderMayBlock(t *testing.T) {
	// A handler gives up after patience, longer than memClient.next waits
	// for a packet: a stalled connection fails the test.
	const patience = 10 * time.Second
	tests := []struct {
		name string
		// setup registers the handlers; it returns the packets the client
		// sends, then the client's part (if any) and what it must receive
		// after that, in order.
		setup func(srv *Server, c *memClient) (send []string, answer func(), want []string)
	}{
		{
			name: "handler waits for its own client's ack",
			setup: func(srv *Server, c *memClient) ([]string, func(), []string) {
				must(t, srv.On("ask", func(s *Socket, ack AckFunc) {
					ctx, cancel := context.WithTimeout(context.Background(), patience)
					defer cancel()
					r, err := s.EmitWithAck(ctx, "q")
					if err != nil {
						_ = ack("error: " + err.Error())
						return
					}
					_ = ack(r.Args[0])
				}))
				answer := func() {
					p := c.next()
					id, ok := strings.CutSuffix(strings.TrimPrefix(p, "2"), `["q"]`)
					if !ok {
						t.Fatalf("server question %q", p)
					}
					c.send("3" + id + `["yes"]`)
				}
				return []string{`21["ask"]`}, answer, []string{`31["yes"]`}
			},
		},
		{
			name: "handler waits for an event on another namespace",
			setup: func(srv *Server, c *memClient) ([]string, func(), []string) {
				release := make(chan struct{})
				must(t, srv.On("wait", func(_ *Socket, ack AckFunc) {
					select {
					case <-release:
						_ = ack("released")
					case <-time.After(patience):
						_ = ack("stuck")
					}
				}))
				must(t, srv.Of("/b").On("release", func(*Socket) { close(release) }))
				c.send("0/b,")
				if p := c.next(); !strings.HasPrefix(p, "0/b,{") {
					t.Fatalf("CONNECT /b answer %q", p)
				}
				return []string{`21["wait"]`, `2/b,["release"]`}, nil, []string{`31["released"]`}
			},
		},
		{
			name: "broadcast reaches a client whose handler blocks",
			setup: func(srv *Server, c *memClient) ([]string, func(), []string) {
				entered, release := make(chan struct{}), make(chan struct{})
				must(t, srv.On("hold", func(_ *Socket, ack AckFunc) {
					close(entered)
					select {
					case <-release:
						_ = ack("released")
					case <-time.After(patience):
						_ = ack("stuck")
					}
				}))
				answer := func() {
					<-entered
					must(t, srv.Emit("news", 1))
					if got := c.next(); got != `2["news",1]` {
						t.Fatalf("while the handler blocks, got %q", got)
					}
					close(release)
				}
				return []string{`21["hold"]`}, answer, []string{`31["released"]`}
			},
		},
		{
			name: "a slow event delays the socket's next ones, in order",
			setup: func(srv *Server, _ *memClient) ([]string, func(), []string) {
				must(t, srv.On("n", func(_ *Socket, n int) int {
					if n == 1 {
						time.Sleep(20 * time.Millisecond)
					}
					return n
				}))
				var send, want []string
				for i := 1; i <= 20; i++ {
					send = append(send, fmt.Sprintf(`2%d["n",%d]`, i, i))
					want = append(want, fmt.Sprintf(`3%d[%d]`, i, i))
				}
				return send, nil, want
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t)
			c := dialMem(t, srv)
			c.connect(srv)
			send, answer, want := tt.setup(srv, c)
			for _, p := range send {
				c.send(p)
			}
			if answer != nil {
				answer()
			}
			for _, w := range want {
				if got := c.next(); got != w {
					t.Fatalf("got %q, want %q", got, w)
				}
			}
		})
	}
}

// TestHeartbeatDuringLongHandler checks that the pongs of a client keep
// being read while a handler holds the connection's reader far longer than
// the ping interval and timeout.
func TestHeartbeatDuringLongHandler(t *testing.T) {
	srv := NewServer(&Options{Engine: engineio.Options{PingInterval: 20 * time.Millisecond, PingTimeout: 20 * time.Millisecond}})
	t.Cleanup(func() { _ = srv.Close() })
	must(t, srv.On("slow", func() string {
		time.Sleep(300 * time.Millisecond)
		return "done"
	}))
	c := dialMem(t, srv)
	s := c.connect(srv)
	c.send(`21["slow"]`)
	if got := c.next(); got != `31["done"]` {
		t.Fatalf("got %q", got)
	}
	if !s.Connected() {
		t.Fatal("the socket disconnected while its handler ran")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestClientLeavesDuringBlockedHandler checks that a connection closed while
// a handler holds its reader ends cleanly: the handler finishes, its late
// ack is dropped, the disconnect handler runs after it, and no goroutine is
// left (TestMain's goleak check).
func TestClientLeavesDuringBlockedHandler(t *testing.T) {
	srv := newTestServer(t)
	entered, release := make(chan struct{}), make(chan struct{})
	order := make(chan string, 2)
	must(t, srv.On("hold", func(_ *Socket, ack AckFunc) {
		close(entered)
		<-release
		order <- "handler"
		if err := ack("late"); err == nil {
			t.Error("ack after the connection closed reported no error")
		}
	}))
	srv.OnDisconnect(func(_ *Socket, reason string) { order <- "disconnect: " + reason })
	c := dialMem(t, srv)
	c.connect(srv)
	c.send(`21["hold"]`)
	<-entered
	time.Sleep(3 * handoffSettle) // reading has passed to a substitute
	_ = c.conn.Close()
	time.Sleep(handoffSettle)
	close(release)
	for _, want := range []string{"handler", "disconnect: " + engineio.ReasonTransportClose} {
		select {
		case got := <-order:
			if got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no %q", want)
		}
	}
	c.conn.checkReleased(t, handoffSettle)
}

// handoffSettle is comfortably longer than the engine's hand-off delay.
const handoffSettle = 10 * time.Millisecond

// TestConnectionReleasedWhileWriting checks the engineio.Upgrader contract
// when a connection closes under a busy writer: the upgrade callback returns
// only once the writer has stopped, so the engine calls nothing but Close on
// the connection afterwards (fasthttp recycles its wrapper then).
func TestConnectionReleasedWhileWriting(t *testing.T) {
	srv := newTestServer(t)
	c := &memClient{t: t, msgs: make(chan string, 1024)}
	c.conn = newMemConn(func(_ int, parts [][]byte) {
		data := string(bytes.Join(parts, nil))
		if strings.HasPrefix(data, "42") {
			time.Sleep(time.Millisecond) // a slow peer
		}
		if strings.HasPrefix(data, "4") {
			c.msgs <- data[1:]
		}
	})
	serveMem(srv, c.conn)
	s := c.connect(srv)
	for i := range 200 {
		must(t, s.Emit("n", i))
	}
	if got := c.next(); got != `2["n",0]` {
		t.Fatalf("got %q", got)
	}
	_ = c.conn.Close()
	c.conn.checkReleased(t, handoffSettle)
}

// TestConnectionReleasedUnderSubstituteContinuation checks the
// engineio.Upgrader contract when the session closes while a handler runs on
// a substitute reader: the connection's own goroutine, which has lost the
// reader role, must not let go of the connection while that handler may
// still write what it sent (here the DISCONNECT and close packet its
// Disconnect queued), and what it sent must still go out.
func TestConnectionReleasedUnderSubstituteContinuation(t *testing.T) {
	srv := newTestServer(t)
	entered, release := make(chan struct{}), make(chan struct{})
	must(t, srv.On("hold", func() {
		close(entered)
		<-release
	}))
	c := dialMem(t, srv)
	// On another namespace, so that it does not queue behind "hold".
	must(t, srv.Of("/other").On("quit", func(s *Socket) {
		s.Disconnect(true)
		// The connection's own goroutine, released from "hold", ends
		// its read loop now; the close packet goes out when this
		// continuation ends or, after the hand-off delay, from the writer.
		close(release)
		select {
		case <-c.conn.served:
		case <-time.After(time.Second):
		}
	}))
	c.connect(srv)
	c.send("0/other,")
	if got := c.next(); !strings.HasPrefix(got, "0/other,{") {
		t.Fatalf("CONNECT answer %q", got)
	}
	c.send(`2["hold"]`)
	<-entered
	time.Sleep(3 * handoffSettle) // reading has passed to a substitute
	c.send(`2/other,["quit"]`)
	c.conn.checkReleased(t, handoffSettle)
	// What the handler sent still reached the client before the end: a
	// DISCONNECT for each namespace.
	got := map[string]bool{c.next(): true, c.next(): true}
	if !got["1"] || !got["1/other,"] {
		t.Fatalf("got %v, want the DISCONNECTs of / and /other", got)
	}
}
