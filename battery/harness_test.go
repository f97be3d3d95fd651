package battery

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/eiotest"
	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/siotest"
	"github.com/siokit/siokit/core/socketio"
)

// mounts lists the adapters every item runs through; adding an adapter is
// one line.
var mounts = []struct {
	name  string
	mount eiotest.Mount
}{
	{"siohttp", mountHTTP},
	{"siofiber", mountFiber},
}

// mountHTTP serves h with siohttp.Handler on an httptest server.
func mountHTTP(t testing.TB, h engineio.Handler) string {
	ts := httptest.NewServer(siohttp.Handler(h))
	t.Cleanup(ts.Close)
	return ts.URL
}

// eachMount runs fn as one subtest per mount.
func eachMount(t *testing.T, fn func(t *testing.T, mount eiotest.Mount)) {
	for _, m := range mounts {
		t.Run(m.name, func(t *testing.T) { fn(t, m.mount) })
	}
}

// wait bounds every wait of the battery.
const wait = 5 * time.Second

// full reports whether SIOKIT_BATTERY_FULL asks for the battery's full
// repetition counts.
var full = os.Getenv("SIOKIT_BATTERY_FULL") != ""

// reps returns n, or the battery's 10,000 when SIOKIT_BATTERY_FULL is set.
func reps(n int) int {
	if full {
		return 10_000
	}
	return n
}

// heapBound is the growth of HeapInuse allowed over an item's repetitions:
// generous, since pools, lingering sessions and GC timing move it by a few
// MiB, but far below what a per-repetition leak of a session, a buffer or a
// goroutine stack would add up to.
const heapBound = 8 << 20

// item is the repeated part of a battery test.
type item struct {
	opts  socketio.Options
	setup func(srv *socketio.Server)
	// reps is how many times probe runs after a first, warm-up run.
	reps int
	// probe delivers the bad input once and checks the server's answer.
	probe func(t *testing.T, e *env, i int)
}

// env is a server under test with the battery's own HTTP client.
type env struct {
	*siotest.Env
	t      *testing.T
	tr     *http.Transport
	client *http.Client
	host   string // host:port
}

// newEnv mounts a Socket.IO server (with an "echo" handler on "/") and
// registers the goroutine-leak check that runs after everything else.
func newEnv(t *testing.T, mount eiotest.Mount, opts socketio.Options, setup func(*socketio.Server)) *env {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	if opts.Engine.PingInterval == 0 {
		// Long enough that no ping meets a probe that does not expect one.
		opts.Engine.PingInterval = 10 * time.Second
		opts.Engine.PingTimeout = 5 * time.Second
	}
	e := &env{Env: siotest.Start(t, mount, opts, setup), t: t}
	e.tr = &http.Transport{MaxIdleConnsPerHost: 16}
	e.client = &http.Client{Transport: e.tr, Timeout: wait}
	t.Cleanup(e.tr.CloseIdleConnections)
	u, err := url.Parse(e.URL(""))
	if err != nil {
		t.Fatal(err)
	}
	e.host = u.Host
	return e
}

// run checks the common expectations around it.probe: a healthy client
// joins first; the probe runs once, then it.reps times while HeapInuse
// (after GC) and the goroutine count are compared before and after; the
// healthy client and a new one still get their answers; the sessions left
// are the healthy client's; and goleak checks the end.
func run(t *testing.T, mount eiotest.Mount, it item) {
	t.Helper()
	e := newEnv(t, mount, it.opts, it.setup)
	healthy := e.Dial()
	healthy.Connect("/", "")
	healthy.RoundTrip("/", 1)

	it.probe(t, e, 0)
	e.settle()
	g0 := runtime.NumGoroutine()
	h0 := heapInuse()
	start := time.Now()
	for i := 1; i <= it.reps && !t.Failed(); i++ {
		it.probe(t, e, i)
	}
	elapsed := time.Since(start)
	e.settle()
	h1 := heapInuse()
	if growth := int64(h1) - int64(h0); growth > heapBound {
		t.Errorf("HeapInuse grew by %d KiB over %d repetitions (bound %d KiB)", growth>>10, it.reps, heapBound>>10)
	}
	g1 := waitGoroutines(g0)
	if g1 > g0+2 {
		t.Errorf("%d goroutines after %d repetitions, %d before", g1, it.reps, g0)
	}
	healthy.RoundTrip("/", 2)
	e.Healthy()
	t.Logf("%d repetitions in %v; HeapInuse %+d KiB; goroutines %d -> %d",
		it.reps, elapsed.Round(time.Millisecond), (int64(h1)-int64(h0))>>10, g0, g1)
}

