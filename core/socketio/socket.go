package socketio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/parser"
)

// Handshake is what the server knows of the request that opened a socket.
type Handshake struct {
	// Headers are the HTTP request headers of the Engine.IO handshake.
	Headers http.Header `json:"headers"`
	// Query is the URL query of the handshake.
	Query url.Values `json:"query"`
	// Auth is the client's auth object from its CONNECT packet, or nil.
	Auth json.RawMessage `json:"auth,omitempty"`
	// Address is the client's remote address.
	Address string `json:"address"`
	// Time is when the connection was made.
	Time time.Time `json:"time"`
	// URL is the request path and query.
	URL string `json:"url"`
}

// DecodeAuth decodes the client's auth object into v.
func (h *Handshake) DecodeAuth(v any) error {
	if len(h.Auth) == 0 {
		return fmt.Errorf("socketio: the client sent no auth")
	}
	return json.Unmarshal(h.Auth, v)
}

type socketState int32

const (
	stateConnecting socketState = iota
	stateConnected
	stateDisconnected
)

// Socket is one client's connection to one namespace. Its methods are safe
// for concurrent use.
type Socket struct {
	id        string
	pid       string
	nsp       *Namespace
	conn      *conn
	handshake *Handshake
	recovered *PersistedSession

	mu       sync.Mutex
	state    socketState
	accepted atomic.Bool         // the connection was confirmed (it may have ended since)
	held     [][]engineio.Packet // emits made while connecting
	acks     map[uint64]func(*Response)
	data     map[string]any

	// packetMiddlewares is read for every event without a lock; Use
	// replaces it with a longer copy, under mu.
	packetMiddlewares atomic.Pointer[[]func(*Socket, string, []json.RawMessage) error]
	outgoing          []func(event string, args []any)
	hasOutgoing       atomic.Bool

	slow atomic.Bool // its queue stopped draining (see awaitRoom)

	drain     func() // s.drainJobs, made once
	jobMu     sync.Mutex
	jobs      []job         // jobs[jobHead:] wait to run
	jobHead   int           // the next job to run
	running   bool          // a goroutine runs the jobs (busy or idle)
	jobIdle   bool          // it waits on jobWake for more
	jobWake   chan struct{} // wakes it
	jobsEnded int64         // when the last such goroutine ended (UnixNano)
	jobRoom   chan struct{} // closed when len(jobs)-jobHead falls to jobRoomAt (see waitJobRoom)
	jobRoomAt int
}

func newSocket(nsp *Namespace, c *conn, auth json.RawMessage, restored *PersistedSession) *Socket {
	hs := c.es.Handshake()
	s := &Socket{
		nsp:  nsp,
		conn: c,
		handshake: &Handshake{
			Headers: hs.Headers,
			Query:   hs.Query,
			Auth:    auth,
			Address: hs.RemoteAddr,
			Time:    hs.Time,
			URL:     hs.Path + "?" + hs.Query.Encode(),
		},
		acks: make(map[uint64]func(*Response)),
		data: make(map[string]any),
	}
	s.drain = s.drainJobs
	if restored != nil {
		s.id, s.pid, s.recovered = restored.SID, restored.PID, restored
		if restored.Data != nil {
			s.data = restored.Data
		}
	} else {
		s.id = randomID()
		if nsp.server.opts.Recovery != nil {
			s.pid = randomID()
		}
	}
	return s
}

func randomID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ID returns the socket id, which is also the name of its personal room.
func (s *Socket) ID() string { return s.id }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.nsp }

// Handshake returns the handshake data. It must not be modified.
func (s *Socket) Handshake() *Handshake { return s.handshake }

// Recovered reports whether the connection state was recovered: the socket
// got back its id, rooms and data, and the packets it missed.
func (s *Socket) Recovered() bool { return s.recovered != nil }

// Connected reports whether the socket is connected.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateConnected
}

// Transport returns the underlying transport, "polling" or "websocket".
func (s *Socket) Transport() string { return s.conn.es.Transport() }

// EngineID returns the id of the underlying Engine.IO session, which the
// socket shares with the client's other namespaces.
func (s *Socket) EngineID() string { return s.conn.es.ID() }

