package siofiber_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gorilla/websocket"

	siofiber "github.com/siokit/siokit/adapters/fiber"
	"github.com/siokit/siokit/core/app"
	"github.com/siokit/siokit/core/engineio"
)

func TestConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		base fiber.Config
		want fiber.Config
	}{
		{
			name: "zero",
			want: fiber.Config{
				StreamRequestBody: true,
				ReadTimeout:       siofiber.DefaultReadTimeout,
				WriteTimeout:      siofiber.DefaultWriteTimeout,
				IdleTimeout:       siofiber.DefaultIdleTimeout,
			},
		},
		{
			name: "given timeouts and other fields are kept",
			base: fiber.Config{AppName: "svc", BodyLimit: 8 << 20, ReadTimeout: time.Second, WriteTimeout: 2 * time.Second, IdleTimeout: 3 * time.Second},
			want: fiber.Config{AppName: "svc", BodyLimit: 8 << 20, StreamRequestBody: true, ReadTimeout: time.Second, WriteTimeout: 2 * time.Second, IdleTimeout: 3 * time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := siofiber.Config(tt.base)
			if got.AppName != tt.want.AppName || got.BodyLimit != tt.want.BodyLimit ||
				got.StreamRequestBody != tt.want.StreamRequestBody || got.ReadTimeout != tt.want.ReadTimeout ||
				got.WriteTimeout != tt.want.WriteTimeout || got.IdleTimeout != tt.want.IdleTimeout {
				t.Errorf("Config(%+v) = %+v, want %+v", tt.base, got, tt.want)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestConfigWarning checks that Handler and Middleware warn once, at their
// first request, through slog.Default, when the app does not stream bodies,
// and stay quiet on an app built with Config. It replaces slog.Default, so
// it does not run in parallel.
func TestConfigWarning(t *testing.T) {
	var logs syncBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	defer slog.SetDefault(prev)

	srv := engineio.NewServer(nil)
	defer func() { _ = srv.Close() }()
	mounts := map[string]func(*fiber.App){
		"handler":    func(a *fiber.App) { a.All("/engine.io/*", siofiber.Handler(srv)) },
		"middleware": func(a *fiber.App) { a.Use(siofiber.Middleware(srv)) },
	}
	configs := []struct {
		name      string
		cfg       fiber.Config
		wantWarns int
	}{
		{"fiber defaults", fiber.Config{DisableStartupMessage: true}, 1},
		{"siofiber.Config", siofiber.Config(fiber.Config{DisableStartupMessage: true}), 0},
	}
	for mname, mount := range mounts {
		for _, c := range configs {
			before := strings.Count(logs.String(), "level=WARN")
			a := fiber.New(c.cfg)
			mount(a)
			for range 3 {
				res, err := a.Test(httptestRequest("http://example.com/engine.io/?EIO=4&transport=polling"), -1)
				if err != nil {
					t.Fatal(err)
				}
				_ = res.Body.Close()
			}
			got := strings.Count(logs.String(), "level=WARN") - before
			if got != c.wantWarns {
				t.Errorf("%s, %s: %d warnings after 3 requests, want %d; log:\n%s", mname, c.name, got, c.wantWarns, logs.String())
			}
		}
	}
	if !strings.Contains(logs.String(), "StreamRequestBody is off") || !strings.Contains(logs.String(), "ReadTimeout is zero") {
		t.Errorf("the warning does not name what is missing:\n%s", logs.String())
	}
}

func httptestRequest(target string) *http.Request {
	r, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, target, nil)
	return r
}

// TestStaticFileStream checks that the App's static file goes out as
// fasthttp's body stream, not copied into the response, with its size and
// bytes intact; HEAD sends the size and no body.
func TestStaticFileStream(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := engineio.NewServer(nil)
	defer func() { _ = srv.Close() }()
	h := app.New(srv, &app.Options{Static: []app.StaticRule{app.Dir("/files", dir)}})
	a := fiber.New(siofiber.Config(fiber.Config{DisableStartupMessage: true}))
	streamed := make(chan bool, 2)
	a.Use(func(c *fiber.Ctx) error {
		siofiber.Serve(h, c)
		streamed <- c.Context().Response.IsBodyStream()
		return nil
	})
	base, stop := listen(t, a)
	defer stop()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	res, err := client.Get(base + "/files/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil || res.StatusCode != 200 || res.ContentLength != int64(len(data)) || !bytes.Equal(body, data) {
		t.Fatalf("GET: status %d, Content-Length %d, %d bytes (equal: %v), %v", res.StatusCode, res.ContentLength, len(body), bytes.Equal(body, data), err)
	}
	if !<-streamed {
		t.Error("GET: the file was copied into fasthttp's response body, not streamed")
	}

	res, err = client.Head(base + "/files/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != 200 || res.ContentLength != int64(len(data)) {
		t.Errorf("HEAD: status %d, Content-Length %d", res.StatusCode, res.ContentLength)
	}
	<-streamed
}

// TestConfigKeepsLongPolling holds long-polls for a ping interval well
// above the server's read, write and idle timeouts: the session lives on
// across several ping cycles, on one sid.
func TestConfigKeepsLongPolling(t *testing.T) {
	t.Parallel()
	const timeout = 200 * time.Millisecond
	srv := engineio.NewServer(&engineio.Options{PingInterval: 3 * timeout, PingTimeout: 10 * timeout})
	defer func() { _ = srv.Close() }()
	closed := make(chan string, 1)
	srv.OnConnection = func(s *engineio.Session) { s.OnClose(func(r string) { closed <- r }) }
	a := fiber.New(siofiber.Config(fiber.Config{
		DisableStartupMessage: true, ReadTimeout: timeout, WriteTimeout: timeout, IdleTimeout: timeout,
	}))
	a.Use(siofiber.Middleware(srv))
	root, stop := listen(t, a)
	defer stop()
	base := root + "/engine.io/?EIO=4&transport=polling"
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	res, err := client.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	open, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	sid := strings.SplitN(strings.TrimPrefix(string(open), `0{"sid":"`), `"`, 2)[0]
	for i := range 3 {
		start := time.Now()
		res, err := client.Get(base + "&sid=" + sid)
		if err != nil {
			t.Fatalf("poll %d: %v", i, err)
		}
		b, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if string(b) != "2" {
			t.Fatalf("poll %d after %v: %q, want the ping", i, time.Since(start), b)
		}
		res, err = client.Post(base+"&sid="+sid, "text/plain;charset=UTF-8", strings.NewReader("3"))
		if err != nil {
			t.Fatalf("pong %d: %v", i, err)
		}
		b, _ = io.ReadAll(res.Body)
		_ = res.Body.Close()
		if res.StatusCode != 200 || string(b) != "ok" {
			t.Fatalf("pong %d: %d %q", i, res.StatusCode, b)
		}
	}
	select {
	case r := <-closed:
		t.Fatalf("session closed: %s", r)
	default:
	}
}

// TestConfigKeepsWebSocket keeps a WebSocket session answering pings for
// five times the server's read, write and idle timeouts: they end neither
// the upgraded connection nor the session.
func TestConfigKeepsWebSocket(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	srv := engineio.NewServer(&engineio.Options{PingInterval: timeout / 2, PingTimeout: 10 * timeout})
	defer func() { _ = srv.Close() }()
	closed := make(chan string, 1)
	srv.OnConnection = func(s *engineio.Session) { s.OnClose(func(r string) { closed <- r }) }
	a := fiber.New(siofiber.Config(fiber.Config{
		DisableStartupMessage: true, ReadTimeout: timeout, WriteTimeout: timeout, IdleTimeout: timeout,
	}))
	a.Use(siofiber.Middleware(srv))
	root, stop := listen(t, a)
	defer stop()
	ws, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(root, "http")+"/engine.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	defer func() { _ = ws.Close() }()
	pings := 0
	for end := time.Now().Add(5 * timeout); time.Now().Before(end); {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("after %d pings: %v", pings, err)
		}
		if string(msg) == "2" {
			pings++
			if err := ws.WriteMessage(websocket.TextMessage, []byte("3")); err != nil {
				t.Fatalf("pong %d: %v", pings, err)
			}
		}
	}
	select {
	case r := <-closed:
		t.Fatalf("session closed: %s", r)
	default:
	}
}
