package siotest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/siokit/siokit/core/eiotest"
	"github.com/siokit/siokit/core/socketio"
)

// rawWait bounds every wait of the kit, so that a broken server fails a
// scenario instead of hanging the test binary.
const rawWait = 5 * time.Second

// rawQuiet is how long a scenario watches for something that must not happen.
const rawQuiet = 150 * time.Millisecond

// rawEnv is one Socket.IO server under test, mounted by the adapter.
type rawEnv struct {
	t    *testing.T
	srv  *socketio.Server
	base string
	path string
	logs *logBuffer

	tr     *http.Transport
	client *http.Client

	mu    sync.Mutex
	conns []*rawConn
}

// logBuffer collects the server's log lines, for the scenarios that check
// what is logged.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startRaw builds a server with opts (short heartbeat unless set), lets
// setup register handlers, and mounts it. Cleanups run in reverse: client
// connections, the server, the adapter, then the goroutine-leak check.
func startRaw(t *testing.T, mount eiotest.Mount, opts socketio.Options, setup func(srv *socketio.Server)) *rawEnv {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })

	if opts.Engine.PingInterval == 0 {
		opts.Engine.PingInterval = 300 * time.Millisecond
		opts.Engine.PingTimeout = 2 * time.Second
	}
	e := &rawEnv{t: t, logs: &logBuffer{}}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", e.logs)
		}
	})
	e.srv = socketio.NewServer(&opts)
	if setup != nil {
		setup(e.srv)
	}
	e.path = e.srv.Engine().Options().Path
	e.base = strings.TrimSuffix(mount(t, e.srv), "/")
	e.tr = &http.Transport{MaxIdleConnsPerHost: 16}
	e.client = &http.Client{Transport: e.tr, Timeout: rawWait}
	t.Cleanup(func() {
		e.mu.Lock()
		conns := e.conns
		e.mu.Unlock()
		for _, c := range conns {
			c.close()
		}
		if err := e.srv.Close(); err != nil {
			t.Errorf("Server.Close: %v", err)
		}
		for _, c := range conns {
			c.wait()
		}
		e.tr.CloseIdleConnections()
	})
	return e
}

// rawMsg is one Socket.IO level message from the server: a text packet
// without the Engine.IO type digit, or a binary attachment.
type rawMsg struct {
	text   string
	binary []byte
	isBin  bool
}

func (m rawMsg) String() string {
	if m.isBin {
		return fmt.Sprintf("<binary %x>", m.binary)
	}
	return m.text
}

// rawConn is a WebSocket-only Engine.IO session spoken in raw frames. A
// reader goroutine answers pings (unless told not to) and queues the
// message packets.
type rawConn struct {
	t   testing.TB
	ws  *websocket.Conn
	sid string // Engine.IO session id

	wmu sync.Mutex
	in  chan rawMsg
	eio chan string // non-message Engine.IO packets seen (close "1", noop)

	pongs   chan bool // false stops answering pings
	done    chan struct{}
	readErr error
}

// dial opens a WebSocket-only session and reads its open packet.
func (e *rawEnv) dial() *rawConn {
	e.t.Helper()
	c, err := e.dialErr()
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *rawEnv) dialErr() (*rawConn, error) {
	u := "ws" + strings.TrimPrefix(e.base, "http") + e.path + "?EIO=4&transport=websocket"
	d := websocket.Dialer{HandshakeTimeout: rawWait}
	ws, res, err := d.Dial(u, nil)
	if res != nil && res.Body != nil {
		res.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", u, err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(rawWait))
	typ, data, err := ws.ReadMessage()
	if err != nil {
		ws.Close()
		return nil, fmt.Errorf("open packet: %w", err)
	}
	if typ != websocket.TextMessage || len(data) == 0 || data[0] != '0' {
		ws.Close()
		return nil, fmt.Errorf("open packet: %q (message type %d)", data, typ)
	}
	var open struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(data[1:], &open); err != nil {
		ws.Close()
		return nil, fmt.Errorf("open packet %q: %w", data, err)
	}
	if open.SID == "" {
		ws.Close()
		return nil, fmt.Errorf("open packet %q: no sid", data)
	}
	_ = ws.SetReadDeadline(time.Time{})
	c := &rawConn{t: e.t, ws: ws, sid: open.SID, in: make(chan rawMsg, 1024), eio: make(chan string, 64),
		pongs: make(chan bool, 1), done: make(chan struct{})}
	go c.readLoop()
	e.mu.Lock()
	e.conns = append(e.conns, c)
	e.mu.Unlock()
	return c, nil
}

func (c *rawConn) readLoop() {
	defer close(c.done)
	defer close(c.in)
	answer := true
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			c.readErr = err
			return
		}
		select {
		case answer = <-c.pongs:
		default:
		}
		if typ == websocket.BinaryMessage {
			c.in <- rawMsg{binary: data, isBin: true}
			continue
		}
		switch {
		case string(data) == "2":
			if answer {
				_ = c.writeFrame(websocket.TextMessage, []byte("3"))
			}
		case len(data) > 0 && data[0] == '4':
			c.in <- rawMsg{text: string(data[1:])}
		default:
			select {
			case c.eio <- string(data):
			default:
			}
		}
	}
}

