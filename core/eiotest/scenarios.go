package eiotest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/siokit/siokit/core/engineio"
)

var scenarios = []scenario{
	{"PollingHandshake", testPollingHandshake},
	{"PollingMessages", testPollingMessages},
	{"WebSocketOnly", testWebSocketOnly},
	{"Upgrade", testUpgrade},
	{"SecondWebSocketAfterUpgrade", testSecondWebSocket},
	{"HeartbeatPolling", testHeartbeatPolling},
	{"HeartbeatWebSocket", testHeartbeatWebSocket},
	{"CloseFromClient", testCloseFromClient},
	{"CloseFromServer", testCloseFromServer},
	{"ErrorCodes", testErrorCodes},
	{"AllowRequest", testAllowRequest},
	{"CORS", testCORS},
	{"PostLimit", testPostLimit},
	{"WebSocketLimit", testWebSocketLimit},
	{"ConcurrentPolls", testConcurrentPolls},
	{"MalformedPayload", testMalformedPayload},
	{"MaxConnections", testMaxConnections},
	{"ConcurrentSessions", testConcurrentSessions},
	{"ServerClose", testServerClose},
	{"Compression", testCompression},
	{"CORSScheme", testCORSScheme},
	{"PerAddressCap", testPerAddressCap},
	{"Shutdown", testShutdown},
	{"CloseDuringUpgrade", testCloseDuringUpgrade},
	{"Drop", testDrop},
}

func testPollingHandshake(t *testing.T, mount Mount) {
	handshakes := make(chan *engineio.Handshake, 64)
	h := startWith(t, mount, engineio.Options{PingInterval: 3 * time.Second, PingTimeout: 2 * time.Second, MaxHTTPBufferSize: 12345},
		hooks{connection: func(s *engineio.Session) { handshakes <- s.Handshake() }})
	res := h.do(http.MethodGet, "EIO=4&transport=polling&foo=bar", nil, nil)
	if res.status != http.StatusOK {
		t.Fatalf("status %d, body %q", res.status, res.body)
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want text/plain", ct)
	}
	o, err := parseOpen(res.body)
	if err != nil {
		t.Fatal(err)
	}
	want := openPacket{SID: o.SID, Upgrades: []string{"websocket"}, PingInterval: 3000, PingTimeout: 2000, MaxPayload: 12345}
	if !slices.Equal(o.Upgrades, want.Upgrades) || o.PingInterval != want.PingInterval ||
		o.PingTimeout != want.PingTimeout || o.MaxPayload != want.MaxPayload {
		t.Errorf("open packet %+v, want %+v", o, want)
	}
	if got := <-handshakes; got.Query.Get("foo") != "bar" || got.Path != h.path {
		t.Errorf("Handshake %+v does not hold the request's query and path", got)
	}
	if h.srv.Session(o.SID) == nil {
		t.Errorf("no session %s on the server", o.SID)
	}

	// Session ids: at least 120 bits in URL-safe characters, never reused.
	seen := map[string]bool{o.SID: true}
	for range 30 {
		sid := h.open()
		if len(sid)*6 < 120 {
			t.Errorf("sid %q carries fewer than 120 bits", sid)
		}
		if i := strings.IndexFunc(sid, func(r rune) bool { return !urlSafe(r) }); i >= 0 {
			t.Errorf("sid %q is not URL-safe", sid)
		}
		if seen[sid] {
			t.Errorf("sid %q reused", sid)
		}
		seen[sid] = true
	}
	if n := h.srv.Count(); n != 31 {
		t.Errorf("Count() = %d, want 31", n)
	}
}

// urlSafe reports whether r is in the URL-safe base64 alphabet.
func urlSafe(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}

