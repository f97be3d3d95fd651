package battery

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/siokit/siokit/core/eiotest"
	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/socketio"
)

// HTTP requests are cheap: the HTTP-level items run a few hundred times per
// mount (10,000 with SIOKIT_BATTERY_FULL).

func TestBattery01_UnsupportedProtocol(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { eiotest.RunScenario(t, m, "ErrorCodes") })
		run(t, m, item{reps: reps(300), probe: func(t *testing.T, e *env, i int) {
			for _, q := range []string{"transport=polling", "EIO=3&transport=polling", "EIO=abc&transport=polling"} {
				status, body := e.do(http.MethodGet, q, nil, nil)
				expectError(t, status, body, 400, 5, "Unsupported protocol version")
			}
		}})
	})
}

func TestBattery02_UnknownTransport(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		run(t, m, item{reps: reps(200), probe: func(t *testing.T, e *env, i int) {
			for _, q := range []string{"EIO=4&transport=foo", "EIO=4&transport=__proto__", "EIO=4"} {
				status, body := e.do(http.MethodGet, q, nil, nil)
				expectError(t, status, body, 400, 0, "Transport unknown")
			}
			// A WebSocket upgrade for an unknown transport: a plain 400, no upgrade.
			status, _ := e.rawRequest(e.wsHandshakeRequest("EIO=4&transport=foo", "Connection: close\r\n"))
			if status != 400 {
				t.Errorf("upgrade with transport=foo: status %d, want 400", status)
			}
		}})
	})
}

func TestBattery03_BadHandshakeMethodAndUpgrade(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		run(t, m, item{reps: reps(300), probe: func(t *testing.T, e *env, i int) {
			for _, method := range []string{http.MethodPost, http.MethodPut} {
				status, body := e.do(method, "EIO=4&transport=polling", strings.NewReader("4x"), nil)
				expectError(t, status, body, 400, 2, "Bad handshake method")
			}
			status, body := e.do(http.MethodGet, "EIO=4&transport=websocket", nil, nil)
			expectError(t, status, body, 400, 3, "Bad request")
		}})
	})
}

func TestBattery04_OriginControlCharacters(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		run(t, m, item{reps: reps(200), probe: func(t *testing.T, e *env, i int) {
			for _, origin := range []string{"http://a\tb.example", "http://a\x01b.example", "http://a\x7fb.example", "http://a\rb.example", "http://a\nb.example"} {
				head := "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: " + e.host + "\r\nOrigin: " + origin + "\r\nConnection: close\r\n\r\n"
				status, body := e.rawRequest(head)
				if strings.HasPrefix(body, "{") || origin == "http://a\tb.example" {
					// Reached the engine (the HTTP server may refuse a bare
					// CR, LF or other control character itself, with 400).
					expectError(t, status, body, 400, 3, "")
				} else if status != 400 {
					t.Errorf("origin %q: status %d, want 400", origin, status)
				}
			}
		}})
	})
}

func TestBattery05_CrossOrigin(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { eiotest.RunScenario(t, m, "CORS") }) // includes "*"
		run(t, m, item{reps: reps(200), probe: func(t *testing.T, e *env, i int) {
			status, body := e.do(http.MethodGet, "EIO=4&transport=polling", nil, map[string]string{"Origin": "http://evil.example"})
			expectError(t, status, body, 400, 3, "Not an accepted origin.")
			status, _ = e.rawRequest(e.wsHandshakeRequest("EIO=4&transport=websocket", "Origin: http://evil.example\r\nConnection: Upgrade\r\n"))
			if status != 400 {
				t.Errorf("cross-origin WebSocket: status %d, want 400", status)
			}
		}})
		wildcard := socketio.Options{Engine: engineio.Options{CORS: engineio.CORSOptions{AllowedOrigins: []string{"*"}}}}
		run(t, m, item{opts: wildcard, reps: reps(50), probe: func(t *testing.T, e *env, i int) {
			status, body := e.do(http.MethodGet, "EIO=4&transport=polling", nil, map[string]string{"Origin": "http://evil.example"})
			if status != 200 || !strings.HasPrefix(body, "0{") {
				t.Fatalf("cross-origin handshake under *: %d %q", status, body)
			}
			var o struct{ SID string }
			_ = json.Unmarshal([]byte(body[1:]), &o)
			e.closePolling(o.SID)
		}})
	})
}

