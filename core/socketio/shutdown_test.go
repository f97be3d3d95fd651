package socketio

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestShutdown: Shutdown disconnects every client with reason "server
// shutting down" and returns nil once the handlers have returned; with a
// handler that blocks it returns ctx.Err() when ctx ends, and once the
// handler returns no goroutine is left (TestMain's goleak check).
func TestShutdown(t *testing.T) {
	t.Run("handlers return", func(t *testing.T) {
		srv := newTestServer(t)
		reasons := make(chan string, 1)
		srv.OnDisconnect(func(_ *Socket, reason string) { reasons <- reason })
		c := dialMem(t, srv)
		c.connect(srv)
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		select {
		case r := <-reasons:
			if r != "server shutting down" {
				t.Errorf("disconnect reason %q", r)
			}
		default:
			t.Error("Shutdown returned before the disconnect handler ran")
		}
	})
	t.Run("handler blocks", func(t *testing.T) {
		srv := newTestServer(t)
		entered, release := make(chan struct{}), make(chan struct{})
		must(t, srv.On("block", func() {
			close(entered)
			<-release
		}))
		c := dialMem(t, srv)
		c.connect(srv)
		c.send(`2["block"]`)
		select {
		case <-entered:
		case <-time.After(5 * time.Second):
			t.Fatal("the handler did not run")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := srv.Shutdown(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shutdown: %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Shutdown took %v past its context", d)
		}
		close(release)
		if err := srv.Close(); err != nil {
			t.Errorf("Close after Shutdown: %v", err)
		}
	})
}
