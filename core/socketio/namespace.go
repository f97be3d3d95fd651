package socketio

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"sync"
	"sync/atomic"
	"time"
)

// handlers is a namespace's set of callbacks. Child namespaces of a dynamic
// parent share the parent's set.
type handlers struct {
	// routes is read for every event without a lock; On and OnAny replace
	// it with an updated copy, under mu.
	routes atomic.Pointer[eventRoutes]

	mu           sync.RWMutex
	onConnect    []func(*Socket) error
	onDisconnect []func(*Socket, string)
	middlewares  []func(*Socket) error
	serverEvents map[string]*handler
}

// eventRoutes maps event names to their handlers; a published one is never
// changed.
type eventRoutes struct {
	events map[string]*handler
	any    *handler // the catch-all
}

// route returns the handler of an event: its own, else the catch-all, else nil.
func (r *eventRoutes) route(event string) *handler {
	if h := r.events[event]; h != nil {
		return h
	}
	return r.any
}

func newHandlers() *handlers {
	h := &handlers{serverEvents: make(map[string]*handler)}
	h.routes.Store(&eventRoutes{events: map[string]*handler{}})
	return h
}

// updateRoutes publishes a copy of the routes changed by set.
func (hs *handlers) updateRoutes(set func(r *eventRoutes)) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	old := hs.routes.Load()
	r := &eventRoutes{events: maps.Clone(old.events), any: old.any}
	set(r)
	hs.routes.Store(r)
}

// Namespace is a communication channel multiplexed over the connections: it
// has its own event handlers, middlewares, rooms and sockets. Its methods
// are safe for concurrent use.
type Namespace struct {
	name    string
	server  *Server
	h       *handlers
	manager Manager
	parent  *ParentNamespace

	mu      sync.RWMutex
	sockets map[string]*Socket

	ackIDs atomic.Uint64
}

func newNamespace(srv *Server, name string, h *handlers, parent *ParentNamespace) *Namespace {
	n := &Namespace{name: name, server: srv, h: h, parent: parent, sockets: make(map[string]*Socket)}
	n.manager = srv.opts.NewManager(n)
	return n
}

// Name returns the namespace's name, such as "/" or "/chat".
func (n *Namespace) Name() string { return n.name }

// Server returns the server the namespace belongs to.
func (n *Namespace) Server() *Server { return n.server }

// Manager returns the namespace's manager.
func (n *Namespace) Manager() Manager { return n.manager }

// On registers the handler of an event. handler is a function of the form
//
//	func([s *Socket,] [args...] [, ack AckFunc]) [(results... [, error])]
//
// Arguments are decoded from the event's JSON into the parameter types
// (structs, maps, slices, numbers, strings, json.RawMessage, any; []byte
// receives a binary attachment); a final variadic parameter takes the rest.
// When the client asks for an acknowledgement, the results are sent back
// with it; a non-nil final error result is sent as {"message": text}
// instead. A handler with an AckFunc parameter (anywhere after the socket,
// and not decoded from the arguments) acknowledges by calling it instead:
//
//	func(s *Socket, ack AckFunc, args ...any) { ack(args...) }
//
// A handler replaces an earlier one for the same event. An event's handlers
// run one at a time per socket, in the order the events arrived; a panic in
// one is recovered and logged.
func (n *Namespace) On(event string, handler any) error {
	if err := n.server.closedErr(); err != nil {
		return err
	}
	if err := reservedHandlerName(event); err != nil {
		return n.server.registrationError(fmt.Errorf("socketio: On(%q): %w", event, err))
	}
	h, err := compileHandler(handler, false)
	if err != nil {
		return n.server.registrationError(fmt.Errorf("socketio: On(%q): %w", event, err))
	}
	n.h.updateRoutes(func(r *eventRoutes) { r.events[event] = h })
	return nil
}

// OnAny registers the catch-all handler, called for events that have no
// handler of their own (never for connect or disconnect). Its form is that
// of [Namespace.On] with the event name after the socket:
//
//	func(s *Socket, event string, args ...any) [results...]
func (n *Namespace) OnAny(handler any) error {
	if err := n.server.closedErr(); err != nil {
		return err
	}
	h, err := compileHandler(handler, true)
	if err != nil {
		return n.server.registrationError(fmt.Errorf("socketio: OnAny: %w", err))
	}
	n.h.updateRoutes(func(r *eventRoutes) { r.any = h })
	return nil
}