func testPollingMessages(t *testing.T, mount Mount) {
	h := start(t, mount, engineio.Options{})
	sid := h.open()

	// Client to server: several packets, text and binary, in one payload.
	bin := []byte{0, 1, 2, 0xfe, 0xff}
	sent := []string{"4hello", "4", "4héllo \u2028 wörld", b64(bin), b64(nil)}
	h.post(sid, strings.Join(sent, "\x1e"))
	got, err := h.pollMessagesErr(sid, len(sent))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, sent) {
		t.Errorf("echo %q, want %q", got, sent)
	}

	// Server to client: what is queued before a poll leaves in one payload.
	s := h.srv.Session(sid)
	for _, m := range []struct {
		data   string
		binary bool
	}{{"a", false}, {"\x00\xff", true}, {"c", false}} {
		if err := s.Send([]byte(m.data), m.binary); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := h.poll(sid), []string{"4a", b64([]byte{0, 0xff}), "4c"}; !slices.Equal(got, want) {
		t.Errorf("payload %q, want %q", got, want)
	}

	// A pending poll returns as soon as a message is queued.
	done := make(chan []string, 1)
	go func() {
		ps, err := h.pollErr(sid)
		if err != nil {
			t.Error(err)
		}
		done <- ps
	}()
	time.Sleep(50 * time.Millisecond)
	if err := s.Send([]byte("late"), false); err != nil {
		t.Fatal(err)
	}
	if got := <-done; !slices.Equal(got, []string{"4late"}) {
		t.Errorf("pending poll returned %q, want [4late]", got)
	}
	h.post(sid, "1")
	h.expectReason(sid, engineio.ReasonTransportClose)
}

func testWebSocketOnly(t *testing.T, mount Mount) {
	h := start(t, mount, engineio.Options{PingInterval: 4 * time.Second, PingTimeout: 3 * time.Second, MaxHTTPBufferSize: 5000})
	c, o := h.wsOpen()
	if len(o.Upgrades) != 0 || o.PingInterval != 4000 || o.PingTimeout != 3000 || o.MaxPayload != 5000 {
		t.Errorf("open packet %+v: want no upgrades and the options' timings", o)
	}
	s := h.srv.Session(o.SID)
	if s == nil {
		t.Fatalf("no session %s on the server", o.SID)
	}
	// A message sent as soon as the client has the open packet arrives.
	_ = s.Send([]byte("early"), false)
	expectWS(t, c, "4early")
	if tr := s.Transport(); tr != engineio.TransportWebSocket {
		t.Errorf("Transport() = %q, want websocket", tr)
	}
	for _, m := range []string{"4hello", "4", "4ünïcode"} {
		writeText(t, c, m)
		expectWS(t, c, m)
	}
	bin := []byte{0, 1, 2, 3, 0xff}
	if err := c.WriteMessage(websocket.BinaryMessage, bin); err != nil {
		t.Fatal(err)
	}
	expectWS(t, c, b64(bin))
	if err := c.WriteMessage(websocket.BinaryMessage, []byte{}); err != nil {
		t.Fatal(err)
	}
	expectWS(t, c, b64(nil))
	// Server-initiated messages arrive as frames of their own type.
	_ = s.Send([]byte("srv"), false)
	_ = s.Send([]byte{9, 8}, true)
	expectWS(t, c, "4srv")
	expectWS(t, c, b64([]byte{9, 8}))
	// Polling requests on a WebSocket session are refused.
	expectError(t, h.do(http.MethodGet, sidQuery(o.SID), nil, nil), 400, 3, "")
	writeText(t, c, "1")
	h.expectReason(o.SID, engineio.ReasonTransportClose)
	expectWSClosed(t, c)
}

