package socketio_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/socketio"
)

// endBound is how soon after the event that ends a client its emits and
// acknowledgements must fail: at once, not at a timeout.
const endBound = 100 * time.Millisecond

// ackResult is how an EmitWithAck ended, and when.
type ackResult struct {
	err error
	at  time.Time
}

// goAck runs EmitWithAck with no deadline of its own (an ack that is never
// failed would hang: recv bounds the wait) and reports how it ended.
func goAck(s *socketio.ClientSocket, event string) <-chan ackResult {
	ch := make(chan ackResult, 1)
	go func() {
		_, err := s.EmitWithAck(context.Background(), event)
		ch <- ackResult{err, time.Now()}
	}()
	return ch
}

// stamp records the time of an event seen in a client callback.
func stamp(ch chan<- time.Time) { ch <- time.Now() }

// TestClientEndsLoudly ends a Go client in every way it can end (Close,
// reconnection off and the connection lost, reconnection attempts spent, a
// server-side disconnect, a refused Connect), against the official Node.js
// server and python-socketio's, over each transport: acknowledgements
// pending or queued at the end fail with ErrDisconnected within endBound of
// the event, later emits fail at once, and Transport is "" once the client
// is done.
func TestClientEndsLoudly(t *testing.T) {
	for _, kind := range []string{"node", "python"} {
		t.Run(kind, func(t *testing.T) {
			shared := startPeer(t, kind)
			dying := startPeer(t, kind)
			for _, m := range interopModes {
				t.Run(m.name, func(t *testing.T) {
					t.Run("Close", func(t *testing.T) { endByClose(t, shared.url(), m.transports) })
					t.Run("ReconnectionOff", func(t *testing.T) { endByLoss(t, shared.url(), m.transports) })
					t.Run("AttemptsExhausted", func(t *testing.T) { endByGivingUp(t, dying, m.transports) })
					t.Run("ServerDisconnect", func(t *testing.T) { endByKick(t, shared.url(), m.transports) })
					t.Run("Refused", func(t *testing.T) { endByRefusal(t, shared.url(), m.transports) })
					t.Run("SimpleClient", func(t *testing.T) { endSimpleClient(t, shared.url(), m.transports) })
				})
			}
		})
	}
}

