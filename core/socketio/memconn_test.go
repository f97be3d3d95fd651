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
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/siokit/siokit/core/engineio"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// memConn is an in-memory engineio.RawWebSocketConn: the client side
// pushes frames into in, and every message the server writes goes to out.
// By default it offers a network connection (memNet), so the engine frames
// its messages itself, as on gorilla's and fasthttp's connections, and out
// gets each frame's payload. With byMessage set the engine writes message
// by message through the WebSocketConn methods instead, and out gets the
// slices the engine wrote (not copied), so tests can check that a
// broadcast shares its bytes.
type memConn struct {
	in        chan memFrame
	closed    chan struct{}
	once      sync.Once
	out       func(typ int, parts [][]byte)
	w         memWriter // reused: the engine writes one message at a time
	byMessage bool
	net       memNet

	// The engineio.Upgrader contract: once the upgrade callback has
	// returned (served is closed), the engine calls nothing but Close.
	served chan struct{}
	late   atomic.Int32 // calls made after that
}

type memFrame struct {
	typ  int
	data []byte
}

var errMemClosed = errors.New("memconn: closed")

func newMemConn(out func(typ int, parts [][]byte)) *memConn {
	c := &memConn{in: make(chan memFrame, 256), closed: make(chan struct{}), out: out, served: make(chan struct{})}
	c.net.c = c
	return c
}

// NetConn returns the connection the engine writes its frames on, unless
// the engine is to write message by message.
func (c *memConn) NetConn() net.Conn {
	c.use()
	if c.byMessage {
		return nil
	}
	return &c.net
}

func (c *memConn) SetPingHandler(func(string) error)       { c.use() }
func (c *memConn) SetCloseHandler(func(int, string) error) { c.use() }

// memNet is the network side of a memConn: it decodes the server frames
// written on it (final, unmasked; they may span writes) and hands each
// payload to out, valid during the call. The engine writes from one
// goroutine at a time, holding its own lock for pongs; mu guards against
// anything else.
type memNet struct {
	c       *memConn
	mu      sync.Mutex
	pending []byte    // the start of a frame the next write completes
	part    [1][]byte // out's parts, reused
}

func (n *memNet) Write(b []byte) (int, error) {
	n.c.use()
	select {
	case <-n.c.closed:
		return 0, errMemClosed
	default:
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	data := b
	if len(n.pending) > 0 {
		n.pending = append(n.pending, b...)
		data = n.pending
	}
	for {
		op, payload, rest, ok := cutFrame(data)
		if !ok {
			break
		}
		n.part[0] = payload
		n.c.out(op, n.part[:])
		n.part[0], data = nil, rest
	}
	n.pending = append(n.pending[:0], data...)
	return len(b), nil
}

// cutFrame splits the first whole server frame off b.
func cutFrame(b []byte) (op int, payload, rest []byte, ok bool) {
	if len(b) < 2 {
		return 0, nil, b, false
	}
	if b[0]&0xF0 != 0x80 || b[1]&0x80 != 0 {
		panic(fmt.Sprintf("memnet: not a final unmasked frame: % x", b[:2]))
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

func (n *memNet) SetWriteDeadline(time.Time) error { n.c.use(); return nil }
func (n *memNet) Close() error                     { return n.c.Close() }

// The rest of net.Conn, which the engine does not use.
func (*memNet) Read([]byte) (int, error)        { return 0, errors.New("memnet: not read") }
func (*memNet) LocalAddr() net.Addr             { return memAddr{} }
func (*memNet) RemoteAddr() net.Addr            { return memAddr{} }
func (*memNet) SetDeadline(time.Time) error     { return nil }
func (*memNet) SetReadDeadline(time.Time) error { return nil }

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

// checkReleased waits for the upgrade callback to return, then fails t if
// the engine called anything but Close on the connection afterwards.
func (c *memConn) checkReleased(t testing.TB, settle time.Duration) {
	t.Helper()
	select {
	case <-c.served:
	case <-time.After(5 * time.Second):
		t.Fatal("memconn: the upgrade callback did not return")
	}
	time.Sleep(settle)
	if n := c.late.Load(); n > 0 {
		t.Errorf("memconn: %d calls on the connection after the upgrade callback returned", n)
	}
}

func (c *memConn) NextReader() (int, io.Reader, error) {
	c.use()
	select {
	case f := <-c.in:
		return f.typ, bytes.NewReader(f.data), nil
	case <-c.closed:
		return 0, nil, io.EOF
	}
}

type memWriter struct {
	c     *memConn
	typ   int
	parts [][]byte
}

func (w *memWriter) Write(p []byte) (int, error) {
	w.parts = append(w.parts, p)
	return len(p), nil
}

func (w *memWriter) Close() error {
	w.c.out(w.typ, w.parts)
	clear(w.parts)
	w.parts = w.parts[:0]
	return nil
}

func (c *memConn) NextWriter(typ int) (io.WriteCloser, error) {
	c.use()
	select {
	case <-c.closed:
		return nil, errMemClosed
	default:
	}
	c.w.c, c.w.typ = c, typ
	return &c.w, nil
}

func (c *memConn) WriteMessage(typ int, data []byte) error {
	w, err := c.NextWriter(typ)
	if err != nil {
		return err
	}
	_, _ = w.Write(data)
	return w.Close()
}

func (c *memConn) WriteControl(int, []byte, time.Time) error { c.use(); return nil }
func (c *memConn) SetReadLimit(int64)                        { c.use() }
func (c *memConn) SetReadDeadline(time.Time) error           { c.use(); return nil }
func (c *memConn) SetWriteDeadline(time.Time) error          { c.use(); return nil }

func (c *memConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

// sendText pushes a client text frame.
func (c *memConn) sendText(data string) {
	select {
	case c.in <- memFrame{engineio.TextMessage, []byte(data)}:
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
	if strings.EqualFold(name, "Upgrade") {
		return "websocket"
	}
	return ""
}
func (r *memRequest) Headers() http.Header { return http.Header{"Upgrade": {"websocket"}} }
func (r *memRequest) RemoteAddr() string   { return "127.0.0.1:1" }
func (r *memRequest) Body() io.Reader      { return http.NoBody }
func (r *memRequest) Upgrade(_ engineio.ResponseWriter, fn func(engineio.WebSocketConn)) error {
	fn(r.conn)
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
		if typ != engineio.TextMessage {
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
