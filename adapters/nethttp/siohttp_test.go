package siohttp_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/eiotest"
	"github.com/siokit/siokit/core/engineio"
)

// mount serves h with siohttp.Handler on an httptest server.
func mount(t testing.TB, h engineio.Handler) string {
	ts := httptest.NewServer(siohttp.Handler(h))
	t.Cleanup(ts.Close)
	return ts.URL
}

// mountMiddleware serves h in front of a handler that answers every other path.
func mountMiddleware(t testing.TB, h engineio.Handler) string {
	ts := httptest.NewServer(siohttp.Middleware(h, http.NotFoundHandler()))
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestEngineIO(t *testing.T) {
	eiotest.Run(t, mount)
}

func TestEngineIOMiddleware(t *testing.T) {
	eiotest.Run(t, mountMiddleware)
}

func TestMiddleware(t *testing.T) {
	srv := engineio.NewServer(nil)
	defer func() { _ = srv.Close() }()
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Next", "1")
		_, _ = io.WriteString(w, "app:"+r.URL.Path)
	})
	ts := httptest.NewServer(siohttp.Middleware(srv, next))
	defer ts.Close()

	tests := []struct {
		path     string
		wantNext bool
		status   int
		prefix   string
	}{
		{"/", true, 200, "app:/"},
		{"/index.html", true, 200, "app:/index.html"},
		{"/engine.iox/", true, 200, "app:/engine.iox/"},
		{"/socket.io/", true, 200, "app:/socket.io/"},
		{"/engine.io/?EIO=4&transport=polling", false, 200, "0{"},
		{"/engine.io?EIO=4&transport=polling", false, 200, "0{"},
		{"/engine.io/?EIO=4&transport=bogus", false, 400, `{"code":0`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, err := ts.Client().Get(ts.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if got := res.Header.Get("X-Next") == "1"; got != tt.wantNext {
				t.Errorf("reached the wrapped handler: %v, want %v", got, tt.wantNext)
			}
			if res.StatusCode != tt.status || !strings.HasPrefix(string(body), tt.prefix) {
				t.Errorf("status %d body %q, want %d %q...", res.StatusCode, body, tt.status, tt.prefix)
			}
		})
	}
}

func TestUnwrap(t *testing.T) {
	var got string
	srv := engineio.NewServer(&engineio.Options{AllowRequest: func(r engineio.Request) error {
		got = siohttp.Unwrap(r).UserAgent()
		return nil
	}})
	defer func() { _ = srv.Close() }()
	ts := httptest.NewServer(siohttp.Handler(srv))
	defer ts.Close()
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/engine.io/?EIO=4&transport=polling", nil)
	req.Header.Set("User-Agent", "unwrap-test")
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got != "unwrap-test" {
		t.Errorf("Unwrap(r).UserAgent() = %q", got)
	}
}

// TestPollingSurvivesServerTimeouts: an http.Server with WriteTimeout and
// ReadTimeout of 2 s keeps a long-polling client on one sid for a minute
// (polls wait up to the 25 s ping interval).
func TestPollingSurvivesServerTimeouts(t *testing.T) {
	t.Parallel()
	t.Run("WriteTimeout and ReadTimeout 2s, 60s", func(t *testing.T) {
		t.Parallel()
		eiotest.HoldPolling(t, func(h engineio.Handler) string {
			ts := httptest.NewUnstartedServer(siohttp.Handler(h))
			ts.Config.WriteTimeout = 2 * time.Second
			ts.Config.ReadTimeout = 2 * time.Second
			ts.Config.IdleTimeout = 2 * time.Second
			ts.Start()
			t.Cleanup(ts.Close)
			return ts.URL
		}, time.Minute)
	})
}

// TestDeadlinesClearedAfterPoll: the deadlines a long-poll and a POST moved
// (150 ms here) do not outlive their requests: on a server without
// timeouts, a later request on the same keep-alive connection, sent after
// those deadlines have passed, is answered.
func TestDeadlinesClearedAfterPoll(t *testing.T) {
	srv := engineio.NewServer(&engineio.Options{
		PingInterval: 50 * time.Millisecond, PingTimeout: 50 * time.Millisecond, WriteTimeout: 50 * time.Millisecond,
	})
	t.Cleanup(func() { _ = srv.Close() })
	ts := httptest.NewServer(siohttp.Handler(srv))
	t.Cleanup(ts.Close)
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	roundTrip := func(method, query, body string) string {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+"/engine.io/?"+query, strings.NewReader(body))
		req.Header.Set("Content-Type", "text/plain")
		if err := req.Write(conn); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		res, err := http.ReadResponse(br, req)
		if err != nil {
			t.Fatalf("%s %s on the same connection: %v", method, query, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	open := roundTrip(http.MethodGet, "EIO=4&transport=polling", "")
	sid := open[strings.Index(open, `"sid":"`)+7:]
	sid = sid[:strings.IndexByte(sid, '"')]
	q := "EIO=4&transport=polling&sid=" + sid
	if got := roundTrip(http.MethodGet, q, ""); got != "2" { // waits for the ping
		t.Fatalf("poll got %q, want a ping", got)
	}
	if got := roundTrip(http.MethodPost, q, "3"); got != "ok" {
		t.Fatalf("pong: %q", got)
	}
	time.Sleep(400 * time.Millisecond) // past the deadlines the poll and the POST set
	if got := roundTrip(http.MethodGet, "EIO=4&transport=polling", ""); !strings.HasPrefix(got, "0{") {
		t.Fatalf("handshake after the deadline: %q", got)
	}
}

// TestWebSocket holds the WebSocket protocol to three independent clients
// (gorilla, npm ws, python websocket-client), over plain TCP.
func TestWebSocket(t *testing.T) {
	eiotest.RunWebSocket(t, mount)
}

// TestWebSocketTLS is TestWebSocket over TLS (httptest's TLS server).
func TestWebSocketTLS(t *testing.T) {
	eiotest.RunWebSocket(t, func(t testing.TB, h engineio.Handler) string {
		ts := httptest.NewTLSServer(siohttp.Handler(h))
		t.Cleanup(ts.Close)
		return ts.URL
	})
}

// TestWebSocketOutlivesServerTimeouts: an http.Server's ReadTimeout and
// WriteTimeout end requests, not the WebSockets taken over from them.
func TestWebSocketOutlivesServerTimeouts(t *testing.T) {
	srv := engineio.NewServer(nil)
	srv.OnConnection = func(s *engineio.Session) {
		s.OnMessage(func(data []byte, binary bool) { _ = s.Send(data, binary) })
	}
	ts := httptest.NewUnstartedServer(siohttp.Handler(srv))
	ts.Config.ReadTimeout = 100 * time.Millisecond
	ts.Config.WriteTimeout = 100 * time.Millisecond
	ts.Start()
	defer ts.Close()
	defer func() { _ = srv.Close() }()
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/engine.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := c.ReadMessage(); err != nil { // the open packet
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // past both timeouts
	if err := c.WriteMessage(websocket.TextMessage, []byte("4still")); err != nil {
		t.Fatal(err)
	}
	if _, data, err := c.ReadMessage(); err != nil || string(data) != "4still" {
		t.Fatalf("after the server's timeouts: %q, %v", data, err)
	}
}