// Emit sends an event to this client. Values of type []byte, at any depth,
// travel as binary attachments.
func (s *Socket) Emit(event string, args ...any) error {
	return s.emit(event, args, false)
}

// Compress(false) returns an operator whose emits reach this socket only,
// uncompressed where the engine would compress them (see
// [BroadcastOperator.Compress]): s.Compress(false).Emit("img", data).
func (s *Socket) Compress(on bool) *BroadcastOperator { return s.nsp.To(s.id).Compress(on) }

// Send emits a "message" event.
func (s *Socket) Send(args ...any) error { return s.Emit("message", args...) }

// EmitVolatile emits an event that may be dropped if the client is not
// ready to receive it.
func (s *Socket) EmitVolatile(event string, args ...any) error {
	return s.emit(event, args, true)
}

func (s *Socket) emit(event string, args []any, volatile bool) error {
	if err := s.nsp.server.closedErr(); err != nil {
		return fmt.Errorf("%w: %w", err, ErrDisconnected)
	}
	if isReserved(event) {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	if s.nsp.server.opts.Recovery != nil && !volatile && s.Connected() {
		// Through the manager, so the packet gets an offset for recovery.
		return s.nsp.To(s.id).Emit(event, args...)
	}
	p := &parser.Packet{Type: parser.Event, Namespace: s.nsp.name}
	frames, err := eventFrames(s.nsp.server.opts.Parser, p, event, args)
	if err != nil {
		return err
	}
	return s.deliver(frames, p, volatile)
}

// eventFrames encodes event and args as p's payload (p gives the header:
// namespace, ack id) into the frames that carry it.
func eventFrames(pr Parser, p *parser.Packet, event string, args []any) ([]engineio.Packet, error) {
	frames, err := framePacket(pr, p, func(dst []byte) ([]byte, [][]byte, error) {
		return parser.EncodeEvent(dst, event, args)
	})
	if err != nil {
		return nil, fmt.Errorf("socketio: encode %q: %w", event, err)
	}
	return frames, nil
}

// eventPacket encodes an EVENT packet.
func eventPacket(nsp, event string, args []any) (*parser.Packet, error) {
	data, atts, err := parser.EncodeEvent(nil, event, args)
	if err != nil {
		return nil, fmt.Errorf("socketio: encode %q: %w", event, err)
	}
	return &parser.Packet{Type: parser.Event, Namespace: nsp, Data: data, Attachments: atts}, nil
}

// EmitWithAck sends an event and waits for the client's acknowledgement,
// until ctx ends (the error then wraps ErrTimeout on a deadline, and ctx's
// error in any case) or the socket disconnects (ErrDisconnected).
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (*Response, error) {
	if err := s.nsp.server.closedErr(); err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrDisconnected)
	}
	if isReserved(event) {
		return nil, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	p := &parser.Packet{Type: parser.Event, Namespace: s.nsp.name, ID: s.nsp.ackIDs.Add(1) - 1, HasID: true}
	frames, err := eventFrames(s.nsp.server.opts.Parser, p, event, args)
	if err != nil {
		return nil, err
	}
	ch := make(chan *Response, 1)
	start := s.nsp.server.hookClock()
	if !s.expectAck(p.ID, func(r *Response) { s.nsp.server.hookAck(s.nsp.name, start); ch <- r }) {
		return nil, ErrDisconnected
	}
	if err := s.deliver(frames, p, false); err != nil {
		s.dropAck(p.ID)
		return nil, err
	}
	// The answer comes over this connection: if this is one of its
	// handlers, running on its reader, reading must go on elsewhere.
	s.conn.es.Detach()
	select {
	case r := <-ch:
		if r == nil {
			return nil, ErrDisconnected
		}
		return r, nil
	case <-ctx.Done():
		s.dropAck(p.ID)
		return nil, ackWaitError(ctx)
	}
}

// Call is EmitWithAck, named as python-socketio names it.
func (s *Socket) Call(ctx context.Context, event string, args ...any) (*Response, error) {
	return s.EmitWithAck(ctx, event, args...)
}

