package eiotest

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/siokit/siokit/core/engineio"
)

// waitTimeout bounds every wait of the kit, so a broken engine fails a
// scenario instead of hanging the test binary.
const waitTimeout = 5 * time.Second

// harness is one server under test: an echo engine mounted by the adapter,
// an HTTP client and a WebSocket dialer of its own, and a record of close
// reasons.
type harness struct {
	t    *testing.T
	srv  *engineio.Server
	base string // http://host:port
	path string // the engine's path, with trailing slash

	tr     *http.Transport
	client *http.Client
	dialer websocket.Dialer

	mu     sync.Mutex
	closes map[string]chan closeEvent
	conns  []*websocket.Conn
	hooks  hooks
}

// closeEvent is what OnClose saw.
type closeEvent struct {
	reason    string
	transport string
}

// start mounts a new echo server with opts. It registers, in this order so
// that they run in reverse, a goroutine-leak check that covers everything
// the scenario started, the adapter's shutdown, then the server's.
func start(t *testing.T, mount Mount, opts engineio.Options) *harness {
	t.Helper()
	return startWith(t, mount, opts, hooks{})
}

// hooks customise the echo server; they are set before it serves.
type hooks struct {
	// connection runs first in OnConnection.
	connection func(s *engineio.Session)
	// message runs for each message; returning true skips the echo.
	message func(s *engineio.Session, data []byte, binary bool) bool
}

// startWith is start with hooks.
func startWith(t *testing.T, mount Mount, opts engineio.Options, hk hooks) *harness {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })

	if opts.PingInterval == 0 {
		// Long enough that pings never meet a scenario that does not expect them.
		opts.PingInterval = 10 * time.Second
		opts.PingTimeout = 5 * time.Second
	}
	h := &harness{t: t, closes: make(map[string]chan closeEvent), hooks: hk}
	h.srv = engineio.NewServer(&opts)
	h.path = h.srv.Options().Path
	h.srv.OnConnection = func(s *engineio.Session) {
		if h.hooks.connection != nil {
			h.hooks.connection(s)
		}
		s.OnMessage(func(data []byte, binary bool) {
			if h.hooks.message != nil && h.hooks.message(s, data, binary) {
				return
			}
			_ = s.Send(data, binary)
		})
		s.OnClose(func(reason string) {
			h.closeChan(s.ID()) <- closeEvent{reason: reason, transport: s.Transport()}
		})
	}
	h.base = strings.TrimSuffix(mount(t, h.srv), "/")
	h.tr = &http.Transport{MaxIdleConnsPerHost: 64}
	h.client = &http.Client{Transport: h.tr, Timeout: waitTimeout}
	h.dialer = websocket.Dialer{HandshakeTimeout: waitTimeout}
	if strings.HasPrefix(h.base, "https:") {
		// A loopback test server with its own certificate.
		h.tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // G402: the kit's own loopback test server
		h.dialer.TLSClientConfig = h.tr.TLSClientConfig
	}
	t.Cleanup(func() {
		h.mu.Lock()
		for _, c := range h.conns {
			c.Close()
		}
		h.mu.Unlock()
		if err := h.srv.Close(); err != nil {
			t.Errorf("Server.Close: %v", err)
		}
		h.tr.CloseIdleConnections()
	})
	return h
}

func (h *harness) closeChan(sid string) chan closeEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := h.closes[sid]
	if ch == nil {
		ch = make(chan closeEvent, 1)
		h.closes[sid] = ch
	}
	return ch
}

// waitClose waits for sid's close callback and returns its reason. It also
// checks that the session has left the server.
func (h *harness) waitClose(sid string) closeEvent {
	h.t.Helper()
	select {
	case ev := <-h.closeChan(sid):
		if h.srv.Session(sid) != nil {
			h.t.Errorf("session %s still registered after its close callback", sid)
		}
		return ev
	case <-time.After(waitTimeout):
		h.t.Fatalf("session %s: no close callback within %v", sid, waitTimeout)
		return closeEvent{}
	}
}

// expectReason waits for sid's close and checks its reason.
func (h *harness) expectReason(sid, want string) {
	h.t.Helper()
	if got := h.waitClose(sid).reason; got != want {
		h.t.Errorf("session %s closed with reason %q, want %q", sid, got, want)
	}
}

// url returns the engine URL with query q.
func (h *harness) url(q string) string { return h.base + h.path + "?" + q }