// OnConnect adds a connect handler. It runs after the middlewares, before
// the client is told it is connected, and sees the request and the client's
// auth through [Socket.Handshake]. Returning an error refuses the
// connection: a [*ConnectError] carries its message and data to the
// client's connect_error handler. Emits made here reach the client right
// after its connection is confirmed; do not wait here for an
// acknowledgement from this client (start a goroutine for that).
func (n *Namespace) OnConnect(fn func(s *Socket) error) {
	n.h.mu.Lock()
	n.h.onConnect = append(n.h.onConnect, fn)
	n.h.mu.Unlock()
}

// OnDisconnect adds a disconnect handler, called with the reason once the
// socket has left the namespace.
func (n *Namespace) OnDisconnect(fn func(s *Socket, reason string)) {
	n.h.mu.Lock()
	n.h.onDisconnect = append(n.h.onDisconnect, fn)
	n.h.mu.Unlock()
}

// Use adds a namespace middleware, run in order for every connection before
// the connect handlers. Returning an error refuses the connection as
// OnConnect's does.
func (n *Namespace) Use(mw func(s *Socket) error) {
	n.h.mu.Lock()
	n.h.middlewares = append(n.h.middlewares, mw)
	n.h.mu.Unlock()
}

// OnServerSideEmit registers the handler of an event that another server
// process sends with [Namespace.ServerSideEmit]. Its form is that of
// [Namespace.On] without the socket; results acknowledge.
func (n *Namespace) OnServerSideEmit(event string, handler any) error {
	if err := n.server.closedErr(); err != nil {
		return err
	}
	h, err := compileHandler(handler, false)
	if err != nil {
		return n.server.registrationError(fmt.Errorf("socketio: OnServerSideEmit(%q): %w", event, err))
	}
	if h.socket {
		return n.server.registrationError(fmt.Errorf("socketio: OnServerSideEmit(%q): %w: no socket takes part", event, ErrBadHandler))
	}
	n.h.mu.Lock()
	n.h.serverEvents[event] = h
	n.h.mu.Unlock()
	return nil
}

// handleServerSideEmit runs the handler registered with OnServerSideEmit for
// an event received from another process. Pub/sub managers call it through
// manager.HandleServerSideEmit; ack, when not nil, receives the handler's
// results.
func (n *Namespace) handleServerSideEmit(event string, args []json.RawMessage, attachments [][]byte, ack func([]any)) {
	n.h.mu.RLock()
	h := n.h.serverEvents[event]
	n.h.mu.RUnlock()
	if h == nil {
		return
	}
	defer n.server.recoverHandler("server-side emit "+event, "")
	res, _, err := h.call(nil, event, args, attachments, nil)
	if err != nil {
		n.server.log.Warn("socketio: bad server-side emit", "nsp", n.name, "event", event, "err", err)
		return
	}
	if ack != nil {
		ack(res)
	}
}

// Socket returns the connected socket of this process with the given id, or nil.
func (n *Namespace) Socket(sid string) *Socket {
	return n.localSocket(sid)
}

func (n *Namespace) localSocket(sid string) *Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.sockets[sid]
}

// Sockets returns the connected sockets of this process.
func (n *Namespace) Sockets() []*Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]*Socket, 0, len(n.sockets))
	for _, s := range n.sockets {
		out = append(out, s)
	}
	return out
}

func (n *Namespace) add(s *Socket) {
	n.mu.Lock()
	n.sockets[s.id] = s
	n.mu.Unlock()
}

func (n *Namespace) remove(s *Socket) {
	n.mu.Lock()
	if n.sockets[s.id] == s {
		delete(n.sockets, s.id)
	}
	n.mu.Unlock()
}

func (n *Namespace) operator() *BroadcastOperator {
	return &BroadcastOperator{srv: n.server, targets: func() []*Namespace { return []*Namespace{n} }}
}

// To selects the sockets in the given rooms (a socket id names a room) for
// the operation that follows.
func (n *Namespace) To(rooms ...string) *BroadcastOperator { return n.operator().To(rooms...) }

// In is To.
func (n *Namespace) In(rooms ...string) *BroadcastOperator { return n.operator().To(rooms...) }

// Except skips the sockets in the given rooms.
func (n *Namespace) Except(rooms ...string) *BroadcastOperator { return n.operator().Except(rooms...) }

