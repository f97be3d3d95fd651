package engineio

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestClientURLs(t *testing.T) {
	tests := []struct {
		raw, path  string
		query      url.Values
		poll, ws   string
		wantErrSub string
	}{
		{raw: "http://h:1", poll: "http://h:1/engine.io/?EIO=4&transport=polling", ws: "ws://h:1/engine.io/?EIO=4&transport=websocket"},
		{raw: "https://h/", path: "/socket.io", poll: "https://h/socket.io/?EIO=4&transport=polling", ws: "wss://h/socket.io/?EIO=4&transport=websocket"},
		{raw: "ws://h/prefix/", path: "socket.io/", poll: "http://h/prefix/socket.io/?EIO=4&transport=polling", ws: "ws://h/prefix/socket.io/?EIO=4&transport=websocket"},
		{raw: "wss://h?a=1#frag", query: url.Values{"b": {"x y"}}, poll: "https://h/engine.io/?EIO=4&a=1&b=x+y&transport=polling", ws: "wss://h/engine.io/?EIO=4&a=1&b=x+y&transport=websocket"},
		{raw: "http://h?EIO=3&transport=x", poll: "http://h/engine.io/?EIO=4&transport=polling", ws: "ws://h/engine.io/?EIO=4&transport=websocket"},
		{raw: "ftp://h", wantErrSub: "scheme"},
		{raw: "http://", wantErrSub: "no host"},
		{raw: "http://h/%zz", wantErrSub: "invalid URL escape"},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			o, err := (&ClientOptions{Path: tc.path, Query: tc.query}).withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			c := &Client{opts: o}
			err = c.setURLs(tc.raw)
			if tc.wantErrSub != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrSub) {
					t.Fatalf("setURLs(%q) = %v, want error containing %q", tc.raw, err, tc.wantErrSub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.pollURL != tc.poll || c.wsURL != tc.ws {
				t.Errorf("got\n  %s\n  %s\nwant\n  %s\n  %s", c.pollURL, c.wsURL, tc.poll, tc.ws)
			}
		})
	}
}

func TestClientOptionsDefaults(t *testing.T) {
	o, err := (*ClientOptions)(nil).withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if o.Path != DefaultPath || len(o.Transports) != 2 || o.Transports[0] != TransportPolling ||
		!*o.Upgrade || o.TLSConfig != nil || o.Logger == nil || o.WriteTimeout != DefaultClientWriteTimeout {
		t.Errorf("defaults: %+v", o)
	}
	if _, err := (&ClientOptions{Transports: []string{"flashsocket"}}).withDefaults(); err == nil {
		t.Error("unknown transport accepted")
	}
	_, err = Dial(context.Background(), "http://127.0.0.1:1", &ClientOptions{Transports: []string{"x"}})
	if !errors.Is(err, ErrHandshake) {
		t.Errorf("Dial with a bad transport: %v", err)
	}
}

func TestClientTakeBatch(t *testing.T) {
	msg := func(n int, binary bool) Packet {
		return Packet{Type: PacketMessage, Data: make([]byte, n), Binary: binary}
	}
	tests := []struct {
		name       string
		maxPayload int64
		queue      []Packet
		want       []int // batch lengths
	}{
		{"no limit", 0, []Packet{msg(500, false), msg(500, false)}, []int{2}},
		{"all fit exactly", 9, []Packet{msg(3, false), msg(3, false)}, []int{2}}, // 4+1+4
		{"one byte over", 8, []Packet{msg(3, false), msg(3, false)}, []int{1, 1}},
		{"binary counts base64", 10, []Packet{msg(3, true), msg(3, true)}, []int{1, 1}}, // 5+1+5 = 11 > 10
		{"oversized alone", 5, []Packet{msg(10, false), msg(1, false), msg(1, false)}, []int{1, 2}},
		{"many", 301 * 3, []Packet{msg(300, false), msg(300, false), msg(300, false), msg(300, false)}, []int{2, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &Client{maxPayload: tc.maxPayload, queue: tc.queue}
			for _, p := range tc.queue {
				c.queuedBytes += int64(len(p.Data))
			}
			var got []int
			for len(c.queue) > 0 {
				b := c.takeBatchLocked()
				got = append(got, len(b))
				if len(got) > len(tc.queue) {
					t.Fatal("no progress")
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("batches %v, want %v", got, tc.want)
			}
			if c.queuedBytes != 0 {
				t.Errorf("queuedBytes = %d after draining", c.queuedBytes)
			}
		})
	}
}

func TestClientResponseError(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   *RequestError // nil: a plain error
	}{
		{400, `{"code":1,"message":"Session ID unknown"}`, &RequestError{400, CodeUnknownSID, "Session ID unknown"}},
		{403, `{"code":4,"message":"nope"}`, &RequestError{403, CodeForbidden, "nope"}},
		{400, `{"message":"no code"}`, nil},
		{502, `<html>bad gateway</html>`, nil},
		{500, ``, nil},
	}
	for _, tc := range tests {
		resp := &http.Response{StatusCode: tc.status, Body: io.NopCloser(strings.NewReader(tc.body))}
		err := responseError(resp)
		var re *RequestError
		switch {
		case tc.want == nil && errors.As(err, &re):
			t.Errorf("%d %s: got RequestError %+v", tc.status, tc.body, re)
		case tc.want == nil && !strings.Contains(err.Error(), "status "):
			t.Errorf("%d %s: error %q does not name the status", tc.status, tc.body, err)
		case tc.want != nil && (!errors.As(err, &re) || *re != *tc.want):
			t.Errorf("%d %s: got %v, want %+v", tc.status, tc.body, err, tc.want)
		}
	}
}

