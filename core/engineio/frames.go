package engineio

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/siokit/siokit/core/internal/wsframe"
)

// The server WebSocket: the engine owns the connection both ways.
//
// After the handshake, which the engine answers itself, it alone reads and
// writes the network connection. The reader (one goroutine at a time, the
// session's reader role) parses frames with core/internal/wsframe and
// answers pings and close frames; the writer frames every message of a
// batch (RFC 6455 §5.2: final, unmasked) into one buffer and sends the
// batch with one write, where WebSocket libraries send each message with a
// write of its own. A broadcast burst then costs each recipient one system
// call rather than one per message. Every write (batches, pongs, close
// frames) holds one lock, so no frame lands inside another, on TCP and TLS
// alike, and the write deadline stays the engine's.

// WebSocket opcodes of data frames.
const (
	opText   = wsframe.OpText
	opBinary = wsframe.OpBinary
)

// closeWait is how long a connection waits for the peer's close frame (or
// its end) after the server sent its own, before it is cut.
const closeWait = time.Second

// maxDrain bounds what is discarded from a peer after a close for a
// protocol error, while waiting for it to go: reading on rather than
// closing with unread data keeps the kernel from resetting the connection
// before the peer has read the close frame.
const maxDrain = 1 << 20

// Frame buffers: payloads up to maxCopied bytes are copied into the batch's
// buffer; larger ones are written from where they are (one writev on TCP).
// A buffer that grew past maxKeptFrameBuf is not pooled, so the pool holds
// no peak.
const (
	maxCopied       = 16 << 10
	maxKeptFrameBuf = 64 << 10
)

var frameBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// readBufferSize is the size of each connection's read buffer.
const readBufferSize = 1024

// wsConn is a session's WebSocket: the connection, its reader, and the
// state of its sending side. Only one writer at a time calls write (the
// session's writer role); pongs and close frames come from the reader.
type wsConn struct {
	raw     net.Conn
	rd      *wsframe.Reader
	timeout time.Duration
	deflate bool // permessage-deflate was negotiated
	minZip  int  // the smallest message compressed

	ctlLimit  int   // control frames allowed per second (0: no cap)
	ctlWindow int64 // the second being counted (Unix time); reader only
	ctlCount  int   // control frames read in it

	mu        sync.Mutex // held by each write on raw
	writeBy   int64      // the write deadline set last (UnixNano)
	closeSent bool       // a close frame went out: nothing more is written
}

// wsSettings are the server's WebSocket settings for one connection.
type wsSettings struct {
	limit    int64
	timeout  time.Duration
	deflate  bool
	minZip   int
	ctlLimit int
}

func newWSConn(conn net.Conn, buffered []byte, set wsSettings) *wsConn {
	var src io.Reader = conn
	if len(buffered) > 0 {
		src = io.MultiReader(bytes.NewReader(buffered), conn)
	}
	c := &wsConn{
		raw:      conn,
		rd:       wsframe.NewReader(bufio.NewReaderSize(src, readBufferSize), set.limit),
		timeout:  set.timeout,
		deflate:  set.deflate,
		minZip:   set.minZip,
		ctlLimit: set.ctlLimit,
	}
	c.rd.Deflate = set.deflate
	c.rd.Control = c.control
	return c
}

// Close closes the connection; a blocked read or write returns. Its error
// is of no use: the session is closing, with its reason decided.
func (c *wsConn) Close() { _ = c.raw.Close() }

// readPacket reads one message as a packet; its data is fresh. A close
// frame from the peer is answered, and a protocol error of the peer gets a
// close frame with its code, before the error is returned.
func (c *wsConn) readPacket() (Packet, error) {
	op, data, err := c.rd.ReadMessage()
	if err != nil {
		var ce *wsframe.CloseError
		switch code := wsframe.CloseCode(err); {
		case errors.As(err, &ce):
			c.sendClose(code) // echoes the peer's code
		case code != 0:
			c.sendClose(code)
			c.drain()
		}
		return Packet{}, err
	}
	return DecodePacket(data, op == wsframe.OpBinary)
}

