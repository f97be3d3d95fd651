package siopubsub

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/siokit/siokit/core/parser"
	"github.com/siokit/siokit/core/socketio"
	"github.com/siokit/siokit/core/socketio/manager"
)

// ErrQueueFull is the reason logged for a message dropped because the
// publish queue was full.
var ErrQueueFull = errors.New("siopubsub: publish queue full")

// errStale is the reason logged for a message dropped because it waited
// too long in the publish queue.
var errStale = errors.New("siopubsub: queued too long while the broker was unreachable")

// Manager is the pub/sub [socketio.Manager] of one namespace. It embeds the
// [manager.InMemory] that delivers to this process's sockets. Its
// methods are safe for concurrent use.
//
// A Manager owns two goroutines (a publisher and a subscriber) and one per
// server-side emit being handled; all have returned when Close returns.
type Manager struct {
	*manager.InMemory

	nsp     *socketio.Namespace
	broker  Broker
	counter SubscriberCounter
	opts    Options
	log     *slog.Logger
	uid     string

	channel         string // broadcasts
	requestChannel  string
	responseChannel string
	ownResponse     string // responseChannel + uid + "#"

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	queue     chan outgoing
	ready     chan struct{}
	readyOnce sync.Once
	closeOnce sync.Once

	mu       sync.Mutex
	requests map[string]*request
	acks     map[string]*ackRequest
	nodes    map[string]time.Time // other processes heard of (heartbeats)
	dropped  int
	dropLog  time.Time

	down bool // the last publish failed; owned by the publisher goroutine

	// Python fleet (Options.Python); pyChannel is empty without it.
	pyChannel string
	hostID    string
	pyAckSeq  atomic.Uint64
	pyAcks    map[uint64]*pyAck
}

var _ socketio.Manager = (*Manager)(nil)

type outgoing struct {
	channel string
	data    []byte
	at      time.Time // when it was queued
}

// request is a fetch-sockets or server-side emit waiting for answers.
type request struct {
	typ       int
	need, got int
	sockets   []*socketio.RemoteSocket
	onAck     func(*socketio.Response)
	done      chan struct{}
}

// ackRequest is a broadcast with acks waiting for the client count of each
// process (this one included) and then for the acks of other processes.
type ackRequest struct {
	need, got  int // client counts expected and received
	total      int // clients that were sent the packet
	local      int // of which on this process
	remoteAcks int
	counted    bool
	onCount    func(int)
	onAck      func(*socketio.Response)
	timers     []*time.Timer
}

// New returns a [socketio.Options].NewManager function that gives every
// namespace a Manager on broker. The broker is shared by the namespaces;
// closing it is the caller's job, after the server's Close.
func New(broker Broker, opts *Options) func(nsp *socketio.Namespace) socketio.Manager {
	return func(nsp *socketio.Namespace) socketio.Manager { return NewManager(nsp, broker, opts) }
}

