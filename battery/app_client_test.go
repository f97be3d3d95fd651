package battery

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/app"
	"github.com/siokit/siokit/core/eiotest"
	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/socketio"
)

func TestBattery41_StaticRulesStayInside(t *testing.T) {
	base := t.TempDir()
	pub := filepath.Join(base, "public")
	for name, body := range map[string]string{
		"secret.txt":        "SECRET",
		"public/index.html": "index",
		"public/a.txt":      "inside",
		"public/sub/b.txt":  "inside too",
	} {
		p := filepath.Join(base, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"public/link.txt": "../secret.txt", "public/up": ".."} {
		if err := os.Symlink(target, filepath.Join(base, link)); err != nil {
			t.Fatal(err)
		}
	}
	rules := &app.Options{Static: []app.StaticRule{app.Dir("/static", pub), app.File("/", filepath.Join(pub, "index.html"))}}
	refused := []string{
		"/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/%2e%2e%2fsecret.txt", "/static/..%2fsecret.txt",
		"/static/..%5csecret.txt", "/static/..\\secret.txt", "/static/%2e%2e%5csecret.txt", "/static//etc/passwd",
		"/static/" + base + "/secret.txt", "/etc/passwd", "/static/link.txt", "/static/up/secret.txt",
		"/static/sub/../../secret.txt", "/static/a.txt%00", "/../secret.txt", "/socket.io.js",
	}
	served := map[string]string{"/static/a.txt": "inside", "/static/sub/b.txt": "inside too", "/": "index"}
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		mount := func(t testing.TB, h engineio.Handler) string { return m(t, app.New(h, rules)) }
		run(t, mount, item{reps: reps(100), probe: func(t *testing.T, e *env, i int) {
			for _, p := range refused {
				status, body := e.rawRequest("GET " + p + " HTTP/1.1\r\nHost: " + e.host + "\r\nConnection: close\r\n\r\n")
				if status != http.StatusNotFound && status != http.StatusBadRequest || strings.Contains(body, "SECRET") {
					t.Errorf("GET %s: %d %q, want 404 (or the HTTP server's 400)", p, status, body)
				}
			}
			for p, want := range served {
				status, body := e.rawRequest("GET " + p + " HTTP/1.1\r\nHost: " + e.host + "\r\nConnection: close\r\n\r\n")
				if status != http.StatusOK || body != want {
					t.Errorf("GET %s: %d %q, want 200 %q", p, status, body, want)
				}
			}
		}})
	})
}

// quickReconnect makes the Go client reconnect fast and without jitter.
func quickReconnect() *socketio.ClientOptions {
	return &socketio.ClientOptions{ReconnectionDelay: new(50 * time.Millisecond), ReconnectionDelayMax: 200 * time.Millisecond,
		RandomizationFactor: new(0.0), Timeout: wait}
}

func TestBattery42_GoClient(t *testing.T) {
	t.Run("TLSVerifiedByDefault", func(t *testing.T) {
		// TLS through siohttp on httptest's TLS server.
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		srv := socketio.NewServer(nil)
		ts := httptest.NewTLSServer(siohttp.Handler(srv))
		defer ts.Close()
		defer func() { _ = srv.Close() }()
		for _, transports := range [][]string{{"polling"}, {"websocket"}} {
			off := false
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			c, err := socketio.Connect(ctx, ts.URL, &socketio.ClientOptions{Reconnection: &off,
				Engine: engineio.ClientOptions{Transports: transports}})
			cancel()
			var unknown x509.UnknownAuthorityError
			if err == nil || !errors.As(err, &unknown) {
				t.Errorf("%v: Connect to a self-signed server: %v, want an unknown-authority error", transports, err)
			}
			if c != nil {
				_ = c.Close()
			}
			opts := &socketio.ClientOptions{Reconnection: &off, Engine: engineio.ClientOptions{Transports: transports,
				TLSConfig: ts.Client().Transport.(*http.Transport).TLSClientConfig}}
			ctx, cancel = context.WithTimeout(context.Background(), wait)
			c, err = socketio.Connect(ctx, ts.URL, opts)
			cancel()
			if err != nil {
				t.Errorf("%v: Connect with the server's root: %v", transports, err)
				continue
			}
			_ = c.Close()
		}
	})
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		var garbage sync.Map // Engine.IO ids of the connections sent garbage
		var first atomic.Bool
		setup := func(srv *socketio.Server) {
			srv.Of("/g").OnConnect(func(s *socketio.Socket) error {
				if first.CompareAndSwap(true, false) {
					garbage.Store(s.EngineID(), true)
					// A packet no Socket.IO decoder accepts, once Connect
					// has returned.
					id := s.EngineID()
					time.AfterFunc(100*time.Millisecond, func() {
						if es := srv.Engine().Session(id); es != nil {
							_ = es.Send([]byte("9garbage"), false)
						}
					})
				}
				return nil
			})
		}
		opts := socketio.Options{Engine: engineio.Options{MaxHTTPBufferSize: 2000}}
		run(t, m, item{opts: opts, setup: setup, reps: reps(5), probe: func(t *testing.T, e *env, i int) {
			url := "http://" + e.host
			// A decode error closes the engine; the client reconnects after
			// its backoff delay.
			first.Store(true)
			co := quickReconnect()
			co.Namespaces = []string{"/", "/g"}
			c := socketio.NewClient(url, co)
			defer func() { _ = c.Close() }()
			g := c.Of("/g")
			connects := make(chan time.Time, 4)
			disconnects := make(chan time.Time, 4)
			g.OnConnect(func() { connects <- time.Now() })
			g.OnDisconnect(func(string) { disconnects <- time.Now() })
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			if err := c.Connect(ctx); err != nil {
				t.Fatal(err)
			}
			recv(t, connects, "the first connection")
			down := recv(t, disconnects, "the disconnect after the garbage")
			up := recv(t, connects, "the reconnection")
			if d := up.Sub(down); d < 40*time.Millisecond {
				t.Errorf("reconnected %v after the decode error, before the 50 ms backoff", d)
			}
			// maxPayload from the open packet: too large a message is
			// refused by the client, not sent.
			waitFor(t, "the root namespace", c.Connected)
			err := c.Emit("echo", strings.Repeat("z", 3000))
			if !errors.Is(err, engineio.ErrMessageTooLarge) {
				t.Errorf("a 3000-byte emit under maxPayload 2000: %v, want ErrMessageTooLarge", err)
			}
			r, err := c.EmitWithAck(ctx, "echo", "still here")
			var s string
			if err != nil || r.Decode(&s) != nil || s != "still here" {
				t.Errorf("round trip after the refused emit: %v %v", r, err)
			}
			_ = c.Close()
		}})
	})
}