func ackWaitError(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
	}
	return fmt.Errorf("socketio: waiting for ack: %w", ctx.Err())
}

// expectAck registers fn for the ack with id; false if disconnected.
func (s *Socket) expectAck(id uint64, fn func(*Response)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stateDisconnected {
		return false
	}
	s.acks[id] = fn
	return true
}

func (s *Socket) dropAck(id uint64) {
	s.mu.Lock()
	delete(s.acks, id)
	s.mu.Unlock()
}

// deliver queues the frames of an encoded packet for this client.
func (s *Socket) deliver(frames []engineio.Packet, p *parser.Packet, volatile bool) error {
	if !volatile && s.accepted.Load() {
		var size int64
		for _, f := range frames {
			size += int64(len(f.Data))
		}
		s.awaitRoom(len(frames), size)
	}
	s.mu.Lock()
	switch s.state {
	case stateDisconnected:
		s.mu.Unlock()
		return ErrDisconnected
	case stateConnecting:
		if volatile {
			s.mu.Unlock()
			return nil
		}
		s.held = append(s.held, frames)
		s.mu.Unlock()
		if s.hasOutgoing.Load() {
			s.notifyOutgoing(p)
		}
		return nil
	}
	err := s.conn.es.SendPackets(frames, volatile)
	s.mu.Unlock()
	s.nsp.server.hookPacketOut(p)
	if s.hasOutgoing.Load() {
		s.notifyOutgoing(p)
	}
	if err != nil {
		s.nsp.server.hookError(errKindSend, err)
		return fmt.Errorf("socketio: send to %s: %w", s.id, err)
	}
	return nil
}

// OnAnyOutgoing adds a listener called with every event sent to this socket.
func (s *Socket) OnAnyOutgoing(fn func(event string, args []any)) {
	s.mu.Lock()
	s.outgoing = append(s.outgoing, fn)
	s.mu.Unlock()
	s.hasOutgoing.Store(true)
}

func (s *Socket) notifyOutgoing(p *parser.Packet) {
	if p.Type != parser.Event && p.Type != parser.BinaryEvent {
		return
	}
	name, raw, err := parser.ParseEvent(p.Data)
	if err != nil {
		return
	}
	args, err := parser.DecodeArgs(raw, p.Attachments)
	if err != nil {
		return
	}
	s.mu.Lock()
	listeners := slices.Clone(s.outgoing)
	s.mu.Unlock()
	for _, fn := range listeners {
		s.nsp.server.safeCall("outgoing listener", s.id, func() { fn(name, args) })
	}
}

// Use adds a per-packet middleware, run before the handler of every event
// the client sends. Returning an error drops the event (the error is logged).
func (s *Socket) Use(fn func(s *Socket, event string, args []json.RawMessage) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mws := append(slices.Clone(s.eventMiddlewares()), fn)
	s.packetMiddlewares.Store(&mws)
}

// eventMiddlewares returns the middlewares added with Use; the slice is
// shared and never changed.
func (s *Socket) eventMiddlewares() []func(*Socket, string, []json.RawMessage) error {
	if m := s.packetMiddlewares.Load(); m != nil {
		return *m
	}
	return nil
}

// Join puts the socket in rooms.
//
// A socket that has disconnected joins nothing: a handler still running for
// an event it sent before leaving must not leave it behind in a room.
func (s *Socket) Join(rooms ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stateDisconnected {
		return
	}
	s.nsp.manager.AddAll(s.id, rooms)
}

// Leave takes the socket out of rooms; leaving a room it is not in does
// nothing.
func (s *Socket) Leave(rooms ...string) {
	for _, r := range rooms {
		s.nsp.manager.Del(s.id, r)
	}
}

// Rooms returns the socket's rooms, its personal room included.
func (s *Socket) Rooms() []string { return s.nsp.manager.SocketRooms(s.id) }

// To selects rooms for a broadcast that skips this socket.
func (s *Socket) To(rooms ...string) *BroadcastOperator {
	return s.nsp.operator().Except(s.id).To(rooms...)
}

// Broadcast selects every other socket of the namespace.
func (s *Socket) Broadcast() *BroadcastOperator { return s.nsp.operator().Except(s.id) }

