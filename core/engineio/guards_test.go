package engineio

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// logRecords collects the records of a JSON slog handler.
type logRecords struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logRecords) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// records returns the records written so far whose message contains msg.
func (l *logRecords) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if s, _ := m["msg"].(string); strings.Contains(s, msg) {
			out = append(out, m)
		}
	}
	return out
}

func (l *logRecords) logger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: level}))
}

// serveNetHTTP serves srv through the test adapter of client_test.go.
func serveNetHTTP(t *testing.T, srv *Server) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(pollingOnly{srv})
	t.Cleanup(ts.Close)
	return ts
}

func get(t *testing.T, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

// TestLoggedRefusals: a refused origin, a request outside the engine's path
// and an unknown sid are logged at Warn with what a user needs, and a peer
// repeating them gets at most the limiter's burst of records per kind.
func TestLoggedRefusals(t *testing.T) {
	var logs logRecords
	srv := NewServer(&Options{Logger: logs.logger(slog.LevelWarn), CORS: CORSOptions{AllowedOrigins: []string{"https://ok.example"}}})
	ts := serveNetHTTP(t, srv)
	for range 50 {
		res, _ := get(t, ts.URL+DefaultPath+"?EIO=4&transport=polling", map[string]string{"Origin": "https://evil.example"})
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("refused origin: status %d", res.StatusCode)
		}
		get(t, ts.URL+"/api"+DefaultPath+"?EIO=4&transport=polling", nil)
		get(t, ts.URL+DefaultPath+"?EIO=4&transport=polling&sid=nope", nil)
	}
	for _, c := range []struct {
		msg  string
		want map[string]string
	}{
		{"origin refused", map[string]string{"origin": "https://evil.example", "level": "WARN", "remote": "127.0.0.1"}},
		{"outside the engine's path", map[string]string{"path": "/api" + DefaultPath, "enginePath": DefaultPath, "level": "WARN"}},
		{"unknown session id", map[string]string{"sid": "nope", "level": "WARN"}},
	} {
		recs := logs.records(t, c.msg)
		if len(recs) == 0 || len(recs) > 5 {
			t.Errorf("%q: %d records for 50 requests, want 1 to 5", c.msg, len(recs))
			continue
		}
		for k, v := range c.want {
			if got := recs[0][k]; got != v {
				t.Errorf("%q: %s = %v, want %q", c.msg, k, got, v)
			}
		}
	}
	if recs := logs.records(t, "origin refused"); len(recs) > 0 {
		if a, _ := recs[0]["allowed"].([]any); len(a) != 1 || a[0] != "https://ok.example" {
			t.Errorf("origin refused: allowed = %v", recs[0]["allowed"])
		}
	}
}

// TestDefaultLogger: with no Logger the engine writes Warn records to
// slog.Default's handler and nothing below Warn; a discarding logger
// silences it.
func TestDefaultLogger(t *testing.T) {
	var logs logRecords
	prev := slog.Default()
	slog.SetDefault(logs.logger(slog.LevelDebug))
	t.Cleanup(func() { slog.SetDefault(prev) })

	srv := NewServer(nil)
	quiet := NewServer(&Options{Logger: slog.New(slog.DiscardHandler)})
	ts, tq := serveNetHTTP(t, srv), serveNetHTTP(t, quiet)
	get(t, ts.URL+DefaultPath+"?EIO=4&transport=polling&sid=nope", nil)
	get(t, tq.URL+DefaultPath+"?EIO=4&transport=polling&sid=quiet", nil)
	// A session closed by its client: a routine close, logged at Debug only.
	res, body := get(t, ts.URL+DefaultPath+"?EIO=4&transport=polling", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("handshake: %d %s", res.StatusCode, body)
	}
	var open struct{ SID string }
	if err := json.Unmarshal(body[1:], &open); err != nil {
		t.Fatal(err)
	}
	srv.Session(open.SID).close(ReasonTransportClose, false)

	if recs := logs.records(t, "unknown session id"); len(recs) != 1 || recs[0]["sid"] != "nope" {
		t.Errorf("default logger: %v, want one record for sid nope", recs)
	}
	if recs := logs.records(t, "session closed"); len(recs) != 0 {
		t.Errorf("a routine close reached the default logger: %v", recs)
	}
}

