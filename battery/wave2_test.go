package battery

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siokit/siokit/core/app"
	"github.com/siokit/siokit/core/eiotest"
	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/socketio"
)

// TestBattery55_Dotfiles: a directory rule serves no file or directory whose
// name starts with a dot (.env, .git/config, .hidden/x), however the path is
// spelled; a rule that says WithDotfiles does.
func TestBattery55_Dotfiles(t *testing.T) {
	pub := t.TempDir()
	for name, body := range map[string]string{
		".env": "SECRET=1", ".git/config": "SECRET", ".hidden/x.txt": "SECRET", "ok.txt": "fine", ".well-known/x.txt": "known",
	} {
		p := filepath.Join(pub, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rules := &app.Options{Static: []app.StaticRule{app.Dir("/static", pub), app.Dir("/open", filepath.Join(pub, ".well-known")).WithDotfiles()}}
	refused := []string{
		"/static/.env", "/static/.git/config", "/static/.hidden/x.txt", "/static/%2eenv", "/static/.git%2fconfig",
		"/static/sub/../.env", "/static/./.env",
	}
	served := map[string]string{"/static/ok.txt": "fine", "/open/x.txt": "known"}
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		mount := func(t testing.TB, h engineio.Handler) string { return m(t, app.New(h, rules)) }
		run(t, mount, item{reps: reps(50), probe: func(t *testing.T, e *env, i int) {
			for _, p := range refused {
				status, body := e.rawRequest("GET " + p + " HTTP/1.1\r\nHost: " + e.host + "\r\nConnection: close\r\n\r\n")
				if status != http.StatusNotFound && status != http.StatusBadRequest || strings.Contains(body, "SECRET") {
					t.Errorf("GET %s: %d %q, want 404", p, status, body)
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

// TestBattery56_OriginSchemeAndForwardedHost: the same-origin check compares
// the scheme as well as the host, and X-Forwarded-Host/-Proto count only
// when the engine is told the proxy is trusted.
func TestBattery56_OriginSchemeAndForwardedHost(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		run(t, m, item{reps: reps(100), probe: func(t *testing.T, e *env, i int) {
			// The server speaks plain HTTP: an https origin on its own host is another origin.
			status, body := e.do(http.MethodGet, "EIO=4&transport=polling", nil, map[string]string{"Origin": "https://" + e.host})
			expectError(t, status, body, 400, 3, "Not an accepted origin.")
			status, _ = e.rawRequest(e.wsHandshakeRequest("EIO=4&transport=websocket", "Origin: https://"+e.host+"\r\n"))
			if status != http.StatusBadRequest {
				t.Errorf("cross-scheme WebSocket: status %d, want 400", status)
			}
			// A forwarded host that matches the origin is not believed without TrustProxy.
			status, body = e.do(http.MethodGet, "EIO=4&transport=polling", nil, map[string]string{
				"Origin": "http://evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http",
			})
			expectError(t, status, body, 400, 3, "Not an accepted origin.")
			// The same origin, same scheme, is accepted.
			status, body = e.do(http.MethodGet, "EIO=4&transport=polling", nil, map[string]string{"Origin": "http://" + e.host})
			if status != http.StatusOK || !strings.HasPrefix(body, "0{") {
				t.Fatalf("same-origin handshake: %d %q", status, body)
			}
			closeOpened(e, body)
		}})
		trusted := socketio.Options{Engine: engineio.Options{TrustProxy: true}}
		run(t, m, item{opts: trusted, reps: reps(50), probe: func(t *testing.T, e *env, i int) {
			status, body := e.do(http.MethodGet, "EIO=4&transport=polling", nil, map[string]string{
				"Origin": "https://app.example", "X-Forwarded-Host": "app.example", "X-Forwarded-Proto": "https",
			})
			if status != http.StatusOK || !strings.HasPrefix(body, "0{") {
				t.Fatalf("behind a trusted proxy: %d %q", status, body)
			}
			closeOpened(e, body)
			status, body = e.do(http.MethodGet, "EIO=4&transport=polling", nil, map[string]string{
				"Origin": "http://app.example", "X-Forwarded-Host": "app.example", "X-Forwarded-Proto": "https",
			})
			expectError(t, status, body, 400, 3, "Not an accepted origin.")
		}})
	})
}

// closeOpened closes the polling session an open packet names.
func closeOpened(e *env, open string) {
	var o struct{ SID string }
	_ = json.Unmarshal([]byte(open[1:]), &o)
	e.closePolling(o.SID)
}

// TestBattery57_InvalidUTF8AndPingFlood: a text frame that is not UTF-8
// closes with 1007; a client that floods pings is closed with 1008 once it
// passes the cap, instead of costing a pong write each.
func TestBattery57_InvalidUTF8AndPingFlood(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		run(t, m, item{reps: reps(50), probe: func(t *testing.T, e *env, i int) {
			w := e.dialRaw(true)
			defer func() { _ = w.Close() }()
			if op, p, err := w.readFrame(); err != nil || op != 1 || len(p) == 0 || p[0] != '0' {
				t.Fatalf("open packet: %d %q %v", op, p, err)
			}
			if _, err := w.Write(frame(0x81, []byte("4\xff\xfe"), true)); err != nil {
				t.Fatal(err)
			}
			if code := w.expectEnd(t); code != 1007 {
				t.Errorf("invalid UTF-8: close status %d, want 1007", code)
			}
		}})
		run(t, m, item{reps: reps(10), probe: func(t *testing.T, e *env, i int) {
			w := e.dialRaw(true)
			defer func() { _ = w.Close() }()
			if op, _, err := w.readFrame(); err != nil || op != 1 {
				t.Fatalf("open packet: %d %v", op, err)
			}
			flood := make([]byte, 0, 1000*6)
			for range 1000 {
				flood = append(flood, frame(0x89, nil, true)...)
			}
			_, _ = w.Write(flood) // the server may close before it has read them all
			if code := w.expectEnd(t); code != 1008 {
				t.Errorf("ping flood: close status %d, want 1008", code)
			}
		}})
	})
}
