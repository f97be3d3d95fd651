package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/parser"
)

// ClientSocket is a [Client]'s connection to one namespace. Its methods are
// safe for concurrent use.
type ClientSocket struct {
	c   *Client
	nsp string

	hmu          sync.RWMutex
	events       map[string]*handler
	anyHandler   *handler
	connectFns   []func()
	onConnectErr []func(error)
	onDisconnect []func(string)

	mu        sync.Mutex
	state     socketState
	wanted    bool  // to be connected on every (re)connection
	left      bool  // disconnected on purpose: emits fail until Connect
	leftErr   error // what they fail with
	ses       *clientSession
	id        string
	pid       string
	offset    string
	recovered bool
	buf       []queuedPacket
	early     []func() // events that came before the CONNECT answer
	acks      map[uint64]*pendingAck
	nextAck   uint64
	waiters   []chan error

	q jobQueue
}

// queuedPacket is an emit waiting for the connection.
type queuedPacket struct {
	frames []engineio.Packet
	ack    *pendingAck
}

type pendingAck struct {
	ch   chan *Response // receives nil when the ack fails, err set before
	err  error
	sent bool
}

// fail ends the wait for the acknowledgement with err.
func (pa *pendingAck) fail(err error) {
	pa.err = err
	pa.ch <- nil
}

func newClientSocket(c *Client, nsp string) *ClientSocket {
	return &ClientSocket{
		c: c, nsp: nsp, state: stateDisconnected,
		events: make(map[string]*handler), acks: make(map[uint64]*pendingAck),
	}
}

// Namespace returns the socket's namespace.
func (s *ClientSocket) Namespace() string { return s.nsp }

// Client returns the client the socket belongs to.
func (s *ClientSocket) Client() *Client { return s.c }

// ID returns the socket id the server assigned, "" before the first
// connection. It changes on reconnection unless the state was recovered.
func (s *ClientSocket) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// Connected reports whether the namespace is connected.
func (s *ClientSocket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateConnected
}

// Recovered reports whether the last connection recovered the previous
// session's state: the server offered connection state recovery, kept the
// id, rooms and data, and sent the packets missed meanwhile.
func (s *ClientSocket) Recovered() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recovered
}

// On registers the handler of an event. handler is a function of the form
//
//	func([s *ClientSocket,] [args...] [, ack AckFunc]) [(results... [, error])]
//
// with the rules of [Namespace.On]: arguments are decoded into the
// parameter types ([]byte receives a binary value), a final variadic
// parameter takes the rest, and when the server asks for an
// acknowledgement the results are sent back with it (or the handler calls
// its AckFunc). A handler replaces an earlier one for the same event.
func (s *ClientSocket) On(event string, handler any) error {
	h, err := compileHandlerFor(handler, false, clientSocketType)
	if err != nil {
		return fmt.Errorf("socketio: On(%q): %w", event, err)
	}
	s.hmu.Lock()
	s.events[event] = h
	s.hmu.Unlock()
	return nil
}

// OnAny registers the catch-all handler, called for events that have no
// handler of their own:
//
//	func([s *ClientSocket,] event string, args ...any) [results...]
func (s *ClientSocket) OnAny(handler any) error {
	h, err := compileHandlerFor(handler, true, clientSocketType)
	if err != nil {
		return fmt.Errorf("socketio: OnAny: %w", err)
	}
	s.hmu.Lock()
	s.anyHandler = h
	s.hmu.Unlock()
	return nil
}

// OnConnect adds a handler run each time the namespace connects.
func (s *ClientSocket) OnConnect(fn func()) {
	s.hmu.Lock()
	s.connectFns = append(s.connectFns, fn)
	s.hmu.Unlock()
}

// OnConnectError adds a handler run when a connection attempt of the
// namespace fails: with a [*ConnectionRefusedError] carrying the server's
// message and data, or the error of AuthFunc.
func (s *ClientSocket) OnConnectError(fn func(err error)) {
	s.hmu.Lock()
	s.onConnectErr = append(s.onConnectErr, fn)
	s.hmu.Unlock()
}

