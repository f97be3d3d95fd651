package socketio

import (
	"fmt"
	"time"

	"github.com/siokit/siokit/core/parser"
)

// The abuse guards of a connection. Their state lives in conn and is
// touched only by onMessage and onClose, which the engine serialises, apart
// from the attachment timer, which only closes the connection.

// guardState is a connection's share of the guards.
type guardState struct {
	tokens   float64   // the event bucket
	tokensAt time.Time // when tokens was last refilled

	// The reader's waits (for a token or for handler room) in the current
	// window of RateLimitWait: a client that kept it waiting more than half
	// of a window sends persistently faster than the server takes.
	windowAt time.Time
	waited   time.Duration

	// overSince is when the client went over its event rate, with no pause
	// since that refilled half the bucket (zero while it is under it).
	overSince time.Time

	pendingBytes int64       // bytes of the attachments received for the pending packet
	pendingTimer *time.Timer // fires AttachmentTimeout after the pending packet's header
}

// attachmentsPending starts the attachment timer when a packet has begun
// waiting for its attachments.
func (c *conn) attachmentsPending() {
	if c.guard.pendingTimer == nil {
		c.guard.pendingTimer = time.AfterFunc(c.srv.opts.AttachmentTimeout, c.attachmentTimeout)
	}
}

// attachmentFits counts a binary message that arrives while a packet waits
// for attachments; false when they add up to more than the cap.
func (c *conn) attachmentFits(size int) bool {
	g := &c.guard
	if g.pendingTimer == nil {
		return true // no packet waits: the decoder refuses a stray binary message
	}
	g.pendingBytes += int64(size)
	return g.pendingBytes <= c.srv.opts.MaxAttachmentBytes
}

// attachmentsDone resets the attachment guard after a complete packet.
func (c *conn) attachmentsDone() {
	g := &c.guard
	if g.pendingTimer != nil {
		g.pendingTimer.Stop()
		g.pendingTimer = nil
	}
	g.pendingBytes = 0
}

func (c *conn) attachmentTimeout() {
	c.fail(ReasonAttachmentLimit, fmt.Errorf("binary attachments not complete within %s", c.srv.opts.AttachmentTimeout))
}

// throttle makes the reader wait, so that the client is slowed, while the
// connection is over its event rate or the packet's socket has
// MaxPendingEvents events waiting for their handlers. It reports false
// when the client keeps it waiting: over its event rate for RateLimitWait
// without a pause, more than half of a RateLimitWait window, or one wait
// longer than RateLimitWait plus SlowReceiverWait; the connection must then
// close. (Counting only the reader's waits is not enough: on a slow or busy
// machine the time goes to handling what was let through, not to waiting,
// and a client over the rate was left to its ping timeout.)
func (c *conn) throttle(p *parser.Packet) bool {
	o, g := &c.srv.opts, &c.guard
	start := time.Now()
	if g.windowAt.IsZero() || start.Sub(g.windowAt) >= o.RateLimitWait {
		if g.waited > o.RateLimitWait/2 {
			return false
		}
		g.windowAt, g.waited = start, 0
	}
	if o.EventRate > 0 {
		c.refill(start)
		if g.tokens < 1 {
			// Over the rate: a client that stays over it, with no pause
			// long enough to refill half the bucket, for RateLimitWait sends
			// persistently faster than allowed, however fast the server
			// handles what it lets through.
			if g.overSince.IsZero() {
				g.overSince = start
			} else if start.Sub(g.overSince) >= o.RateLimitWait {
				return false
			}
			wait := time.Duration((1 - g.tokens) / o.EventRate * float64(time.Second))
			if !c.sleep(wait) {
				return true // closed meanwhile: routing finds nothing to do
			}
			c.refill(time.Now())
		} else if g.tokens >= float64(o.EventBurst)/2 {
			// A pause that refilled half the bucket ends the episode;
			// the tokens a late timer adds between two waits do not.
			g.overSince = time.Time{}
		}
		g.tokens--
	}
	ok := true
	if p.Type == parser.Event || p.Type == parser.BinaryEvent {
		if s := c.socket(p.Namespace); s != nil {
			// The handlers may be waiting on a slow receiver of their
			// broadcasts (see Socket.awaitRoom), which takes up to
			// SlowReceiverWait to find out.
			ok = s.waitJobRoom(o.MaxPendingEvents, o.RateLimitWait+o.SlowReceiverWait, c.es.Done())
		}
	}
	g.waited += time.Since(start)
	return ok
}