// settle closes idle HTTP connections and waits until the only open
// session is the healthy client's.
func (e *env) settle() {
	e.t.Helper()
	e.tr.CloseIdleConnections()
	e.CloseIdle()
	waitFor(e.t, "the sessions to close", func() bool { return e.Server().Engine().Count() <= 1 })
}

func heapInuse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// waitGoroutines waits up to a few seconds for the goroutine count to fall
// to limit and returns the last count.
func waitGoroutines(limit int) int {
	deadline := time.Now().Add(wait)
	for {
		n := runtime.NumGoroutine()
		if n <= limit || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitFor polls cond until it holds or the battery's timeout passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recv waits for a value on ch.
func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// do sends one request to the engine with the battery's client; hdr values
// are set as given.
func (e *env) do(method, query string, body io.Reader, hdr map[string]string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, e.URL(query), body)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, query, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading the body: %v", method, query, err)
	}
	return res.StatusCode, string(b)
}

// expectError checks an Engine.IO error answer; an empty msg is not compared.
func expectError(t testing.TB, status int, body string, wantStatus, wantCode int, msg string) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("status %d, want %d (body %q)", status, wantStatus, body)
		return
	}
	var b struct {
		Code    *int    `json:"code"`
		Message *string `json:"message"`
	}
	if err := json.Unmarshal([]byte(body), &b); err != nil || b.Code == nil || b.Message == nil {
		t.Errorf("body %q is not {\"code\":N,\"message\":...}", body)
		return
	}
	if *b.Code != wantCode {
		t.Errorf("code %d, want %d (body %q)", *b.Code, wantCode, body)
	}
	if msg != "" && *b.Message != msg {
		t.Errorf("message %q, want %q", *b.Message, msg)
	}
}

// openPolling makes a polling handshake and returns the session id.
func (e *env) openPolling() string {
	e.t.Helper()
	status, body := e.do(http.MethodGet, "EIO=4&transport=polling", nil, nil)
	if status != http.StatusOK || !strings.HasPrefix(body, "0") {
		e.t.Fatalf("polling handshake: %d %q", status, body)
	}
	var open struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal([]byte(body[1:]), &open); err != nil || open.SID == "" {
		e.t.Fatalf("open packet %q: %v", body, err)
	}
	return open.SID
}

func sidQuery(sid string) string { return "EIO=4&transport=polling&sid=" + url.QueryEscape(sid) }

// post sends a polling payload and expects "ok".
func (e *env) post(sid, payload string) {
	e.t.Helper()
	status, body := e.do(http.MethodPost, sidQuery(sid), strings.NewReader(payload), map[string]string{"Content-Type": "text/plain;charset=UTF-8"})
	if status != http.StatusOK || body != "ok" {
		e.t.Fatalf("POST %q: %d %q", payload, status, body)
	}
}

// poll makes one long-polling GET and returns its packets.
func (e *env) poll(sid string) []string {
	e.t.Helper()
	status, body := e.do(http.MethodGet, sidQuery(sid), nil, nil)
	if status != http.StatusOK {
		e.t.Fatalf("GET: %d %q", status, body)
	}
	return strings.Split(body, "\x1e")
}