// OnDisconnect adds a handler run when the connected namespace disconnects,
// with the reason: "io server disconnect", "io client disconnect", "ping
// timeout", "transport close", "transport error" or "parse error". The
// client reconnects after the last four.
func (s *ClientSocket) OnDisconnect(fn func(reason string)) {
	s.hmu.Lock()
	s.onDisconnect = append(s.onDisconnect, fn)
	s.hmu.Unlock()
}

// Register installs the methods of a handler value, as python-socketio's
// ClientNamespace classes do: OnConnect(), OnConnectError(error),
// OnDisconnect(string), OnAny(event string, ...) as the catch-all, and
// every other method On<Name> for the event "<name>" (first letter in
// lower case; a method EventName(method string) string may override the
// mapping). Signatures follow [ClientSocket.On].
func (s *ClientSocket) Register(v any) error {
	return registerMethods(v, s.On, s.OnAny, func(method string, fn any) (bool, error) {
		switch method {
		case "OnConnect":
			f, ok := fn.(func())
			if !ok {
				return true, fmt.Errorf("%w: OnConnect must be func()", ErrBadHandler)
			}
			s.OnConnect(f)
		case "OnConnectError":
			f, ok := fn.(func(error))
			if !ok {
				return true, fmt.Errorf("%w: OnConnectError must be func(error)", ErrBadHandler)
			}
			s.OnConnectError(f)
		case "OnDisconnect":
			f, ok := fn.(func(string))
			if !ok {
				return true, fmt.Errorf("%w: OnDisconnect must be func(string)", ErrBadHandler)
			}
			s.OnDisconnect(f)
		default:
			return false, nil
		}
		return true, nil
	})
}

// Emit sends an event. Values of type []byte, at any depth, travel as
// binary attachments. While the namespace is not connected the packet is
// queued (see [ClientOptions.BufferWhileDisconnected]) until Connect or a
// reconnection sends it. It fails at once with an error matching
// [ErrDisconnected] when no connection is coming: after a disconnect on
// purpose, by either side; once the client has ended or is ending (Close,
// reconnection attempts spent — [ErrReconnectFailed] —, or the connection
// lost with reconnection off); and after a failed Connect, until the next
// one (the error then wraps Connect's). What was queued fails at those
// moments too.
func (s *ClientSocket) Emit(event string, args ...any) error {
	return s.emit(event, args, false, nil)
}

// Send emits a "message" event.
func (s *ClientSocket) Send(args ...any) error { return s.Emit("message", args...) }

// EmitVolatile emits an event that is dropped, without error, when the
// namespace is not connected.
func (s *ClientSocket) EmitVolatile(event string, args ...any) error {
	return s.emit(event, args, true, nil)
}

// EmitWithAck emits an event and waits for the server's acknowledgement,
// until ctx ends (the error wraps ErrTimeout on a deadline, and ctx's error
// in any case) or the namespace disconnects after sending it
// ([ErrDisconnected]). Queued while disconnected, it waits for the
// connection first; when none is coming (see [ClientSocket.Emit]) it fails
// at once with an error matching ErrDisconnected.
func (s *ClientSocket) EmitWithAck(ctx context.Context, event string, args ...any) (*Response, error) {
	pa := &pendingAck{ch: make(chan *Response, 1)}
	if err := s.emit(event, args, false, pa); err != nil {
		return nil, err
	}
	select {
	case r := <-pa.ch:
		if r == nil {
			return nil, pa.err
		}
		return r, nil
	case <-ctx.Done():
		s.dropAck(pa)
		return nil, ackWaitError(ctx)
	}
}

// Call is EmitWithAck, named as python-socketio names it.
func (s *ClientSocket) Call(ctx context.Context, event string, args ...any) (*Response, error) {
	return s.EmitWithAck(ctx, event, args...)
}

