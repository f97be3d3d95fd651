package engineio

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Handshake is what the engine kept of the request that opened a session.
type Handshake struct {
	Headers    http.Header
	Query      url.Values
	RemoteAddr string
	Path       string
	Time       time.Time
}

// Session is one Engine.IO connection. Its methods are safe for concurrent
// use. Set its callbacks in [Server.OnConnection]; they must not be changed
// afterwards.
type Session struct {
	srv       *Server
	id        string
	addr      string // the client address counted by Server.perAddr
	handshake *Handshake

	onMessage func(data []byte, binary bool)
	onClose   func(reason string)
	onUpgrade func(from, to string)

	recvMu   sync.Mutex // delivers messages one at a time
	inlineOK bool       // the message being delivered came from the WebSocket reader (recvMu)
	next     func()     // the continuation Inline set for it (recvMu)

	mu          sync.Mutex
	transport   string
	started     bool
	closed      atomic.Bool // set under mu; isClosed reads it without
	queue       []Packet
	queuedBytes int64
	notify      chan struct{} // wakes the pending poll
	done        chan struct{} // closed when the session closes

	polling       bool          // a GET is pending
	posting       bool          // a POST is being read
	upgrading     bool          // a WebSocket probe has been answered
	ws            *wsConn       // the WebSocket transport, once upgraded
	probe         *wsConn       // the WebSocket being probed during an upgrade
	writing       bool          // a WebSocket writer goroutine exists (busy or idle)
	writerIdle    bool          // it waits on wake for more work
	wake          chan struct{} // wakes an idle writer
	connUnused    *sync.Cond    // signalled when the writer, a substitute's read or a continuation ends (on mu)
	writer        func()        // c.writeLoop, made once
	writerLingers bool          // the next writer serves a busy session
	spare         []Packet      // the last drained batch's array, for the queue
	writerEnded   int64         // when the last writer ended (UnixNano)

	// The reader role (see inline.go).
	deferring    bool        // a continuation runs on the reader: sends wait for its end
	readerGen    uint64      // bumped each time reading passes to another goroutine
	inlineGen    uint64      // the generation of the reader whose continuation runs
	primaryWaits bool        // the connection's own goroutine waits to read again
	batonBack    chan uint64 // gives it the reader role back, with its generation
	subReading   bool        // a substitute reader is inside a read
	handoff      *time.Timer // hands reading off from a slow continuation

	heartbeat   *time.Timer
	lingerTimer *time.Timer // guarded by srv.mu; see Server.linger
	pongPending bool
	closeReason string
}

// ID returns the session id.
func (c *Session) ID() string { return c.id }

// Handshake returns the request data of the handshake. It must not be modified.
func (c *Session) Handshake() *Handshake { return c.handshake }

// Transport returns the current transport: "polling" or "websocket".
func (c *Session) Transport() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.transport
}

// Done returns a channel that is closed when the session closes.
func (c *Session) Done() <-chan struct{} { return c.done }

// OnMessage sets the callback for received messages. data belongs to the
// callback. Messages are delivered one at a time, in order; a callback may
// leave the rest of its work to [Session.Inline].
func (c *Session) OnMessage(fn func(data []byte, binary bool)) { c.onMessage = fn }

// OnClose sets the callback run once when the session closes, with the reason.
func (c *Session) OnClose(fn func(reason string)) { c.onClose = fn }

// OnUpgrade sets the callback run when the session moves to another
// transport. Set it, as OnMessage, before the session is served.
func (c *Session) OnUpgrade(fn func(from, to string)) { c.onUpgrade = fn }

// Send queues one message. The engine keeps data until it is written, so the
// caller must not modify it afterwards; the same slice may be sent to many
// sessions.
func (c *Session) Send(data []byte, binary bool) error {
	return c.SendPackets([]Packet{{Type: PacketMessage, Data: data, Binary: binary}}, false)
}

// SendPackets queues packets as one unit: they are written in order with no
// other packet between them. A volatile unit is dropped (and nil returned)
// when the queue has no room for it; otherwise a full queue closes the
// session with reason "transport error" and returns [ErrQueueFull].
func (c *Session) SendPackets(ps []Packet, volatile bool) error {
	var size int64
	for _, p := range ps {
		size += int64(len(p.Data))
	}
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		return ErrSessionClosed
	}
	o := &c.srv.opts
	if len(c.queue)+len(ps) > o.MaxQueuedPackets || c.queuedBytes+size > o.MaxQueuedBytes {
		c.mu.Unlock()
		if volatile {
			return nil
		}
		c.srv.limiter.Log(context.Background(), c.srv.log, slog.LevelWarn, "queue|"+c.addr,
			"engineio: outgoing queue full (the client does not read), closing session",
			"sid", c.id, "remote", c.addr)
		c.close(ReasonTransportError, false)
		return ErrQueueFull
	}
	if c.queue == nil {
		c.queue, c.spare = c.spare, nil
	}
	c.queue = append(c.queue, ps...)
	c.queuedBytes += size
	c.flushLocked()
	c.mu.Unlock()
	return nil
}