// NewManager returns the manager of nsp on broker and starts its publisher
// and subscriber goroutines.
func NewManager(nsp *socketio.Namespace, broker Broker, opts *Options) *Manager {
	o := opts.withDefaults()
	m := &Manager{
		InMemory: manager.NewInMemory(nsp),
		nsp:      nsp,
		broker:   broker,
		opts:     o,
		log:      o.Logger.With("nsp", nsp.Name()),
		uid:      randomID(),
		queue:    make(chan outgoing, o.QueueSize),
		ready:    make(chan struct{}),
		requests: make(map[string]*request),
		acks:     make(map[string]*ackRequest),
		nodes:    make(map[string]time.Time),
	}
	m.counter, _ = broker.(SubscriberCounter)
	m.channel = o.Prefix + "#" + nsp.Name() + "#"
	m.requestChannel = o.Prefix + "-request#" + nsp.Name() + "#"
	m.responseChannel = o.Prefix + "-response#" + nsp.Name() + "#"
	m.ownResponse = m.responseChannel + m.uid + "#"
	if o.Python != nil {
		m.pyChannel = o.Python.Channel
		m.hostID = newHostID()
		m.pyAcks = make(map[uint64]*pyAck)
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.wg.Add(2)
	go m.publishLoop()
	go m.subscribeLoop()
	return m
}

// idBytes is the number of random bytes of a manager's uid and of a request id.
const idBytes = 6

// randomID returns idBytes random bytes in unpadded URL-safe base64.
func randomID() string {
	b := make([]byte, idBytes)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// UID returns the random id of this process's manager, carried by its
// messages so that it can ignore them when they come back.
func (m *Manager) UID() string { return m.uid }

// Ready is closed once the first subscription is in place.
func (m *Manager) Ready() <-chan struct{} { return m.ready }

// ServerCount returns the number of server processes serving the
// namespace, this one included: the subscribers of the request channel, or
// the processes heard of by heartbeat. It is at least 1.
func (m *Manager) ServerCount(ctx context.Context) int {
	if m.counter != nil {
		tctx, cancel := context.WithTimeout(ctx, m.opts.RequestsTimeout)
		defer cancel()
		n, err := m.counter.NumSub(tctx, m.requestChannel)
		if err != nil {
			m.log.Warn("siopubsub: cannot count servers", "err", err)
			return 1
		}
		return max(n, 1)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cut := time.Now().Add(-2 * m.opts.HeartbeatInterval)
	for uid, at := range m.nodes {
		if at.Before(cut) {
			delete(m.nodes, uid)
		}
	}
	return 1 + len(m.nodes)
}

// Broadcast implements [socketio.Manager]: the packet is published for the
// other processes, then delivered here.
func (m *Manager) Broadcast(p *parser.Packet, opts *socketio.BroadcastOptions) {
	if !opts.Local {
		if m.pyChannel != "" {
			m.publishPythonEmit(p, opts)
		} else {
			m.publishBroadcast(p, opts)
		}
	}
	m.InMemory.Broadcast(p, opts)
}

func (m *Manager) publishBroadcast(p *parser.Packet, opts *socketio.BroadcastOptions) {
	w, err := packetToWire(p)
	if err != nil {
		m.log.Warn("siopubsub: cannot encode broadcast", "err", err)
		return
	}
	msg, err := msgpack.Marshal([]any{m.uid, w, optsToWire(opts, true)})
	if err != nil {
		m.log.Warn("siopubsub: cannot encode broadcast", "err", err)
		return
	}
	ch := m.channel
	if m.opts.RoomChannels && len(opts.Rooms) == 1 {
		ch += opts.Rooms[0] + "#"
	}
	m.enqueue(ch, msg)
}

// BroadcastWithAck implements [socketio.Manager]: every process sends the
// packet to its sockets and reports how many it reached, then their acks.
// onCount is called once with the total, when every process has reported
// or after RequestsTimeout with the counts so far.
func (m *Manager) BroadcastWithAck(p *parser.Packet, opts *socketio.BroadcastOptions, onCount func(int), onAck func(*socketio.Response)) {
	if opts.Local {
		m.InMemory.BroadcastWithAck(p, opts, onCount, onAck)
		return
	}
	if m.pyChannel != "" {
		m.pyBroadcastWithAck(p, opts, onCount, onAck)
		return
	}
	others := m.ServerCount(context.Background()) - 1
	var msg []byte
	w, err := packetToWire(p)
	if err == nil && others > 0 {
		id := randomID()
		msg, err = msgpack.Marshal(map[string]any{
			"uid": m.uid, "requestId": id, "type": reqBroadcast, "packet": w, "opts": optsToWire(opts, true),
		})
		if err == nil {
			m.broadcastWithAck(id, msg, others, p, opts, onCount, onAck)
			return
		}
	}
	if err != nil {
		m.log.Warn("siopubsub: cannot encode broadcast", "err", err)
	}
	m.InMemory.BroadcastWithAck(p, opts, onCount, onAck)
}

func (m *Manager) broadcastWithAck(id string, msg []byte, others int, p *parser.Packet, opts *socketio.BroadcastOptions,
	onCount func(int), onAck func(*socketio.Response),
) {
	a := &ackRequest{need: others + 1, onCount: onCount, onAck: onAck}
	m.mu.Lock()
	m.acks[id] = a
	m.mu.Unlock()
	m.enqueue(m.requestChannel, msg)
	m.InMemory.BroadcastWithAck(p, opts, func(n int) {
		m.mu.Lock()
		a.local = n
		m.mu.Unlock()
		m.addCount(id, a, n)
	}, onAck)
	life := max(m.opts.RequestsTimeout, opts.AckTimeout)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.acks[id] != a {
		return // already complete
	}
	a.timers = append(a.timers,
		time.AfterFunc(m.opts.RequestsTimeout, func() { m.countTimeout(id, a) }),
		time.AfterFunc(life, func() {
			m.mu.Lock()
			if m.acks[id] == a {
				delete(m.acks, id)
			}
			m.mu.Unlock()
		}))
}

// addCount records one process's client count.
func (m *Manager) addCount(id string, a *ackRequest, n int) {
	m.mu.Lock()
	a.got++
	a.total += n
	var call func(int)
	if !a.counted && a.got >= a.need {
		a.counted = true
		call = a.onCount
	}
	total := a.total
	m.finishAckLocked(id, a)
	m.mu.Unlock()
	if call != nil {
		call(total)
	}
}

func (m *Manager) countTimeout(id string, a *ackRequest) {
	m.mu.Lock()
	if a.counted {
		m.mu.Unlock()
		return
	}
	a.counted = true
	total := a.total
	m.log.Warn("siopubsub: broadcast with acks: not every server reported its client count",
		"answered", a.got-1, "expected", a.need-1)
	m.finishAckLocked(id, a)
	m.mu.Unlock()
	a.onCount(total)
}

// finishAckLocked forgets a request whose counts and remote acks are all in.
func (m *Manager) finishAckLocked(id string, a *ackRequest) {
	if a.counted && a.remoteAcks >= a.total-a.local && m.acks[id] == a {
		delete(m.acks, id)
		for _, t := range a.timers {
			t.Stop()
		}
	}
}

// FetchSockets implements [socketio.Manager]: the local sockets and those
// every other process reports. When a process does not answer within
// RequestsTimeout, it returns what it has and an error wrapping
// [socketio.ErrTimeout].
func (m *Manager) FetchSockets(ctx context.Context, opts *socketio.BroadcastOptions) ([]*socketio.RemoteSocket, error) {
	local, err := m.InMemory.FetchSockets(ctx, opts)
	if err != nil || opts.Local {
		return local, err
	}
	others := m.ServerCount(ctx) - 1
	if others <= 0 {
		return local, nil
	}
	id := randomID()
	msg, err := json.Marshal(map[string]any{
		"uid": m.uid, "requestId": id, "type": reqRemoteFetch, "opts": optsToWire(opts, false),
	})
	if err != nil {
		return local, fmt.Errorf("siopubsub: fetch sockets: %w", err)
	}
	r := &request{typ: reqRemoteFetch, need: others, done: make(chan struct{})}
	err = m.ask(ctx, id, r, msg, "fetch sockets")
	m.mu.Lock()
	out := append(local, r.sockets...)
	m.mu.Unlock()
	return out, err
}

// ask publishes a request and waits for its answers, ctx or RequestsTimeout.
func (m *Manager) ask(ctx context.Context, id string, r *request, msg []byte, what string) error {
	m.mu.Lock()
	m.requests[id] = r
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.requests, id)
		m.mu.Unlock()
	}()
	m.enqueue(m.requestChannel, msg)
	t := time.NewTimer(m.opts.RequestsTimeout)
	defer t.Stop()
	var err error
	select {
	case <-r.done:
		return nil
	case <-t.C:
		err = socketio.ErrTimeout
	case <-ctx.Done():
		err = ctx.Err()
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w: %w", socketio.ErrTimeout, err)
		}
	}
	m.mu.Lock()
	got := r.got
	m.mu.Unlock()
	return fmt.Errorf("siopubsub: %s: %d of %d servers answered: %w", what, got, r.need, err)
}