// Session returns a copy of the socket's session data.
func (s *Socket) Session() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.data)
}

// SaveSession replaces the socket's session data with a copy of m.
func (s *Socket) SaveSession(m map[string]any) {
	s.mu.Lock()
	s.data = maps.Clone(m)
	if s.data == nil {
		s.data = make(map[string]any)
	}
	s.mu.Unlock()
}

// UpdateSession runs fn on the live session data, with no other session
// access in between: python-socketio's session context manager.
func (s *Socket) UpdateSession(fn func(m map[string]any)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.data)
}

// Disconnect removes the socket from its namespace and tells the client;
// with close, it closes the whole underlying connection, and with it the
// client's other namespaces. The client does not reconnect after it; to
// end a connection so that the client reconnects, use [Socket.Drop].
func (s *Socket) Disconnect(close bool) {
	if close {
		s.conn.closeWith(ReasonServerNamespaceDisconnect)
		return
	}
	s.mu.Lock()
	gone := s.state == stateDisconnected
	s.mu.Unlock()
	if gone {
		return // the client may have joined the namespace again: leave it be
	}
	// Leave first, then tell the client, so that a client reconnecting at
	// once is not taken for a duplicate CONNECT.
	s.onDisconnect(ReasonServerNamespaceDisconnect)
	p := &parser.Packet{Type: parser.Disconnect, Namespace: s.nsp.name}
	_ = s.conn.es.SendPackets(s.nsp.server.frames(p), false)
}

// Drop ends the socket's underlying connection the way a network loss
// would, with no DISCONNECT and no close of any kind the client could take
// as final: the client's namespaces see reason "transport close" or
// "transport error" and it reconnects (with a new connection), as after
// Node's socket.conn.close(). Use it to move a client to another server or
// to test reconnection; use [Socket.Disconnect] to end it for good.
func (s *Socket) Drop() { s.conn.es.Drop() }

// jobLinger is how long an idle socket's handler goroutine waits for the
// next event before it ends, so busy sockets reuse it and idle ones hold none.
const jobLinger = time.Second

// job is one unit of a socket's ordered work: an event for its handler, or
// fn.
type job struct {
	ev *event
	fn func()
}

// event is a received event waiting for its handler.
type event struct {
	s     *Socket
	name  string
	args  []json.RawMessage
	p     *parser.Packet
	acked atomic.Bool
}

// ack acknowledges the event, once. An ack that cannot be sent is logged
// (at Warn when its values do not encode or the client's queue refused it,
// at Debug when the socket has left), as the caller may not look at the
// error.
func (e *event) ack(vals ...any) error {
	if !e.acked.CompareAndSwap(false, true) {
		return nil
	}
	err := e.s.sendAck(e.p.ID, vals)
	if err != nil {
		srv := e.s.nsp.server
		if errors.Is(err, ErrDisconnected) {
			srv.log.Debug("socketio: ack not sent: the socket has left", "sid", e.s.id, "event", e.name)
		} else {
			srv.warnSocket(slog.LevelWarn, logAck, e.s.id, "socketio: ack not sent", "event", e.name, "err", err)
		}
	}
	return err
}

// maxKeptJobs bounds the job array a socket keeps for reuse.
const maxKeptJobs = 64

// enqueue runs fn after the socket's earlier jobs, on a goroutine that
// exists only while there is work, or was moments ago.
func (s *Socket) enqueue(fn func()) {
	if s.push(job{fn: fn}) {
		s.startJobs()
	}
}

// enqueueFromReader is enqueue for the message callback: when the socket
// has no earlier work, its jobs run on the connection's reader right after
// the message (see engineio.Session.Inline), with no goroutine hand-off.
// Off a WebSocket reader, run starts them instead: s.startJobs on a
// goroutine, or s.drainJobs right here.
func (s *Socket) enqueueFromReader(j job, run func()) {
	if s.push(j) && !s.conn.es.Inline(s.drain) {
		run()
	}
}