// stopPongs makes the reader ignore pings from now on.
func (c *rawConn) stopPongs() { c.pongs <- false }

func (c *rawConn) writeFrame(typ int, data []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(rawWait))
	return c.ws.WriteMessage(typ, data)
}

// send writes one Socket.IO packet as an Engine.IO message. A write error is
// ignored: the server may already have closed the connection on purpose.
func (c *rawConn) send(packet string) {
	_ = c.writeFrame(websocket.TextMessage, []byte("4"+packet))
}

// sendBinary writes one binary attachment.
func (c *rawConn) sendBinary(b []byte) {
	_ = c.writeFrame(websocket.BinaryMessage, b)
}

// close closes the TCP connection abruptly.
func (c *rawConn) close() { c.ws.Close() }

func (c *rawConn) wait() {
	select {
	case <-c.done:
	case <-time.After(rawWait):
	}
}

// next returns the next message packet, failing the test on timeout or close.
func (c *rawConn) next() rawMsg {
	c.t.Helper()
	m, err := c.nextErr(rawWait)
	if err != nil {
		c.t.Fatal(err)
	}
	return m
}

func (c *rawConn) nextErr(d time.Duration) (rawMsg, error) {
	select {
	case m, ok := <-c.in:
		if !ok {
			return rawMsg{}, fmt.Errorf("connection closed (%w)", c.readErr)
		}
		return m, nil
	case <-time.After(d):
		return rawMsg{}, errors.New("no message in time")
	}
}

// nextText returns the next message, which must be a text packet.
func (c *rawConn) nextText() string {
	c.t.Helper()
	m := c.next()
	if m.isBin {
		c.t.Fatalf("got a binary message %x, want a text packet", m.binary)
	}
	return m.text
}

// expect reads the next packet and compares it with want.
func (c *rawConn) expect(want string) {
	c.t.Helper()
	if got := c.nextText(); got != want {
		c.t.Fatalf("got packet %q, want %q", got, want)
	}
}

// expectPrefix reads the next packet, checks its prefix and returns the rest.
func (c *rawConn) expectPrefix(prefix string) string {
	c.t.Helper()
	got := c.nextText()
	rest, ok := strings.CutPrefix(got, prefix)
	if !ok {
		c.t.Fatalf("got packet %q, want one starting with %q", got, prefix)
	}
	return rest
}

// expectClosed waits until the server closes the connection; any message
// packet on the way is a failure.
func (c *rawConn) expectClosed() {
	c.t.Helper()
	for {
		m, ok, timeout := c.recv(rawWait)
		if timeout {
			c.t.Fatalf("connection still open after %v", rawWait)
		}
		if !ok {
			return
		}
		c.t.Fatalf("unexpected packet %s before close", m)
	}
}

// expectSilence checks that no message arrives for a short while.
func (c *rawConn) expectSilence() {
	c.t.Helper()
	m, ok, timeout := c.recv(rawQuiet)
	if timeout {
		return
	}
	if !ok {
		c.t.Fatalf("connection closed (%v), want it open", c.readErr)
	}
	c.t.Fatalf("unexpected packet %s", m)
}

func (c *rawConn) recv(d time.Duration) (m rawMsg, ok, timeout bool) {
	select {
	case m, ok = <-c.in:
		return m, ok, false
	case <-time.After(d):
		return rawMsg{}, false, true
	}
}