// flushLocked starts the delivery of the queue on the current transport.
func (c *Session) flushLocked() {
	if c.transport == TransportWebSocket {
		if !c.deferring { // otherwise the continuation's end flushes
			c.startWriterLocked()
		}
		return
	}
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// startWriterLocked makes sure a writer drains the queue: it wakes the idle
// one or starts one. Caller holds c.mu.
func (c *Session) startWriterLocked() {
	switch {
	case c.ws == nil:
	case !c.writing:
		c.writing = true
		if c.wake == nil {
			c.wake = make(chan struct{}, 1)
		}
		// A writer started soon after the last one ended serves a busy
		// session: it lingers for more work rather than ending at once.
		now := time.Now().UnixNano()
		c.writerLingers = now-c.writerEnded < int64(writerLinger)
		if c.writer == nil {
			// Made once, so that starting a writer allocates nothing.
			c.writer = c.writeLoop
		}
		c.srv.writerWakes.Add(1)
		go c.writer()
	case c.writerIdle:
		c.srv.writerWakes.Add(1)
		c.wakeIdleWriterLocked()
	}
}

// wakeIdleWriterLocked wakes the writer waiting for work: to write what was
// queued, or to end when the session has closed. Caller holds c.mu.
func (c *Session) wakeIdleWriterLocked() {
	c.writerIdle = false
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// takeQueue removes and returns the queued packets. Caller holds c.mu.
func (c *Session) takeQueueLocked() []Packet {
	q := c.queue
	c.queue = nil
	c.queuedBytes = 0
	return q
}

// Close closes the session from the server side, as a close the client
// takes as intended: what was queued goes out first, then, over WebSocket,
// a close frame (1000, with no Engine.IO close packet, as Node sends it),
// over long-polling the close packet. The close callback runs with reason
// "forced close". See [Session.Drop] for a close the client takes as a
// network loss.
func (c *Session) Close() error {
	c.close(ReasonForcedClose, true)
	return nil
}

// Drop ends the session the way a network loss would: the WebSocket is cut
// with no close frame, and a polling client gets no close packet (a pending
// poll is answered with a noop, the next one with "Session ID unknown").
// Clients reconnect, with a new session; socket.io-client and
// python-socketio both do. The close callback runs with reason "forced
// close", as after Node's socket.conn.close(). Use [Session.Close] for a
// close the client takes as final.
func (c *Session) Drop() {
	c.close(ReasonForcedClose, false)
}

// close ends the session once. tell sends the client a close packet first.
func (c *Session) close(reason string, tell bool) {
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		return
	}
	c.closed.Store(true)
	c.closeReason = reason
	callback := c.started && c.countCloseCallbackLocked()
	// A close packet for a polling client with no poll pending waits for
	// its next poll; so does the noop that answers a client's own close
	// when its poll and its close POST race each other.
	linger := (tell || reason == ReasonTransportClose) && c.transport == TransportPolling && !c.polling
	if c.heartbeat != nil {
		c.heartbeat.Stop()
	}
	switch {
	case tell:
		// Flush what is queued, then the close packet: a WebSocket writer
		// closes the connection after it (once the running continuation
		// ends, if one does); a pending (or the next) poll returns it.
		c.queue = append(c.queue, Packet{Type: PacketClose})
		if c.transport == TransportWebSocket && !c.deferring {
			c.startWriterLocked()
		}
	case c.ws != nil:
		c.ws.Close() // also unblocks a writer stuck on a peer that does not read
		c.queue, c.queuedBytes, c.spare = nil, 0, nil
		if c.writerIdle { // it ends now, rather than when its linger runs out
			c.wakeIdleWriterLocked()
		}
	default:
		c.queue, c.queuedBytes = nil, 0 // nobody will read it
	}
	if c.probe != nil && !c.upgrading {
		// A probe already answered completes the upgrade, then closes
		// (see serveProbe).
		c.probe.Close()
	}
	close(c.done)
	c.mu.Unlock()

	c.srv.remove(c)
	c.srv.log.Debug("engineio: session closed", "sid", c.id, "reason", reason)
	if linger {
		c.srv.linger(c)
	}
	if callback {
		c.runOnClose(reason)
	}
}

// countCloseCallbackLocked reports whether the session has a close
// callback, and if so counts the goroutine that will run it in the
// server's WaitGroup. Caller holds c.mu, having just closed the session (or
// started a closed one): a Server.Close that meets the session later takes
// c.mu to find it closed, so this Add is ordered before Close's Wait, even
// when it comes from a goroutine the WaitGroup does not count (a timer).
func (c *Session) countCloseCallbackLocked() bool {
	if c.onClose == nil {
		return false
	}
	c.srv.wg.Add(1)
	return true
}

// runOnClose runs the close callback on its own goroutine, counted by
// countCloseCallbackLocked, once the message being delivered (which may be
// the caller) has returned; no message is delivered after it.
func (c *Session) runOnClose(reason string) {
	go func() {
		defer c.srv.wg.Done()
		c.recvMu.Lock()
		defer c.recvMu.Unlock()
		defer c.recoverCallback("close")
		c.onClose(reason)
	}()
}

// recoverCallback logs a panic of a user callback, with its stack, instead
// of crashing.
func (c *Session) recoverCallback(what string) {
	if v := recover(); v != nil {
		// Rate-limited per client address: a peer may trigger it at will.
		c.srv.limiter.Log(context.Background(), c.srv.log, slog.LevelError, "panic|"+c.addr,
			"engineio: panic in "+what+" callback", "sid", c.id, "remote", c.addr,
			"panic", v, "stack", string(debug.Stack()))
	}
}

// abort closes the session's network connections at once, for a
// [Server.Shutdown] whose context ended: a writer stuck on a peer that does
// not read, and the reader, return.
func (c *Session) abort() {
	c.mu.Lock()
	ws, probe := c.ws, c.probe
	c.mu.Unlock()
	if ws != nil {
		ws.Close()
	}
	if probe != nil {
		probe.Close()
	}
}

// startHeartbeat marks the session started and schedules the first ping.
// A session that closed before it started (between its open packet and
// its connection callback) gets its close callback now.
func (c *Session) startHeartbeat() {
	c.mu.Lock()
	c.started = true
	if c.closed.Load() {
		reason := c.closeReason
		callback := c.countCloseCallbackLocked()
		c.mu.Unlock()
		if callback {
			c.runOnClose(reason)
		}
		return
	}
	c.heartbeat = time.AfterFunc(c.srv.opts.PingInterval, c.onHeartbeat)
	c.mu.Unlock()
}

// onHeartbeat sends a ping, or closes the session when the last ping went
// unanswered.
func (c *Session) onHeartbeat() {
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		return
	}
	if c.pongPending {
		c.mu.Unlock()
		c.close(ReasonPingTimeout, false)
		return
	}
	c.pongPending = true
	c.queue = append(c.queue, Packet{Type: PacketPing})
	c.flushLocked()
	c.heartbeat.Reset(c.srv.opts.PingTimeout)
	c.mu.Unlock()
}