// control answers a ping and counts control frames against the cap.
func (c *wsConn) control(op byte, payload []byte) error {
	if c.ctlLimit > 0 {
		now := time.Now().Unix()
		if now != c.ctlWindow {
			c.ctlWindow, c.ctlCount = now, 0
		}
		if c.ctlCount++; c.ctlCount > c.ctlLimit {
			return &wsframe.Error{Code: wsframe.ClosePolicy, Msg: "too many control frames"}
		}
	}
	if op == wsframe.OpPing {
		var b [2 + wsframe.MaxControlPayload]byte
		c.writeFrame(append(wsframe.AppendHeader(b[:0], wsframe.OpPong, false, len(payload)), payload...))
	}
	return nil
}

// sendClose writes a close frame with code, once; later writes are
// dropped. The reader is then given closeWait to see the peer's answer.
func (c *wsConn) sendClose(code int) {
	var b [4]byte
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeSent {
		return
	}
	c.closeSent = true
	if by, due := c.deadlineDue(); due {
		_ = c.raw.SetWriteDeadline(by)
	}
	_, _ = c.raw.Write(wsframe.AppendClose(b[:0], code, ""))
	c.closeWriteLocked()
}

// closeWriteLocked ends the sending side after the close frame: the peer
// reads the frame, then the end of the stream, even if it never answers.
// The reader is given closeWait to see the peer's close frame or end.
// Caller holds c.mu.
func (c *wsConn) closeWriteLocked() {
	if cw, ok := c.raw.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_ = c.raw.SetReadDeadline(time.Now().Add(closeWait))
}

// drain discards what the peer still sends, up to maxDrain bytes or until
// the read deadline sendClose set, so that it reads the close frame before
// the connection ends.
func (c *wsConn) drain() {
	_, _ = io.CopyN(io.Discard, c.raw, maxDrain)
}

// writeFrame writes one whole frame, unless a close frame went out.
func (c *wsConn) writeFrame(f []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeSent {
		return
	}
	if by, due := c.deadlineDue(); due {
		_ = c.raw.SetWriteDeadline(by)
	}
	_, _ = c.raw.Write(f)
}

// write writes the packets of batch in order, up to a close packet, which
// becomes a close frame (1000): over WebSocket the server closes as Node
// does, with no Engine.IO close packet. It reports whether writing must
// stop: the close frame was written, or a write failed (err).
func (c *wsConn) write(batch []Packet) (stop bool, err error) {
	for i, p := range batch {
		if p.Type == PacketClose {
			batch, stop = batch[:i], true
			break
		}
	}
	if len(batch) == 0 && !stop {
		return false, nil
	}
	bp := frameBufs.Get().(*[]byte)
	buf, parts := c.appendFrames((*bp)[:0], batch)
	if stop {
		// The close frame goes out with the batch.
		n := len(buf)
		buf = wsframe.AppendClose(buf, wsframe.CloseNormal, "")
		if parts != nil {
			parts = append(parts, buf[n:])
		}
	}
	c.mu.Lock()
	if c.closeSent {
		err = net.ErrClosed
	} else {
		if by, due := c.deadlineDue(); due {
			_ = c.raw.SetWriteDeadline(by)
		}
		if parts == nil {
			_, err = c.raw.Write(buf)
		} else {
			err = writeParts(c.raw, parts)
		}
		if stop {
			c.closeSent = true
			if err == nil {
				c.closeWriteLocked()
			}
		}
	}
	c.mu.Unlock()
	if cap(buf) <= maxKeptFrameBuf {
		*bp = buf[:0]
		frameBufs.Put(bp)
	}
	return stop || err != nil, err
}