func (s *ClientSocket) emit(event string, args []any, volatile bool, pa *pendingAck) error {
	if isReserved(event) {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	data, atts, err := parser.EncodeEvent(nil, event, args)
	if err != nil {
		return fmt.Errorf("socketio: encode %q: %w", event, err)
	}
	p := &parser.Packet{Type: parser.Event, Namespace: s.nsp, Data: data, Attachments: atts}
	s.mu.Lock()
	defer s.mu.Unlock()
	if pa != nil {
		p.ID, p.HasID = s.nextAck, true
		s.nextAck++
		s.acks[p.ID] = pa
	}
	frames := s.c.frames(p)
	if s.state == stateConnected {
		err := s.ses.send(frames)
		if err == nil {
			if pa != nil {
				pa.sent = true
			}
			return nil
		}
		if !errors.Is(err, ErrDisconnected) {
			s.forgetAckLocked(pa)
			return err
		}
		// The connection is going away: queue as if disconnected.
	}
	if volatile {
		return nil
	}
	err = s.c.emitBlocked()
	switch {
	case err != nil:
	case s.left:
		err = s.leftErr
	case !*s.c.opts.BufferWhileDisconnected:
		err = ErrDisconnected
	default:
		s.buf = append(s.buf, queuedPacket{frames: frames, ack: pa})
		return nil
	}
	s.forgetAckLocked(pa)
	return err
}

func (s *ClientSocket) forgetAckLocked(pa *pendingAck) {
	if pa == nil {
		return
	}
	for id, a := range s.acks {
		if a == pa {
			delete(s.acks, id)
		}
	}
}

func (s *ClientSocket) dropAck(pa *pendingAck) {
	s.mu.Lock()
	s.forgetAckLocked(pa)
	s.mu.Unlock()
}

// Connect joins the namespace on a connected client (a namespace obtained
// with [Client.Of] after [Client.Connect], or one left with Disconnect) and
// waits for the server's answer until ctx ends. While the client is
// reconnecting it waits for the connection.
func (s *ClientSocket) Connect(ctx context.Context) error {
	c := s.c
	c.mu.Lock()
	started, closing, ended := c.started, c.closing, c.endErr
	c.mu.Unlock()
	if closing {
		return ErrClientClosed
	}
	if ended != nil {
		return fmt.Errorf("%w: %w", ErrClientClosed, ended)
	}
	if !started {
		return fmt.Errorf("socketio: connect %q: the client is not connected: %w", s.nsp, ErrDisconnected)
	}
	s.want()
	w := s.addWaiter()
	if s.Connected() {
		s.dropWaiters()
		return nil
	}
	if ses := c.current(); ses != nil {
		s.sendConnect(ctx, ses)
	}
	select {
	case err := <-w:
		return err
	case <-ctx.Done():
		s.dropWaiters()
		return fmt.Errorf("socketio: connecting to namespace %q: %w", s.nsp, waitError(ctx))
	}
}

// Disconnect leaves the namespace: the server is told, the disconnect
// handlers run with reason "io client disconnect", and the namespace is not
// reconnected. When no namespace is left the client ends.
func (s *ClientSocket) Disconnect() {
	s.leave(true)
	s.c.checkIdle(ReasonIOClientDisconnect)
}

// want marks the namespace to be connected.
func (s *ClientSocket) want() {
	s.mu.Lock()
	s.wanted, s.left, s.leftErr = true, false, nil
	s.mu.Unlock()
}

func (s *ClientSocket) isWanted() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wanted
}

func (s *ClientSocket) addWaiter() chan error {
	ch := make(chan error, 1)
	s.mu.Lock()
	s.waiters = append(s.waiters, ch)
	s.mu.Unlock()
	return ch
}

func (s *ClientSocket) dropWaiters() {
	s.mu.Lock()
	s.waiters = nil
	s.mu.Unlock()
}

func (s *ClientSocket) notifyLocked(err error) {
	for _, w := range s.waiters {
		w <- err
	}
	s.waiters = nil
}