// TestSameOrigin checks the same-origin policy: scheme and host must both
// match, and forwarded headers count only from a trusted proxy.
type originReq struct {
	pollReq
	tls bool
}

func (r originReq) TLS() bool { return r.tls }

func TestSameOrigin(t *testing.T) {
	tests := []struct {
		name   string
		origin string
		tls    *bool // nil: an adapter without TLSRequest
		hdr    map[string]string
		trust  bool
		want   bool
	}{
		{"http same", "http://app.example", ptr(false), nil, false, true},
		{"https same", "https://app.example", ptr(true), nil, false, true},
		{"https origin, http request", "https://app.example", ptr(false), nil, false, false},
		{"http origin, https request", "http://app.example", ptr(true), nil, false, false},
		{"scheme case", "HTTPS://app.example", ptr(true), nil, false, true},
		{"other host", "http://evil.example", ptr(false), nil, false, false},
		{"port differs", "http://app.example:8080", ptr(false), nil, false, false},
		{"unknown scheme, http", "http://app.example", nil, nil, false, true},
		{"unknown scheme, https", "https://app.example", nil, nil, false, true},
		{"unknown scheme, ftp", "ftp://app.example", nil, nil, false, false},
		{"forwarded host ignored", "https://front.example", ptr(false),
			map[string]string{"X-Forwarded-Host": "front.example", "X-Forwarded-Proto": "https"}, false, false},
		{"forwarded host trusted", "https://front.example", ptr(false),
			map[string]string{"X-Forwarded-Host": "front.example", "X-Forwarded-Proto": "https"}, true, true},
		{"forwarded proto mismatch", "http://front.example", ptr(false),
			map[string]string{"X-Forwarded-Host": "front.example", "X-Forwarded-Proto": "https"}, true, false},
		{"forwarded lists", "https://front.example", ptr(false),
			map[string]string{"X-Forwarded-Host": "front.example, inner", "X-Forwarded-Proto": "https, http"}, true, true},
		{"trusted, no forwarded headers", "http://app.example", ptr(false), nil, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := NewServer(&Options{TrustProxy: tt.trust})
			hr := httptest.NewRequest(http.MethodGet, "http://app.example/engine.io/", nil)
			hr.Header.Set("Host", "app.example")
			for k, v := range tt.hdr {
				hr.Header.Set(k, v)
			}
			var r Request = pollReq{hr}
			if tt.tls != nil {
				r = originReq{pollReq{hr}, *tt.tls}
			}
			if got := srv.sameOrigin(tt.origin, r); got != tt.want {
				t.Errorf("sameOrigin(%q) = %v, want %v", tt.origin, got, tt.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestPickEncoding(t *testing.T) {
	for _, tt := range []struct{ accept, want string }{
		{"", ""},
		{"identity", ""},
		{"gzip", "gzip"},
		{"deflate", "deflate"},
		{"gzip, deflate, br", "gzip"},
		{"deflate, gzip", "gzip"},
		{"gzip;q=0.5, deflate", "deflate"},
		{"gzip;q=0, deflate;q=0", ""},
		{"gzip;q=0", ""},
		{"*", "gzip"},
		{"*;q=0.1, gzip;q=0", "deflate"},
		{"GZIP", "gzip"},
		{"br, zstd", ""},
		{"gzip;q=abc, deflate", "deflate"},
	} {
		if got := pickEncoding(tt.accept); got != tt.want {
			t.Errorf("pickEncoding(%q) = %q, want %q", tt.accept, got, tt.want)
		}
	}
}

// TestCompressedPoll: a poll of at least the threshold is compressed as
// the client accepts, a smaller one or one to a client that accepts
// neither is not, and the option turns it off.
func TestCompressedPoll(t *testing.T) {
	big := strings.Repeat("compress me ", 200) // 2,400 bytes
	tests := []struct {
		name    string
		opts    Options
		msg     string
		accept  string
		wantEnc string
	}{
		{"gzip", Options{}, big, "gzip, deflate", "gzip"},
		{"deflate", Options{}, big, "deflate", "deflate"},
		{"not accepted", Options{}, big, "", ""},
		{"below threshold", Options{}, big[:1000], "gzip", ""},
		{"one byte under the threshold", Options{}, big[:1022], "gzip", ""}, // payload "4" + 1022 bytes
		{"at the threshold", Options{}, big[:1023], "gzip", "gzip"},
		{"threshold option", Options{HTTPCompression: CompressionOptions{Threshold: 5000}}, big, "gzip", ""},
		{"disabled", Options{HTTPCompression: CompressionOptions{Disable: true}}, big, "gzip", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := NewServer(&tt.opts)
			ts := serveNetHTTP(t, srv)
			_, body := get(t, ts.URL+DefaultPath+"?EIO=4&transport=polling", nil)
			var open struct{ SID string }
			if err := json.Unmarshal(body[1:], &open); err != nil {
				t.Fatal(err)
			}
			if err := srv.Session(open.SID).Send([]byte(tt.msg), false); err != nil {
				t.Fatal(err)
			}
			res, raw := get(t, ts.URL+DefaultPath+"?EIO=4&transport=polling&sid="+open.SID, map[string]string{"Accept-Encoding": tt.accept})
			want := "4" + tt.msg
			wantEnc := tt.wantEnc
			if got := res.Header.Get("Content-Encoding"); got != wantEnc {
				t.Fatalf("Content-Encoding %q, want %q (payload %d bytes)", got, wantEnc, len(want))
			}
			if res.Header.Get("Content-Length") != "" && res.ContentLength != int64(len(raw)) {
				t.Errorf("Content-Length %d, body %d bytes", res.ContentLength, len(raw))
			}
			var rd io.Reader = bytes.NewReader(raw)
			switch wantEnc {
			case "gzip":
				zr, err := gzip.NewReader(rd)
				if err != nil {
					t.Fatal(err)
				}
				rd = zr
			case "deflate":
				zr, err := zlib.NewReader(rd)
				if err != nil {
					t.Fatal(err)
				}
				rd = zr
			}
			plain, err := io.ReadAll(rd)
			if err != nil {
				t.Fatal(err)
			}
			if string(plain) != want {
				t.Errorf("payload %d bytes, want %d", len(plain), len(want))
			}
			if wantEnc != "" && len(raw) >= len(want) {
				t.Errorf("compressed %d bytes to %d", len(want), len(raw))
			}
		})
	}
}

// TestMaxConnectionsPerAddress: handshakes over the per-address cap are
// refused with 403 and code 4 until a session of that address closes; a
// negative cap disables it.
func TestMaxConnectionsPerAddress(t *testing.T) {
	var logs logRecords
	srv := NewServer(&Options{MaxConnectionsPerAddress: 2, Logger: logs.logger(slog.LevelWarn)})
	ts := serveNetHTTP(t, srv)
	handshake := func() (int, string) {
		res, body := get(t, ts.URL+DefaultPath+"?EIO=4&transport=polling", nil)
		return res.StatusCode, string(body)
	}
	var sids []string
	for range 2 {
		status, body := handshake()
		if status != http.StatusOK {
			t.Fatalf("handshake under the cap: %d %s", status, body)
		}
		var open struct{ SID string }
		_ = json.Unmarshal([]byte(body[1:]), &open)
		sids = append(sids, open.SID)
	}
	for range 10 {
		status, body := handshake()
		if status != http.StatusForbidden || body != `{"code":4,"message":"Too many connections from this address"}` {
			t.Fatalf("handshake over the cap: %d %s", status, body)
		}
	}
	if n := len(logs.records(t, "too many connections")); n == 0 || n > 5 {
		t.Errorf("%d Warn records for 10 refusals, want 1 to 5", n)
	}
	_ = srv.Session(sids[0]).Close()
	if status, body := handshake(); status != http.StatusOK {
		t.Fatalf("handshake after a close: %d %s", status, body)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.perAddr); n != 0 {
		t.Errorf("per-address table holds %d addresses after Close", n)
	}

	off := NewServer(&Options{MaxConnectionsPerAddress: -1})
	to := serveNetHTTP(t, off)
	for range DefaultMaxConnectionsPerAddress/100 + 3 {
		if res, body := get(t, to.URL+DefaultPath+"?EIO=4&transport=polling", nil); res.StatusCode != http.StatusOK {
			t.Fatalf("cap disabled: %d %s", res.StatusCode, body)
		}
	}
	if got := NewServer(nil).Options().MaxConnectionsPerAddress; got != DefaultMaxConnectionsPerAddress {
		t.Errorf("default cap %d", got)
	}
}

// TestShutdown: Shutdown closes sessions, answers a pending poll with the
// close packet, refuses new handshakes and returns nil once the close
// callbacks have returned; with a callback that blocks it returns ctx.Err()
// when ctx ends, and leaks no goroutine once the callback returns.
func TestShutdown(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	srv := NewServer(&Options{Logger: slog.New(slog.DiscardHandler)})
	block := true
	srv.OnConnection = func(s *Session) {
		s.OnClose(func(string) {
			if block {
				entered <- struct{}{}
				<-release
			}
		})
	}
	ts := httptest.NewServer(pollingOnly{srv})
	defer ts.Close()
	_, body := get(t, ts.URL+DefaultPath+"?EIO=4&transport=polling", nil)
	var open struct{ SID string }
	if err := json.Unmarshal(body[1:], &open); err != nil {
		t.Fatal(err)
	}
	polled := make(chan string, 1)
	go func() {
		_, b := get(t, ts.URL+DefaultPath+"?EIO=4&transport=polling&sid="+open.SID, nil)
		polled <- string(b)
	}()
	for { // the poll is pending
		srv.Session(open.SID).mu.Lock()
		p := srv.Session(open.SID).polling
		srv.Session(open.SID).mu.Unlock()
		if p {
			break
		}
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := srv.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown with a blocked callback: %v, want DeadlineExceeded", err)
	}
	<-entered
	if got := <-polled; got != "1" {
		t.Errorf("pending poll got %q, want the close packet", got)
	}
	if res, b := get(t, ts.URL+DefaultPath+"?EIO=4&transport=polling", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("handshake after Shutdown: %d %s", res.StatusCode, b)
	}
	close(release)
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	ts.Close()

	// Nothing blocks: Shutdown returns nil.
	block = false
	srv2 := NewServer(nil)
	closed := make(chan string, 1)
	srv2.OnConnection = func(s *Session) { s.OnClose(func(r string) { closed <- r }) }
	ts2 := httptest.NewServer(pollingOnly{srv2})
	defer ts2.Close()
	get(t, ts2.URL+DefaultPath+"?EIO=4&transport=polling", nil)
	if err := srv2.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	select {
	case r := <-closed:
		if r != ReasonServerShuttingDown {
			t.Errorf("close reason %q", r)
		}
	default:
		t.Error("Shutdown returned before the close callback ran")
	}
}

// TestPanicLogged: a panicking message callback is recovered and logged at
// Error with its stack, at most the limiter's burst of times per address.
func TestPanicLogged(t *testing.T) {
	var logs logRecords
	srv := NewServer(&Options{Logger: logs.logger(slog.LevelWarn)})
	sess := &Session{srv: srv, id: "p", addr: "192.0.2.1", transport: TransportPolling, notify: make(chan struct{}, 1), done: make(chan struct{})}
	sess.OnMessage(func([]byte, bool) { panic("handler bug") })
	for range 20 {
		if _, ok := sess.receive(Packet{Type: PacketMessage, Data: []byte("x")}, false); !ok {
			t.Fatal("a panicking callback closed the session")
		}
	}
	recs := logs.records(t, "panic in message callback")
	if len(recs) == 0 || len(recs) > 5 {
		t.Fatalf("%d records for 20 panics, want 1 to 5", len(recs))
	}
	if stack, _ := recs[0]["stack"].(string); recs[0]["level"] != "ERROR" || recs[0]["panic"] != "handler bug" ||
		!strings.Contains(stack, "TestPanicLogged") {
		t.Errorf("record %v, want level ERROR, the panic value and a stack through the test", recs[0])
	}
}