func TestBattery06_AllowRequestDenies(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { eiotest.RunScenario(t, m, "AllowRequest") })
		opts := socketio.Options{Engine: engineio.Options{AllowRequest: func(r engineio.Request) error {
			if r.Header("X-Deny") != "" {
				return errors.New("go away")
			}
			return nil
		}}}
		run(t, m, item{opts: opts, reps: reps(500), probe: func(t *testing.T, e *env, i int) {
			for _, q := range []string{"EIO=4&transport=polling", "EIO=4&transport=websocket"} {
				hdr := map[string]string{"X-Deny": "1"}
				if strings.HasSuffix(q, "websocket") {
					hdr["Upgrade"], hdr["Connection"] = "websocket", "Upgrade"
					hdr["Sec-WebSocket-Version"], hdr["Sec-WebSocket-Key"] = "13", "dGhlIHNhbXBsZSBub25jZQ=="
				}
				status, body := e.do(http.MethodGet, q, nil, hdr)
				expectError(t, status, body, 403, 4, "go away")
			}
			// No session was created (the healthy client's is the only one).
			if n := e.Server().Engine().Count(); n != 1 {
				t.Fatalf("%d sessions after refused handshakes, want 1", n)
			}
		}})
	})
}

func TestBattery07_MaxConnections(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { eiotest.RunScenario(t, m, "MaxConnections") })
		opts := socketio.Options{Engine: engineio.Options{MaxConnections: 2}} // the healthy client holds one
		run(t, m, item{opts: opts, reps: reps(200), probe: func(t *testing.T, e *env, i int) {
			sid := e.openPolling()
			status, body := e.do(http.MethodGet, "EIO=4&transport=polling", nil, nil)
			expectError(t, status, body, 403, 4, "")
			e.closePolling(sid) // the count goes back down: the next probe's handshake succeeds
		}})
	})
}

var sidRE = regexp.MustCompile(`^[A-Za-z0-9_-]{20,}$`) // 20 base64url characters hold 120 bits

func TestBattery08_SessionIDs(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		seen := make(map[string]bool)
		run(t, m, item{reps: reps(500), probe: func(t *testing.T, e *env, i int) {
			sid := e.openPolling()
			if !sidRE.MatchString(sid) {
				t.Fatalf("session id %q is not at least 120 bits of URL-safe base64", sid)
			}
			if seen[sid] {
				t.Fatalf("session id %q reused", sid)
			}
			seen[sid] = true
			e.closePolling(sid)
		}})
	})
}

func TestBattery09_UnknownOrExpiredSID(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		run(t, m, item{reps: reps(200), probe: func(t *testing.T, e *env, i int) {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				status, body := e.do(method, sidQuery("nope"), strings.NewReader("4x"), nil)
				expectError(t, status, body, 400, 1, "Session ID unknown")
			}
			sid := e.openPolling()
			e.closePolling(sid)
			// The first poll after a client close may still get the
			// lingering session's noop; then the id is unknown.
			if status, body := e.do(http.MethodGet, sidQuery(sid), nil, nil); status == 200 {
				status, body = e.do(http.MethodGet, sidQuery(sid), nil, nil)
				expectError(t, status, body, 400, 1, "Session ID unknown")
			} else {
				expectError(t, status, body, 400, 1, "Session ID unknown")
			}
			status, body := e.do(http.MethodPost, sidQuery(sid), strings.NewReader("4x"), nil)
			expectError(t, status, body, 400, 1, "Session ID unknown")
		}})
	})
}

func TestBattery10_ConcurrentPolls(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { eiotest.RunScenario(t, m, "ConcurrentPolls") })
		run(t, m, item{reps: reps(100), probe: func(t *testing.T, e *env, i int) {
			sid := e.openPolling()
			type res struct {
				status int
				body   string
			}
			first := make(chan res, 1)
			go func() {
				s, b := e.do(http.MethodGet, sidQuery(sid), nil, nil)
				first <- res{s, b}
			}()
			time.Sleep(5 * time.Millisecond)
			s2, b2 := e.do(http.MethodGet, sidQuery(sid), nil, nil)
			r1 := recv(t, first, "the first poll")
			refused, pending := res{s2, b2}, r1
			if pending.status != 200 {
				refused, pending = pending, refused
			}
			expectError(t, refused.status, refused.body, 400, 3, "")
			if pending.status != 200 || pending.body != "1" {
				t.Errorf("pending poll: %d %q, want 200 1", pending.status, pending.body)
			}
			status, body := e.do(http.MethodGet, sidQuery(sid), nil, nil)
			expectError(t, status, body, 400, 1, "")
		}})
	})
}