// push queues j and reports whether the caller must start running the
// queue; otherwise it runs already, and is woken if idle.
func (s *Socket) push(j job) bool {
	s.jobMu.Lock()
	defer s.jobMu.Unlock()
	s.jobs = append(s.jobs, j)
	switch {
	case !s.running:
		s.running = true
		return true
	case s.jobIdle:
		s.jobIdle = false
		select {
		case s.jobWake <- struct{}{}:
		default:
		}
	}
	return false
}

// startJobs runs the queue on a new goroutine. The caller set s.running.
func (s *Socket) startJobs() {
	s.jobMu.Lock()
	if s.jobWake == nil {
		s.jobWake = make(chan struct{}, 1)
	}
	busy := time.Now().UnixNano()-s.jobsEnded < int64(jobLinger)
	s.jobMu.Unlock()
	srv := s.nsp.server
	srv.wg.Add(1)
	go func() {
		defer srv.wg.Done()
		s.runJobs(busy)
		s.jobMu.Lock()
		s.jobsEnded = time.Now().UnixNano()
		s.jobMu.Unlock()
	}()
}

// drainJobs runs the queue on the calling goroutine until it is empty.
func (s *Socket) drainJobs() { s.runJobs(false) }

// nextJobLocked takes the next job, if any. Caller holds s.jobMu.
func (s *Socket) nextJobLocked() (job, bool) {
	if s.jobHead == len(s.jobs) {
		if cap(s.jobs) > maxKeptJobs {
			s.jobs = nil
		}
		s.jobs, s.jobHead = s.jobs[:0], 0
		return job{}, false
	}
	j := s.jobs[s.jobHead]
	s.jobs[s.jobHead] = job{}
	s.jobHead++
	s.signalJobRoomLocked()
	return j, true
}

// runJob runs one job, recovering a panic.
func (s *Socket) runJob(j job) {
	if j.ev != nil {
		defer func() {
			if v := recover(); v != nil {
				s.nsp.server.logPanic("event handler", s.id, v, "event", j.ev.name, "nsp", s.nsp.name)
			}
		}()
		s.dispatch(j.ev)
		return
	}
	s.nsp.server.safeCall("handler", s.id, j.fn)
}

// runJobs runs queued jobs in order. Without linger it returns once the
// queue is empty; with it, it waits up to jobLinger for more, unless the
// socket has disconnected.
func (s *Socket) runJobs(linger bool) {
	var idle *time.Timer
	for {
		s.jobMu.Lock()
		j, ok := s.nextJobLocked()
		if ok {
			s.jobMu.Unlock()
			s.runJob(j)
			continue
		}
		if !linger {
			s.running = false
			s.jobMu.Unlock()
			return
		}
		s.jobMu.Unlock()

		s.mu.Lock()
		gone := s.state == stateDisconnected
		s.mu.Unlock()
		s.jobMu.Lock()
		if s.jobHead < len(s.jobs) {
			s.jobMu.Unlock()
			continue
		}
		if gone {
			s.running = false
			s.jobMu.Unlock()
			return
		}
		s.jobIdle = true
		s.jobMu.Unlock()
		if idle == nil {
			idle = time.NewTimer(jobLinger)
		} else {
			idle.Reset(jobLinger)
		}
		select {
		case <-s.jobWake:
			continue
		case <-idle.C:
		}
		s.jobMu.Lock()
		s.jobIdle = false
		if s.jobHead == len(s.jobs) {
			s.running = false
			s.jobMu.Unlock()
			return
		}
		s.jobMu.Unlock()
	}
}

// runConnect runs the middlewares and connect handlers, then confirms or
// refuses the connection.
func (s *Socket) runConnect() {
	h := s.nsp.h
	h.mu.RLock()
	mws := slices.Clone(h.middlewares)
	onConnect := slices.Clone(h.onConnect)
	h.mu.RUnlock()
	if s.recovered != nil {
		// Rooms come back before the middlewares run, as the data does, so
		// that they and the connect handlers see the restored state.
		s.nsp.manager.AddAll(s.id, s.recovered.Rooms)
	}
	skip := s.recovered != nil && s.nsp.server.opts.Recovery.SkipMiddlewares
	if !skip {
		for _, mw := range mws {
			if err := s.guard(mw); err != nil {
				s.refuse(err)
				return
			}
		}
	}
	for _, fn := range onConnect {
		if err := s.guard(fn); err != nil {
			s.refuse(err)
			return
		}
	}
	s.accept()
}

