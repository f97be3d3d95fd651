package socketio

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/siokit/siokit/core/engineio"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// WebSocket opcodes of data frames.
const (
	textMessage   = 1
	binaryMessage = 2
)

// memConn is an in-memory network connection for a server WebSocket: the
// client side pushes masked frames (sendText), which the engine reads, and
// every frame the engine writes (final, unmasked; it may span writes) is
// decoded and its payload handed to out, valid during the call. A close
// frame from the server is answered by closing, as a peer would.
type memConn struct {
	in      chan []byte
	pending []byte // the rest of the frame being read
	closed  chan struct{}
	once    sync.Once
	out     func(typ int, parts [][]byte)
	onWrite func(b []byte) // if set, sees each write as the engine made it

	mu       sync.Mutex
	readBy   time.Time // the read deadline
	wpending []byte    // the start of a frame the next write completes
	part     [1][]byte // out's parts, reused

	// The engineio.Hijacker contract: once the hijack callback has
	// returned (served is closed), the engine calls nothing but Close.
	served chan struct{}
	late   atomic.Int32 // calls made after that
}

var errMemClosed = errors.New("memconn: closed")

func newMemConn(out func(typ int, parts [][]byte)) *memConn {
	return &memConn{in: make(chan []byte, 256), closed: make(chan struct{}), out: out, served: make(chan struct{})}
}