// connect joins nsp ("/" or "/name") with an optional auth object and
// returns the socket id.
func (c *rawConn) connect(nsp, auth string) string {
	c.t.Helper()
	c.send("0" + nspPrefix(nsp) + auth)
	rest := c.expectPrefix("0" + nspPrefix(nsp))
	var ok struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal([]byte(rest), &ok); err != nil || ok.SID == "" {
		c.t.Fatalf("CONNECT answer %q has no sid", rest)
	}
	return ok.SID
}

// nspPrefix is the namespace part of a packet: empty for "/", else "/x,".
func nspPrefix(nsp string) string {
	if nsp == "" || nsp == "/" {
		return ""
	}
	return nsp + ","
}

// ping makes a round trip through the default namespace's "ping" handler
// (registered by startEcho), proving the connection still works.
func (c *rawConn) roundTrip(nsp string, id int) {
	c.t.Helper()
	c.send(fmt.Sprintf("2%s%d[\"echo\",%d]", nspPrefix(nsp), id, id))
	c.expect(fmt.Sprintf("3%s%d[%d]", nspPrefix(nsp), id, id))
}

// registerEcho installs the "echo" handler that round trips rely on.
func registerEcho(n interface{ On(string, any) error }) {
	_ = n.On("echo", func(v any) any { return v })
}

// healthy dials a second client, joins "/" and makes a round trip: a check
// that a misbehaving client did not hurt the others.
func (e *rawEnv) healthy() {
	e.t.Helper()
	c := e.dial()
	c.connect("/", "")
	c.roundTrip("/", 7)
	c.close()
}

// waitFor polls cond until it holds or the kit's timeout passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(rawWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recvChan waits for a value on ch.
func recvChan[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(rawWait):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// pollSession is a long-polling Engine.IO session spoken in raw requests.
type pollSession struct {
	e   *rawEnv
	sid string
}

func (e *rawEnv) pollURL(q string) string { return e.base + e.path + "?" + q }

func (e *rawEnv) httpDo(method, q, body string) (int, string, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.pollURL(q), r)
	if err != nil {
		return 0, "", err
	}
	if body != "" {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	res, err := e.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

// openPolling makes a polling handshake.
func (e *rawEnv) openPolling() *pollSession {
	e.t.Helper()
	status, body, err := e.httpDo(http.MethodGet, "EIO=4&transport=polling", "")
	if err != nil || status != http.StatusOK || !strings.HasPrefix(body, "0") {
		e.t.Fatalf("polling handshake: %d %q %v", status, body, err)
	}
	var open struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal([]byte(body[1:]), &open); err != nil || open.SID == "" {
		e.t.Fatalf("open packet %q: %v", body, err)
	}
	return &pollSession{e: e, sid: open.SID}
}

func (p *pollSession) query() string {
	return "EIO=4&transport=polling&sid=" + url.QueryEscape(p.sid)
}

// post sends Socket.IO packets, each as an Engine.IO message.
func (p *pollSession) post(packets ...string) {
	p.e.t.Helper()
	parts := make([]string, len(packets))
	for i, s := range packets {
		parts[i] = "4" + s
	}
	status, body, err := p.e.httpDo(http.MethodPost, p.query(), strings.Join(parts, "\x1e"))
	if err != nil || status != http.StatusOK || body != "ok" {
		p.e.t.Fatalf("POST: %d %q %v", status, body, err)
	}
}

// poll returns the next n Socket.IO packets, answering pings.
func (p *pollSession) poll(n int) []string {
	p.e.t.Helper()
	var out []string
	for len(out) < n {
		status, body, err := p.e.httpDo(http.MethodGet, p.query(), "")
		if err != nil || status != http.StatusOK {
			p.e.t.Fatalf("GET: %d %q %v", status, body, err)
		}
		for _, pk := range strings.Split(body, "\x1e") {
			switch {
			case pk == "2":
				status, body, err := p.e.httpDo(http.MethodPost, p.query(), "3")
				if err != nil || status != http.StatusOK {
					p.e.t.Fatalf("pong: %d %q %v", status, body, err)
				}
			case strings.HasPrefix(pk, "4"):
				out = append(out, pk[1:])
			case pk == "6":
			default:
				p.e.t.Fatalf("unexpected polling packet %q", pk)
			}
		}
	}
	return out
}

// closeSession sends the Engine.IO close packet.
func (p *pollSession) closeSession() {
	_, _, _ = p.e.httpDo(http.MethodPost, p.query(), "1")
}