func (h *harness) wsURL(q string) string {
	return "ws" + strings.TrimPrefix(h.url(q), "http")
}

// response is an HTTP answer read in full.
type response struct {
	status int
	header http.Header
	body   string
}

// doErr sends one request; hdr values are set as given, so tests can send
// headers that a browser would not.
func (h *harness) doErr(method, q string, body io.Reader, hdr map[string]string) (response, error) {
	req, err := http.NewRequestWithContext(context.Background(), method, h.url(q), body)
	if err != nil {
		return response{}, err
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	res, err := h.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b)}, nil
}

func (h *harness) do(method, q string, body io.Reader, hdr map[string]string) response {
	h.t.Helper()
	res, err := h.doErr(method, q, body, hdr)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, q, err)
	}
	return res
}

// openPacket is the JSON of an open packet.
type openPacket struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	MaxPayload   int64    `json:"maxPayload"`
}

func parseOpen(body string) (openPacket, error) {
	var o openPacket
	rest, ok := strings.CutPrefix(body, "0")
	if !ok {
		return o, fmt.Errorf("open packet %q does not start with 0", body)
	}
	if err := json.Unmarshal([]byte(rest), &o); err != nil {
		return o, fmt.Errorf("open packet %q: %w", body, err)
	}
	if o.SID == "" {
		return o, fmt.Errorf("open packet %q has no sid", body)
	}
	return o, nil
}

func (h *harness) openErr(hdr map[string]string) (openPacket, error) {
	res, err := h.doErr(http.MethodGet, "EIO=4&transport=polling", nil, hdr)
	if err != nil {
		return openPacket{}, err
	}
	if res.status != http.StatusOK {
		return openPacket{}, fmt.Errorf("handshake: status %d, body %q", res.status, res.body)
	}
	return parseOpen(res.body)
}