// onPong records the answer to the pending ping; unsolicited pongs are ignored.
func (c *Session) onPong() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.pongPending || c.closed.Load() {
		return
	}
	c.pongPending = false
	c.heartbeat.Reset(c.srv.opts.PingInterval)
}

// receive handles one packet from the client on the session's transport. It
// returns false when the session must close because of it, and the
// continuation the message callback left to [Session.Inline], which only a
// WebSocket reader (inline) accepts.
func (c *Session) receive(p Packet, inline bool) (next func(), ok bool) {
	switch p.Type {
	case PacketMessage:
		if c.onMessage != nil {
			c.recvMu.Lock()
			if !c.isClosed() {
				c.inlineOK = inline
				c.deliver(p)
				next, c.next, c.inlineOK = c.next, nil, false
			}
			c.recvMu.Unlock()
		}
	case PacketPong:
		c.onPong()
	case PacketClose:
		c.close(ReasonTransportClose, false)
	case PacketNoop:
	default: // ping (the server pings in v4), open, upgrade out of place
		c.srv.log.Debug("engineio: unexpected packet", "sid", c.id, "type", p.Type)
		c.close(ReasonParseError, false)
		return nil, false
	}
	return next, true
}

// deliver runs the message callback, recovering a panic so that one bad
// handler cannot take the server down.
func (c *Session) deliver(p Packet) {
	defer c.recoverCallback("message")
	c.onMessage(p.Data, p.Binary)
}

// isClosed reports whether the session has closed, without taking c.mu.
func (c *Session) isClosed() bool { return c.closed.Load() }

// appendOpen appends the open packet's JSON for this session.
func (c *Session) appendOpen(dst []byte) []byte {
	return c.srv.appendOpenJSON(dst, c.id, c.transport == TransportPolling)
}
