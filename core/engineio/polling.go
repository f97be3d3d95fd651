package engineio

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

var payloadPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// postOK is the body of a POST's answer; adapters only read it.
var postOK = []byte("ok")

// maxPresized is the largest declared body read into a buffer of its size
// at once; a larger one grows with what arrives, so that a client cannot
// make the server hold a buffer it never fills.
const maxPresized = 64 << 10

// readBody reads a request body: a small one of declared size into a
// buffer of that size, anything else up to limit bytes and one more, if
// there is more, so that the caller can tell an oversized body.
func readBody(r io.Reader, size, limit int64) ([]byte, error) {
	if size >= 0 && size <= maxPresized {
		b := make([]byte, size)
		_, err := io.ReadFull(r, b)
		return b, err
	}
	return io.ReadAll(io.LimitReader(r, limit+1))
}

// DeadlineExtender is an optional capability of a [Request]: moving the
// read and write deadlines of the connection the request came on. The
// engine calls it before a long-poll waits and after it has read a POST's
// body, with a time that covers the longest wait and the response's write
// (PingInterval, PingTimeout and WriteTimeout from now: 55 s by default),
// so that a server's ReadTimeout or WriteTimeout shorter than the ping
// interval does not cut a long-poll. The adapter restores the server's own
// deadlines when the request ends. siohttp implements it with
// http.ResponseController; an adapter whose server applies its timeouts
// around the handler only (fasthttp) needs not.
type DeadlineExtender interface {
	Request
	// ExtendDeadlines sets the connection's read and write deadlines to t.
	// An error means the server cannot (the engine then goes on).
	ExtendDeadlines(t time.Time) error
}

// extendDeadlines gives a long-poll's connection the time it needs, where
// the adapter can.
func (c *Session) extendDeadlines(r Request) {
	if d, ok := r.(DeadlineExtender); ok {
		o := &c.srv.opts
		_ = d.ExtendDeadlines(time.Now().Add(o.PingInterval + o.PingTimeout + o.WriteTimeout))
	}
}

// poll answers a long-polling GET: at once with what is queued, or when a
// packet is queued, the session closes or the client goes away.
func (c *Session) poll(w ResponseWriter, r Request) *RequestError {
	c.extendDeadlines(r)
	c.mu.Lock()
	if c.transport != TransportPolling {
		c.mu.Unlock()
		return badRequest(CodeBadRequest)
	}
	if c.polling {
		c.mu.Unlock()
		// Overlapping polls: a broken or hostile client. Close the session;
		// the pending poll returns the close packet.
		c.close(ReasonTransportError, true)
		return badRequest(CodeBadRequest)
	}
	c.polling = true
	for len(c.queue) == 0 && !c.closed.Load() && !c.upgrading && c.transport == TransportPolling {
		c.mu.Unlock()
		select {
		case <-c.notify:
		case <-c.done:
		case <-r.Context().Done():
			c.close(ReasonTransportClose, false)
		}
		c.mu.Lock()
	}
	var packets []Packet
	if (c.upgrading || c.transport != TransportPolling) && !c.closed.Load() {
		// The client is switching to WebSocket: release its poll with a noop
		// and keep the queue for the new transport.
		packets = []Packet{{Type: PacketNoop}}
	} else {
		packets = c.takeQueueLocked()
	}
	// A server close goes in a poll of its own after the packets queued
	// before it, as the official server sends it once those are flushed:
	// socket.io-client handles the messages of a payload after a close
	// packet in the same payload, so it would see the close first (and
	// reconnect instead of seeing a DISCONNECT). The session lingers for
	// the client's next poll.
	closeNext := c.closed.Load() && len(packets) > 1 && packets[len(packets)-1].Type == PacketClose
	if closeNext {
		c.queue = packets[len(packets)-1:]
		packets = packets[:len(packets)-1]
	}
	c.polling = false
	c.mu.Unlock()
	if closeNext {
		c.srv.linger(c)
	}
	if len(packets) == 0 {
		packets = []Packet{{Type: PacketNoop}}
	}

	bp := payloadPool.Get().(*[]byte)
	buf := AppendPayload((*bp)[:0], packets)
	c.srv.setCORS(w, r)
	w.SetHeader("Content-Type", "text/plain; charset=UTF-8")
	body := buf
	var zbuf *bytes.Buffer
	if hc := &c.srv.opts.HTTPCompression; !hc.Disable && len(buf) >= hc.Threshold {
		if enc := pickEncoding(r.Header("Accept-Encoding")); enc != "" {
			zbuf = compressPayload(enc, buf)
			body = zbuf.Bytes()
			w.SetHeader("Content-Encoding", enc)
		}
	}
	w.SetHeader("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	if zbuf != nil {
		releaseCompressed(zbuf)
	}
	*bp = buf
	payloadPool.Put(bp)
	if err != nil {
		c.close(ReasonTransportError, false)
	}
	return nil
}

// post reads a long-polling POST and delivers its packets.
func (c *Session) post(w ResponseWriter, r Request) *RequestError {
	if ct := r.Header("Content-Type"); strings.HasPrefix(ct, "application/octet-stream") {
		return badRequest(CodeBadRequest)
	}
	c.mu.Lock()
	switch {
	case c.transport != TransportPolling:
		c.mu.Unlock()
		return badRequest(CodeBadRequest)
	case c.posting:
		c.mu.Unlock()
		c.close(ReasonTransportError, true)
		return badRequest(CodeBadRequest)
	}
	c.posting = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.posting = false
		c.mu.Unlock()
	}()

	limit := c.srv.opts.MaxHTTPBufferSize
	size := int64(-1) // not declared (chunked)
	if cl := r.Header("Content-Length"); cl != "" {
		n, err := strconv.ParseInt(cl, 10, 64)
		if err != nil || n > limit {
			c.close(ReasonTransportError, false)
			return &RequestError{Status: http.StatusRequestEntityTooLarge, Code: CodeBadRequest, Message: "Payload too large"}
		}
		size = n
	}
	body, err := readBody(r.Body(), size, limit)
	if int64(len(body)) > limit {
		c.close(ReasonTransportError, false)
		return &RequestError{Status: http.StatusRequestEntityTooLarge, Code: CodeBadRequest, Message: "Payload too large"}
	}
	if err != nil {
		c.close(ReasonTransportError, false)
		return badRequest(CodeBadRequest)
	}
	// Delivering the packets may take a while (the message callbacks), and
	// the server's read timeout must not cancel the request meanwhile.
	c.extendDeadlines(r)
	// body is never reused, so the packets may keep slices of it.
	err = DecodePayload(body, func(p Packet) error {
		if _, ok := c.receive(p, false); !ok {
			return ErrBadPacket
		}
		return nil
	})
	if err != nil {
		c.srv.log.Debug("engineio: bad polling payload", "sid", c.id, "err", err)
		c.close(ReasonParseError, false)
		return badRequest(CodeBadRequest)
	}
	c.srv.setCORS(w, r)
	w.SetHeader("Content-Type", "text/html")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(postOK)
	return nil
}
