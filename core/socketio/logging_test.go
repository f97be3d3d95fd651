package socketio

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/siokit/siokit/core/engineio"
)

// capture is a slog handler that keeps every record.
type capture struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (c *capture) Enabled(context.Context, slog.Level) bool { return true }
func (c *capture) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	c.recs = append(c.recs, r.Clone())
	c.mu.Unlock()
	return nil
}
func (c *capture) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *capture) WithGroup(string) slog.Handler      { return c }

func (c *capture) records() []slog.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]slog.Record(nil), c.recs...)
}

// attr returns the value of r's attribute key, and whether r has it.
func attr(r slog.Record, key string) (string, bool) {
	var v string
	var found bool
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v, found = a.Value.String(), true
			return false
		}
		return true
	})
	return v, found
}

// withDefaultLogger makes a capture the handler of slog.Default for the
// test; the test must not run in parallel with others that log.
func withDefaultLogger(t *testing.T) *capture {
	c := &capture{}
	old := slog.Default()
	slog.SetDefault(slog.New(c))
	t.Cleanup(func() { slog.SetDefault(old) })
	return c
}

// waitRecords waits until c holds at least n records.
func waitRecords(t *testing.T, c *capture, n int) []slog.Record {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if rs := c.records(); len(rs) >= n {
			return rs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records, want %d: %v", len(c.records()), n, c.records())
		}
		time.Sleep(time.Millisecond)
	}
}

func TestDefaultLoggerLogsPanicWithStack(t *testing.T) {
	logs := withDefaultLogger(t)
	srv := NewServer(&Options{Engine: engineio.Options{PingInterval: time.Hour}})
	t.Cleanup(func() { _ = srv.Close() })
	handled := make(chan struct{})
	Must(srv.On("boom", func(s *Socket) {
		defer close(handled)
		panic("kaboom")
	}))
	c := dialMem(t, srv)
	c.connect(srv)
	c.send(`2["boom"]`)
	<-handled
	rs := waitRecords(t, logs, 1)
	if len(rs) != 1 {
		t.Fatalf("%d records, want 1: %v", len(rs), rs)
	}
	r := rs[0]
	if r.Level < slog.LevelWarn {
		t.Errorf("level %v, want Warn or Error", r.Level)
	}
	stack, ok := attr(r, "stack")
	if !ok || !strings.Contains(stack, "TestDefaultLoggerLogsPanicWithStack") {
		t.Errorf("stack attribute %q does not show the handler", stack)
	}
	if v, _ := attr(r, "event"); v != "boom" {
		t.Errorf("event attribute %q", v)
	}
	if v, _ := attr(r, "panic"); v != "kaboom" {
		t.Errorf("panic attribute %q", v)
	}
}

func TestDiscardLoggerSilences(t *testing.T) {
	logs := withDefaultLogger(t)
	srv := NewServer(&Options{Engine: engineio.Options{PingInterval: time.Hour}, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { _ = srv.Close() })
	handled := make(chan struct{})
	Must(srv.On("boom", func() { defer close(handled); panic("x") }))
	c := dialMem(t, srv)
	c.connect(srv)
	c.send(`2["boom"]`)
	<-handled
	_ = srv.Close()
	if rs := logs.records(); len(rs) != 0 {
		t.Errorf("a discarding logger let %d records through: %v", len(rs), rs)
	}
}

// TestFaultWarningsAreRateLimited sends many events of each fault a client
// can repeat; each kind is logged a few times, at Warn, with the socket and
// the event, and the rest is counted.
func TestFaultWarningsAreRateLimited(t *testing.T) {
	const n = 2000
	for _, tc := range []struct {
		name, packet, event string
		handler             any
	}{
		{"bad argument", `2["num","abc"]`, "num", func(n int) {}},
		{"unencodable result", `21["res"]`, "res", func() any { return func() {} }},
		{"panic", `2["boom"]`, "boom", func() { panic("x") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := withDefaultLogger(t)
			srv := NewServer(&Options{Engine: engineio.Options{PingInterval: time.Hour}})
			t.Cleanup(func() { _ = srv.Close() })
			var count sync.WaitGroup
			count.Add(n)
			Must(srv.On("done", func() { count.Done() }))
			Must(srv.On(tc.event, tc.handler))
			c := dialMem(t, srv)
			s := c.connect(srv)
			for range n {
				c.send(tc.packet)
				c.send(`2["done"]`)
			}
			count.Wait()
			s.Disconnect(true)
			// The held-back count is written when the socket goes.
			rs := waitRecords(t, logs, logxBurst+1)
			if len(rs) > logxBurst+1 {
				t.Errorf("%d records for %d faults, want at most %d", len(rs), n, logxBurst+1)
			}
			suppressed := 0
			for _, r := range rs {
				if r.Level < slog.LevelWarn {
					t.Errorf("record at %v: %s", r.Level, r.Message)
				}
				if sid, _ := attr(r, "sid"); sid != s.ID() {
					t.Errorf("record %q names sid %q, want %q", r.Message, sid, s.ID())
				}
				if v, ok := attr(r, "suppressed"); ok {
					var k int
					fmt.Sscan(v, &k)
					suppressed += k
				} else if ev, _ := attr(r, "event"); ev != tc.event {
					t.Errorf("record %q names event %q", r.Message, ev)
				}
			}
			if suppressed != n-logxBurst {
				t.Errorf("suppressed counts add up to %d, want %d", suppressed, n-logxBurst)
			}
		})
	}
}

// logxBurst is the number of records per socket and kind a window lets through.
const logxBurst = 5

// TestRoutineClosesAreQuiet: clients that leave, are disconnected by the
// server or miss the connect timeout write nothing at Warn or above.
func TestRoutineClosesAreQuiet(t *testing.T) {
	logs := withDefaultLogger(t)
	srv := NewServer(&Options{Engine: engineio.Options{PingInterval: time.Hour}, ConnectTimeout: 50 * time.Millisecond})
	t.Cleanup(func() { _ = srv.Close() })
	left := make(chan string, 3)
	srv.OnDisconnect(func(_ *Socket, reason string) { left <- reason })

	c := dialMem(t, srv)
	c.connect(srv)
	c.send("1") // the client leaves the namespace
	<-left
	c2 := dialMem(t, srv)
	c2.connect(srv).Disconnect(true)
	<-left
	c3 := dialMem(t, srv) // never joins: the connect timeout closes it
	<-c3.conn.closed
	_ = c.conn.Close()
	_ = srv.Close()
	if rs := logs.records(); len(rs) != 0 {
		t.Errorf("routine closes logged %d records: %v", len(rs), rs)
	}
}