// countingReader counts the bytes the server reads from a chunked body.
type countingReader struct {
	mu   sync.Mutex
	n    int
	left int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), c.left, 32<<10)
	for i := range n {
		p[i] = 'x'
	}
	if c.n == 0 {
		p[0] = '4'
	}
	c.n += n
	c.left -= n
	return n, nil
}

func TestBattery11_PostTooLarge(t *testing.T) {
	const limit = 10_000
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { eiotest.RunScenario(t, m, "PostLimit") })
		opts := socketio.Options{Engine: engineio.Options{MaxHTTPBufferSize: limit}}
		run(t, m, item{opts: opts, reps: reps(100), probe: func(t *testing.T, e *env, i int) {
			// By Content-Length.
			sid := e.openPolling()
			status, body := e.do(http.MethodPost, sidQuery(sid), strings.NewReader("4"+strings.Repeat("x", limit)), nil)
			expectError(t, status, body, 413, 3, "")
			waitFor(t, "the session to close", func() bool { return e.Server().Engine().Session(sid) == nil })
			status, body = e.do(http.MethodGet, sidQuery(sid), nil, nil)
			expectError(t, status, body, 400, 1, "")
			// Chunked (no Content-Length), every tenth time 20 MB: the server
			// answers once it has counted limit+1 bytes and stops reading
			// soon after (the HTTP server may discard some more, and the
			// socket buffers hold a few MB).
			sid = e.openPolling()
			size := 2 * limit
			if i%10 == 0 {
				size = 20 << 20
			}
			cr := &countingReader{left: size}
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, e.URL(sidQuery(sid)), io.NopCloser(cr))
			res, err := e.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			expectError(t, res.StatusCode, string(b), 413, 3, "")
			cr.mu.Lock()
			read := cr.n
			cr.mu.Unlock()
			if size > 2*limit && read >= size {
				t.Errorf("the whole %d-byte chunked body was read; the server should stop reading past %d", read, limit+1)
			}
			waitFor(t, "the session to close", func() bool { return e.Server().Engine().Session(sid) == nil })
		}})
	})
}

func TestBattery12_PostOctetStream(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		run(t, m, item{reps: reps(300), probe: func(t *testing.T, e *env, i int) {
			sid := e.openPolling()
			status, body := e.do(http.MethodPost, sidQuery(sid), strings.NewReader("40"), map[string]string{"Content-Type": "application/octet-stream"})
			expectError(t, status, body, 400, 3, "")
			e.closePolling(sid)
		}})
	})
}

func TestBattery13_MalformedPayload(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { eiotest.RunScenario(t, m, "MalformedPayload") })
		run(t, m, item{reps: reps(150), probe: func(t *testing.T, e *env, i int) {
			for _, payload := range []string{"abc", "9"} {
				sid := e.openPolling()
				status, body := e.do(http.MethodPost, sidQuery(sid), strings.NewReader(payload), nil)
				expectError(t, status, body, 400, 3, "")
				status, body = e.do(http.MethodGet, sidQuery(sid), nil, nil)
				expectError(t, status, body, 400, 1, "")
			}
		}})
	})
}

// pollSkipNoop polls until a poll brings something other than a noop.
func (e *env) pollSkipNoop(sid string) []string {
	e.t.Helper()
	for {
		if ps := e.poll(sid); !slices.Equal(ps, []string{"6"}) {
			return ps
		}
	}
}

// connectPolling opens a polling session and joins "/".
func (e *env) connectPolling(t testing.TB) string {
	t.Helper()
	sid := e.openPolling()
	e.post(sid, "40")
	if ps := e.poll(sid); len(ps) != 1 || !strings.HasPrefix(ps[0], "40{") {
		t.Fatalf("CONNECT answer %q", ps)
	}
	return sid
}