// refill adds the tokens earned since the last refill, up to the burst.
func (c *conn) refill(now time.Time) {
	g, o := &c.guard, &c.srv.opts
	if g.tokensAt.IsZero() {
		g.tokens, g.tokensAt = float64(o.EventBurst), now
		return
	}
	g.tokens += now.Sub(g.tokensAt).Seconds() * o.EventRate
	if burst := float64(o.EventBurst); g.tokens > burst {
		g.tokens = burst
	}
	g.tokensAt = now
}

// sleep waits for d or the end of the session; false if the session ended.
func (c *conn) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.es.Done():
		return false
	}
}

// waitJobRoom waits while the socket has max or more jobs queued, until
// half of them have run, done is closed (true) or wait has passed (false).
func (s *Socket) waitJobRoom(max int, wait time.Duration, done <-chan struct{}) bool {
	s.jobMu.Lock()
	if len(s.jobs)-s.jobHead < max {
		s.jobMu.Unlock()
		return true
	}
	if s.jobRoom == nil {
		s.jobRoom = make(chan struct{})
	}
	room := s.jobRoom
	s.jobRoomAt = max / 2
	s.jobMu.Unlock()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-room:
		return true
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// signalJobRoomLocked wakes a reader waiting for job room once the queue
// is short enough. Caller holds s.jobMu.
func (s *Socket) signalJobRoomLocked() {
	if s.jobRoom != nil && len(s.jobs)-s.jobHead <= s.jobRoomAt {
		close(s.jobRoom)
		s.jobRoom = nil
	}
}

// Fan-out and the slow-consumer policy.
//
// The engine closes a session whose outgoing queue overflows. Left alone,
// that lets one client end others: a burst it sends to a room, re-emitted
// by a handler, fills the members' queues faster than their writers drain
// them. So a delivery that would take a receiver's queue past three
// quarters of its bound waits, on the sending goroutine (a handler of the
// client that caused the broadcast, which the reader then stops feeding),
// for the receiver's queue to drain. A receiver whose queue does not fall
// for SlowReceiverWait is marked slow: deliveries to it no longer
// wait, and the engine's policy ends it when its queue overflows. Only a
// receiver that does not read is ever closed; a fast burst only slows its
// sender.

// awaitRoom waits until the socket's queue has room for n packets of size
// bytes below the high-water mark, the receiver proves slow, or the session
// ends. Volatile deliveries never wait.
func (s *Socket) awaitRoom(n int, size int64) {
	opts := &s.nsp.server.opts
	o := &opts.Engine
	highP, highB := o.MaxQueuedPackets*3/4, o.MaxQueuedBytes*3/4
	es := s.conn.es
	q, b := es.Backlog()
	if q+n <= highP && b+size <= highB {
		if s.slow.Load() {
			s.slow.Store(false) // it has drained: it reads after all
		}
		return
	}
	if s.slow.Load() {
		return
	}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	lowest, progress := q, time.Now()
	for q+n > highP || b+size > highB {
		select {
		case <-tick.C:
		case <-es.Done():
			return
		}
		q, b = es.Backlog()
		if q < lowest {
			lowest, progress = q, time.Now()
		} else if time.Since(progress) > opts.SlowReceiverWait {
			s.slow.Store(true)
			s.nsp.server.log.Warn("socketio: a receiver does not read its queue; it will be closed when the queue overflows",
				"sid", s.id, "queued", q, "queuedBytes", b)
			return
		}
	}
}