func testUpgrade(t *testing.T, mount Mount) {
	h := start(t, mount, engineio.Options{})
	sid := h.open()
	s := h.srv.Session(sid)
	h.post(sid, "4before")
	if got, _ := h.pollMessagesErr(sid, 1); !slices.Equal(got, []string{"4before"}) {
		t.Fatalf("echo before upgrade %q", got)
	}

	pending := make(chan []string, 1)
	go func() {
		ps, err := h.pollErr(sid)
		if err != nil {
			t.Error(err)
		}
		pending <- ps
	}()
	time.Sleep(50 * time.Millisecond) // let the poll arrive first

	c := h.dial("EIO=4&transport=websocket&sid=" + sid)
	writeText(t, c, "2probe")
	expectWS(t, c, "3probe")
	select {
	case ps := <-pending:
		if !slices.Equal(ps, []string{"6"}) {
			t.Errorf("pending poll got %q during the upgrade, want [6]", ps)
		}
	case <-time.After(waitTimeout):
		t.Fatal("pending poll not released by the probe")
	}
	// Messages sent during the upgrade are held for the new transport.
	for _, m := range []string{"q1", "q2", "q3"} {
		if err := s.Send([]byte(m), false); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.Send([]byte{7}, true)
	writeText(t, c, "5")
	for _, want := range []string{"4q1", "4q2", "4q3", b64([]byte{7})} {
		expectWS(t, c, want)
	}
	writeText(t, c, "4after")
	expectWS(t, c, "4after") // nothing was flushed twice before it
	if tr := s.Transport(); tr != engineio.TransportWebSocket {
		t.Errorf("Transport() = %q after the upgrade", tr)
	}

	// Polling on an upgraded sid: 400 code 3; the WebSocket stays up.
	expectError(t, h.do(http.MethodGet, sidQuery(sid), nil, nil), 400, 3, "")
	expectError(t, h.do(http.MethodPost, sidQuery(sid), strings.NewReader("4x"), nil), 400, 3, "")
	writeText(t, c, "4still")
	expectWS(t, c, "4still")
	writeText(t, c, "1")
	if ev := h.waitClose(sid); ev.reason != engineio.ReasonTransportClose || ev.transport != engineio.TransportWebSocket {
		t.Errorf("close %+v, want transport close on websocket", ev)
	}
}

func testSecondWebSocket(t *testing.T, mount Mount) {
	h := start(t, mount, engineio.Options{})
	sid := h.open()
	c := h.dial("EIO=4&transport=websocket&sid=" + sid)
	writeText(t, c, "2probe")
	expectWS(t, c, "3probe")
	writeText(t, c, "5")
	// Another WebSocket for the same sid is closed; the session goes on.
	c2, _, err := h.dialErr("EIO=4&transport=websocket&sid="+sid, nil)
	if err == nil {
		expectWSClosed(t, c2)
	} else if !errors.Is(err, websocket.ErrBadHandshake) {
		t.Fatalf("second websocket: %v", err)
	}
	writeText(t, c, "4hello")
	expectWS(t, c, "4hello")
	writeText(t, c, "1")
	h.expectReason(sid, engineio.ReasonTransportClose)
}

func testHeartbeatPolling(t *testing.T, mount Mount) {
	h := start(t, mount, engineio.Options{PingInterval: 100 * time.Millisecond, PingTimeout: 150 * time.Millisecond})
	sid := h.open()
	for range 2 {
		if got := h.poll(sid); !slices.Equal(got, []string{"2"}) {
			t.Fatalf("poll got %q, want a ping", got)
		}
		h.post(sid, "3")
	}
	// No pong this time: the session is closed for it.
	if got := h.poll(sid); !slices.Equal(got, []string{"2"}) {
		t.Fatalf("poll got %q, want a ping", got)
	}
	h.expectReason(sid, engineio.ReasonPingTimeout)
	expectError(t, h.do(http.MethodGet, sidQuery(sid), nil, nil), 400, 1, "Session ID unknown")
}

func testHeartbeatWebSocket(t *testing.T, mount Mount) {
	h := start(t, mount, engineio.Options{PingInterval: 100 * time.Millisecond, PingTimeout: 150 * time.Millisecond})
	c, o := h.wsOpen()
	for range 3 {
		_, data, err := readWS(c)
		if err != nil || string(data) != "2" {
			t.Fatalf("got %q, %v; want a ping", data, err)
		}
		writeText(t, c, "3")
	}
	h.expectReason(o.SID, engineio.ReasonPingTimeout)
	expectWSClosed(t, c)
	expectError(t, h.do(http.MethodGet, sidQuery(o.SID), nil, nil), 400, 1, "")
}

func testCloseFromClient(t *testing.T, mount Mount) {
	h := start(t, mount, engineio.Options{})
	sid := h.open()
	h.post(sid, "4last\x1e1")
	h.expectReason(sid, engineio.ReasonTransportClose)
	// A poll racing the close POST is answered with a noop, as the official
	// protocol suite expects; so the first poll after it may be one. The
	// session is gone after that.
	if resp := h.do(http.MethodGet, sidQuery(sid), nil, nil); resp.status == http.StatusOK {
		if resp.body != "6" {
			t.Fatalf("poll after the client's close: %q, want a noop or 400", resp.body)
		}
	} else {
		expectError(t, resp, 400, 1, "")
	}
	expectError(t, h.do(http.MethodGet, sidQuery(sid), nil, nil), 400, 1, "")

	c, o := h.wsOpen()
	writeText(t, c, "1")
	h.expectReason(o.SID, engineio.ReasonTransportClose)
	expectWSClosed(t, c)
}

func testCloseFromServer(t *testing.T, mount Mount) {
	h := start(t, mount, engineio.Options{})
	sid := h.open()
	pending := make(chan []string, 1)
	go func() {
		ps, err := h.pollErr(sid)
		if err != nil {
			t.Error(err)
		}
		pending <- ps
	}()
	time.Sleep(50 * time.Millisecond) // let the poll arrive first
	_ = h.srv.Session(sid).Send([]byte("bye"), false)
	if got := <-pending; !slices.Equal(got, []string{"4bye"}) {
		t.Fatalf("poll got %q", got)
	}
	go func() {
		ps, err := h.pollErr(sid)
		if err != nil {
			t.Error(err)
		}
		pending <- ps
	}()
	time.Sleep(100 * time.Millisecond)
	if err := h.srv.Session(sid).Close(); err != nil {
		t.Fatal(err)
	}
	if got := <-pending; !slices.Equal(got, []string{"1"}) {
		t.Errorf("pending poll got %q, want [1]", got)
	}
	h.expectReason(sid, engineio.ReasonForcedClose)

	// With no poll pending, the next poll gets what was queued before the
	// close and the poll after it the close packet, as the official server
	// sends them: clients handle a close packet before the messages of its
	// payload.
	sid = h.open()
	_ = h.srv.Session(sid).Send([]byte("bye"), false)
	_ = h.srv.Session(sid).Close()
	h.expectReason(sid, engineio.ReasonForcedClose)
	if got := h.poll(sid); !slices.Equal(got, []string{"4bye"}) {
		t.Errorf("poll after the close got %q, want [4bye]", got)
	}
	if got := h.poll(sid); !slices.Equal(got, []string{"1"}) {
		t.Errorf("second poll after the close got %q, want [1]", got)
	}
	expectError(t, h.do(http.MethodGet, sidQuery(sid), nil, nil), 400, 1, "")

	c, o := h.wsOpen()
	writeText(t, c, "4hi") // the session has started once the echo comes
	expectWS(t, c, "4hi")
	s := h.srv.Session(o.SID)
	_ = s.Send([]byte("bye"), false)
	_ = s.Close()
	expectWS(t, c, "4bye")
	// Over WebSocket the close is a close frame (1000) and no close
	// packet, as from Node: clients then reconnect.
	if _, data, err := readWS(c); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Errorf("got %q, %v; want a close frame 1000", data, err)
	}
	h.expectReason(o.SID, engineio.ReasonForcedClose)
}