// AddSockets implements [socketio.Manager].
func (m *Manager) AddSockets(opts *socketio.BroadcastOptions, rooms []string) {
	m.remoteRooms(reqRemoteJoin, opts, rooms)
	m.InMemory.AddSockets(opts, rooms)
}

// DelSockets implements [socketio.Manager].
func (m *Manager) DelSockets(opts *socketio.BroadcastOptions, rooms []string) {
	m.remoteRooms(reqRemoteLeave, opts, rooms)
	if m.pyChannel != "" && !opts.Local {
		m.pyCloseRooms(opts, rooms)
	}
	m.InMemory.DelSockets(opts, rooms)
}

func (m *Manager) remoteRooms(typ int, opts *socketio.BroadcastOptions, rooms []string) {
	if opts.Local {
		return
	}
	if rooms == nil {
		rooms = []string{}
	}
	m.publishRequest(map[string]any{"uid": m.uid, "type": typ, "opts": optsToWire(opts, false), "rooms": rooms})
}

// DisconnectSockets implements [socketio.Manager].
func (m *Manager) DisconnectSockets(opts *socketio.BroadcastOptions, close bool) {
	if !opts.Local {
		m.publishRequest(map[string]any{"uid": m.uid, "type": reqRemoteDisconnect, "opts": optsToWire(opts, false), "close": close})
		if m.pyChannel != "" {
			m.pyDisconnect(opts)
		}
	}
	m.InMemory.DisconnectSockets(opts, close)
}

