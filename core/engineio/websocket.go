package engineio

import (
	"errors"
	"sync"
	"time"
)

// digits holds the packet type prefixes, so writing one allocates nothing.
var digits = [...]byte{'0', '1', '2', '3', '4', '5', '6'}

// enter counts a connection goroutine in s.wg, unless Close has begun: a
// WaitGroup must not be incremented from zero while Wait runs, so the
// check and the Add happen under the lock that Close takes first.
func (s *Server) enter() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// serveNewWebSocket runs a session whose handshake came over WebSocket.
func (c *Session) serveNewWebSocket(conn *wsConn) {
	if !c.srv.enter() {
		return
	}
	defer c.srv.wg.Done()
	open := Packet{Type: PacketOpen, Data: c.appendOpen(make([]byte, 0, 160))}
	if _, err := conn.write([]Packet{open}); err != nil {
		c.close(ReasonTransportError, false)
		return
	}
	c.mu.Lock()
	if c.closed.Load() {
		// Closed by the server between the handshake and now: what was
		// queued before the close still goes out, then the close frame.
		var q []Packet
		if n := len(c.queue); n > 0 && c.queue[n-1].Type == PacketClose {
			q = c.takeQueueLocked()
		}
		c.mu.Unlock()
		if _, err := conn.write(q); err == nil && len(q) > 0 {
			conn.awaitPeerClose()
		}
		// The client has its open packet: the session is announced, and
		// its close callback runs at once.
		c.srv.started(c)
		return
	}
	c.ws = conn
	// Packets sent (through Server.Session) before the transport was
	// attached were queued with no writer to take them.
	if len(c.queue) > 0 {
		c.flushLocked()
	}
	gen := c.readerGen
	c.mu.Unlock()
	c.srv.started(c)
	c.readLoop(conn, gen, true)
	c.releaseConn()
}

// upgrade answers a WebSocket request for a polling session: the probe.
func (c *Session) upgrade(w ResponseWriter, r Request) *RequestError {
	c.mu.Lock()
	busy := c.closed.Load() || c.transport != TransportPolling || c.probe != nil
	c.mu.Unlock()
	probe := c.serveProbe
	if busy {
		// A second WebSocket for a session that is upgrading or upgraded:
		// complete its handshake and close it at once, as the reference
		// server does; the session goes on over its own transport.
		probe = func(*wsConn) {}
	}
	return c.srv.acceptWebSocket(w, r, "", probe)
}

// serveProbe runs the upgrade dance on a new WebSocket, then, once the client
// has sent the upgrade packet, makes it the session's transport. A session
// closed by the server once the probe was answered (the client has paused
// polling) still completes the upgrade, then closes the new transport, as
// Node does: the client would otherwise wait for a poll that never comes.
func (c *Session) serveProbe(ws *wsConn) {
	if !c.srv.enter() {
		return
	}
	defer c.srv.wg.Done()
	c.mu.Lock()
	if c.closed.Load() || c.transport != TransportPolling || c.probe != nil {
		c.mu.Unlock()
		return
	}
	c.probe = ws
	c.mu.Unlock()

	timer := time.AfterFunc(c.srv.opts.UpgradeTimeout, ws.Close)
	upgraded := false
	defer func() {
		timer.Stop()
		if upgraded {
			return
		}
		ws.Close()
		c.mu.Lock()
		if c.probe == ws {
			c.probe = nil
			c.upgrading = false
			c.flushLocked() // the next poll takes what was held back
		}
		c.mu.Unlock()
	}()

	p, err := ws.readPacket()
	if err != nil || p.Type != PacketPing || string(p.Data) != "probe" {
		return
	}
	if _, err := ws.write([]Packet{{Type: PacketPong, Data: p.Data}}); err != nil {
		return
	}
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		return
	}
	c.upgrading = true
	c.flushLocked() // a pending poll returns a noop
	c.mu.Unlock()

	if p, err = ws.readPacket(); err != nil || p.Type != PacketUpgrade {
		return
	}
	c.mu.Lock()
	if c.closed.Load() {
		// Closed while the client upgraded: what was queued (a Socket.IO
		// disconnect, say) goes out on the new transport, then its close.
		upgraded = true
		timer.Stop()
		c.probe = nil
		q := c.takeQueueLocked()
		c.mu.Unlock()
		if len(q) == 0 || q[len(q)-1].Type != PacketClose {
			q = append(q, Packet{Type: PacketClose})
		}
		if _, err := ws.write(q); err == nil {
			ws.awaitPeerClose()
		}
		ws.Close()
		return
	}
	upgraded = true
	timer.Stop()
	c.transport = TransportWebSocket
	c.ws = ws
	c.probe = nil
	c.upgrading = false
	select { // release a poll still pending
	case c.notify <- struct{}{}:
	default:
	}
	c.flushLocked() // what was held back goes out once, in order
	gen := c.readerGen
	c.mu.Unlock()
	if c.onUpgrade != nil {
		c.onUpgrade(TransportPolling, TransportWebSocket)
	}
	c.readLoop(ws, gen, true)
	c.releaseConn()
}

