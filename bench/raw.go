package main

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/http"
	"strconv"
	"sync"

	"github.com/gorilla/websocket"
)

// The raw servers are the ceiling: bare gorilla/websocket servers that
// answer the contract's frames with as little work as possible — no
// sessions, heartbeat or JSON decoding; they only look at the bytes they
// must. Two of them:
//
//   - "raw" writes every message with gorilla's WriteMessage: one write
//     (system call) per message;
//   - "rawbatch" writes the way siokit's engine does: messages for a
//     connection are queued, and whoever writes frames every queued message
//     into one buffer (RFC 6455 §5.2: final, unmasked frames) and sends it
//     with one write. A reply to the connection's own event is written by
//     the goroutine that read the event when nothing else is writing; a
//     broadcast hands each recipient's queue to a goroutine that exists only
//     while that queue is not empty, so an idle connection holds none.
//
// The batching server is the real limit of a server that batches: use the
// best of the two per scenario as the ceiling.
type rawServer struct {
	batch bool

	mu    sync.RWMutex
	conns map[*rawConn]struct{}
	rooms map[string]map[*rawConn]struct{}
}

// rawMsg is one WebSocket message to send.
type rawMsg struct {
	op   byte // websocket.TextMessage or websocket.BinaryMessage (the opcodes)
	data []byte
}

type rawConn struct {
	ws *websocket.Conn
	nc net.Conn // batching: the connection the frames are written on

	mu      sync.Mutex // direct: held by each write; batching: guards the fields below
	queue   []rawMsg
	spare   []rawMsg // the batch last written, for reuse
	writing bool     // a goroutine is writing the queue
	dead    bool     // a write failed: drop what comes
	buf     []byte   // frames of the batch being written, kept by the writer
}

func serveRaw(addr string) error      { return serveRawServer(addr, false) }
func serveRawBatch(addr string) error { return serveRawServer(addr, true) }

func serveRawServer(addr string, batch bool) error {
	return listenAndServe(addr, http.HandlerFunc(newRawServer(batch).serve))
}

func newRawServer(batch bool) *rawServer {
	return &rawServer{batch: batch, conns: make(map[*rawConn]struct{}), rooms: make(map[string]map[*rawConn]struct{})}
}

var rawUpgrader = websocket.Upgrader{
	CheckOrigin:     func(*http.Request) bool { return true },
	WriteBufferPool: &sync.Pool{},
}

