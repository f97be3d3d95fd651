package engineio

import (
	"runtime"
	"time"
)

// Continuations run on the reader.
//
// A message callback that has more work to do for a message (an upper
// layer's event handler) may leave it to [Session.Inline]: a WebSocket
// session then runs it on the goroutine that read the message, right after
// the callback returns, and what it sends is written by that same goroutine
// when it ends. A round trip then costs no goroutine hand-off at all.
//
// Work on the reader must not stall the connection: a continuation still
// running after handoffDelay (a slow handler, or one waiting for the
// client's own answer) passes the reader role to a new goroutine, and sends
// go to the writer goroutine again. The role comes back to the connection's
// own goroutine after the next message, so at most one extra goroutine
// exists per slow continuation, and none once it has returned.
//
// The reader role has a generation, bumped at each pass; a goroutine holds
// the role while its generation is the session's readerGen. All of this
// state is guarded by c.mu.

// handoffDelay is how long a continuation may hold the reader.
const handoffDelay = 2 * time.Millisecond

// Inline makes fn the continuation of the message being delivered: it runs
// on the goroutine that delivers the message, right after the message
// callback returns, with the session's sends gathered until it ends. If it
// is still running after a few milliseconds, the transport is read on by
// another goroutine meanwhile, so fn may block. Inline reports false, and
// does nothing, when the message did not come over WebSocket or the message
// already has a continuation: the caller then runs fn some other way. It may
// be called only by the message callback.
func (c *Session) Inline(fn func()) bool {
	if !c.inlineOK || c.next != nil {
		return false
	}
	c.next = fn
	return true
}

// Detach lets a running continuation block: reading passes to another
// goroutine at once, rather than after the hand-off delay, and sends are
// written as they are made. It does nothing when no continuation runs on
// the session's reader. Call it before waiting for something the client has
// to send.
func (c *Session) Detach() { c.handOff() }

// runInline runs fn on the reader of generation gen. It reports whether the
// calling goroutine still holds the reader role afterwards; if it does, it
// has written what fn sent.
func (c *Session) runInline(fn func(), gen uint64) bool {
	c.mu.Lock()
	c.deferring, c.inlineGen = true, gen
	if c.handoff == nil {
		c.handoff = time.AfterFunc(handoffDelay, c.handOff)
	} else {
		c.handoff.Reset(handoffDelay)
	}
	c.mu.Unlock()

	wakes := c.srv.writerWakes.Load()
	c.runContinuation(fn)
	woke := c.srv.writerWakes.Load() != wakes

	c.mu.Lock()
	defer c.mu.Unlock()
	// The timer is not stopped: the next continuation's Reset moves it, and
	// if it fires first, handOff finds no continuation and does nothing.
	// Stopping it each time cost a timer-heap update per message.
	if c.readerGen != gen {
		return false
	}
	c.endDeferringLocked()
	if woke && len(c.queue) > 0 {
		// The continuation woke other sessions' writers (a broadcast):
		// they go first, as they would have if this session's share had
		// gone to its writer goroutine too. Otherwise a sender that waits
		// for its own copy would get it before everyone else and outrun
		// the broadcast.
		c.mu.Unlock()
		runtime.Gosched()
		c.mu.Lock()
	}
	c.writeInlineLocked()
	return true
}

// endDeferringLocked records that no continuation holds the reader any
// more, waking releaseConn. Caller holds c.mu.
func (c *Session) endDeferringLocked() {
	c.deferring = false
	c.signalUnusedLocked()
}

// runContinuation runs fn, recovering a panic.
func (c *Session) runContinuation(fn func()) {
	defer c.recoverCallback("message")
	fn()
}

// writeInlineLocked writes the queue on the calling goroutine, unless a
// writer goroutine exists (then it is woken). Caller holds c.mu, which is
// released while writing.
func (c *Session) writeInlineLocked() {
	if len(c.queue) == 0 {
		return
	}
	if c.writing || c.ws == nil {
		c.startWriterLocked()
		return
	}
	ws := c.ws
	c.writing = true
	for len(c.queue) > 0 {
		batch := c.queue
		c.queue, c.spare = c.spare, nil
		c.queuedBytes = 0
		c.mu.Unlock()
		ok := c.writeBatch(ws, batch)
		c.mu.Lock()
		if !ok {
			return // the writer role is given up
		}
		if c.spare == nil {
			c.spare = batch[:0]
		}
	}
	c.writerExitLocked()
}

// handOff passes the reader role from the running continuation to a new
// goroutine and lets the writer take what the continuation sent so far.
func (c *Session) handOff() {
	c.mu.Lock()
	if !c.deferring || c.inlineGen != c.readerGen {
		c.mu.Unlock()
		return
	}
	c.endDeferringLocked()
	if len(c.queue) > 0 {
		c.startWriterLocked()
	}
	if c.closed.Load() {
		c.mu.Unlock()
		return // nothing more to read
	}
	c.readerGen++
	gen, ws := c.readerGen, c.ws
	c.mu.Unlock()
	go c.substitute(ws, gen)
}

// substitute reads the connection in place of a continuation that holds
// the reader, until it gives the role back or loses it.
func (c *Session) substitute(ws *wsConn, gen uint64) {
	if !c.srv.enter() {
		return // the server is closing, and so is the session
	}
	defer c.srv.wg.Done()
	c.readLoop(ws, gen, false)
}

// beginSubstituteRead marks a substitute reader's read, which the
// connection's own goroutine waits for before it returns. It reports false
// when the session is closed: the substitute then ends.
func (c *Session) beginSubstituteRead() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return false
	}
	c.subReading = true
	return true
}

// endSubstituteRead marks the end of a substitute reader's read.
func (c *Session) endSubstituteRead() {
	c.mu.Lock()
	c.subReading = false
	c.signalUnusedLocked()
	c.mu.Unlock()
}

// awaitReader parks the connection's own goroutine, which lost the reader
// role to a substitute, until the role comes back (with its generation) or
// the session closes (false).
func (c *Session) awaitReader() (uint64, bool) {
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		return 0, false
	}
	c.primaryWaits = true
	if c.batonBack == nil {
		c.batonBack = make(chan uint64, 1)
	}
	c.mu.Unlock()
	select {
	case gen := <-c.batonBack:
		return gen, true
	case <-c.done:
		return 0, false
	}
}

// returnReader gives the reader role back to the connection's own
// goroutine if it waits for it; a substitute that did so ends.
func (c *Session) returnReader() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.primaryWaits {
		return false
	}
	c.primaryWaits = false
	c.readerGen++
	c.batonBack <- c.readerGen
	return true
}