func testErrorCodes(t *testing.T, mount Mount) {
	h := start(t, mount, engineio.Options{})
	cases := []struct {
		name   string
		method string
		query  string
		hdr    map[string]string
		status int
		code   int
		msg    string
	}{
		{"unknown transport", "GET", "EIO=4&transport=foo", nil, 400, 0, "Transport unknown"},
		{"transport __proto__", "GET", "EIO=4&transport=__proto__", nil, 400, 0, "Transport unknown"},
		{"missing transport", "GET", "EIO=4", nil, 400, 0, "Transport unknown"},
		{"unknown sid GET", "GET", "EIO=4&transport=polling&sid=nope", nil, 400, 1, "Session ID unknown"},
		{"unknown sid POST", "POST", "EIO=4&transport=polling&sid=nope", nil, 400, 1, "Session ID unknown"},
		{"POST without sid", "POST", "EIO=4&transport=polling", nil, 400, 2, "Bad handshake method"},
		{"PUT without sid", "PUT", "EIO=4&transport=polling", nil, 400, 2, "Bad handshake method"},
		{"websocket without Upgrade", "GET", "EIO=4&transport=websocket", nil, 400, 3, "Bad request"},
		{"EIO=3", "GET", "EIO=3&transport=polling", nil, 400, 5, "Unsupported protocol version"},
		{"missing EIO", "GET", "transport=polling", nil, 400, 5, "Unsupported protocol version"},
		{"EIO=abc", "GET", "EIO=abc&transport=polling", nil, 400, 5, "Unsupported protocol version"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := h.doErr(tc.method, tc.query, nil, tc.hdr)
			if err != nil {
				t.Fatal(err)
			}
			expectError(t, res, tc.status, tc.code, tc.msg)
		})
	}
	// A WebSocket handshake with a bad query is refused before the upgrade.
	for _, q := range []string{"EIO=3&transport=websocket", "EIO=4&transport=bogus", "EIO=4&transport=websocket&sid=nope"} {
		if _, status, err := h.dialErr(q, nil); err == nil || status != 400 {
			t.Errorf("websocket %s: got %v, want status 400", q, err)
		}
	}
	// Transports restricted to polling: websocket is an unknown transport.
	h2 := start(t, mount, engineio.Options{Transports: []string{engineio.TransportPolling}})
	expectError(t, h2.do("GET", "EIO=4&transport=websocket", nil, map[string]string{"Upgrade": "websocket"}), 400, 0, "")
	if o, err := h2.openErr(nil); err != nil || len(o.Upgrades) != 0 {
		t.Errorf("polling-only server: open %+v, %v; want no upgrades", o, err)
	}
	if n := h.srv.Count() + h2.srv.Count(); n != 1 {
		t.Errorf("%d sessions after refused requests, want 1", n)
	}
}

