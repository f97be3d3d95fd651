package socketio

import (
	"context"
	"fmt"
	"sync"
)

// SimpleClient is a blocking client for one namespace, python-socketio's
// SimpleClient: events from the server queue up until [SimpleClient.Receive]
// takes them, in order. It reconnects as a [Client] does; events that
// arrive on any connection stay queued. Its methods are safe for concurrent
// use.
type SimpleClient struct {
	c    *Client
	sock *ClientSocket

	mu    sync.Mutex
	queue []receivedEvent
	wake  chan struct{} // closed and replaced when something happens
}

// receivedEvent is an event the server sent to a [SimpleClient].
type receivedEvent struct {
	event string
	args  []any
}

// NewSimpleClient returns a simple client for the server at url, not yet
// connected. It joins the first namespace of opts.Namespaces, "/" by
// default.
func NewSimpleClient(url string, opts *ClientOptions) *SimpleClient {
	var o ClientOptions
	if opts != nil {
		o = *opts
	}
	nsp := "/"
	if len(o.Namespaces) > 0 {
		nsp = o.Namespaces[0]
	}
	o.Namespaces = []string{nsp}
	sc := &SimpleClient{c: NewClient(url, &o), wake: make(chan struct{})}
	sc.sock = sc.c.Of(nsp)
	_ = sc.sock.OnAny(sc.onEvent)
	sc.sock.OnConnect(sc.signal)
	sc.sock.OnDisconnect(func(string) { sc.signal() })
	return sc
}

// SimpleConnect is NewSimpleClient followed by Connect.
func SimpleConnect(ctx context.Context, url string, opts *ClientOptions) (*SimpleClient, error) {
	sc := NewSimpleClient(url, opts)
	if err := sc.Connect(ctx); err != nil {
		_ = sc.Disconnect()
		return nil, err
	}
	return sc, nil
}

// onEvent queues an event from the server. Its raw arguments are decoded
// into plain values (binary as []byte); an acknowledgement the server asks
// for is sent empty.
func (sc *SimpleClient) onEvent(event string, args ...any) {
	sc.push(receivedEvent{event: event, args: args})
}

func (sc *SimpleClient) push(ev receivedEvent) {
	sc.mu.Lock()
	sc.queue = append(sc.queue, ev)
	sc.mu.Unlock()
	sc.signal()
}

func (sc *SimpleClient) signal() {
	sc.mu.Lock()
	close(sc.wake)
	sc.wake = make(chan struct{})
	sc.mu.Unlock()
}

// Connect connects to the server; ctx bounds the attempt.
func (sc *SimpleClient) Connect(ctx context.Context) error {
	return sc.c.Connect(ctx)
}

// ID returns the socket id, "" before the connection.
func (sc *SimpleClient) ID() string { return sc.sock.ID() }

// Transport returns the current transport, "polling" or "websocket", or ""
// while disconnected and once the client has ended.
func (sc *SimpleClient) Transport() string { return sc.c.Transport() }

// Client returns the underlying client.
func (sc *SimpleClient) Client() *Client { return sc.c }

// Emit sends an event. Sent while reconnecting, it is queued; once the
// client has ended, or after a failed Connect, it fails at once with an
// error matching [ErrDisconnected] (see [ClientSocket.Emit]).
func (sc *SimpleClient) Emit(event string, args ...any) error {
	return sc.sock.Emit(event, args...)
}

// Call sends an event and waits for the server's acknowledgement until ctx
// ends; it fails at once, as Emit does, when no connection is coming, and
// with an error matching [ErrDisconnected] when the client ends meanwhile.
func (sc *SimpleClient) Call(ctx context.Context, event string, args ...any) (*Response, error) {
	return sc.sock.EmitWithAck(ctx, event, args...)
}

// Receive returns the next event from the server, waiting until one
// arrives, ctx ends (ErrTimeout on a deadline) or the client has ended
// (an error matching [ErrDisconnected] that says why; queued events are
// returned first).
func (sc *SimpleClient) Receive(ctx context.Context) (event string, args []any, err error) {
	for {
		sc.mu.Lock()
		if len(sc.queue) > 0 {
			ev := sc.queue[0]
			sc.queue[0] = receivedEvent{}
			sc.queue = sc.queue[1:]
			sc.mu.Unlock()
			return ev.event, ev.args, nil
		}
		wake := sc.wake
		sc.mu.Unlock()
		select {
		case <-sc.c.Done():
			sc.mu.Lock()
			empty := len(sc.queue) == 0
			sc.mu.Unlock()
			if empty {
				return "", nil, sc.c.ended()
			}
		case <-wake:
		case <-ctx.Done():
			return "", nil, fmt.Errorf("socketio: receive: %w", waitError(ctx))
		}
	}
}

// Disconnect disconnects from the server and waits until the client's
// goroutines have returned.
func (sc *SimpleClient) Disconnect() error {
	err := sc.c.Close()
	<-sc.c.Done()
	return err
}
