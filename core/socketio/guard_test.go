package socketio

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/siokit/siokit/core/engineio"
)

// guardClient is a memConn client that hands each Socket.IO packet it
// receives to onPacket, on the engine's writer: a slow onPacket is a slow
// reader.
type guardClient struct {
	conn *memConn
	sid  chan string
}

func dialGuard(t *testing.T, srv *Server, onPacket func(p string)) *guardClient {
	t.Helper()
	g := &guardClient{sid: make(chan string, 1)}
	g.conn = newMemConn(func(typ int, parts [][]byte) {
		if typ != textMessage {
			return
		}
		data := string(bytes.Join(parts, nil))
		switch {
		case data == "2":
			g.conn.sendText("3")
		case strings.HasPrefix(data, "40{"):
			g.sid <- data[2:]
		case strings.HasPrefix(data, "4") && onPacket != nil:
			onPacket(data[1:])
		}
	})
	serveMem(srv, g.conn)
	t.Cleanup(func() { _ = g.conn.Close() })
	g.conn.sendText("40")
	select {
	case <-g.sid:
	case <-time.After(5 * time.Second):
		t.Fatal("no CONNECT answer")
	}
	return g
}

func (g *guardClient) send(p string) { g.conn.sendText("4" + p) }

func (g *guardClient) sendBinary(b []byte) {
	g.conn.sendFrame(0x82, b)
}

// reasons collects disconnect reasons by socket id.
type reasons struct {
	mu sync.Mutex
	m  map[string]string
	ch chan string
}

func trackReasons(srv *Server) *reasons {
	r := &reasons{m: make(map[string]string), ch: make(chan string, 64)}
	srv.OnDisconnect(func(s *Socket, reason string) {
		r.mu.Lock()
		r.m[s.ID()] = reason
		r.mu.Unlock()
		r.ch <- reason
	})
	return r
}

func (r *reasons) next(t *testing.T) string {
	t.Helper()
	select {
	case reason := <-r.ch:
		return reason
	case <-time.After(10 * time.Second):
		t.Fatal("no disconnect")
		return ""
	}
}

func guardServer(t *testing.T, o Options) *Server {
	t.Helper()
	o.Engine.PingInterval = time.Hour
	o.Logger = slog.New(slog.DiscardHandler)
	srv := NewServer(&o)
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func TestRateLimitSlowsThenCloses(t *testing.T) {
	const rate, burst = 200, 20
	wait := 300 * time.Millisecond
	srv := guardServer(t, Options{EventRate: rate, EventBurst: burst, RateLimitWait: wait})
	var handled atomic.Int64
	Must(srv.On("e", func() { handled.Add(1) }))
	rs := trackReasons(srv)
	var told atomic.Bool
	c := dialGuard(t, srv, func(p string) {
		if p == "1" {
			told.Store(true)
		}
	})
	start := time.Now()
	go func() {
		for range 100_000 {
			c.send(`2["e"]`)
		}
	}()
	if r := rs.next(t); r != ReasonRateLimitExceeded {
		t.Fatalf("reason %q, want %q", r, ReasonRateLimitExceeded)
	}
	took := time.Since(start)
	// The burst goes through at once, then rate per second while the
	// client is slowed; at most wait plus scheduling later it is closed.
	n := handled.Load()
	if max := burst + int64(rate*took.Seconds()) + 1; n < burst || n > max {
		t.Errorf("%d events handled in %s, want %d..%d", n, took, burst, max)
	}
	if took < wait {
		t.Errorf("closed after %s, before the %s the client may wait", took, wait)
	}
	waitFor(t, "the DISCONNECT packet", told.Load)
}

func TestRateLimitLetsAClientAtTheRateThrough(t *testing.T) {
	srv := guardServer(t, Options{EventRate: 1000, EventBurst: 10, RateLimitWait: 200 * time.Millisecond})
	var handled atomic.Int64
	Must(srv.On("e", func() { handled.Add(1) }))
	c := dialGuard(t, srv, nil)
	// 100 events at half the rate: each finds a token waiting.
	for range 100 {
		c.send(`2["e"]`)
		time.Sleep(2 * time.Millisecond)
	}
	waitFor(t, "every event handled", func() bool { return handled.Load() == 100 })
}

func TestPendingEventsStopReading(t *testing.T) {
	for _, release := range []bool{true, false} {
		t.Run(fmt.Sprint("release=", release), func(t *testing.T) {
			const max = 8
			srv := guardServer(t, Options{
				MaxPendingEvents: max, RateLimitWait: 200 * time.Millisecond,
				SlowReceiverWait: 100 * time.Millisecond,
			})
			block := make(chan struct{})
			var handled atomic.Int64
			Must(srv.On("e", func() { <-block; handled.Add(1) }))
			t.Cleanup(func() {
				select {
				case <-block:
				default:
					close(block)
				}
			})
			rs := trackReasons(srv)
			c := dialGuard(t, srv, nil)
			s := srv.Of("/").Sockets()[0]
			go func() {
				for range 100 {
					c.send(`2["e"]`)
				}
			}()
			waitFor(t, "a full backlog", func() bool { return backlog(s) == max })
			if release {
				close(block)
				waitFor(t, "every event handled", func() bool { return handled.Load() == 100 })
				return
			}
			// The disconnect handler runs after the events queued before
			// it, so the socket's state shows the close first.
			waitFor(t, "the close", func() bool { return !s.Connected() })
			if n := backlog(s); n > max+1 {
				t.Errorf("backlog %d over %d and the disconnect handler", n, max)
			}
			close(block)
			if r := rs.next(t); r != ReasonRateLimitExceeded {
				t.Fatalf("reason %q, want %q", r, ReasonRateLimitExceeded)
			}
		})
	}
}

func backlog(s *Socket) int {
	s.jobMu.Lock()
	defer s.jobMu.Unlock()
	return len(s.jobs) - s.jobHead
}

func TestAttachmentGuards(t *testing.T) {
	header := `52-["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`
	for _, tc := range []struct {
		name   string
		parts  [][]byte
		closed bool
	}{
		{"complete", [][]byte{make([]byte, 40), make([]byte, 40)}, false},
		{"never complete", [][]byte{make([]byte, 40)}, true},
		{"over the byte cap", [][]byte{make([]byte, 80), make([]byte, 80)}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := guardServer(t, Options{AttachmentTimeout: 100 * time.Millisecond, MaxAttachmentBytes: 100})
			got := make(chan int, 1)
			Must(srv.On("up", func(a, b []byte) { got <- len(a) + len(b) }))
			rs := trackReasons(srv)
			c := dialGuard(t, srv, nil)
			c.send(header)
			for _, p := range tc.parts {
				c.sendBinary(p)
			}
			if !tc.closed {
				select {
				case n := <-got:
					if n != 80 {
						t.Errorf("handler got %d bytes", n)
					}
				case r := <-rs.ch:
					t.Errorf("closed: %q", r)
				case <-time.After(5 * time.Second):
					t.Error("handler not called")
				}
				return
			}
			if r := rs.next(t); r != ReasonAttachmentLimit {
				t.Fatalf("reason %q, want %q", r, ReasonAttachmentLimit)
			}
		})
	}
}