func testAllowRequest(t *testing.T, mount Mount) {
	var connected atomic.Bool
	h := startWith(t, mount, engineio.Options{AllowRequest: func(r engineio.Request) error {
		if r.Header("X-Token") == "good" {
			return nil
		}
		return errors.New("Go away, " + r.Method())
	}}, hooks{connection: func(*engineio.Session) { connected.Store(true) }})
	expectError(t, h.do("GET", "EIO=4&transport=polling", nil, nil), 403, 4, "Go away, GET")
	_, status, err := h.dialErr("EIO=4&transport=websocket", nil)
	if err == nil || status != http.StatusForbidden {
		t.Errorf("websocket handshake: %v, want status 403", err)
	}
	if connected.Load() || h.srv.Count() != 0 {
		t.Fatalf("a refused handshake created a session (count %d)", h.srv.Count())
	}
	if _, err := h.openErr(map[string]string{"X-Token": "good"}); err != nil {
		t.Errorf("allowed handshake: %v", err)
	}
}

func testCORS(t *testing.T, mount Mount) {
	const refused = "Not an accepted origin."
	h := start(t, mount, engineio.Options{})
	self := h.base // the same origin as the server
	evil := "http://evil.example"

	// Same-origin default: its own origin passes, any other is refused on
	// polling and WebSocket alike.
	res := h.do("GET", "EIO=4&transport=polling", nil, map[string]string{"Origin": self})
	if res.status != 200 || res.header.Get("Access-Control-Allow-Origin") != self {
		t.Errorf("same origin: status %d, ACAO %q", res.status, res.header.Get("Access-Control-Allow-Origin"))
	}
	res = h.do("GET", "EIO=4&transport=polling", nil, map[string]string{"Origin": evil})
	expectError(t, res, 400, 3, refused)
	if v := res.header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Errorf("refused origin got Access-Control-Allow-Origin %q", v)
	}
	if _, status, err := h.dialErr("EIO=4&transport=websocket", http.Header{"Origin": {evil}}); err == nil || status != 400 {
		t.Errorf("cross-origin websocket: %v, want status 400", err)
	}
	if c, _, err := h.dialErr("EIO=4&transport=websocket", http.Header{"Origin": {self}}); err != nil {
		t.Errorf("same-origin websocket: %v", err)
	} else {
		c.Close()
	}
	// Control characters in Origin are a bad request, whatever the policy.
	expectError(t, h.do("GET", "EIO=4&transport=polling", nil, map[string]string{"Origin": "http://a\tb.example"}), 400, 3, "")
	expectRawStatus(t, h, "Origin: http://a\x01b.example", 400)

	// An allow list.
	ok := "https://ok.example"
	h2 := start(t, mount, engineio.Options{CORS: engineio.CORSOptions{AllowedOrigins: []string{ok}}})
	res = h2.do("GET", "EIO=4&transport=polling", nil, map[string]string{"Origin": ok})
	if res.status != 200 || res.header.Get("Access-Control-Allow-Origin") != ok ||
		res.header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("listed origin: status %d, headers %v", res.status, res.header)
	}
	res = h2.do("OPTIONS", "EIO=4&transport=polling", nil, map[string]string{"Origin": ok, "Access-Control-Request-Method": "POST"})
	if res.status/100 != 2 || res.header.Get("Access-Control-Allow-Origin") != ok {
		t.Errorf("preflight: status %d, headers %v", res.status, res.header)
	}
	expectError(t, h2.do("GET", "EIO=4&transport=polling", nil, map[string]string{"Origin": evil}), 400, 3, refused)
	if c, _, err := h2.dialErr("EIO=4&transport=websocket", http.Header{"Origin": {ok}}); err != nil {
		t.Errorf("listed origin websocket: %v", err)
	} else {
		c.Close()
	}

	// "*" allows every origin.
	h3 := start(t, mount, engineio.Options{CORS: engineio.CORSOptions{AllowedOrigins: []string{"*"}}})
	res = h3.do("GET", "EIO=4&transport=polling", nil, map[string]string{"Origin": evil})
	if res.status != 200 || res.header.Get("Access-Control-Allow-Origin") == "" {
		t.Errorf("wildcard: status %d, headers %v", res.status, res.header)
	}
	if c, _, err := h3.dialErr("EIO=4&transport=websocket", http.Header{"Origin": {evil}}); err != nil {
		t.Errorf("wildcard websocket: %v", err)
	} else {
		c.Close()
	}
}