// sendConnect asks the server to join the namespace over ses, if it is
// wanted and not connected or connecting there already.
func (s *ClientSocket) sendConnect(ctx context.Context, ses *clientSession) {
	if !s.isWanted() {
		return
	}
	auth, err := s.c.authPayload(ctx, s.nsp)
	s.mu.Lock()
	if !s.wanted || s.state != stateDisconnected {
		s.mu.Unlock()
		return
	}
	if err != nil {
		s.notifyLocked(err)
		s.mu.Unlock()
		s.fireConnectError(err)
		return
	}
	if s.pid != "" {
		auth = withRecovery(auth, s.pid, s.offset)
	}
	p := &parser.Packet{Type: parser.Connect, Namespace: s.nsp, Data: auth}
	s.state, s.ses = stateConnecting, ses
	err = ses.send(s.c.frames(p))
	s.mu.Unlock()
	if err != nil {
		s.c.log.Debug("socketio: CONNECT not sent", "nsp", s.nsp, "err", err)
	}
}

// authPayload returns the JSON object of the CONNECT packet, or nil.
func (c *Client) authPayload(ctx context.Context, nsp string) (json.RawMessage, error) {
	auth := c.opts.Auth
	if c.opts.AuthFunc != nil {
		var err error
		if auth, err = c.opts.AuthFunc(ctx, nsp); err != nil {
			return nil, fmt.Errorf("socketio: auth for %q: %w", nsp, err)
		}
	}
	if auth == nil {
		return nil, nil
	}
	b, err := json.Marshal(auth)
	if err != nil {
		return nil, fmt.Errorf("socketio: auth for %q: %w", nsp, err)
	}
	if string(b) == "null" {
		return nil, nil
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, fmt.Errorf("socketio: auth for %q must encode as a JSON object, not %.20s", nsp, b)
	}
	return b, nil
}

// withRecovery adds pid and offset to the auth object, as the official
// client does (the auth's own fields win).
func withRecovery(auth json.RawMessage, pid, offset string) json.RawMessage {
	m := map[string]json.RawMessage{}
	m["pid"], _ = json.Marshal(pid)
	if offset != "" {
		m["offset"], _ = json.Marshal(offset)
	}
	if len(auth) > 0 {
		var fields map[string]json.RawMessage
		if json.Unmarshal(auth, &fields) == nil {
			for k, v := range fields {
				m[k] = v
			}
		}
	}
	b, _ := json.Marshal(m)
	return b
}

// onConnect handles the server's CONNECT answer.
func (s *ClientSocket) onConnect(ses *clientSession, data []byte) {
	var ans struct {
		SID string `json:"sid"`
		PID string `json:"pid"`
	}
	_ = json.Unmarshal(data, &ans)
	s.mu.Lock()
	if s.ses != ses || s.state != stateConnecting {
		s.mu.Unlock()
		s.c.log.Debug("socketio: unexpected CONNECT", "nsp", s.nsp)
		return
	}
	s.state, s.id = stateConnected, ans.SID
	s.recovered = ans.PID != "" && ans.PID == s.pid
	s.pid = ans.PID
	for i, q := range s.buf {
		if err := ses.send(q.frames); err != nil {
			// The connection is going away already: what is left fails,
			// acknowledgements included, rather than wait for nothing.
			s.c.log.Debug("socketio: queued packets not sent", "nsp", s.nsp, "count", len(s.buf)-i, "err", err)
			if !errors.Is(err, ErrDisconnected) {
				err = fmt.Errorf("%w: %w", ErrDisconnected, err)
			}
			for _, rest := range s.buf[i:] {
				if rest.ack != nil {
					s.forgetAckLocked(rest.ack)
					rest.ack.fail(err)
				}
			}
			break
		}
		if q.ack != nil {
			q.ack.sent = true
		}
	}
	s.buf = nil
	s.notifyLocked(nil)
	early := s.early
	s.early = nil
	s.mu.Unlock()
	s.enqueue(func() {
		for _, fn := range s.handlers(&s.connectFns) {
			fn()
		}
	})
	for _, job := range early {
		s.enqueue(job)
	}
}

func (s *ClientSocket) handlers(list *[]func()) []func() {
	s.hmu.RLock()
	defer s.hmu.RUnlock()
	return slices.Clone(*list)
}