// readLoop reads packets while this goroutine holds the reader role (with
// generation gen), until the connection fails or the session closes. The
// primary reader is the connection's own goroutine; a substitute is one
// started when a continuation on the reader was slow (see inline.go), and
// ends once it has given the role back or lost it.
func (c *Session) readLoop(ws *wsConn, gen uint64, primary bool) {
	for {
		if !primary && !c.beginSubstituteRead() {
			return
		}
		p, err := ws.readPacket()
		if !primary {
			c.endSubstituteRead()
		}
		if err != nil {
			reason := ReasonTransportClose
			if errors.Is(err, ErrBadPacket) {
				reason = ReasonParseError
			}
			c.close(reason, false)
			return
		}
		next, ok := c.receive(p, true)
		if !ok {
			return
		}
		if next != nil && !c.runInline(next, gen) {
			// Reading went on elsewhere while the continuation ran.
			if !primary {
				return
			}
			if gen, ok = c.awaitReader(); !ok {
				return
			}
			continue
		}
		if !primary && c.returnReader() {
			return
		}
	}
}

// writerLinger is how long the idle WebSocket writer of a busy session (one
// whose previous writer ended less than writerLinger ago) waits for more
// work before its goroutine ends: long enough that a busy connection reuses
// it (no goroutine start, no stack growth per message), short enough that
// idle connections hold none.
const writerLinger = time.Second

// writeLoop drains the queue onto the WebSocket; at most one runs per
// session. It waits a little for more work before it ends.
func (c *Session) writeLoop() {
	var idle *time.Timer
	worked := false // since idle was armed
	c.mu.Lock()
	ws, linger := c.ws, c.writerLingers
	batch := c.spare
	c.spare = nil
	c.mu.Unlock()
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			if c.closed.Load() {
				c.writerExitLocked()
				c.mu.Unlock()
				ws.Close()
				return
			}
			if !linger {
				// A quiet session's lone packet: hold no goroutine.
				c.writerDoneLocked(batch)
				c.mu.Unlock()
				return
			}
			c.writerIdle = true
			c.mu.Unlock()
			// The timer is armed once and re-armed only when it fires after
			// some work: the writer ends between one and two writerLinger
			// after its last work, with no timer update per idle spell.
			if idle == nil {
				idle = time.NewTimer(writerLinger)
			}
			select {
			case <-c.wake: // new work, or the session closed
				worked = true
				continue
			case <-idle.C:
			}
			c.mu.Lock()
			if len(c.queue) == 0 && !c.closed.Load() && !worked {
				c.writerDoneLocked(batch)
				c.mu.Unlock()
				return
			}
			worked = false
			idle.Reset(writerLinger)
			c.writerIdle = false
			c.mu.Unlock()
			continue
		}
		// Swap the queue with the previous batch's array, so steady traffic
		// allocates no new one.
		batch, c.queue = c.queue, batch[:0]
		c.queuedBytes = 0
		c.mu.Unlock()
		if !c.writeBatch(ws, batch) {
			return
		}
	}
}

// writeBatch writes the packets of batch and clears them. It reports false
// when writing must stop, after a failed write or the close packet: the
// connection is then closed and the writer role given up.
func (c *Session) writeBatch(ws *wsConn, batch []Packet) bool {
	stop, err := ws.write(batch)
	clear(batch) // drop the references to the data
	if !stop {
		return true
	}
	if err != nil {
		// Before the connection closes, so that the reader's error does
		// not name the reason first.
		c.close(ReasonTransportError, false)
		ws.Close()
	}
	// After a close frame the reader waits for the peer's (see
	// wsConn.sendClose), then the connection closes.
	c.mu.Lock()
	c.writerExitLocked()
	c.mu.Unlock()
	return false
}

// writerExitLocked records that the writer goroutine ends. Caller holds c.mu.
func (c *Session) writerExitLocked() {
	c.writing, c.writerIdle = false, false
	c.signalUnusedLocked()
}

// writerDoneLocked ends an idle writer of an open session: it keeps the
// drained batch's array for the queue, so the next packets allocate none.
// Caller holds c.mu.
func (c *Session) writerDoneLocked(batch []Packet) {
	c.writerExitLocked()
	c.writerEnded = time.Now().UnixNano()
	if c.spare == nil {
		c.spare = batch[:0]
	}
}

// signalUnusedLocked wakes releaseConn after one use of the connection
// ended. Caller holds c.mu.
func (c *Session) signalUnusedLocked() {
	if c.connUnused != nil {
		c.connUnused.Broadcast()
	}
}

// releaseConn waits until nothing uses the connection (no writer, no
// substitute reader inside a read, no continuation that could write what it
// sent when it ends), then detaches it from the session, so that the upgrade
// callback returns only when the connection is no longer touched: the
// contract's "fn owns the connection until it returns". The session is
// closed by then, which makes them end promptly; a continuation holds the
// reader for at most handoffDelay before its sends go to the writer.
func (c *Session) releaseConn() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.connUnused == nil {
		c.connUnused = sync.NewCond(&c.mu)
	}
	for c.writing || c.subReading || c.deferring {
		c.connUnused.Wait()
	}
	// A continuation that ends later finds no connection to write on, and
	// no writer can start.
	c.ws = nil
}
