// Package exampletest checks a framework example end to end: it starts the
// example's server on a free loopback port, asks its REST routes, fetches
// the chat page, connects a Socket.IO client over raw long-polling, receives
// an announcement made through the REST API, and shuts the server down.
package exampletest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/core/app"
	"github.com/siokit/siokit/examples/chat/chatserver"
)

// RunFunc is an example's run function: it serves the example service on ln
// with the chat's static rules until ctx is done, then shuts it down.
type RunFunc func(ctx context.Context, ln net.Listener, static []app.StaticRule, log *slog.Logger) error

// Run starts run on a free port of 127.0.0.1 with the chat's static rules,
// as seen from an examples/<name> directory, checks it end to end, and fails
// t unless it shuts down cleanly within 25 seconds of ctx's cancellation
// while a long-poll is pending.
func Run(t *testing.T, run RunFunc) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	static := chatserver.StaticRules(filepath.Join("..", "chat", "static"), filepath.Join("..", "..", "node_modules", "socket.io-client", "dist"))
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, ln, static, log) }()
	stopped := false
	defer func() {
		if !stopped {
			cancel()
			if err := <-done; err != nil {
				t.Logf("shutdown after a failure: %v", err)
			}
		}
	}()

	c := &client{t: t, base: "http://" + ln.Addr().String(), http: &http.Client{Timeout: 10 * time.Second}}
	c.checkHealth()
	c.checkPage()
	sid := c.connect()
	c.checkAnnounce(sid)

	// Shut down while a long-poll is pending: the engine closes first, so
	// the poll returns and the server's shutdown does not wait for it.
	poll := make(chan error, 1)
	go func() {
		_, _, err := c.do(http.MethodGet, "/socket.io/?EIO=4&transport=polling&sid="+sid, "", "")
		poll <- err
	}()
	time.Sleep(100 * time.Millisecond) // let the poll reach the server
	cancel()
	select {
	case err := <-done:
		stopped = true
		if err != nil {
			t.Errorf("shutdown: %v", err)
		}
	case <-time.After(25 * time.Second):
		t.Fatal("the server did not shut down within 25 s")
	}
	select {
	case err := <-poll:
		if err != nil {
			t.Errorf("pending long-poll at shutdown: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the pending long-poll did not return after shutdown")
	}
	if conn, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		_ = conn.Close()
		t.Error("the listener still accepts connections after shutdown")
	}
}

type client struct {
	t    *testing.T
	base string
	http *http.Client
}

// do sends one request and returns the status and body.
func (c *client) do(method, path, contentType, body string) (int, string, error) {
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

// must is do that fails the test unless the status is want.
func (c *client) must(method, path, contentType, body string, want int) string {
	c.t.Helper()
	status, got, err := c.do(method, path, contentType, body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	if status != want {
		c.t.Fatalf("%s %s = %d %q, want %d", method, path, status, got, want)
	}
	return got
}

func (c *client) checkHealth() {
	c.t.Helper()
	var health struct {
		Status  string `json:"status"`
		Clients *int   `json:"clients"`
	}
	body := c.must(http.MethodGet, "/api/health", "", "", http.StatusOK)
	if err := json.Unmarshal([]byte(body), &health); err != nil || health.Status != "ok" || health.Clients == nil {
		c.t.Errorf("GET /api/health = %q, want {\"status\":\"ok\",\"clients\":N} (%v)", body, err)
	}
}

func (c *client) checkPage() {
	c.t.Helper()
	if body := c.must(http.MethodGet, "/", "", "", http.StatusOK); !strings.Contains(body, "<title>siokit chat</title>") {
		c.t.Errorf("GET / is not the chat page: %.200q", body)
	}
	if body := c.must(http.MethodGet, "/static/chat.js", "", "", http.StatusOK); !strings.Contains(body, "io(") {
		c.t.Errorf("GET /static/chat.js is not the chat script: %.200q", body)
	}
}

// connect opens an Engine.IO session over long-polling, connects to the
// main namespace and returns the session id.
func (c *client) connect() string {
	c.t.Helper()
	body := c.must(http.MethodGet, "/socket.io/?EIO=4&transport=polling", "", "", http.StatusOK)
	var open struct {
		SID string `json:"sid"`
	}
	if !strings.HasPrefix(body, "0") || json.Unmarshal([]byte(body[1:]), &open) != nil || open.SID == "" {
		c.t.Fatalf("handshake = %q, want 0{\"sid\":...}", body)
	}
	path := "/socket.io/?EIO=4&transport=polling&sid=" + open.SID
	if ok := c.must(http.MethodPost, path, "text/plain;charset=UTF-8", "40", http.StatusOK); ok != "ok" {
		c.t.Fatalf("POST 40 = %q, want \"ok\"", ok)
	}
	var connected struct {
		SID string `json:"sid"`
	}
	body = c.must(http.MethodGet, path, "", "", http.StatusOK)
	if !strings.HasPrefix(body, "40") || json.Unmarshal([]byte(body[2:]), &connected) != nil || connected.SID == "" {
		c.t.Fatalf("namespace connect = %q, want 40{\"sid\":...}", body)
	}
	return open.SID
}

// checkAnnounce posts an announcement through the REST API and expects it
// on the connected session and in the recent messages.
func (c *client) checkAnnounce(sid string) {
	c.t.Helper()
	c.must(http.MethodPost, "/api/announce", "application/json", `{"text":"  "}`, http.StatusBadRequest)
	body := c.must(http.MethodPost, "/api/announce", "application/json", `{"text":"maintenance at noon"}`, http.StatusOK)
	var sent chatserver.Message
	if err := json.Unmarshal([]byte(body), &sent); err != nil || sent.Nick != "system" || sent.Text != "maintenance at noon" {
		c.t.Errorf("POST /api/announce = %q, want the system message (%v)", body, err)
	}

	body = c.must(http.MethodGet, "/socket.io/?EIO=4&transport=polling&sid="+sid, "", "", http.StatusOK)
	var event []json.RawMessage
	var got chatserver.Message
	if !strings.HasPrefix(body, "42") || json.Unmarshal([]byte(body[2:]), &event) != nil || len(event) != 2 ||
		string(event[0]) != `"message"` || json.Unmarshal(event[1], &got) != nil || got != sent {
		c.t.Errorf("poll after announce = %q, want 42[\"message\",%+v]", body, sent)
	}

	var recent []chatserver.Message
	body = c.must(http.MethodGet, "/api/messages", "", "", http.StatusOK)
	if err := json.Unmarshal([]byte(body), &recent); err != nil || len(recent) == 0 || recent[len(recent)-1] != sent {
		c.t.Errorf("GET /api/messages = %q, want a list ending with the announcement (%v)", body, err)
	}
}