func (m *Manager) publishRequest(req map[string]any) {
	msg, err := encodeRequest(req)
	if err != nil {
		m.log.Warn("siopubsub: cannot encode request", "type", req["type"], "err", err)
		return
	}
	m.enqueue(m.requestChannel, msg)
}

// ServerSideEmit implements [socketio.Manager]. With onAck, it waits for
// every other process's answer, ctx or RequestsTimeout (then the error
// wraps [socketio.ErrTimeout]).
func (m *Manager) ServerSideEmit(ctx context.Context, p *parser.Packet, onAck func(*socketio.Response)) error {
	req := map[string]any{"uid": m.uid, "type": reqServerSideEmit}
	if len(p.Attachments) == 0 {
		req["data"] = json.RawMessage(p.Data)
	} else {
		w, err := packetToWire(p)
		if err != nil {
			return fmt.Errorf("siopubsub: server-side emit: %w", err)
		}
		req["data"] = w.Data
	}
	if onAck == nil {
		m.publishRequest(req)
		return nil
	}
	others := m.ServerCount(ctx) - 1
	if others <= 0 {
		return nil
	}
	id := randomID()
	req["requestId"] = id
	msg, err := encodeRequest(req)
	if err != nil {
		return fmt.Errorf("siopubsub: server-side emit: %w", err)
	}
	r := &request{typ: reqServerSideEmit, need: others, onAck: onAck, done: make(chan struct{})}
	return m.ask(ctx, id, r, msg, "server-side emit")
}

// Close implements [socketio.Manager]: it stops the goroutines, after
// publishing what is queued (for at most a second).
func (m *Manager) Close() error {
	m.closeOnce.Do(func() {
		if m.counter == nil {
			m.publishRequest(map[string]any{"uid": m.uid, "type": reqClose})
		}
		m.cancel()
		m.wg.Wait()
		m.mu.Lock()
		for id, a := range m.acks {
			for _, t := range a.timers {
				t.Stop()
			}
			delete(m.acks, id)
		}
		for id, a := range m.pyAcks {
			a.timer.Stop()
			delete(m.pyAcks, id)
		}
		m.mu.Unlock()
		_ = m.InMemory.Close()
	})
	return nil
}

// enqueue hands a message to the publisher; a full queue drops it.
func (m *Manager) enqueue(channel string, data []byte) {
	select {
	case m.queue <- outgoing{channel, data, time.Now()}:
	default:
		m.drop(channel, ErrQueueFull)
	}
}

// drop counts a message that could not be published and logs at most one
// line a second.
func (m *Manager) drop(channel string, err error) {
	m.mu.Lock()
	m.dropped++
	now := time.Now()
	if now.Sub(m.dropLog) < time.Second {
		m.mu.Unlock()
		return
	}
	n := m.dropped
	m.dropped = 0
	m.dropLog = now
	m.mu.Unlock()
	m.log.Warn("siopubsub: message dropped", "channel", channel, "dropped", n, "err", err)
}