func (s *ClientSocket) enqueue(job func()) { s.c.enqueue(&s.q, "handler", job) }

func (s *ClientSocket) fireConnectError(err error) {
	s.enqueue(func() {
		s.hmu.RLock()
		fns := slices.Clone(s.onConnectErr)
		s.hmu.RUnlock()
		for _, fn := range fns {
			fn(err)
		}
	})
}

// onConnectError handles the server's refusal.
func (s *ClientSocket) onConnectError(ses *clientSession, data []byte) {
	e := parseRefusal(s.nsp, data)
	s.mu.Lock()
	if s.ses != ses || s.state != stateConnecting {
		s.mu.Unlock()
		return
	}
	s.state, s.ses, s.early = stateDisconnected, nil, nil
	s.notifyLocked(e)
	s.mu.Unlock()
	s.c.log.Info("socketio: connection refused", "nsp", s.nsp, "message", e.Message)
	s.fireConnectError(e)
}

// parseRefusal reads a CONNECT_ERROR payload: {"message","data"}, or a bare
// string as python-socketio 5.7 sends for an unknown namespace.
func parseRefusal(nsp string, data []byte) *ConnectionRefusedError {
	e := &ConnectionRefusedError{Namespace: nsp}
	var body struct {
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	switch {
	case len(data) > 0 && data[0] == '"':
		_ = json.Unmarshal(data, &e.Message)
	case json.Unmarshal(data, &body) == nil:
		e.Message, e.Data = body.Message, body.Data
		if string(e.Data) == "null" {
			e.Data = nil
		}
	}
	return e
}

// onServerDisconnect handles the server's DISCONNECT: the namespace is left
// for good.
func (s *ClientSocket) onServerDisconnect(ses *clientSession) {
	s.mu.Lock()
	if s.ses != ses {
		s.mu.Unlock()
		return
	}
	was := s.state == stateConnected
	s.disconnectLocked(true, fmt.Errorf("%w (%s)", ErrDisconnected, ReasonIOServerDisconnect))
	s.mu.Unlock()
	if was {
		s.fireDisconnect(ReasonIOServerDisconnect)
	}
	s.c.checkIdle(ReasonIOServerDisconnect)
}

// leave disconnects on the client's initiative; tell sends the server a
// DISCONNECT.
func (s *ClientSocket) leave(tell bool) {
	s.mu.Lock()
	was := s.state == stateConnected
	if tell && s.state != stateDisconnected && s.ses != nil {
		p := &parser.Packet{Type: parser.Disconnect, Namespace: s.nsp}
		_ = s.ses.send(s.c.frames(p))
	}
	s.disconnectLocked(true, s.c.leaveError())
	s.mu.Unlock()
	if was {
		s.fireDisconnect(ReasonIOClientDisconnect)
	}
}

// disconnectLocked resets the connection state and fails the
// acknowledgements awaited over it with err; for good, it also fails the
// queue, and forgets the namespace for reconnections. Caller holds s.mu.
func (s *ClientSocket) disconnectLocked(forGood bool, err error) {
	s.state, s.ses, s.early = stateDisconnected, nil, nil
	for id, pa := range s.acks {
		if pa.sent || forGood {
			delete(s.acks, id)
			pa.fail(err)
		}
	}
	if forGood {
		s.wanted, s.left, s.leftErr = false, true, err
		s.buf = nil
		s.notifyLocked(err)
	}
}

// failQueue fails what waits for a connection that is not coming (a failed
// Connect): queued emits, their acknowledgements, and Connect waiters.
func (s *ClientSocket) failQueue(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, pa := range s.acks {
		if !pa.sent {
			delete(s.acks, id)
			pa.fail(err)
		}
	}
	s.buf = nil
	s.notifyLocked(err)
}

// end disconnects the socket for good as the client ends, with err, the
// client's reason. Its disconnect handlers ran already, if it was connected.
func (s *ClientSocket) end(err error) {
	s.mu.Lock()
	s.disconnectLocked(true, err)
	s.mu.Unlock()
}

// onLost handles the end of the connection ses.
func (s *ClientSocket) onLost(ses *clientSession, reason string) {
	s.mu.Lock()
	if s.ses != ses {
		s.mu.Unlock()
		return
	}
	was := s.state == stateConnected
	s.disconnectLocked(false, fmt.Errorf("%w (%s)", ErrDisconnected, reason))
	s.notifyLocked(fmt.Errorf("%w: connection closed (%s)", ErrConnection, reason))
	s.mu.Unlock()
	if was {
		s.fireDisconnect(reason)
	}
}

func (s *ClientSocket) fireDisconnect(reason string) {
	s.enqueue(func() {
		s.hmu.RLock()
		fns := slices.Clone(s.onDisconnect)
		s.hmu.RUnlock()
		for _, fn := range fns {
			fn(reason)
		}
	})
}

// onEvent queues an event from the server for its handler, noting its
// offset when the server offers connection state recovery: as the official
// client does, a string last argument is remembered (and still passed on).
// Events that come before the CONNECT answer (python-socketio sends what its
// connect handler emits first) wait for it, as in the official client.
func (s *ClientSocket) onEvent(ses *clientSession, p *parser.Packet) error {
	name, args, err := p.EventArgs()
	if err != nil {
		return err
	}
	job := func() { s.dispatch(ses, name, args, p) }
	s.mu.Lock()
	if s.ses != ses || s.state == stateDisconnected {
		s.mu.Unlock()
		return nil
	}
	if s.state == stateConnecting {
		s.early = append(s.early, job)
		s.mu.Unlock()
		return nil
	}
	if s.pid != "" && len(args) > 0 {
		var off string
		if last := args[len(args)-1]; len(last) > 0 && last[0] == '"' && json.Unmarshal(last, &off) == nil {
			s.offset = off
		}
	}
	s.mu.Unlock()
	s.enqueue(job)
	return nil
}

// dispatch runs an event's handler and sends the acknowledgement.
func (s *ClientSocket) dispatch(ses *clientSession, name string, args []json.RawMessage, p *parser.Packet) {
	s.hmu.RLock()
	fn := s.events[name]
	if fn == nil {
		fn = s.anyHandler
	}
	s.hmu.RUnlock()
	var ack AckFunc
	if p.HasID {
		var once atomic.Bool
		ack = func(vals ...any) error {
			if !once.CompareAndSwap(false, true) {
				return nil
			}
			return s.sendAck(ses, p.ID, vals)
		}
	}
	if fn == nil {
		if ack != nil {
			_ = ack()
		}
		return
	}
	res, took, err := fn.invoke(reflect.ValueOf(s), name, args, p.Attachments, ack)
	if err != nil {
		s.c.log.Warn("socketio: cannot call handler", "nsp", s.nsp, "event", name, "err", err)
		return
	}
	if ack != nil && !took {
		if err := ack(res...); err != nil {
			s.c.log.Debug("socketio: ack not sent", "nsp", s.nsp, "err", err)
		}
	}
}

func (s *ClientSocket) sendAck(ses *clientSession, id uint64, vals []any) error {
	data, atts, err := parser.EncodeAck(nil, vals)
	if err != nil {
		return fmt.Errorf("socketio: encode ack: %w", err)
	}
	p := &parser.Packet{Type: parser.Ack, Namespace: s.nsp, ID: id, HasID: true, Data: data, Attachments: atts}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ses != ses || s.state != stateConnected {
		return ErrDisconnected
	}
	return ses.send(s.c.frames(p))
}

// onAck resolves a pending acknowledgement; unknown ids are ignored.
func (s *ClientSocket) onAck(p *parser.Packet) {
	args, err := p.AckArgs()
	if err != nil {
		s.c.log.Warn("socketio: bad ack from the server", "nsp", s.nsp, "err", err)
		return
	}
	s.mu.Lock()
	pa := s.acks[p.ID]
	delete(s.acks, p.ID)
	s.mu.Unlock()
	if pa != nil {
		pa.ch <- &Response{Args: args, Attachments: p.Attachments}
	}
}
