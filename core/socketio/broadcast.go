package socketio

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/siokit/siokit/core/parser"
)

// BroadcastOperator describes an operation on many sockets: the rooms to
// reach, the rooms to skip and flags. Each method returns a new operator, so
// a partly built one can be reused.
type BroadcastOperator struct {
	srv     *Server
	targets func() []*Namespace
	opts    BroadcastOptions
	timeout time.Duration
}

func (b *BroadcastOperator) clone() *BroadcastOperator {
	c := *b
	c.opts.Rooms = slices.Clone(b.opts.Rooms)
	c.opts.Except = slices.Clone(b.opts.Except)
	return &c
}

// To adds rooms to reach.
func (b *BroadcastOperator) To(rooms ...string) *BroadcastOperator {
	c := b.clone()
	c.opts.Rooms = append(c.opts.Rooms, rooms...)
	return c
}

// In is To.
func (b *BroadcastOperator) In(rooms ...string) *BroadcastOperator { return b.To(rooms...) }

// Except adds rooms (or socket ids) to skip.
func (b *BroadcastOperator) Except(rooms ...string) *BroadcastOperator {
	c := b.clone()
	c.opts.Except = append(c.opts.Except, rooms...)
	return c
}

// Volatile lets the packets be dropped for sockets not ready for them.
func (b *BroadcastOperator) Volatile() *BroadcastOperator {
	c := b.clone()
	c.opts.Volatile = true
	return c
}

// Compress(false) sends the packets uncompressed where the engine would
// compress them (engineio.Options.PerMessageDeflate; messages under its
// threshold never are): for data that does not compress, such as images.
// Compression is on by default, as Node's compress flag.
func (b *BroadcastOperator) Compress(on bool) *BroadcastOperator {
	c := b.clone()
	c.opts.NoCompress = !on
	return c
}

// Local keeps the operation on this process.
func (b *BroadcastOperator) Local() *BroadcastOperator {
	c := b.clone()
	c.opts.Local = true
	return c
}

// Timeout bounds EmitWithAck; without it, only the context does.
func (b *BroadcastOperator) Timeout(d time.Duration) *BroadcastOperator {
	c := b.clone()
	c.timeout = d
	return c
}

// Emit sends an event to the selected sockets. The packet is encoded once.
func (b *BroadcastOperator) Emit(event string, args ...any) error {
	if err := b.srv.closedErr(); err != nil {
		return err
	}
	if isReserved(event) {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	for _, n := range b.targets() {
		p, err := eventPacket(n.name, event, args)
		if err != nil {
			return err
		}
		n.manager.Broadcast(p, &b.opts)
	}
	return nil
}

// Send emits a "message" event.
func (b *BroadcastOperator) Send(args ...any) error { return b.Emit("message", args...) }

// EmitWithAck sends an event to the selected sockets and collects their
// acknowledgements. It returns when every socket answered, or when the
// timeout (see Timeout) or ctx ends, with the responses so far and an error
// wrapping ErrTimeout.
func (b *BroadcastOperator) EmitWithAck(ctx context.Context, event string, args ...any) ([]*Response, error) {
	if err := b.srv.closedErr(); err != nil {
		return nil, err
	}
	if isReserved(event) {
		return nil, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	if b.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.timeout)
		defer cancel()
	}
	var (
		mu        sync.Mutex
		responses []*Response
		expected  int
		counted   int // onCount calls so far
		done      = make(chan struct{})
		finished  bool
	)
	targets := b.targets()
	check := func() {
		if !finished && counted == len(targets) && len(responses) >= expected {
			finished = true
			close(done)
		}
	}
	onCount := func(n int) {
		mu.Lock()
		expected += n
		counted++
		check()
		mu.Unlock()
	}
	onAck := func(r *Response) {
		mu.Lock()
		defer mu.Unlock()
		if finished {
			return
		}
		if r == nil { // the socket disconnected: it will not answer
			expected--
		} else {
			responses = append(responses, r)
		}
		check()
	}
	var packets []*parser.Packet
	for _, n := range targets {
		p, err := eventPacket(n.name, event, args)
		if err != nil {
			return nil, err
		}
		p.ID, p.HasID = n.ackIDs.Add(1)-1, true
		packets = append(packets, p)
	}
	opts := b.opts
	if dl, ok := ctx.Deadline(); ok {
		opts.AckTimeout = time.Until(dl)
	}
	for i, n := range targets {
		n.manager.BroadcastWithAck(packets[i], &opts, onCount, onAck)
	}
	if len(targets) == 0 {
		return nil, nil
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
	mu.Lock()
	defer mu.Unlock()
	out := slices.Clone(responses)
	if !finished {
		finished = true
		for i, n := range targets {
			n.dropAcks(packets[i].ID)
		}
		return out, ackWaitError(ctx)
	}
	return out, nil
}

// dropAcks forgets an unanswered broadcast ack on the local sockets.
func (n *Namespace) dropAcks(id uint64) {
	for _, s := range n.Sockets() {
		s.dropAck(id)
	}
}

// FetchSockets returns the selected sockets, on every process.
func (b *BroadcastOperator) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	if err := b.srv.closedErr(); err != nil {
		return nil, err
	}
	var out []*RemoteSocket
	for _, n := range b.targets() {
		got, err := n.manager.FetchSockets(ctx, &b.opts)
		if err != nil {
			return out, fmt.Errorf("socketio: fetch sockets of %s: %w", n.name, err)
		}
		out = append(out, got...)
	}
	return out, nil
}

// SocketsJoin makes the selected sockets join rooms.
func (b *BroadcastOperator) SocketsJoin(rooms ...string) {
	for _, n := range b.targets() {
		n.manager.AddSockets(&b.opts, rooms)
	}
}

// SocketsLeave makes the selected sockets leave rooms.
func (b *BroadcastOperator) SocketsLeave(rooms ...string) {
	for _, n := range b.targets() {
		n.manager.DelSockets(&b.opts, rooms)
	}
}

// DisconnectSockets disconnects the selected sockets; close also closes
// their connections.
func (b *BroadcastOperator) DisconnectSockets(close bool) {
	for _, n := range b.targets() {
		n.manager.DisconnectSockets(&b.opts, close)
	}
}

// serverSideEmit sends an event to the namespace on the other processes.
func (n *Namespace) serverSideEmit(ctx context.Context, event string, args []any, onAck func(*Response)) error {
	if err := n.server.closedErr(); err != nil {
		return err
	}
	if isReserved(event) {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	p, err := eventPacket(n.name, event, args)
	if err != nil {
		return err
	}
	return n.manager.ServerSideEmit(ctx, p, onAck)
}