// Volatile marks the emit that follows as droppable.
func (n *Namespace) Volatile() *BroadcastOperator { return n.operator().Volatile() }

// Local keeps the operation that follows on this process.
func (n *Namespace) Local() *BroadcastOperator { return n.operator().Local() }

// Compress(false) sends the packets of the emit that follows uncompressed
// (see [BroadcastOperator.Compress]).
func (n *Namespace) Compress(on bool) *BroadcastOperator { return n.operator().Compress(on) }

// Timeout sets how long EmitWithAck waits for acknowledgements.
func (n *Namespace) Timeout(d time.Duration) *BroadcastOperator { return n.operator().Timeout(d) }

// Emit sends an event to every socket of the namespace.
func (n *Namespace) Emit(event string, args ...any) error { return n.operator().Emit(event, args...) }

// Send sends a "message" event to every socket of the namespace.
func (n *Namespace) Send(args ...any) error { return n.operator().Send(args...) }

// EmitWithAck sends an event to every socket and collects their
// acknowledgements; see [BroadcastOperator.EmitWithAck].
func (n *Namespace) EmitWithAck(ctx context.Context, event string, args ...any) ([]*Response, error) {
	return n.operator().EmitWithAck(ctx, event, args...)
}

// FetchSockets returns every socket of the namespace, on every process.
func (n *Namespace) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return n.operator().FetchSockets(ctx)
}

// SocketsJoin makes every socket of the namespace join rooms.
func (n *Namespace) SocketsJoin(rooms ...string) { n.operator().SocketsJoin(rooms...) }

// SocketsLeave makes every socket of the namespace leave rooms.
func (n *Namespace) SocketsLeave(rooms ...string) { n.operator().SocketsLeave(rooms...) }

// DisconnectSockets disconnects every socket of the namespace; close also
// closes their connections.
func (n *Namespace) DisconnectSockets(close bool) { n.operator().DisconnectSockets(close) }

// ServerSideEmit sends an event to this namespace on the other server
// processes (none with the in-memory manager).
func (n *Namespace) ServerSideEmit(event string, args ...any) error {
	return n.serverSideEmit(context.Background(), event, args, nil)
}

// ServerSideEmitWithAck sends an event to the other server processes and
// returns each one's acknowledgement, waiting until all answered or ctx ends.
func (n *Namespace) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]*Response, error) {
	if err := n.server.closedErr(); err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var out []*Response
	err := n.serverSideEmit(ctx, event, args, func(r *Response) {
		mu.Lock()
		out = append(out, r)
		mu.Unlock()
	})
	mu.Lock()
	defer mu.Unlock()
	return out, err
}

// ParentNamespace is a dynamic namespace: a client connecting to a name it
// matches gets a child namespace of that name, created on first use, that
// shares the parent's handlers and middlewares. Emitting on the parent
// reaches every child.
type ParentNamespace struct {
	*Namespace
	match func(name string, auth json.RawMessage) bool

	mu       sync.RWMutex
	children map[string]*Namespace
}

// Children returns the child namespaces created so far.
func (p *ParentNamespace) Children() []*Namespace {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]*Namespace, 0, len(p.children))
	for _, c := range p.children {
		out = append(out, c)
	}
	return out
}

func (p *ParentNamespace) child(name string) *Namespace {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.children[name]; c != nil {
		return c
	}
	c := newNamespace(p.server, name, p.h, p)
	p.children[name] = c
	return c
}

func (p *ParentNamespace) operator() *BroadcastOperator {
	return &BroadcastOperator{srv: p.server, targets: p.Children}
}

// To selects rooms across every child namespace.
func (p *ParentNamespace) To(rooms ...string) *BroadcastOperator { return p.operator().To(rooms...) }

// Emit sends an event to every socket of every child namespace.
func (p *ParentNamespace) Emit(event string, args ...any) error {
	return p.operator().Emit(event, args...)
}

// Except skips the sockets in rooms, across every child namespace.
func (p *ParentNamespace) Except(rooms ...string) *BroadcastOperator {
	return p.operator().Except(rooms...)
}

// regexpMatcher matches namespace names against a regular expression.
func regexpMatcher(re *regexp.Regexp) func(string, json.RawMessage) bool {
	return func(name string, _ json.RawMessage) bool { return re.MatchString(name) }
}