// expectRawStatus sends a handshake with a raw header line that net/http's
// client would refuse to send, and checks the status.
func expectRawStatus(t *testing.T, h *harness, headerLine string, status int) {
	t.Helper()
	host := strings.TrimPrefix(strings.TrimPrefix(h.base, "http://"), "https://")
	conn, err := net.DialTimeout("tcp", host, waitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(waitTimeout))
	if _, err := fmt.Fprintf(conn, "GET %s?EIO=4&transport=polling HTTP/1.1\r\nHost: %s\r\n%s\r\nConnection: close\r\n\r\n", h.path, host, headerLine); err != nil {
		t.Fatalf("raw request with %q: %v", headerLine, err)
	}
	buf := make([]byte, 64)
	n, _ := conn.Read(buf)
	var got int
	if _, err := fmt.Sscanf(string(buf[:n]), "HTTP/1.1 %d", &got); err != nil || got != status {
		t.Errorf("raw request with %q: answer %q, want status %d", headerLine, buf[:n], status)
	}
}

func testPostLimit(t *testing.T, mount Mount) {
	const limit = 1000
	h := start(t, mount, engineio.Options{MaxHTTPBufferSize: limit})
	// At the limit: accepted.
	sid := h.open()
	h.post(sid, "4"+strings.Repeat("x", limit-1))
	if got, err := h.pollMessagesErr(sid, 1); err != nil || len(got) != 1 || len(got[0]) != limit {
		t.Errorf("echo of a payload at the limit: %d packets, %v", len(got), err)
	}
	// Over it by Content-Length.
	res := h.do("POST", sidQuery(sid), strings.NewReader("4"+strings.Repeat("x", limit)), nil)
	if res.status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized POST: status %d, want 413", res.status)
	}
	h.waitClose(sid)
	// Over it in a chunked body, which has no Content-Length.
	sid = h.open()
	body := struct{ *strings.Reader }{strings.NewReader("4" + strings.Repeat("y", 4*limit))}
	res = h.do("POST", sidQuery(sid), body, nil)
	if res.status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized chunked POST: status %d, want 413", res.status)
	}
	h.waitClose(sid)
	expectError(t, h.do("GET", sidQuery(sid), nil, nil), 400, 1, "")
}

func testWebSocketLimit(t *testing.T, mount Mount) {
	const limit = 1000
	h := start(t, mount, engineio.Options{MaxHTTPBufferSize: limit})
	c, o := h.wsOpen()
	writeText(t, c, "4"+strings.Repeat("x", limit-1))
	expectWS(t, c, "4"+strings.Repeat("x", limit-1))
	if err := c.WriteMessage(websocket.BinaryMessage, make([]byte, limit+1)); err != nil {
		t.Fatal(err)
	}
	err := waitWSClosed(t, c)
	if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Errorf("oversized message: connection ended with %v, want close 1009", err)
	}
	h.waitClose(o.SID)
}