// pollingOnly adapts net/http to the engine without WebSocket support, so
// the server offers an upgrade that cannot succeed.
type pollingOnly struct{ srv *Server }

type pollReq struct{ r *http.Request }

func (q pollReq) Context() context.Context  { return q.r.Context() }
func (q pollReq) Method() string            { return q.r.Method }
func (q pollReq) Path() string              { return q.r.URL.Path }
func (q pollReq) RawQuery() string          { return q.r.URL.RawQuery }
func (q pollReq) Header(name string) string { return q.r.Header.Get(name) }
func (q pollReq) Headers() http.Header      { return q.r.Header.Clone() }
func (q pollReq) RemoteAddr() string        { return q.r.RemoteAddr }
func (q pollReq) Body() io.Reader           { return q.r.Body }

type pollResp struct{ w http.ResponseWriter }

func (p pollResp) SetHeader(name, value string) { p.w.Header().Set(name, value) }
func (p pollResp) WriteHeader(status int)       { p.w.WriteHeader(status) }
func (p pollResp) Write(b []byte) (int, error)  { return p.w.Write(b) }

func (h pollingOnly) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.srv.ServeRequest(pollResp{w}, pollReq{r})
}

// TestClientUpgradeRefused: the server offers WebSocket but the handshake
// fails; the session stays on polling and keeps working.
func TestClientUpgradeRefused(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := NewServer(nil)
	srv.OnConnection = func(s *Session) {
		s.OnMessage(func(data []byte, binary bool) { _ = s.Send(data, binary) })
	}
	ts := httptest.NewServer(pollingOnly{srv})
	defer ts.Close()
	defer func() { _ = srv.Close() }()

	got := make(chan string, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, ts.URL, &ClientOptions{OnMessage: func(d []byte, _ bool) { got <- string(d) }})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(c.upgrades, ","), TransportWebSocket) {
		t.Fatalf("server offered %v", c.upgrades)
	}
	for _, m := range []string{"a", "b"} {
		if err := c.Send([]byte(m), false); err != nil {
			t.Fatal(err)
		}
		select {
		case s := <-got:
			if s != m {
				t.Fatalf("got %q, want %q", s, m)
			}
		case <-ctx.Done():
			t.Fatal("no echo")
		}
	}
	if c.Transport() != TransportPolling {
		t.Errorf("Transport() = %q", c.Transport())
	}
	_ = c.Close()
	<-c.Done()
	if reason, err := c.Err(); reason != ReasonForcedClose || err != nil {
		t.Errorf("Err() = %q, %v", reason, err)
	}
	if err := c.Send([]byte("x"), false); !errors.Is(err, ErrClientClosed) {
		t.Errorf("Send after Close: %v", err)
	}
}

// TestClientHandshakeErrors: what Dial reports when there is no engine.
func TestClientHandshakeErrors(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("EIO") {
		case "4":
			if strings.HasPrefix(r.URL.Path, "/garbage/") {
				_, _ = w.Write([]byte(`4not an open packet`))
				return
			}
			if strings.HasPrefix(r.URL.Path, "/badjson/") {
				_, _ = w.Write([]byte(`0{"sid":`))
				return
			}
		}
		http.NotFound(w, r)
	}))
	defer ts.Close()
	for _, tc := range []struct{ path, want string }{
		{"/engine.io/", "404"},
		{"/garbage/", "open packet"},
		{"/badjson/", "bad open packet"},
	} {
		for _, tr := range []string{TransportPolling, TransportWebSocket} {
			_, err := Dial(context.Background(), ts.URL, &ClientOptions{Path: tc.path, Transports: []string{tr}})
			if !errors.Is(err, ErrHandshake) || (tr == TransportPolling && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("%s over %s: Dial = %v, want ErrHandshake (%s)", tc.path, tr, err, tc.want)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Dial(ctx, ts.URL, nil); !errors.Is(err, ErrHandshake) || !errors.Is(err, context.Canceled) {
		t.Errorf("Dial with a cancelled context = %v", err)
	}
}