// open makes a polling handshake and returns the session id.
func (h *harness) open() string {
	h.t.Helper()
	o, err := h.openErr(nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return o.SID
}

func sidQuery(sid string) string {
	return "EIO=4&transport=polling&sid=" + url.QueryEscape(sid)
}

func (h *harness) pollErr(sid string) ([]string, error) {
	res, err := h.doErr(http.MethodGet, sidQuery(sid), nil, nil)
	if err != nil {
		return nil, err
	}
	if res.status != http.StatusOK {
		return nil, fmt.Errorf("poll: status %d, body %q", res.status, res.body)
	}
	return strings.Split(res.body, "\x1e"), nil
}

// poll makes one long-polling GET and returns the payload's packets as
// they were encoded ("4hello", "bAQID", "2").
func (h *harness) poll(sid string) []string {
	h.t.Helper()
	ps, err := h.pollErr(sid)
	if err != nil {
		h.t.Fatal(err)
	}
	return ps
}

// pollMessages polls until n message packets have arrived, answering pings.
func (h *harness) pollMessagesErr(sid string, n int) ([]string, error) {
	var got []string
	for len(got) < n {
		ps, err := h.pollErr(sid)
		if err != nil {
			return got, err
		}
		for _, p := range ps {
			switch {
			case p == "2":
				if err := h.postErr(sid, "3"); err != nil {
					return got, err
				}
			case p == "6":
			case strings.HasPrefix(p, "4"), strings.HasPrefix(p, "b"):
				got = append(got, p)
			default:
				return got, fmt.Errorf("unexpected packet %q while waiting for messages", p)
			}
		}
	}
	return got, nil
}

func (h *harness) postErr(sid, payload string) error {
	res, err := h.doErr(http.MethodPost, sidQuery(sid), strings.NewReader(payload),
		map[string]string{"Content-Type": "text/plain;charset=UTF-8"})
	if err != nil {
		return err
	}
	if res.status != http.StatusOK || res.body != "ok" {
		return fmt.Errorf("post %q: status %d, body %q", payload, res.status, res.body)
	}
	return nil
}

// post sends a polling payload and expects "ok".
func (h *harness) post(sid, payload string) {
	h.t.Helper()
	if err := h.postErr(sid, payload); err != nil {
		h.t.Fatal(err)
	}
}

// expectError checks an Engine.IO error answer: status and the JSON body
// {"code":code,"message":msg}; an empty msg is not compared.
func expectError(t testing.TB, res response, status, code int, msg string) {
	t.Helper()
	if res.status != status {
		t.Errorf("status %d, want %d (body %q)", res.status, status, res.body)
	}
	var body struct {
		Code    *int    `json:"code"`
		Message *string `json:"message"`
	}
	if err := json.Unmarshal([]byte(res.body), &body); err != nil || body.Code == nil || body.Message == nil {
		t.Errorf("body %q is not {\"code\":N,\"message\":...}", res.body)
		return
	}
	if *body.Code != code {
		t.Errorf("code %d, want %d (body %q)", *body.Code, code, res.body)
	}
	if msg != "" && *body.Message != msg {
		t.Errorf("message %q, want %q", *body.Message, msg)
	}
}

// dialErr opens a WebSocket with query q and extra headers. It returns the
// status of the handshake response, 0 when there was none.
func (h *harness) dialErr(q string, hdr http.Header) (*websocket.Conn, int, error) {
	c, res, err := h.dialer.Dial(h.wsURL(q), hdr)
	status := 0
	if res != nil {
		status = res.StatusCode
		if res.Body != nil {
			res.Body.Close()
		}
	}
	if err != nil {
		return nil, status, err
	}
	h.mu.Lock()
	h.conns = append(h.conns, c)
	h.mu.Unlock()
	return c, status, nil
}

func (h *harness) dial(q string) *websocket.Conn {
	h.t.Helper()
	c, _, err := h.dialErr(q, nil)
	if err != nil {
		h.t.Fatalf("dial %s: %v", q, err)
	}
	return c
}

// wsOpenErr opens a WebSocket-only session and returns it with its open packet.
func (h *harness) wsOpenErr() (*websocket.Conn, openPacket, error) {
	c, _, err := h.dialErr("EIO=4&transport=websocket", nil)
	if err != nil {
		return nil, openPacket{}, err
	}
	typ, data, err := readWS(c)
	if err != nil {
		return nil, openPacket{}, err
	}
	if typ != websocket.TextMessage {
		return nil, openPacket{}, fmt.Errorf("open packet in a frame of type %d", typ)
	}
	o, err := parseOpen(string(data))
	return c, o, err
}

func (h *harness) wsOpen() (*websocket.Conn, openPacket) {
	h.t.Helper()
	c, o, err := h.wsOpenErr()
	if err != nil {
		h.t.Fatal(err)
	}
	return c, o
}

// readWS reads one message within waitTimeout.
func readWS(c *websocket.Conn) (int, []byte, error) {
	_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
	return c.ReadMessage()
}

// readMessage reads the next message packet, answering pings on the way.
// It returns text packets with their type digit ("4hello") and binary
// frames as "b" + base64, like a polling payload.
func readMessage(c *websocket.Conn) (string, error) {
	for {
		typ, data, err := readWS(c)
		if err != nil {
			return "", err
		}
		if typ == websocket.BinaryMessage {
			return "b" + base64.StdEncoding.EncodeToString(data), nil
		}
		if string(data) == "2" {
			if err := c.WriteMessage(websocket.TextMessage, []byte("3")); err != nil {
				return "", err
			}
			continue
		}
		return string(data), nil
	}
}

// expectWS reads one message packet and compares it with want.
func expectWS(t testing.TB, c *websocket.Conn, want string) {
	t.Helper()
	got, err := readMessage(c)
	if err != nil {
		t.Fatalf("waiting for %q: %v", want, err)
	}
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// expectWSClosed reads until the connection fails; any message packet on
// the way is a failure.
func expectWSClosed(t testing.TB, c *websocket.Conn) {
	t.Helper()
	_ = waitWSClosed(t, c)
}

// waitWSClosed reads until the connection fails and returns the error;
// any message packet on the way is a failure.
func waitWSClosed(t testing.TB, c *websocket.Conn) error {
	t.Helper()
	for {
		typ, data, err := readWS(c)
		if err != nil {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("connection still open after %v", waitTimeout)
			}
			return err
		}
		if typ == websocket.TextMessage && (string(data) == "2" || string(data) == "1") {
			continue
		}
		t.Fatalf("unexpected message %q before close", data)
	}
}

func writeText(t testing.TB, c *websocket.Conn, s string) {
	t.Helper()
	if err := c.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		t.Fatalf("write %q: %v", s, err)
	}
}

func b64(b []byte) string { return "b" + base64.StdEncoding.EncodeToString(b) }