// appendFrames frames the packets into buf. Payloads too large to copy
// stay where they are: parts then lists what to write, in order (runs of
// buf and those payloads); it is nil when buf holds everything. buf is grown
// once, before any part of it is taken, so the parts stay valid.
func (c *wsConn) appendFrames(buf []byte, batch []Packet) (_ []byte, parts net.Buffers) {
	size := 0
	for _, p := range batch {
		_, _, body := p.wire()
		size += maxFrameHeader + 1
		if len(body) <= maxCopied {
			size += len(body)
		}
	}
	if cap(buf) < size {
		buf = make([]byte, 0, size)
	}
	start := 0 // of the run of buf not yet in parts
	for _, p := range batch {
		op, prefix, body := p.wire()
		if c != nil && c.deflate && !p.NoCompress && len(prefix)+len(body) >= c.minZip {
			buf = appendDeflated(buf, op, prefix, body)
			continue
		}
		buf = appendFrameHeader(buf, op, len(prefix)+len(body))
		buf = append(buf, prefix...)
		if len(body) > maxCopied {
			parts = append(parts, buf[start:], body)
			start = len(buf)
			continue
		}
		buf = append(buf, body...)
	}
	if parts != nil && start < len(buf) {
		parts = append(parts, buf[start:])
	}
	return buf, parts
}

// appendDeflated appends a compressed frame (permessage-deflate, RSV1 set)
// of prefix and body. Appending may move buf: runs of it already in parts
// stay valid, as the old array is not written again.
func appendDeflated(buf []byte, op byte, prefix, body []byte) []byte {
	zp := frameBufs.Get().(*[]byte)
	z := wsframe.AppendDeflate((*zp)[:0], prefix, body)
	buf = wsframe.AppendHeader(buf, op, true, len(z))
	buf = append(buf, z...)
	if cap(z) <= maxKeptFrameBuf {
		*zp = z[:0]
		frameBufs.Put(zp)
	}
	return buf
}

// writeParts writes parts in order: with one writev on a TCP connection.
// (A function of its own, so that the common path does not move a
// net.Buffers to the heap.)
func writeParts(w net.Conn, parts net.Buffers) error {
	_, err := parts.WriteTo(w)
	return err
}

// wire returns the opcode of p's WebSocket message and its payload: prefix
// (the type digit of a text packet that is not a frame already), then body.
func (p *Packet) wire() (op byte, prefix, body []byte) {
	switch {
	case p.Binary:
		return opBinary, nil, p.Data
	case p.frame != nil:
		return opText, nil, p.frame
	}
	return opText, digits[p.Type : p.Type+1], p.Data
}

// maxFrameHeader is the longest server frame header: two bytes and a 64-bit
// length.
const maxFrameHeader = 10

// appendFrameHeader appends the header of a final, unmasked frame of
// opcode op with an n-byte payload (n ≥ 0).
func appendFrameHeader(b []byte, op byte, n int) []byte {
	return wsframe.AppendHeader(b, op, false, n)
}

// deadlineDue returns the write deadline to set before a write, timeout
// ahead, and reports whether it is due: not while the one set last still
// has more than half of the timeout left. A stalled write then fails after
// between half and all of the timeout, for one deadline update per half
// timeout rather than one per batch. The writer calls it, and on raw
// connections whoever holds c.mu.
func (c *wsConn) deadlineDue() (time.Time, bool) {
	now := time.Now()
	if c.writeBy-now.UnixNano() > int64(c.timeout/2) {
		return time.Time{}, false
	}
	by := now.Add(c.timeout)
	c.writeBy = by.UnixNano()
	return by, true
}

// awaitPeerClose reads, after the server's close frame, until the peer's
// close frame, its end or the deadline sendClose set: for a connection
// that has no reader loop.
func (c *wsConn) awaitPeerClose() {
	for {
		if _, _, err := c.rd.ReadMessage(); err != nil {
			return
		}
	}
}

// writeRaw writes b (the handshake response) under the write lock.
func (c *wsConn) writeRaw(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if by, due := c.deadlineDue(); due {
		_ = c.raw.SetWriteDeadline(by)
	}
	_, err := c.raw.Write(b)
	return err
}