func (m *Manager) publishLoop() {
	defer m.wg.Done()
	var tick <-chan time.Time
	if m.counter == nil {
		t := time.NewTicker(m.opts.HeartbeatInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case o := <-m.queue:
			m.publish(o)
		case <-tick:
			m.publishRequest(map[string]any{"uid": m.uid, "type": reqHeartbeat})
		case <-m.ctx.Done():
			deadline := time.Now().Add(time.Second)
			for time.Now().Before(deadline) {
				select {
				case o := <-m.queue:
					m.publish(o)
				default:
					return
				}
			}
			return
		}
	}
}

// publish tries twice, then drops the message. A message that waited in
// the queue longer than RequestsTimeout (the broker was down) is dropped
// without a try: it is stale, and trying would delay the fresh ones.
func (m *Manager) publish(o outgoing) {
	if time.Since(o.at) > m.opts.RequestsTimeout {
		m.drop(o.channel, errStale)
		return
	}
	var err error
	for attempt := range 2 {
		if attempt > 0 && !m.down {
			select {
			case <-time.After(50 * time.Millisecond):
			case <-m.ctx.Done():
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), m.opts.PublishTimeout)
		err = m.broker.Publish(ctx, o.channel, o.data)
		cancel()
		if err == nil {
			m.down = false
			m.hookPublish(o.channel, len(o.data))
			return
		}
	}
	// Until a publish succeeds, retry at once: the broker is known down.
	m.down = true
	m.drop(o.channel, err)
}

func (m *Manager) subscribeLoop() {
	defer m.wg.Done()
	sub := Subscription{Channels: []string{m.requestChannel, m.responseChannel, m.ownResponse}}
	if m.opts.RoomChannels {
		sub.Prefixes = []string{m.channel}
	} else {
		sub.Channels = append(sub.Channels, m.channel)
	}
	if m.pyChannel != "" {
		sub.Channels = append(sub.Channels, m.pyChannel)
	}
	backoff := m.opts.MinBackoff
	for {
		var subscribed atomic.Bool
		sub.OnReady = func() {
			subscribed.Store(true)
			m.readyOnce.Do(func() { close(m.ready) })
			m.log.Debug("siopubsub: subscribed", "uid", m.uid)
			if m.counter == nil {
				m.publishRequest(map[string]any{"uid": m.uid, "type": reqHeartbeat, "initial": true})
			}
		}
		err := m.broker.Subscribe(m.ctx, sub, m.onMessage)
		if m.ctx.Err() != nil {
			return
		}
		if subscribed.Load() {
			backoff = m.opts.MinBackoff
		}
		m.log.Warn("siopubsub: subscription lost; retrying", "in", backoff, "err", err)
		select {
		case <-time.After(backoff):
		case <-m.ctx.Done():
			return
		}
		backoff = min(backoff*2, m.opts.MaxBackoff)
	}
}

// onMessage dispatches a message from the broker; a malformed one is
// logged and skipped.
func (m *Manager) onMessage(channel string, msg []byte) {
	defer func() {
		if v := recover(); v != nil {
			m.log.Error("siopubsub: panic handling a message", "channel", channel, "panic", v)
		}
	}()
	m.hookReceive(channel, len(msg))
	var err error
	switch {
	case m.pyChannel != "" && channel == m.pyChannel:
		err = m.onPython(msg)
	case channel == m.requestChannel:
		err = m.onRequest(msg)
	case channel == m.responseChannel || channel == m.ownResponse:
		err = m.onResponse(msg)
	case strings.HasPrefix(channel, m.channel):
		err = m.onBroadcast(msg)
	default:
		return
	}
	if err != nil {
		m.log.Warn("siopubsub: message skipped", "channel", channel, "err", err)
	}
}

func (m *Manager) onBroadcast(msg []byte) error {
	var arr []any
	if err := unmarshalMsgpack(msg, &arr); err != nil {
		return err
	}
	if len(arr) < 2 {
		return fmt.Errorf("%w: broadcast of %d elements", errMalformed, len(arr))
	}
	if uid, _ := arr[0].(string); uid == m.uid {
		return nil
	}
	p, err := packetFromWire(normalize(arr[1]))
	if err != nil {
		return err
	}
	if p.Namespace != m.nsp.Name() {
		return nil
	}
	p.HasID = false
	var opts *socketio.BroadcastOptions
	if len(arr) > 2 {
		opts = optsFromWire(normalize(arr[2]))
	} else {
		opts = &socketio.BroadcastOptions{}
	}
	opts.Local = true
	m.InMemory.Broadcast(p, opts)
	return nil
}