func TestBattery14_AbortedLongPoll(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		tr := newTracker()
		// A short heartbeat: an adapter that cannot see the client go away
		// (fasthttp) reaps the session by ping timeout instead, so each
		// repetition there waits about 0.45 s: 6 of them.
		opts := socketio.Options{Engine: engineio.Options{PingInterval: 200 * time.Millisecond, PingTimeout: 200 * time.Millisecond}}
		run(t, m, item{opts: opts, setup: tr.setup, reps: reps(6), probe: func(t *testing.T, e *env, i int) {
			sid := e.connectPolling(t)
			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.URL(sidQuery(sid)), nil)
			done := make(chan error, 1)
			go func() {
				res, err := e.client.Do(req)
				if err == nil {
					res.Body.Close()
				}
				done <- err
			}()
			time.Sleep(20 * time.Millisecond)
			cancel()
			if err := recv(t, done, "the aborted poll"); err == nil {
				t.Log("poll answered before the abort")
			}
			if r := tr.reason(t, sid, 50*time.Millisecond); r != "transport close" && r != "ping timeout" {
				t.Errorf("disconnect reason %q, want transport close or ping timeout", r)
			}
		}})
	})
}

// upgrade switches polling session sid to a new WebSocket.
func (e *env) upgrade(t testing.TB, sid string) *websocket.Conn {
	t.Helper()
	c, err := e.dialWS("EIO=4&transport=websocket&sid=" + sid)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.WriteMessage(websocket.TextMessage, []byte("2probe"))
	if got := readText(t, c); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	_ = c.WriteMessage(websocket.TextMessage, []byte("5"))
	return c
}

func TestBattery15_PollingAfterUpgrade(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		run(t, m, item{reps: reps(100), probe: func(t *testing.T, e *env, i int) {
			sid := e.connectPolling(t)
			c := e.upgrade(t, sid)
			defer c.Close()
			waitFor(t, "the upgrade", func() bool {
				s := e.Server().Engine().Session(sid)
				return s != nil && s.Transport() == engineio.TransportWebSocket
			})
			status, body := e.do(http.MethodGet, sidQuery(sid), nil, nil)
			expectError(t, status, body, 400, 3, "")
			status, body = e.do(http.MethodPost, sidQuery(sid), strings.NewReader(`42["x"]`), nil)
			expectError(t, status, body, 400, 3, "")
			_ = c.WriteMessage(websocket.TextMessage, []byte(`421["echo",1]`))
			if got := readText(t, c); got != "431[1]" {
				t.Fatalf("round trip over the upgraded WebSocket: %q", got)
			}
		}})
	})
}

func TestBattery16_NoPong(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { eiotest.RunScenario(t, m, "HeartbeatPolling") })
		tr := newTracker()
		const interval, timeout = 100 * time.Millisecond, 100 * time.Millisecond
		opts := socketio.Options{Engine: engineio.Options{PingInterval: interval, PingTimeout: timeout}}
		// Each repetition waits out a heartbeat: five sessions at a time, few times.
		run(t, m, item{opts: opts, setup: tr.setup, reps: reps(3), probe: func(t *testing.T, e *env, i int) {
			start := time.Now()
			var sids []string
			for range 5 {
				sids = append(sids, e.connectPolling(t))
			}
			for _, sid := range sids {
				if r := tr.reason(t, sid, 0); r != "ping timeout" {
					t.Errorf("disconnect reason %q, want ping timeout", r)
				}
				if e.Server().Engine().Session(sid) != nil {
					t.Errorf("session %s still registered after its ping timeout", sid)
				}
			}
			if d := time.Since(start); d < interval+timeout-20*time.Millisecond {
				t.Errorf("closed after %v, before pingInterval+pingTimeout", d)
			}
		}})
	})
}

func TestBattery17_PongFloodAndClientPing(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		// The first run sends 10,000 unsolicited pongs, the others 1,000.
		run(t, m, item{reps: reps(4), probe: func(t *testing.T, e *env, i int) {
			c := e.Dial()
			c.Connect("/", "")
			n := 1000
			if i == 0 {
				n = 10_000
			}
			for range n {
				if err := c.WriteFrame(websocket.TextMessage, []byte("3")); err != nil {
					t.Fatal(err)
				}
			}
			c.RoundTrip("/", 3)
			_ = c.WriteFrame(websocket.TextMessage, []byte("2")) // a ping from a v4 client
			c.ExpectClosed()
		}})
	})
}

