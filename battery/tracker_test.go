package battery

import (
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/siokit/siokit/core/socketio"
)

// tracker records the sockets of "/" by Engine.IO session id and their
// disconnect reasons, so a probe can drive the server side of a raw client.
type tracker struct {
	mu      sync.Mutex
	socks   map[string]*socketio.Socket
	reasons map[string]chan string
}

func newTracker() *tracker {
	return &tracker{socks: make(map[string]*socketio.Socket), reasons: make(map[string]chan string)}
}

func (tr *tracker) ch(sid string) chan string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	c := tr.reasons[sid]
	if c == nil {
		c = make(chan string, 2)
		tr.reasons[sid] = c
	}
	return c
}

// setup registers the tracker's handlers on srv.
func (tr *tracker) setup(srv *socketio.Server) {
	srv.OnConnect(func(s *socketio.Socket) error {
		tr.mu.Lock()
		tr.socks[s.EngineID()] = s
		tr.mu.Unlock()
		return nil
	})
	srv.OnDisconnect(func(s *socketio.Socket, reason string) { tr.ch(s.EngineID()) <- reason })
}

// socket waits for the socket of Engine.IO session sid.
func (tr *tracker) socket(t testing.TB, sid string) *socketio.Socket {
	t.Helper()
	var s *socketio.Socket
	waitFor(t, "the socket to connect", func() bool {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		s = tr.socks[sid]
		return s != nil
	})
	return s
}

// reason waits for the disconnect of sid's socket, checks that no second
// one follows within quiet, and forgets sid.
func (tr *tracker) reason(t testing.TB, sid string, quiet time.Duration) string {
	t.Helper()
	c := tr.ch(sid)
	r := recv(t, c, "the disconnect handler")
	if quiet > 0 {
		select {
		case r2 := <-c:
			t.Errorf("disconnect handler ran twice: %q then %q", r, r2)
		case <-time.After(quiet):
		}
	}
	tr.mu.Lock()
	delete(tr.socks, sid)
	delete(tr.reasons, sid)
	tr.mu.Unlock()
	return r
}

// wsURL returns the WebSocket URL of the engine with query q.
func (e *env) wsURL(q string) string { return "ws" + e.URL(q)[len("http"):] }

// dialWS opens a gorilla WebSocket to the engine with query q.
func (e *env) dialWS(q string) (*websocket.Conn, error) {
	d := websocket.Dialer{HandshakeTimeout: wait}
	c, res, err := d.Dial(e.wsURL(q), nil)
	if res != nil && res.Body != nil {
		res.Body.Close()
	}
	return c, err
}

// readText reads one text message within the battery's timeout.
func readText(t testing.TB, c *websocket.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(wait))
	typ, data, err := c.ReadMessage()
	if err != nil || typ != websocket.TextMessage {
		t.Fatalf("read: type %d %q %v", typ, data, err)
	}
	return string(data)
}

// expectWSEnd reads until the connection fails, failing the test if it is
// still open after the battery's timeout or a message packet arrives.
func expectWSEnd(t testing.TB, c *websocket.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(wait))
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				t.Fatalf("websocket still open after %v", wait)
			}
			return
		}
		if s := string(data); s != "1" && s != "2" && s != "6" {
			t.Fatalf("unexpected message %q before close", data)
		}
	}
}