// connectHolding connects c and sends it an event the server never
// acknowledges; it returns once the server has it.
func connectHolding(t *testing.T, c *socketio.Client) <-chan ackResult {
	t.Helper()
	holding := make(chan struct{}, 1)
	_ = c.On("holding", func() { holding <- struct{}{} })
	if err := c.Connect(waitCtx(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	pending := goAck(c.Socket(), "hold")
	recv(t, holding, "the server's holding")
	return pending
}

// checkFailedBy checks that an acknowledgement failed with ErrDisconnected
// (and want, when set) no later than endBound after the event at since.
func checkFailedBy(t *testing.T, what string, r ackResult, since time.Time, want error) {
	t.Helper()
	if !errors.Is(r.err, socketio.ErrDisconnected) || (want != nil && !errors.Is(r.err, want)) {
		t.Errorf("%s ended with %v, want ErrDisconnected (and %v)", what, r.err, want)
	}
	if d := r.at.Sub(since); d > endBound {
		t.Errorf("%s failed %v after the event, want within %v", what, d, endBound)
	}
}

// checkEnded checks what an ended client does: Emit and EmitWithAck fail
// with ErrDisconnected (and want) within endBound, Done closes and
// Transport is "".
func checkEnded(t *testing.T, c *socketio.Client, want error) {
	t.Helper()
	start := time.Now()
	if err := c.Emit("late", 1); !errors.Is(err, socketio.ErrDisconnected) || (want != nil && !errors.Is(err, want)) {
		t.Errorf("Emit after the end = %v, want ErrDisconnected (and %v)", err, want)
	}
	if d := time.Since(start); d > endBound {
		t.Errorf("Emit after the end took %v", d)
	}
	start = time.Now()
	checkFailedBy(t, "EmitWithAck after the end", recv(t, goAck(c.Socket(), "late"), "EmitWithAck after the end"), start, want)
	if err := c.Wait(waitCtx(t)); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if tr := c.Transport(); tr != "" {
		t.Errorf("Transport after Done = %q, want \"\"", tr)
	}
	if err := c.Connect(waitCtx(t)); !errors.Is(err, socketio.ErrClientClosed) {
		t.Errorf("Connect after the end = %v, want ErrClientClosed", err)
	}
}

func endByClose(t *testing.T, url string, transports []string) {
	c := newClient(t, url, transports, socketio.ClientOptions{Auth: secret})
	pending := connectHolding(t, c)
	since := time.Now()
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	checkFailedBy(t, "the pending EmitWithAck", recv(t, pending, "the pending ack"), since, socketio.ErrClientClosed)
	checkEnded(t, c, socketio.ErrClientClosed)
}

// endByLoss loses the connection (the server closes the Engine.IO
// connection) of a client with reconnection off. Emits made from the
// disconnect handler already fail.
func endByLoss(t *testing.T, url string, transports []string) {
	c := newClient(t, url, transports, socketio.ClientOptions{Auth: secret, Reconnection: new(false)})
	lost := make(chan time.Time, 1)
	emitErrs := make(chan error, 1)
	c.OnDisconnect(func(string) {
		stamp(lost)
		emitErrs <- c.Emit("from-the-disconnect-handler")
	})
	pending := connectHolding(t, c)
	if err := c.Emit("drop", "x"); err != nil {
		t.Fatalf("Emit(drop): %v", err)
	}
	since := recv(t, lost, "disconnect")
	if err := recv(t, emitErrs, "the disconnect handler's emit"); !errors.Is(err, socketio.ErrDisconnected) {
		t.Errorf("Emit in the disconnect handler = %v, want ErrDisconnected", err)
	}
	checkFailedBy(t, "the pending EmitWithAck", recv(t, pending, "the pending ack"), since, nil)
	checkEnded(t, c, nil)
}

// endByKick has the server disconnect the client's only namespace, which
// ends the client.
func endByKick(t *testing.T, url string, transports []string) {
	c := newClient(t, url, transports, socketio.ClientOptions{Auth: secret})
	kicked := make(chan time.Time, 1)
	c.OnDisconnect(func(string) { stamp(kicked) })
	pending := connectHolding(t, c)
	if err := c.Emit("kick"); err != nil {
		t.Fatalf("Emit(kick): %v", err)
	}
	since := recv(t, kicked, "disconnect")
	checkFailedBy(t, "the pending EmitWithAck", recv(t, pending, "the pending ack"), since, nil)
	checkEnded(t, c, nil)
}

// endByGivingUp kills the server of a client allowed two reconnection
// attempts; an ack queued while it reconnects fails when it gives up.
func endByGivingUp(t *testing.T, p *peerServer, transports []string) {
	t.Cleanup(p.start) // for the next mode
	c := newClient(t, p.url(), transports, socketio.ClientOptions{
		Auth: secret, ReconnectionAttempts: 2,
		ReconnectionDelay: new(20 * time.Millisecond), RandomizationFactor: new(0.0),
	})
	queued := make(chan (<-chan ackResult), 1)
	c.OnDisconnect(func(string) { queued <- goAck(c.Socket(), "queued") })
	failed := make(chan time.Time, 1)
	c.OnReconnectFailed(func() { stamp(failed) })
	pending := connectHolding(t, c)
	p.kill()
	q := recv(t, queued, "disconnect")
	if r := recv(t, pending, "the pending ack"); !errors.Is(r.err, socketio.ErrDisconnected) {
		t.Errorf("the pending EmitWithAck at the loss = %v, want ErrDisconnected", r.err)
	}
	since := recv(t, failed, "reconnect_failed")
	checkFailedBy(t, "the EmitWithAck queued while reconnecting", recv(t, q, "the queued ack"), since, socketio.ErrReconnectFailed)
	checkEnded(t, c, socketio.ErrReconnectFailed)
}

// endByRefusal connects with a bad token: what was queued for the
// connection fails with the refusal, and so does every emit until the next
// Connect.
func endByRefusal(t *testing.T, url string, transports []string) {
	c := newClient(t, url, transports, socketio.ClientOptions{Auth: map[string]string{"token": "wrong"}})
	if err := c.Emit("early"); err != nil {
		t.Fatalf("Emit before Connect = %v, want queued", err)
	}
	queued := goAck(c.Socket(), "early-ack")
	err := c.Connect(waitCtx(t))
	since := time.Now()
	if !errors.Is(err, socketio.ErrConnectionRefused) {
		t.Fatalf("Connect = %v, want a refusal", err)
	}
	checkFailedBy(t, "the EmitWithAck queued for Connect", recv(t, queued, "the queued ack"), since, socketio.ErrConnectionRefused)
	start := time.Now()
	if err := c.Emit("late"); !errors.Is(err, socketio.ErrDisconnected) || !errors.Is(err, socketio.ErrConnectionRefused) {
		t.Errorf("Emit after the refusal = %v, want ErrDisconnected and ErrConnectionRefused", err)
	}
	checkFailedBy(t, "EmitWithAck after the refusal", recv(t, goAck(c.Socket(), "late"), "EmitWithAck after the refusal"), start, socketio.ErrConnectionRefused)
	if tr := c.Transport(); tr != "" {
		t.Errorf("Transport after the refusal = %q, want \"\"", tr)
	}
	// The client has not ended: Close ends it.
	select {
	case <-c.Done():
		t.Fatal("a refused Connect ended the client")
	default:
	}
	_ = c.Close()
	checkEnded(t, c, socketio.ErrClientClosed)
}

// endSimpleClient loses the connection of a SimpleClient with reconnection
// off: Receive, Emit and Call fail with ErrDisconnected.
func endSimpleClient(t *testing.T, url string, transports []string) {
	sc, err := socketio.SimpleConnect(waitCtx(t), url, &socketio.ClientOptions{
		Auth: secret, Reconnection: new(false), Engine: engineio.ClientOptions{Transports: transports},
	})
	if err != nil {
		t.Fatalf("SimpleConnect: %v", err)
	}
	t.Cleanup(func() { _ = sc.Disconnect() })
	if err := sc.Emit("drop", "x"); err != nil {
		t.Fatalf("Emit(drop): %v", err)
	}
	for {
		ev, _, err := sc.Receive(waitCtx(t))
		if err != nil {
			if !errors.Is(err, socketio.ErrDisconnected) {
				t.Fatalf("Receive after the loss = %v, want ErrDisconnected", err)
			}
			break
		}
		if ev != "welcome" {
			t.Fatalf("Receive got %q", ev)
		}
	}
	start := time.Now()
	if err := sc.Emit("late"); !errors.Is(err, socketio.ErrDisconnected) {
		t.Errorf("Emit after the end = %v, want ErrDisconnected", err)
	}
	if _, err := sc.Call(waitCtx(t), "late"); !errors.Is(err, socketio.ErrDisconnected) {
		t.Errorf("Call after the end = %v, want ErrDisconnected", err)
	}
	if d := time.Since(start); d > endBound {
		t.Errorf("Emit and Call after the end took %v", d)
	}
	if tr := sc.Transport(); tr != "" {
		t.Errorf("Transport after the end = %q, want \"\"", tr)
	}
}