func TestBattery18_InvalidFrames(t *testing.T) {
	frames := []struct {
		name  string
		frame []byte
	}{
		{"RSV bits", frame(0x80|0x40|0x1, []byte("40"), true)},
		{"bad opcode", frame(0x80|0x3, []byte("40"), true)},
		{"unmasked client frame", frame(0x80|0x1, []byte("40"), false)},
	}
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		run(t, m, item{reps: reps(100), probe: func(t *testing.T, e *env, i int) {
			for _, f := range frames {
				// During the handshake: the frame follows the upgrade request
				// before the 101 has been read.
				w := e.dialRaw(false)
				_, _ = w.Write(f.frame)
				res, err := http.ReadResponse(w.br, nil)
				if err == nil && res.StatusCode == http.StatusSwitchingProtocols {
					_ = res.Body.Close() // a 101 has none: the frames after it stay in w.br
					w.expectEnd(t)
				}
				_ = w.Close()
				// After the handshake.
				w = e.dialRaw(true)
				if op, p, err := w.readFrame(); err != nil || op != 1 || p[0] != '0' {
					t.Fatalf("open packet: %d %q %v", op, p, err)
				}
				_, _ = w.Write(f.frame)
				w.expectEnd(t)
				_ = w.Close()
			}
		}})
	})
}

func TestBattery19_NonWebSocketUpgradeAndReset(t *testing.T) {
	// A short upgrade timeout: a WebSocket handshake reset before an
	// adapter that upgrades after returning (fasthttp) could hand over the
	// connection leaves a session that the engine drops after it.
	opts := socketio.Options{Engine: engineio.Options{UpgradeTimeout: 300 * time.Millisecond}}
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		run(t, m, item{opts: opts, reps: reps(200), probe: func(t *testing.T, e *env, i int) {
			status, body := e.do(http.MethodGet, "EIO=4&transport=websocket", nil, map[string]string{"Upgrade": "h2c", "Connection": "Upgrade"})
			expectError(t, status, body, 400, 3, "")
			// Reset during the upgrade: half a request, or the whole of it,
			// then an RST.
			req := e.wsHandshakeRequest("EIO=4&transport=websocket", "")
			for _, part := range []string{req[:len(req)/2], req} {
				c, err := net.DialTimeout("tcp", e.host, wait)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.WriteString(c, part)
				_ = c.(*net.TCPConn).SetLinger(0)
				_ = c.Close()
			}
		}})
	})
}

func TestBattery20_WebSocketMessageTooBig(t *testing.T) {
	const limit = 1000
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { eiotest.RunScenario(t, m, "WebSocketLimit") })
		opts := socketio.Options{Engine: engineio.Options{MaxHTTPBufferSize: limit}}
		run(t, m, item{opts: opts, reps: reps(30), probe: func(t *testing.T, e *env, i int) {
			for _, oneByte := range []bool{false, true} {
				w := e.dialRaw(true)
				if _, _, err := w.readFrame(); err != nil {
					t.Fatal(err)
				}
				msg := []byte("4" + strings.Repeat("x", limit))
				if oneByte {
					// 1-byte fragments: the limit counts the reassembled message.
					var out []byte
					for j, c := range msg {
						first := byte(0x0) // continuation
						if j == 0 {
							first = 0x1
						}
						if j == len(msg)-1 {
							first |= 0x80
						}
						out = append(out, frame(first, []byte{c}, true)...)
					}
					_, _ = w.Write(out)
				} else {
					_, _ = w.Write(frame(0x81, msg, true))
				}
				if code := w.expectEnd(t); code != 1009 {
					t.Errorf("close status %d, want 1009 (one-byte fragments: %v)", code, oneByte)
				}
				_ = w.Close()
			}
		}})
	})
}

