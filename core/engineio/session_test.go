package engineio

import (
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