// closePolling ends a polling session from the client side and drains the
// answer a lingering session keeps for its next poll.
func (e *env) closePolling(sid string) {
	e.t.Helper()
	e.post(sid, "1")
	waitFor(e.t, "the session to close", func() bool { return e.Server().Engine().Session(sid) == nil })
}

// rawRequest writes a raw HTTP/1.1 request (so headers no client would send
// can be tested) and returns the status and body of the answer.
func (e *env) rawRequest(head string) (int, string) {
	e.t.Helper()
	c, err := net.DialTimeout("tcp", e.host, wait)
	if err != nil {
		e.t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	_ = c.SetDeadline(time.Now().Add(wait))
	if _, err := io.WriteString(c, head); err != nil {
		e.t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		e.t.Fatalf("reading the answer to %q: %v", head, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// wsConn is a WebSocket spoken in raw frames over TCP, for frames that a
// WebSocket library refuses to send.
type wsConn struct {
	net.Conn
	br *bufio.Reader
}

// wsHandshakeRequest returns an upgrade request for query.
func (e *env) wsHandshakeRequest(query string, extra string) string {
	var key [16]byte
	_, _ = rand.Read(key[:])
	u, _ := url.Parse(e.URL(query))
	return "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + e.host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key[:]) + "\r\n" + extra + "\r\n"
}

// dialRaw sends an upgrade request for a WebSocket handshake; when wait101
// is set it reads the 101 answer (checking the accept key is not needed for
// these tests).
func (e *env) dialRaw(wait101 bool) *wsConn {
	e.t.Helper()
	c, err := net.DialTimeout("tcp", e.host, wait)
	if err != nil {
		e.t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(wait))
	if _, err := io.WriteString(c, e.wsHandshakeRequest("EIO=4&transport=websocket", "")); err != nil {
		e.t.Fatal(err)
	}
	w := &wsConn{Conn: c, br: bufio.NewReader(c)}
	if wait101 {
		res, err := http.ReadResponse(w.br, nil)
		if err != nil || res.StatusCode != http.StatusSwitchingProtocols {
			_ = c.Close()
			e.t.Fatalf("upgrade: %v %v", res, err)
		}
		_ = res.Body.Close() // a 101 has none: the frames after it stay in w.br
	}
	return w
}

// frame encodes one WebSocket frame. first holds FIN, RSV and the opcode.
func frame(first byte, payload []byte, masked bool) []byte {
	b := []byte{first}
	mask := byte(0)
	if masked {
		mask = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, mask|byte(n))
	case n < 1<<16:
		b = append(b, mask|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, mask|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if !masked {
		return append(b, payload...)
	}
	key := [4]byte{1, 2, 3, 4}
	b = append(b, key[:]...)
	for i, c := range payload {
		b = append(b, c^key[i%4])
	}
	return b
}

// readFrame reads one frame from the server (never masked).
func (w *wsConn) readFrame() (opcode byte, payload []byte, err error) {
	var h [2]byte
	if _, err = io.ReadFull(w.br, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		if _, err = io.ReadFull(w.br, l[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		if _, err = io.ReadFull(w.br, l[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(l[:])
	}
	if n > 1<<20 {
		return 0, nil, fmt.Errorf("frame of %d bytes", n)
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(w.br, payload)
	return h[0] & 0x0f, payload, err
}

// expectEnd reads frames until the server ends the connection and returns
// the close frame's status code (0 when none came). It fails the test if the
// connection is still open after the battery's timeout.
func (w *wsConn) expectEnd(t testing.TB) int {
	t.Helper()
	_ = w.SetReadDeadline(time.Now().Add(wait))
	code := 0
	for {
		op, p, err := w.readFrame()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("connection still open after %v", wait)
			}
			return code
		}
		if op == 8 && len(p) >= 2 {
			code = int(binary.BigEndian.Uint16(p))
		}
	}
}
