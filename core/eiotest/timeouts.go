package eiotest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/siokit/siokit/core/engineio"
)

// HoldPolling checks that a long-polling session lives through a server's
// read and write timeouts: it serves an echo engine with the default
// heartbeat (ping every 25 s, so a quiet poll waits about that long) through
// serve, which starts a server with short timeouts and returns its base
// URL, and keeps the Go client, on long-polling only, connected for d. The
// client exchanges a message at the start, after a quiet stretch longer than
// the ping interval, and at the end; the session must keep one sid and never
// close. d should be at least a minute, to cover two pings.
func HoldPolling(t *testing.T, serve func(h engineio.Handler) (baseURL string), d time.Duration) {
	t.Helper()
	srv := engineio.NewServer(nil)
	closed := make(chan string, 1)
	srv.OnConnection = func(s *engineio.Session) {
		s.OnMessage(func(data []byte, binary bool) { _ = s.Send(data, binary) })
		s.OnClose(func(reason string) { closed <- reason })
	}
	base := serve(srv)
	// Registered after serve's cleanups, so it runs before them: the engine
	// is closed first and answers a pending long-poll, then the HTTP server
	// shuts down without waiting for it.
	t.Cleanup(func() { _ = srv.Close() })

	echoes := make(chan string, 8)
	clientClosed := make(chan string, 1)
	no := false
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, err := engineio.Dial(ctx, base, &engineio.ClientOptions{
		Transports: []string{engineio.TransportPolling},
		Upgrade:    &no,
		OnMessage:  func(data []byte, _ bool) { echoes <- string(data) },
		OnClose:    func(reason string, err error) { clientClosed <- fmt.Sprintf("%s (%v)", reason, err) },
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer func() { _ = c.Close() }()
	sid := c.ID()
	start := time.Now()
	exchange := func(msg string) {
		t.Helper()
		if err := c.Send([]byte(msg), false); err != nil {
			t.Fatalf("%v in: send: %v", time.Since(start).Round(time.Second), err)
		}
		select {
		case got := <-echoes:
			if got != msg {
				t.Fatalf("echo %q, want %q", got, msg)
			}
		case r := <-clientClosed:
			t.Fatalf("%v in: the client closed: %s", time.Since(start).Round(time.Second), r)
		case r := <-closed:
			t.Fatalf("%v in: the session closed: %s", time.Since(start).Round(time.Second), r)
		case <-time.After(waitTimeout):
			t.Fatalf("%v in: no echo of %q", time.Since(start).Round(time.Second), msg)
		}
	}
	exchange("first")
	quiet := engineio.DefaultPingInterval + 5*time.Second
	for _, wait := range []time.Duration{quiet, d - quiet} {
		select {
		case r := <-clientClosed:
			t.Fatalf("%v in: the client closed: %s", time.Since(start).Round(time.Second), r)
		case r := <-closed:
			t.Fatalf("%v in: the session closed: %s", time.Since(start).Round(time.Second), r)
		case <-time.After(wait):
		}
		exchange(fmt.Sprintf("after %v", time.Since(start).Round(time.Second)))
	}
	if c.ID() != sid || srv.Session(sid) == nil || srv.Count() != 1 {
		t.Errorf("after %v: client sid %s (was %s), server sessions %d", time.Since(start).Round(time.Second), c.ID(), sid, srv.Count())
	}
}