func (m *Manager) onRequest(msg []byte) error {
	req, err := decodeObject(msg)
	if err != nil {
		return err
	}
	uid, _ := req["uid"].(string)
	if uid == m.uid {
		return nil
	}
	typ, ok := toInt(req["type"])
	if !ok {
		return fmt.Errorf("%w: request without type", errMalformed)
	}
	id, _ := req["requestId"].(string)
	switch typ {
	case reqSockets:
		sids := m.InMemory.Sockets(strList(req["rooms"])) //nolint:staticcheck // QF1008: the explicit local manager says this answers with this process's sockets only, as the calls beside it do
		if sids == nil {
			sids = []string{}
		}
		m.respond(uid, map[string]any{"requestId": id, "sockets": sids})
	case reqAllRooms:
		m.respond(uid, map[string]any{"requestId": id, "rooms": m.InMemory.Rooms()}) //nolint:staticcheck // QF1008: the explicit local manager says this answers with this process's rooms only
	case reqRemoteJoin, reqRemoteLeave, reqRemoteDisconnect:
		m.onRemoteRooms(int(typ), req, uid, id)
	case reqRemoteFetch:
		opts := optsFromWire(req["opts"])
		socks, _ := m.InMemory.FetchSockets(m.ctx, opts)
		out := make([]wireSocket, len(socks))
		for i, s := range socks {
			out[i] = socketToWire(s)
		}
		m.respond(uid, map[string]any{"requestId": id, "sockets": out})
	case reqServerSideEmit:
		return m.onServerSideEmit(req, id)
	case reqBroadcast:
		return m.onBroadcastWithAck(req, uid, id)
	case reqHeartbeat:
		m.mu.Lock()
		m.nodes[uid] = time.Now()
		m.mu.Unlock()
		if initial, _ := req["initial"].(bool); initial {
			// Tell the newcomer about this process at once.
			m.publishRequest(map[string]any{"uid": m.uid, "type": reqHeartbeat})
		}
	case reqClose:
		m.mu.Lock()
		delete(m.nodes, uid)
		m.mu.Unlock()
	}
	return nil
}

func (m *Manager) onRemoteRooms(typ int, req map[string]any, uid, id string) {
	o, hasOpts := req["opts"].(map[string]any)
	if !hasOpts {
		// The form of older Node adapters: one socket, one room, an answer.
		sid, _ := req["sid"].(string)
		s := m.nsp.Socket(sid)
		if s == nil {
			return
		}
		room, _ := req["room"].(string)
		switch typ {
		case reqRemoteJoin:
			s.Join(room)
		case reqRemoteLeave:
			s.Leave(room)
		default:
			c, _ := req["close"].(bool)
			s.Disconnect(c)
		}
		m.respond(uid, map[string]any{"requestId": id})
		return
	}
	opts := optsFromWire(o)
	switch typ {
	case reqRemoteJoin:
		m.InMemory.AddSockets(opts, strList(req["rooms"]))
	case reqRemoteLeave:
		m.InMemory.DelSockets(opts, strList(req["rooms"]))
	default:
		c, _ := req["close"].(bool)
		m.InMemory.DisconnectSockets(opts, c)
	}
}

func (m *Manager) onServerSideEmit(req map[string]any, id string) error {
	data, _ := req["data"].([]any)
	if len(data) == 0 {
		return fmt.Errorf("%w: server-side emit without data", errMalformed)
	}
	name, ok := data[0].(string)
	if !ok {
		return fmt.Errorf("%w: server-side emit name is %T", errMalformed, data[0])
	}
	enc, atts, err := parser.EncodeEvent(nil, name, data[1:])
	if err != nil {
		return err
	}
	_, args, err := parser.ParseEvent(enc)
	if err != nil {
		return err
	}
	var ack func([]any)
	if id != "" {
		ack = func(res []any) {
			var v any
			switch len(res) {
			case 0:
			case 1:
				v = res[0]
			default:
				v = res
			}
			// Always the shared response channel, as the Node adapter does.
			msg, err := encodeRequest(map[string]any{"type": reqServerSideEmit, "requestId": id, "data": v})
			if err != nil {
				m.log.Warn("siopubsub: cannot encode server-side ack", "err", err)
				return
			}
			m.enqueue(m.responseChannel, msg)
		}
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		manager.HandleServerSideEmit(m.nsp, name, args, atts, ack)
	}()
	return nil
}