// TestBurstIntoRoomClosesOnlyTheReceiverThatDoesNotRead: a sender bursts
// events that a handler re-emits to a room whose members read slowly; the
// members' queues are small. Every member that reads gets every event and
// stays; the one that does not read is the only one closed.
func TestBurstIntoRoomClosesOnlyTheReceiverThatDoesNotRead(t *testing.T) {
	const events, members = 3000, 4
	srv := guardServer(t, Options{Engine: engineio.Options{MaxQueuedPackets: 64}, SlowReceiverWait: 300 * time.Millisecond})
	Must(srv.On("join", func(s *Socket) { s.Join("room") }))
	Must(srv.On("say", func(s *Socket, n int) { _ = s.To("room").Emit("said", n) }))
	rs := trackReasons(srv)
	joined := func(c *guardClient) {
		m := srv.Of("/").Manager().(*inMemoryManager)
		n := len(m.Sockets([]string{"room"}))
		c.send(`2["join"]`)
		waitFor(t, "joined", func() bool { return len(m.Sockets([]string{"room"})) == n+1 })
	}
	var got [members]atomic.Int64
	for i := range members {
		c := dialGuard(t, srv, func(p string) {
			if strings.HasPrefix(p, `2["said"`) {
				got[i].Add(1)
				time.Sleep(20 * time.Microsecond) // a slow reader, but a reader
			}
		})
		joined(c)
	}
	stuck := make(chan struct{})
	defer close(stuck)
	deaf := dialGuard(t, srv, func(p string) {
		select {
		case <-stuck:
		default:
			<-stuck // never reads again
		}
	})
	joined(deaf)
	sender := dialGuard(t, srv, nil)
	for i := range events {
		sender.send(fmt.Sprintf(`2["say",%d]`, i))
	}
	for i := range members {
		waitFor(t, "every event at member "+fmt.Sprint(i), func() bool { return got[i].Load() == events })
	}
	if r := rs.next(t); r != ReasonTransportError {
		t.Errorf("the deaf member left with %q, want %q", r, ReasonTransportError)
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if len(rs.m) != 1 {
		t.Errorf("%d sockets disconnected, want only the deaf one: %v", len(rs.m), rs.m)
	}
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
