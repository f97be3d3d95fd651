package engineio

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCloseBeforeStart checks that a session closed between its open packet
// and its connection callback (Server.Close racing a new WebSocket) still
// gets its close callback, once the connection callback has set it.
func TestCloseBeforeStart(t *testing.T) {
	srv := NewServer(nil)
	reasons := make(chan string, 2)
	srv.OnConnection = func(s *Session) { s.OnClose(func(r string) { reasons <- r }) }
	sess := &Session{srv: srv, id: "early", transport: TransportWebSocket, notify: make(chan struct{}, 1), done: make(chan struct{})}
	sess.close(ReasonServerShuttingDown, true)
	srv.started(sess)
	select {
	case r := <-reasons:
		if r != ReasonServerShuttingDown {
			t.Errorf("close reason %q, want %q", r, ReasonServerShuttingDown)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no close callback")
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-reasons:
		t.Errorf("a second close callback (%q)", r)
	default:
	}
}

// TestCloseCallbacksDuringServerClose closes sessions from other goroutines
// (as a timer does) while Server.Close runs: every close callback runs once
// and before Close returns, and under -race the WaitGroup that counts them
// is never incremented from zero unordered with Close's Wait.
func TestCloseCallbacksDuringServerClose(t *testing.T) {
	for range 200 {
		srv := NewServer(nil)
		var ran atomic.Int32
		srv.OnConnection = func(s *Session) {
			s.OnClose(func(string) {
				time.Sleep(100 * time.Microsecond) // Close's Wait finds it running
				ran.Add(1)
			})
		}
		sessions := make([]*Session, 2)
		for i := range sessions {
			sess := &Session{srv: srv, id: fmt.Sprint(i), transport: TransportWebSocket, notify: make(chan struct{}, 1), done: make(chan struct{})}
			srv.sessions[sess.id] = sess
			srv.started(sess)
			sessions[i] = sess
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, sess := range sessions {
			wg.Go(func() {
				<-start
				_ = sess.Close()
			})
		}
		close(start)
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
		if n := ran.Load(); n != int32(len(sessions)) {
			t.Fatalf("%d close callbacks had run when Server.Close returned, want %d", n, len(sessions))
		}
		wg.Wait()
	}
}
