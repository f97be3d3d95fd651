package engineio

import (
	"encoding/binary"
	"net"
	"sync"
	"time"
)

// The sending side of a server WebSocket.
//
// A WebSocketConn that offers its network connection ([RawWebSocketConn])
// is written on by the engine itself: the writer frames every message of a
// batch (RFC 6455 §5.2: final, unmasked, no extension) into one buffer and
// sends the batch with one write, where the WebSocket libraries send each
// message with a write of its own. A broadcast burst then costs each
// recipient one system call rather than one per message. Pongs and the
// answer to the client's close frame go through the same lock, so no other
// write lands inside a frame, and the write deadline stays the engine's.
//
// Any other WebSocketConn is written message by message through its own
// methods.

// WebSocket opcodes the engine writes itself.
const (
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPong   = 0xA
)

// closeNoStatus is the close code of a close frame without one (RFC 6455
// §7.1.5); the answer to it carries none either.
const closeNoStatus = 1005

// Frame buffers: payloads up to maxCopied bytes are copied into the batch's
// buffer; larger ones are written from where they are (one writev on TCP).
// A buffer that grew past maxKeptFrameBuf is not pooled, so the pool holds
// no peak.
const (
	maxCopied       = 16 << 10
	maxKeptFrameBuf = 64 << 10
)

var frameBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// wsConn is a session's WebSocket: the connection it reads, and the state
// of its sending side. Only one writer at a time calls write (the session's
// writer role); pong and answerClose come from the reader.
type wsConn struct {
	conn    WebSocketConn
	raw     net.Conn // the network connection, if conn offers it: frames are the engine's
	timeout time.Duration

	mu      sync.Mutex // held by each write on raw
	writeBy int64      // the write deadline set last (UnixNano)
}

func newWSConn(conn WebSocketConn, writeTimeout time.Duration) *wsConn {
	c := &wsConn{conn: conn, timeout: writeTimeout}
	if rc, ok := conn.(RawWebSocketConn); ok {
		if c.raw = rc.NetConn(); c.raw != nil {
			rc.SetPingHandler(c.pong)
			rc.SetCloseHandler(c.answerClose)
		}
	}
	return c
}

// Close closes the connection; a blocked read or write returns. Its error
// is of no use: the session is closing, with its reason decided.
func (c *wsConn) Close() { _ = c.conn.Close() }

// write writes the packets of batch in order, up to and including a close
// packet. It reports whether writing must stop: the close packet was
// written, or a write failed (err).
func (c *wsConn) write(batch []Packet) (stop bool, err error) {
	for i, p := range batch {
		if p.Type == PacketClose {
			batch, stop = batch[:i+1], true
			break
		}
	}
	if len(batch) == 0 {
		return stop, nil
	}
	if c.raw == nil {
		if by, due := c.deadlineDue(); due {
			_ = c.conn.SetWriteDeadline(by)
		}
		for _, p := range batch {
			if err := writePacket(c.conn, p); err != nil {
				return true, err
			}
		}
		return stop, nil
	}
	bp := frameBufs.Get().(*[]byte)
	buf, parts := appendFrames((*bp)[:0], batch)
	c.mu.Lock()
	if by, due := c.deadlineDue(); due {
		_ = c.raw.SetWriteDeadline(by)
	}
	if parts == nil {
		_, err = c.raw.Write(buf)
	} else {
		err = writeParts(c.raw, parts)
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
func appendFrames(buf []byte, batch []Packet) (_ []byte, parts net.Buffers) {
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
	b = append(b, 0x80|op)
	switch u := uint64(max(n, 0)); {
	case u <= 125:
		return append(b, byte(u))
	case u <= 0xFFFF:
		return binary.BigEndian.AppendUint16(append(b, 126), uint16(u))
	default:
		return binary.BigEndian.AppendUint64(append(b, 127), u)
	}
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

// writeControl writes one control frame on raw. A failed write is the
// writer's to report (the connection is closing); the reader goes on.
func (c *wsConn) writeControl(op byte, payload []byte) {
	var b [2 + 125]byte // a control frame's payload is at most 125 bytes
	f := append(appendFrameHeader(b[:0], op, len(payload)), payload...)
	c.mu.Lock()
	defer c.mu.Unlock()
	if by, due := c.deadlineDue(); due {
		_ = c.raw.SetWriteDeadline(by)
	}
	_, _ = c.raw.Write(f)
}

// pong answers a ping from the client, as the WebSocket libraries do.
func (c *wsConn) pong(appData string) error {
	c.writeControl(opPong, []byte(appData))
	return nil
}

// answerClose answers the client's close frame with the same code, as the
// WebSocket libraries do; the read then fails and the session closes.
func (c *wsConn) answerClose(code int, _ string) error {
	var payload []byte
	if code != closeNoStatus && code >= 0 && code <= 0xFFFF {
		payload = binary.BigEndian.AppendUint16(nil, uint16(code))
	}
	c.writeControl(opClose, payload)
	return nil
}