var (
	rawOpen    = []byte(`0{"sid":"raw","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)
	rawConnect = []byte(`40{"sid":"raw"}`)
	bcastHead  = []byte(`42["bcast"`)
	rbcastHead = []byte(`42["rbcast",`)
	joinHead   = []byte(`["join",`)
	echoNames  = [][]byte{[]byte(`["echo",`), []byte(`["echoany",`)}
)

// send sends one text message; inline (batching only) lets the calling
// goroutine write it when no other goroutine is writing to c.
func (rs *rawServer) send(c *rawConn, b []byte, inline bool) error {
	return rs.sendAll(c, inline, rawMsg{op: websocket.TextMessage, data: b})
}

// sendAll sends messages in order: the batching server queues them all
// before writing, so they leave in one write.
func (rs *rawServer) sendAll(c *rawConn, inline bool, msgs ...rawMsg) error {
	if !rs.batch {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, m := range msgs {
			if err := c.ws.WriteMessage(int(m.op), m.data); err != nil {
				return err
			}
		}
		return nil
	}
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return net.ErrClosed
	}
	c.queue = append(c.queue, msgs...)
	start := !c.writing
	c.writing = true
	c.mu.Unlock()
	switch {
	case start && inline:
		c.flush()
	case start:
		go c.flush()
	}
	return nil
}

// flush writes the queue, batch after batch, until it is empty.
func (c *rawConn) flush() {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.dead {
			c.writing = false
			c.queue = c.queue[:0]
			c.mu.Unlock()
			return
		}
		batch := c.queue
		c.queue = c.spare[:0]
		buf := c.buf[:0]
		c.mu.Unlock()

		for _, m := range batch {
			buf = appendRawFrame(buf, m.op, m.data)
		}
		clear(batch) // the messages may be large: do not keep them
		_, err := c.nc.Write(buf)
		if cap(buf) > 64<<10 {
			buf = nil // keep no peak
		}
		c.mu.Lock()
		c.spare, c.buf = batch[:0], buf[:0]
		if err != nil {
			c.dead = true
		}
		c.mu.Unlock()
	}
}

// appendRawFrame appends a final, unmasked frame of opcode op.
func appendRawFrame(b []byte, op byte, p []byte) []byte {
	b = append(b, 0x80|op)
	switch n := uint64(len(p)); {
	case n <= 125:
		b = append(b, byte(n))
	case n <= 0xFFFF:
		b = binary.BigEndian.AppendUint16(append(b, 126), uint16(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, 127), n)
	}
	return append(b, p...)
}

func (rs *rawServer) serve(w http.ResponseWriter, r *http.Request) {
	ws, err := rawUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &rawConn{ws: ws, nc: ws.NetConn()}
	defer ws.Close()
	if rs.batch {
		// The frames are this server's: gorilla must write nothing (its
		// answer to a close frame would land inside a batch).
		ws.SetCloseHandler(func(int, string) error { return nil })
		ws.SetPingHandler(func(string) error { return nil })
	}
	if rs.send(c, rawOpen, true) != nil {
		return
	}
	defer rs.remove(c)
	var pending [][]byte // a binary event's head, then its attachments so far
	want := 0            // attachments still to come
	for {
		typ, msg, err := ws.ReadMessage()
		if err != nil {
			return
		}
		if want > 0 {
			if typ == websocket.BinaryMessage {
				pending = append(pending, msg)
				if want--; want == 0 {
					err = rs.echoBinary(c, pending)
					pending = nil
				}
			}
		} else if typ == websocket.TextMessage {
			want, err = rs.handle(c, msg)
			if want > 0 {
				pending = [][]byte{msg}
			}
		}
		if err != nil {
			return
		}
	}
}

func (rs *rawServer) remove(c *rawConn) {
	rs.mu.Lock()
	delete(rs.conns, c)
	for name, room := range rs.rooms {
		delete(room, c)
		if len(room) == 0 {
			delete(rs.rooms, name)
		}
	}
	rs.mu.Unlock()
}

// handle answers one text message; it returns how many binary attachments
// follow a binary event (to echo once they are in).
func (rs *rawServer) handle(c *rawConn, msg []byte) (attachments int, err error) {
	switch {
	case bytes.Equal(msg, []byte("40")):
		// Connected once the answer is on its way: broadcasts reach
		// connected sockets only, after their CONNECT.
		err := rs.send(c, rawConnect, true)
		rs.mu.Lock()
		rs.conns[c] = struct{}{}
		rs.mu.Unlock()
		return 0, err
	case bytes.HasPrefix(msg, bcastHead):
		rs.mu.RLock()
		for peer := range rs.conns {
			_ = rs.send(peer, msg, false)
		}
		rs.mu.RUnlock()
	case bytes.HasPrefix(msg, rbcastHead):
		// 42["rbcast","<room>",args...] -> 42["rbcast",args...] to the room
		room, rest, ok := jsonString(msg[len(rbcastHead):])
		if !ok || len(rest) < 2 || rest[0] != ',' {
			return 0, nil
		}
		out := append(append([]byte(nil), `42["rbcast"`...), rest...)
		rs.mu.RLock()
		for peer := range rs.rooms[room] {
			_ = rs.send(peer, out, false)
		}
		rs.mu.RUnlock()
	case bytes.HasPrefix(msg, []byte("45")):
		// 45<n>-<id>["echo…",…] and n binary messages
		n, _, ok := bytes.Cut(msg[2:], []byte("-"))
		count, err := strconv.Atoi(string(n))
		if !ok || err != nil || count < 1 {
			return 0, nil
		}
		return count, nil
	case bytes.HasPrefix(msg, []byte("42")):
		i := bytes.IndexByte(msg, '[')
		if i < 0 {
			return 0, nil
		}
		id, body := msg[2:i], msg[i:]
		if bytes.HasPrefix(body, joinHead) {
			// 42<id>["join","<room>"] -> joined, 43<id>["<room>"]
			room, _, ok := jsonString(body[len(joinHead):])
			if !ok {
				return 0, nil
			}
			rs.mu.Lock()
			if rs.rooms[room] == nil {
				rs.rooms[room] = make(map[*rawConn]struct{})
			}
			rs.rooms[room][c] = struct{}{}
			rs.mu.Unlock()
			out := append(append(append([]byte("43"), id...), `["`...), room...)
			return 0, rs.send(c, append(out, `"]`...), true)
		}
		for _, name := range echoNames {
			if bytes.HasPrefix(body, name) {
				// 42<id>["echo",args...] -> 43<id>[args...]
				out := append(append(append(make([]byte, 0, len(msg)), "43"...), id...), '[')
				out = append(out, body[len(name):]...)
				return 0, rs.send(c, out, true)
			}
		}
	}
	return 0, nil
}

// echoBinary answers 45<n>-<id>["echo…",args...] and its attachments with
// 46<n>-<id>[args...] and the same attachments.
func (rs *rawServer) echoBinary(c *rawConn, msgs [][]byte) error {
	head := msgs[0]
	i := bytes.IndexByte(head, '[')
	if i < 0 {
		return nil
	}
	for _, name := range echoNames {
		if bytes.HasPrefix(head[i:], name) {
			out := append(append(append(make([]byte, 0, len(head)), "46"...), head[2:i]...), '[')
			out = append(out, head[i+len(name):]...)
			batch := []rawMsg{{op: websocket.TextMessage, data: out}}
			for _, att := range msgs[1:] {
				batch = append(batch, rawMsg{op: websocket.BinaryMessage, data: att})
			}
			return rs.sendAll(c, true, batch...)
		}
	}
	return nil
}

// jsonString reads a JSON string without escapes at the start of b and
// returns it and what follows.
func jsonString(b []byte) (s string, rest []byte, ok bool) {
	if len(b) < 2 || b[0] != '"' {
		return "", nil, false
	}
	end := bytes.IndexByte(b[1:], '"')
	if end < 0 || bytes.IndexByte(b[1:1+end], '\\') >= 0 {
		return "", nil, false
	}
	return string(b[1 : 1+end]), b[2+end:], true
}