func testConcurrentPolls(t *testing.T, mount Mount) {
	h := start(t, mount, engineio.Options{})
	sid := h.open()
	type result struct {
		res response
		err error
	}
	first := make(chan result, 1)
	go func() {
		res, err := h.doErr("GET", sidQuery(sid), nil, nil)
		first <- result{res, err}
	}()
	time.Sleep(50 * time.Millisecond)
	second, err := h.doErr("GET", sidQuery(sid), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r1 := <-first
	if r1.err != nil {
		t.Fatal(r1.err)
	}
	// One of them is refused with 400, the other returns the close packet.
	refused, pending := second, r1.res
	if pending.status != 200 {
		refused, pending = pending, refused
	}
	expectError(t, refused, 400, 3, "")
	if pending.status != 200 || pending.body != "1" {
		t.Errorf("pending poll: status %d, body %q, want 200 1", pending.status, pending.body)
	}
	h.waitClose(sid)
	expectError(t, h.do("GET", sidQuery(sid), nil, nil), 400, 1, "")
}

func testMalformedPayload(t *testing.T, mount Mount) {
	h := start(t, mount, engineio.Options{})
	other := h.open()
	otherWS, otherWSOpen := h.wsOpen()
	for _, payload := range []string{"abc", "9", "4ok\x1e", "bnot base64!", "0", "5", "2"} {
		sid := h.open()
		res := h.do("POST", sidQuery(sid), strings.NewReader(payload), nil)
		if res.status != 400 {
			t.Errorf("payload %q: status %d, want 400", payload, res.status)
		}
		h.expectReason(sid, engineio.ReasonParseError)
		expectError(t, h.do("GET", sidQuery(sid), nil, nil), 400, 1, "")
	}
	for _, msg := range []string{"", "9", "x"} {
		c, o := h.wsOpen()
		writeText(t, c, msg)
		expectWSClosed(t, c)
		h.expectReason(o.SID, engineio.ReasonParseError)
	}
	// The other sessions are untouched.
	h.post(other, "4alive")
	if got, err := h.pollMessagesErr(other, 1); err != nil || !slices.Equal(got, []string{"4alive"}) {
		t.Errorf("other polling session: %q, %v", got, err)
	}
	writeText(t, otherWS, "4alive")
	expectWS(t, otherWS, "4alive")
	if n := h.srv.Count(); n != 2 {
		t.Errorf("Count() = %d, want 2 (%s, %s)", n, other, otherWSOpen.SID)
	}
}

func testMaxConnections(t *testing.T, mount Mount) {
	h := start(t, mount, engineio.Options{MaxConnections: 2})
	a := h.open()
	_, _ = h.wsOpen()
	expectError(t, h.do("GET", "EIO=4&transport=polling", nil, nil), 403, 4, "")
	if _, status, err := h.dialErr("EIO=4&transport=websocket", nil); err == nil || status != 403 {
		t.Errorf("websocket over the cap: %v, want status 403", err)
	}
	h.post(a, "1")
	h.waitClose(a)
	h.open() // the count went back down
}

func testConcurrentSessions(t *testing.T, mount Mount) {
	const n = 50
	h := start(t, mount, engineio.Options{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := echoSession(h, i); err != nil {
				t.Errorf("session %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(waitTimeout)
	for h.srv.Count() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if c := h.srv.Count(); c != 0 {
		t.Errorf("%d sessions left after every client closed", c)
	}
}

// echoSession opens a session (polling for even i, WebSocket for odd),
// exchanges a text and a binary message and closes it.
func echoSession(h *harness, i int) error {
	text := fmt.Sprintf("4message %d", i)
	mark := byte(i & 0xff) // tells the sessions' binary messages apart
	bin := b64([]byte{mark, 0, 0xff})
	if i%2 == 0 {
		o, err := h.openErr(nil)
		if err != nil {
			return err
		}
		if err := h.postErr(o.SID, text+"\x1e"+bin); err != nil {
			return err
		}
		got, err := h.pollMessagesErr(o.SID, 2)
		if err != nil {
			return err
		}
		if !slices.Equal(got, []string{text, bin}) {
			return fmt.Errorf("echo %q", got)
		}
		return h.postErr(o.SID, "1")
	}
	c, _, err := h.wsOpenErr()
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.WriteMessage(websocket.TextMessage, []byte(text)); err != nil {
		return err
	}
	if err := c.WriteMessage(websocket.BinaryMessage, []byte{mark, 0, 0xff}); err != nil {
		return err
	}
	for _, want := range []string{text, bin} {
		got, err := readMessage(c)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("got %q, want %q", got, want)
		}
	}
	return c.WriteMessage(websocket.TextMessage, []byte("1"))
}

func testServerClose(t *testing.T, mount Mount) {
	h := start(t, mount, engineio.Options{})
	sid := h.open()
	pending := make(chan []string, 1)
	go func() {
		ps, err := h.pollErr(sid)
		if err != nil {
			t.Error(err)
		}
		pending <- ps
	}()
	c, o := h.wsOpen()
	time.Sleep(100 * time.Millisecond) // let the poll arrive
	if err := h.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if got := <-pending; !slices.Equal(got, []string{"1"}) {
		t.Errorf("pending poll got %q, want [1]", got)
	}
	if _, data, err := readWS(c); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Errorf("websocket got %q, %v; want a close frame 1000", data, err)
	}
	h.expectReason(sid, engineio.ReasonServerShuttingDown)
	h.expectReason(o.SID, engineio.ReasonServerShuttingDown)
	if h.srv.Count() != 0 {
		t.Errorf("Count() = %d after Close", h.srv.Count())
	}
	expectError(t, h.do("GET", "EIO=4&transport=polling", nil, nil), 403, 4, "")
}

// testCloseDuringUpgrade: a session closed by the server once the probe is
// answered (the client has paused polling) still completes the upgrade,
// flushes what was queued before the close on the new transport, then
// closes it with a close frame (1000), as Node does; closed before the
// probe is answered, the probe's WebSocket just closes.
func testCloseDuringUpgrade(t *testing.T, mount Mount) {
	h := start(t, mount, engineio.Options{})
	for _, tell := range []bool{true, false} {
		sid := h.open()
		s := h.srv.Session(sid)
		pending := make(chan []string, 1)
		go func() {
			ps, err := h.pollErr(sid)
			if err != nil {
				t.Error(err)
			}
			pending <- ps
		}()
		c := h.dial("EIO=4&transport=websocket&sid=" + sid)
		writeText(t, c, "2probe")
		expectWS(t, c, "3probe")
		if ps := <-pending; !slices.Equal(ps, []string{"6"}) {
			t.Fatalf("pending poll got %q during the upgrade, want [6]", ps)
		}
		_ = s.Send([]byte("last"), false)
		if tell {
			_ = s.Close()
		} else {
			s.Drop()
		}
		h.expectReason(sid, engineio.ReasonForcedClose)
		writeText(t, c, "5")
		if tell {
			expectWS(t, c, "4last")
		}
		if _, data, err := readWS(c); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
			t.Errorf("close=%v: got %q, %v; want a close frame 1000 after the upgrade", tell, data, err)
		}
	}

	// Closed before the probe is answered: the WebSocket closes.
	sid := h.open()
	c := h.dial("EIO=4&transport=websocket&sid=" + sid)
	_ = h.srv.Session(sid).Close()
	h.expectReason(sid, engineio.ReasonForcedClose)
	writeText(t, c, "2probe")
	if _, data, err := readWS(c); err == nil {
		t.Errorf("the probe of a closed session got %q", data)
	}
}

// testDrop: Session.Drop ends a connection as a network loss would: over
// WebSocket the connection is cut with no close frame and no close packet;
// over polling the pending poll gets a noop, not the close packet, and the
// next poll "Session ID unknown". Clients reconnect after either.
func testDrop(t *testing.T, mount Mount) {
	h := start(t, mount, engineio.Options{})
	c, o := h.wsOpen()
	writeText(t, c, "4hi") // the session has started once the echo comes
	expectWS(t, c, "4hi")
	h.srv.Session(o.SID).Drop()
	h.expectReason(o.SID, engineio.ReasonForcedClose)
	err := waitWSClosed(t, c)
	var ce *websocket.CloseError
	if errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure { // 1006: no close frame
		t.Errorf("dropped WebSocket got close frame %d, want none", ce.Code)
	}

	sid := h.open()
	pending := make(chan []string, 1)
	go func() {
		ps, err := h.pollErr(sid)
		if err != nil {
			t.Error(err)
		}
		pending <- ps
	}()
	time.Sleep(50 * time.Millisecond) // let the poll arrive first
	h.srv.Session(sid).Drop()
	if got := <-pending; slices.Contains(got, "1") {
		t.Errorf("pending poll got %q, want no close packet", got)
	}
	h.expectReason(sid, engineio.ReasonForcedClose)
	expectError(t, h.do(http.MethodGet, sidQuery(sid), nil, nil), 400, 1, "")
}