func (m *Manager) onBroadcastWithAck(req map[string]any, uid, id string) error {
	p, err := packetFromWire(req["packet"])
	if err != nil {
		return err
	}
	if !p.HasID {
		return fmt.Errorf("%w: broadcast with acks without packet id", errMalformed)
	}
	if p.Namespace != m.nsp.Name() {
		return nil
	}
	opts := optsFromWire(req["opts"])
	opts.Local = true
	m.InMemory.BroadcastWithAck(p, opts, func(n int) {
		m.respond(uid, map[string]any{"type": reqBroadcastClientCount, "requestId": id, "clientCount": n})
	}, func(r *socketio.Response) {
		if r == nil {
			return // the socket left without answering
		}
		v, err := firstValue(r)
		if err != nil {
			m.log.Warn("siopubsub: cannot encode ack", "err", err)
			return
		}
		m.respond(uid, map[string]any{"type": reqBroadcastAck, "requestId": id, "packet": v})
	})
	return nil
}

// respond publishes a response to the process that asked.
func (m *Manager) respond(uid string, resp map[string]any) {
	msg, err := encodeRequest(resp)
	if err != nil {
		m.log.Warn("siopubsub: cannot encode response", "err", err)
		return
	}
	ch := m.responseChannel
	if m.opts.PublishOnSpecificResponseChannel {
		ch += uid + "#"
	}
	m.enqueue(ch, msg)
}

func (m *Manager) onResponse(msg []byte) error {
	resp, err := decodeObject(msg)
	if err != nil {
		return err
	}
	id, _ := resp["requestId"].(string)
	if id == "" {
		return nil
	}
	typ, _ := toInt(resp["type"])
	m.mu.Lock()
	if a := m.acks[id]; a != nil {
		m.mu.Unlock()
		return m.onAckResponse(id, a, typ, resp)
	}
	r := m.requests[id]
	if r == nil || r.got >= r.need {
		m.mu.Unlock()
		return nil
	}
	switch r.typ {
	case reqRemoteFetch:
		var socks []wireSocket
		raw, err := json.Marshal(resp["sockets"])
		if err == nil {
			err = json.Unmarshal(raw, &socks)
		}
		if err != nil {
			m.mu.Unlock()
			return fmt.Errorf("%w: fetch-sockets response: %w", errMalformed, err)
		}
		for i := range socks {
			r.sockets = append(r.sockets, manager.NewRemoteSocket(m.nsp, socketFromWire(&socks[i], m.nsp.Name())))
		}
		m.answeredLocked(r)
		m.mu.Unlock()
	case reqServerSideEmit:
		// The answer is handed over before done closes: the caller returns
		// what it collected once done is closed.
		r.got++
		last := r.got == r.need
		m.mu.Unlock()
		res, err := responseOf([]any{resp["data"]})
		if err == nil {
			r.onAck(res)
		}
		if last {
			close(r.done)
		}
		return err
	default:
		m.mu.Unlock()
	}
	return nil
}

func (m *Manager) answeredLocked(r *request) {
	r.got++
	if r.got == r.need {
		close(r.done)
	}
}

func (m *Manager) onAckResponse(id string, a *ackRequest, typ int64, resp map[string]any) error {
	switch typ {
	case reqBroadcastClientCount:
		n, ok := toInt(resp["clientCount"])
		if !ok {
			return fmt.Errorf("%w: client count %v", errMalformed, resp["clientCount"])
		}
		m.addCount(id, a, int(n))
	case reqBroadcastAck:
		res, err := responseOf([]any{resp["packet"]})
		if err != nil {
			return err
		}
		m.mu.Lock()
		a.remoteAcks++
		m.finishAckLocked(id, a)
		m.mu.Unlock()
		a.onAck(res)
	}
	return nil
}