func TestBattery21_UpgradeFlushesOnceInOrder(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { eiotest.RunScenario(t, m, "Upgrade") })
		tr := newTracker()
		run(t, m, item{setup: tr.setup, reps: reps(50), probe: func(t *testing.T, e *env, i int) {
			sid := e.connectPolling(t)
			s := tr.socket(t, sid)
			pending := make(chan []string, 1)
			go func() {
				status, body := e.do(http.MethodGet, sidQuery(sid), nil, nil)
				if status != 200 {
					t.Errorf("pending poll: %d %q", status, body)
				}
				pending <- strings.Split(body, "\x1e")
			}()
			time.Sleep(10 * time.Millisecond) // let the poll arrive
			c, err := e.dialWS("EIO=4&transport=websocket&sid=" + sid)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.WriteMessage(websocket.TextMessage, []byte("2probe"))
			if got := readText(t, c); got != "3probe" {
				t.Fatalf("probe answer %q", got)
			}
			if got := recv(t, pending, "the pending poll"); !slices.Equal(got, []string{"6"}) {
				t.Fatalf("pending poll got %q, want [6]", got)
			}
			for _, ev := range []string{"a", "b", "c"} {
				_ = s.Emit(ev)
			}
			_ = c.WriteMessage(websocket.TextMessage, []byte("5"))
			for _, want := range []string{`42["a"]`, `42["b"]`, `42["c"]`} {
				if got := readText(t, c); got != want {
					t.Fatalf("after the upgrade got %q, want %q", got, want)
				}
			}
			_ = c.WriteMessage(websocket.TextMessage, []byte(`421["echo",1]`))
			if got := readText(t, c); got != "431[1]" {
				t.Fatalf("got %q after the flushed packets, want the ack 431[1] (a packet flushed twice?)", got)
			}
			c.Close()
			tr.reason(t, sid, 0)
		}})
	})
}

func TestBattery22_UpgradeTimeoutAndSecondWebSocket(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { eiotest.RunScenario(t, m, "SecondWebSocketAfterUpgrade") })
		tr := newTracker()
		opts := socketio.Options{Engine: engineio.Options{UpgradeTimeout: 100 * time.Millisecond}}
		run(t, m, item{opts: opts, setup: tr.setup, reps: reps(8), probe: func(t *testing.T, e *env, i int) {
			sid := e.connectPolling(t)
			// No "5" within the upgrade timeout: that WebSocket is closed,
			// the session goes on over polling.
			c, err := e.dialWS("EIO=4&transport=websocket&sid=" + sid)
			if err != nil {
				t.Fatal(err)
			}
			_ = c.WriteMessage(websocket.TextMessage, []byte("2probe"))
			if got := readText(t, c); got != "3probe" {
				t.Fatalf("probe answer %q", got)
			}
			expectWSEnd(t, c)
			c.Close()
			e.post(sid, `421["echo",1]`)
			if ps := e.pollSkipNoop(sid); !slices.Equal(ps, []string{"431[1]"}) {
				t.Fatalf("polling after the timed-out upgrade: %q", ps)
			}
			// A second WebSocket on an upgraded session is closed at once.
			ws := e.upgrade(t, sid)
			defer ws.Close()
			second, err := e.dialWS("EIO=4&transport=websocket&sid=" + sid)
			if err == nil {
				expectWSEnd(t, second)
				second.Close()
			}
			_ = ws.WriteMessage(websocket.TextMessage, []byte(`421["echo",2]`))
			if got := readText(t, ws); got != "431[2]" {
				t.Fatalf("upgraded session after a second WebSocket: %q", got)
			}
			ws.Close()
			tr.reason(t, sid, 0)
		}})
	})
}

func TestBattery24_PeerVanishes(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		tr := newTracker()
		// The write deadline reaps the peer; the heartbeat is slow enough
		// that the healthy client keeps up on a loaded machine under -race.
		opts := socketio.Options{Engine: engineio.Options{PingInterval: 300 * time.Millisecond, PingTimeout: 500 * time.Millisecond,
			WriteTimeout: 200 * time.Millisecond}}
		big := strings.Repeat("x", 256<<10)
		run(t, m, item{opts: opts, setup: tr.setup, reps: reps(5), probe: func(t *testing.T, e *env, i int) {
			// A peer that neither reads nor answers: its socket buffers fill
			// and the server's write blocks until the write deadline or the
			// ping timeout closes the connection.
			w := e.dialRaw(true)
			defer func() { _ = w.Close() }()
			_, open, err := w.readFrame()
			if err != nil {
				t.Fatal(err)
			}
			var o struct{ SID string }
			_ = json.Unmarshal(open[1:], &o)
			_, _ = w.Write(frame(0x81, []byte("40"), true))
			s := tr.socket(t, o.SID)
			stop := make(chan struct{})
			go func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if s.Emit("big", big) != nil {
						return
					}
					time.Sleep(time.Millisecond)
				}
			}()
			r := tr.reason(t, o.SID, 0)
			close(stop)
			if r != "ping timeout" && r != "transport error" {
				t.Errorf("disconnect reason %q, want ping timeout or transport error", r)
			}
		}})
	})
}