// guard runs a middleware or connect handler, turning a panic into a refusal.
func (s *Socket) guard(fn func(*Socket) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			s.nsp.server.logPanic("connect handler", s.id, v, "nsp", s.nsp.name)
			err = NewConnectError("Internal server error", nil)
		}
	}()
	return fn(s)
}

// accept confirms the connection, then sends what was emitted meanwhile.
func (s *Socket) accept() {
	s.nsp.manager.AddAll(s.id, []string{s.id})
	s.mu.Lock()
	if s.state != stateConnecting {
		s.mu.Unlock()
		s.nsp.manager.DelAll(s.id)
		return
	}
	s.state = stateConnected
	s.accepted.Store(true)
	s.nsp.add(s)
	payload := []byte(`{"sid":` + quote(s.id))
	if s.pid != "" {
		payload = append(payload, `,"pid":`+quote(s.pid)...)
	}
	payload = append(payload, '}')
	ack := &parser.Packet{Type: parser.Connect, Namespace: s.nsp.name, Data: payload}
	s.hookConnected()
	err := s.conn.es.SendPackets(s.nsp.server.frames(ack), false)
	if s.recovered != nil {
		for _, p := range s.recovered.Missed {
			if err == nil {
				err = s.conn.es.SendPackets(s.nsp.server.frames(p), false)
			}
		}
	}
	for _, frames := range s.held {
		if err == nil {
			err = s.conn.es.SendPackets(frames, false)
		}
	}
	s.held = nil
	s.mu.Unlock()
	s.conn.connected()
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// refuse answers CONNECT_ERROR and forgets the socket.
func (s *Socket) refuse(err error) {
	s.nsp.server.hookError(errKindConnectRefuse, err)
	s.mu.Lock()
	if s.state != stateConnecting {
		s.mu.Unlock()
		// Disconnected meanwhile: drop rooms joined by a middleware.
		s.nsp.manager.DelAll(s.id)
		return
	}
	s.state = stateDisconnected
	s.held = nil
	s.mu.Unlock()
	// Forget the socket before the client hears of the refusal: a client
	// that retries at once must not look like a duplicate CONNECT.
	s.nsp.manager.DelAll(s.id)
	s.conn.forget(s)
	ce := refusal(err)
	p := &parser.Packet{Type: parser.ConnectError, Namespace: s.nsp.name, Data: ce.payload()}
	_ = s.conn.es.SendPackets(s.nsp.server.frames(p), false)
}

// onEvent queues an event from the client for its handler.
func (s *Socket) onEvent(p *parser.Packet) error {
	name, args, err := p.EventArgs()
	if err != nil {
		return err
	}
	s.enqueueFromReader(job{ev: &event{s: s, name: name, args: args, p: p}}, s.startJobs)
	return nil
}

// dispatch runs the handler of one event and sends the acknowledgement.
func (s *Socket) dispatch(ev *event) {
	// Events that arrived while the socket was connected are handled even
	// if it has left since (a client that emits then disconnects at once);
	// those of a refused connection are not.
	name, args, p := ev.name, ev.args, ev.p
	if !s.accepted.Load() {
		return
	}
	for _, mw := range s.eventMiddlewares() {
		if err := mw(s, name, args); err != nil {
			s.nsp.server.log.Info("socketio: event refused by middleware", "sid", s.id, "event", name, "err", err)
			return
		}
	}
	fn := s.nsp.h.routes.Load().route(name)
	if fn == nil {
		return
	}
	var ack AckFunc
	if p.HasID {
		ack = ev.ack
	}
	sp := s.hookEventStart(name, args)
	res, took, err := fn.call(s, name, args, p.Attachments, ack)
	sp.end(err)
	if err != nil {
		s.nsp.server.warnSocket(slog.LevelWarn, logBadArgs, s.id,
			"socketio: event arguments do not fit the handler; it was not called",
			"event", name, "nsp", s.nsp.name, "err", err)
		return
	}
	if ack != nil && !took {
		_ = ack(res...) // logged by ev.ack
	}
}

func (s *Socket) sendAck(id uint64, vals []any) error {
	p := &parser.Packet{Type: parser.Ack, Namespace: s.nsp.name, ID: id, HasID: true}
	frames, err := framePacket(s.nsp.server.opts.Parser, p, func(dst []byte) ([]byte, [][]byte, error) {
		return parser.EncodeAck(dst, vals)
	})
	if err != nil {
		return fmt.Errorf("socketio: encode ack: %w", err)
	}
	return s.deliver(frames, p, false)
}

// onAck resolves a pending acknowledgement; unknown ids are ignored.
func (s *Socket) onAck(p *parser.Packet) error {
	args, err := p.AckArgs()
	if err != nil {
		return err
	}
	s.mu.Lock()
	fn := s.acks[p.ID]
	delete(s.acks, p.ID)
	s.mu.Unlock()
	if fn != nil {
		fn(&Response{SID: s.id, Args: args, Attachments: p.Attachments})
	}
	return nil
}

// onDisconnect leaves the namespace: pending acks fail, rooms are left, the
// state is kept for recovery when the reason allows, and the disconnect
// handlers run after the socket's pending events.
func (s *Socket) onDisconnect(reason string) {
	s.mu.Lock()
	if s.state == stateDisconnected {
		s.mu.Unlock()
		return
	}
	wasConnected := s.state == stateConnected
	s.state = stateDisconnected
	s.hookDisconnected(reason)
	acks := s.acks
	s.acks = make(map[uint64]func(*Response))
	s.held = nil
	data := s.data
	s.mu.Unlock()

	for _, fn := range acks {
		fn(nil)
	}
	if wasConnected && s.pid != "" && recoverable(reason) {
		s.nsp.manager.PersistSession(&PersistedSession{
			SID: s.id, PID: s.pid, Rooms: s.Rooms(), Data: data, DisconnectedAt: time.Now(),
		})
	}
	s.nsp.manager.DelAll(s.id)
	s.nsp.remove(s)
	s.conn.forget(s)
	srv := s.nsp.server
	if !wasConnected {
		srv.forgetSocket(s.id)
		return
	}
	s.enqueue(func() {
		h := s.nsp.h
		h.mu.RLock()
		fns := slices.Clone(h.onDisconnect)
		h.mu.RUnlock()
		for _, fn := range fns {
			srv.safeCall("disconnect handler", s.id, func() { fn(s, reason) })
		}
		srv.forgetSocket(s.id)
	})
}

// remote describes the socket for FetchSockets.
func (s *Socket) remote() *RemoteSocket {
	return &RemoteSocket{
		ID: s.id, Namespace: s.nsp.name, Rooms: s.Rooms(), Handshake: s.handshake,
		Data: s.Session(), nsp: s.nsp,
	}
}

// RemoteSocket describes a socket that may live on another server process,
// as returned by FetchSockets. Its methods act through the manager.
type RemoteSocket struct {
	ID        string         `json:"id"`
	Namespace string         `json:"nsp"`
	Rooms     []string       `json:"rooms"`
	Handshake *Handshake     `json:"handshake"`
	Data      map[string]any `json:"data"`

	nsp *Namespace
}

// bindRemote binds a socket description received from another process to
// the namespace, so that its methods work. Pub/sub managers reach it through
// manager.NewRemoteSocket.
func (n *Namespace) bindRemote(r *RemoteSocket) *RemoteSocket {
	r.nsp = n
	return r
}

// Emit sends an event to the socket.
func (r *RemoteSocket) Emit(event string, args ...any) error {
	return r.nsp.To(r.ID).Emit(event, args...)
}

// Join makes the socket join rooms.
func (r *RemoteSocket) Join(rooms ...string) { r.nsp.In(r.ID).SocketsJoin(rooms...) }

// Leave makes the socket leave rooms.
func (r *RemoteSocket) Leave(rooms ...string) { r.nsp.In(r.ID).SocketsLeave(rooms...) }

// Disconnect disconnects the socket; close also closes its connection.
func (r *RemoteSocket) Disconnect(close bool) { r.nsp.In(r.ID).DisconnectSockets(close) }