// Read returns the bytes of the client's frames.
func (c *memConn) Read(p []byte) (int, error) {
	c.use()
	if len(c.pending) == 0 {
		c.mu.Lock()
		by := c.readBy
		c.mu.Unlock()
		var timeout <-chan time.Time
		if !by.IsZero() {
			t := time.NewTimer(time.Until(by))
			defer t.Stop()
			timeout = t.C
		}
		select {
		case c.pending = <-c.in:
		case <-c.closed:
			return 0, io.EOF
		case <-timeout:
			return 0, os.ErrDeadlineExceeded
		}
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

func (c *memConn) Write(b []byte) (int, error) {
	c.use()
	select {
	case <-c.closed:
		return 0, errMemClosed
	default:
	}
	if c.onWrite != nil {
		c.onWrite(b)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if bytes.HasPrefix(b, []byte("HTTP/1.1 101 ")) {
		return len(b), nil // the handshake response
	}
	data := b
	if len(c.wpending) > 0 {
		c.wpending = append(c.wpending, b...)
		data = c.wpending
	}
	for {
		op, payload, rest, ok := cutFrame(data)
		if !ok {
			break
		}
		if op == 0x8 {
			_ = c.Close()
			return len(b), nil
		}
		c.part[0] = payload
		c.out(op, c.part[:])
		c.part[0], data = nil, rest
	}
	c.wpending = append(c.wpending[:0], data...)
	return len(b), nil
}

// cutFrame splits the first whole server frame off b.
func cutFrame(b []byte) (op int, payload, rest []byte, ok bool) {
	if len(b) < 2 {
		return 0, nil, b, false
	}
	if b[0]&0xF0 != 0x80 || b[1]&0x80 != 0 {
		panic(fmt.Sprintf("memconn: not a final unmasked frame: % x", b[:2]))
	}
	n, h := int(b[1]), 2
	switch n {
	case 126:
		if len(b) < 4 {
			return 0, nil, b, false
		}
		n, h = int(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return 0, nil, b, false
		}
		n, h = int(binary.BigEndian.Uint64(b[2:])), 10
	}
	if len(b) < h+n {
		return 0, nil, b, false
	}
	return int(b[0] & 0x0F), b[h : h+n], b[h+n:], true
}

func (c *memConn) SetReadDeadline(t time.Time) error {
	c.use()
	c.mu.Lock()
	c.readBy = t
	c.mu.Unlock()
	return nil
}

func (c *memConn) SetDeadline(t time.Time) error    { return c.SetReadDeadline(t) }
func (c *memConn) SetWriteDeadline(time.Time) error { c.use(); return nil }
func (*memConn) LocalAddr() net.Addr                { return memAddr{} }
func (*memConn) RemoteAddr() net.Addr               { return memAddr{} }

func (c *memConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

type memAddr struct{}

func (memAddr) Network() string { return "mem" }
func (memAddr) String() string  { return "mem" }

// use notes a call other than Close, counting it if the engine has let go
// of the connection.
func (c *memConn) use() {
	select {
	case <-c.served:
		c.late.Add(1)
	default:
	}
}

// checkReleased waits for the hijack callback to return, then fails t if
// the engine called anything but Close on the connection afterwards.
func (c *memConn) checkReleased(t testing.TB, settle time.Duration) {
	t.Helper()
	select {
	case <-c.served:
	case <-time.After(5 * time.Second):
		t.Fatal("memconn: the hijack callback did not return")
	}
	time.Sleep(settle)
	if n := c.late.Load(); n > 0 {
		t.Errorf("memconn: %d calls on the connection after the hijack callback returned", n)
	}
}

// sendText pushes a client text frame (masked, with a zero key).
func (c *memConn) sendText(data string) { c.sendFrame(0x81, []byte(data)) }

// sendFrame pushes a final client frame of the first byte b0 (FIN and
// opcode), masked with a zero key.
func (c *memConn) sendFrame(b0 byte, data []byte) {
	f := []byte{b0}
	switch n := len(data); {
	case n <= 125:
		f = append(f, 0x80|byte(n))
	case n <= 0xFFFF:
		f = append(f, 0x80|126, byte(n>>8), byte(n))
	default:
		f = binary.BigEndian.AppendUint64(append(f, 0x80|127), uint64(n))
	}
	f = append(append(f, 0, 0, 0, 0), data...)
	select {
	case c.in <- f:
	case <-c.closed:
	}
}

// memRequest is a WebSocket handshake request that upgrades to a memConn.
type memRequest struct{ conn *memConn }

func (r *memRequest) Context() context.Context { return context.Background() }
func (r *memRequest) Method() string           { return http.MethodGet }
func (r *memRequest) Path() string             { return DefaultPath }
func (r *memRequest) RawQuery() string         { return "EIO=4&transport=websocket" }
func (r *memRequest) Header(name string) string {
	return r.Headers().Get(name)
}
func (r *memRequest) Headers() http.Header {
	return http.Header{
		"Upgrade": {"websocket"}, "Connection": {"Upgrade"}, "Sec-Websocket-Version": {"13"},
		"Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="},
	}
}
func (r *memRequest) RemoteAddr() string { return "127.0.0.1:1" }
func (r *memRequest) Body() io.Reader    { return http.NoBody }
func (r *memRequest) Hijack(fn func(net.Conn, []byte)) error {
	fn(r.conn, nil)
	close(r.conn.served)
	return nil
}

type memResponse struct{}

func (memResponse) SetHeader(string, string)    {}
func (memResponse) WriteHeader(int)             {}
func (memResponse) Write(p []byte) (int, error) { return len(p), nil }

// serveMem runs a WebSocket session of srv over conn, as an adapter would,
// until the connection closes.
func serveMem(srv *Server, conn *memConn) {
	go srv.ServeRequest(memResponse{}, &memRequest{conn: conn})
}

// memClient is a test client on a memConn: it answers pings and queues the
// Socket.IO packets it receives.
type memClient struct {
	t    testing.TB
	conn *memConn
	msgs chan string
}

// newTestServer returns a server closed at the end of the test, with a
// heartbeat slow enough never to interfere.
func newTestServer(t testing.TB) *Server {
	t.Helper()
	srv := NewServer(&Options{Engine: engineio.Options{PingInterval: time.Hour}})
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func dialMem(t testing.TB, srv *Server) *memClient {
	t.Helper()
	c := &memClient{t: t, msgs: make(chan string, 256)}
	c.conn = newMemConn(func(typ int, parts [][]byte) {
		if typ != textMessage {
			return
		}
		data := string(bytes.Join(parts, nil))
		switch {
		case data == "2":
			c.conn.sendText("3")
		case strings.HasPrefix(data, "4"):
			select {
			case c.msgs <- data[1:]:
			default:
				t.Errorf("memClient: queue full, dropped %q", data)
			}
		}
	})
	serveMem(srv, c.conn)
	return c
}

func (c *memClient) send(packet string) { c.conn.sendText("4" + packet) }

func (c *memClient) next() string {
	c.t.Helper()
	select {
	case m := <-c.msgs:
		return m
	case <-time.After(5 * time.Second):
		c.t.Fatal("memClient: no packet in time")
		return ""
	}
}

// connect joins the default namespace and returns the server's socket.
func (c *memClient) connect(srv *Server) *Socket {
	c.t.Helper()
	c.send("0")
	p := c.next()
	var ok struct{ SID string }
	if !strings.HasPrefix(p, "0{") || json.Unmarshal([]byte(p[1:]), &ok) != nil {
		c.t.Fatalf("CONNECT answer %q", p)
	}
	s := srv.Of("/").Socket(ok.SID)
	if s == nil {
		c.t.Fatalf("no socket %s on the server", ok.SID)
	}
	return s
}
