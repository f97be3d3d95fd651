package eiotest

import (
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/core/engineio"
)

// The scenarios of the engine's guards: compression of long-polling
// responses, the same-origin check's scheme and forwarded headers, the
// per-address connection cap and a bounded Shutdown.

func testCompression(t *testing.T, mount Mount) {
	h := start(t, mount, engineio.Options{})
	big := strings.Repeat("a message that compresses well ", 100)
	for _, enc := range []string{"gzip", "deflate", ""} {
		sid := h.open()
		if err := h.srv.Session(sid).Send([]byte(big), false); err != nil {
			t.Fatal(err)
		}
		hdr := map[string]string{"Accept-Encoding": enc}
		if enc == "" {
			hdr["Accept-Encoding"] = "identity"
		}
		res := h.do(http.MethodGet, sidQuery(sid), nil, hdr)
		if got := res.header.Get("Content-Encoding"); got != enc {
			t.Fatalf("Accept-Encoding %q: Content-Encoding %q", hdr["Accept-Encoding"], got)
		}
		var r io.Reader = strings.NewReader(res.body)
		var err error
		switch enc {
		case "gzip":
			r, err = gzip.NewReader(r)
		case "deflate":
			r, err = zlib.NewReader(r)
		}
		if err != nil {
			t.Fatalf("%s: %v", enc, err)
		}
		plain, err := io.ReadAll(r)
		if err != nil || string(plain) != "4"+big {
			t.Fatalf("%s: decoded %d bytes, %v", enc, len(plain), err)
		}
		if enc != "" && len(res.body) >= len(plain)/4 {
			t.Errorf("%s: %d bytes for %d", enc, len(res.body), len(plain))
		}
	}
	// Small responses go out as they are; Go's client, which asks for gzip
	// by itself, reads compressed ones transparently.
	sid := h.open()
	_ = h.srv.Session(sid).Send([]byte("small"), false)
	res := h.do(http.MethodGet, sidQuery(sid), nil, map[string]string{"Accept-Encoding": "gzip"})
	if res.header.Get("Content-Encoding") != "" || res.body != "4small" {
		t.Errorf("small response: %q, Content-Encoding %q", res.body, res.header.Get("Content-Encoding"))
	}
	_ = h.srv.Session(sid).Send([]byte(big), false)
	if got := h.poll(sid); len(got) != 1 || got[0] != "4"+big {
		t.Errorf("transparent gzip: %d packets", len(got))
	}

	off := start(t, mount, engineio.Options{HTTPCompression: engineio.CompressionOptions{Disable: true}})
	sid = off.open()
	_ = off.srv.Session(sid).Send([]byte(big), false)
	if res := off.do(http.MethodGet, sidQuery(sid), nil, map[string]string{"Accept-Encoding": "gzip"}); res.header.Get("Content-Encoding") != "" {
		t.Errorf("compression disabled: Content-Encoding %q", res.header.Get("Content-Encoding"))
	}
}

func testCORSScheme(t *testing.T, mount Mount) {
	const refused = "Not an accepted origin."
	h := start(t, mount, engineio.Options{})
	host := strings.TrimPrefix(h.base, "http://")
	// The server is plain HTTP: its host over https is another origin.
	expectError(t, h.do("GET", "EIO=4&transport=polling", nil, map[string]string{"Origin": "https://" + host}), 400, 3, refused)
	if _, status, err := h.dialErr("EIO=4&transport=websocket", http.Header{"Origin": {"https://" + host}}); err == nil || status != 400 {
		t.Errorf("cross-scheme websocket: %v, status %d; want 400", err, status)
	}
	// Forwarded headers are ignored unless the proxy is trusted.
	fwd := map[string]string{"Origin": "https://front.example", "X-Forwarded-Host": "front.example", "X-Forwarded-Proto": "https"}
	expectError(t, h.do("GET", "EIO=4&transport=polling", nil, fwd), 400, 3, refused)
	trusted := start(t, mount, engineio.Options{TrustProxy: true})
	if res := trusted.do("GET", "EIO=4&transport=polling", nil, fwd); res.status != 200 ||
		res.header.Get("Access-Control-Allow-Origin") != "https://front.example" {
		t.Errorf("trusted proxy: status %d, ACAO %q", res.status, res.header.Get("Access-Control-Allow-Origin"))
	}
	fwd["Origin"] = "http://front.example"
	expectError(t, trusted.do("GET", "EIO=4&transport=polling", nil, fwd), 400, 3, refused)
}

func testPerAddressCap(t *testing.T, mount Mount) {
	h := start(t, mount, engineio.Options{MaxConnectionsPerAddress: 2})
	sid := h.open()
	c, _ := h.wsOpen()
	expectError(t, h.do("GET", "EIO=4&transport=polling", nil, nil), 403, 4, "Too many connections from this address")
	if _, status, err := h.dialErr("EIO=4&transport=websocket", nil); err == nil || status != 403 {
		t.Errorf("websocket over the cap: %v, status %d; want 403", err, status)
	}
	_ = h.srv.Session(sid).Close()
	h.expectReason(sid, engineio.ReasonForcedClose)
	h.open()
	c.Close()

	// A trusted proxy's clients are counted by X-Forwarded-For.
	p := start(t, mount, engineio.Options{MaxConnectionsPerAddress: 1, TrustProxy: true})
	for _, addr := range []string{"203.0.113.1", "203.0.113.2"} {
		if _, err := p.openErr(map[string]string{"X-Forwarded-For": "198.51.100.9, " + addr}); err != nil {
			t.Errorf("client %s behind the proxy: %v", addr, err)
		}
	}
	expectError(t, p.do("GET", "EIO=4&transport=polling", nil, map[string]string{"X-Forwarded-For": "203.0.113.2"}), 403, 4, "")
}

func testShutdown(t *testing.T, mount Mount) {
	release := make(chan struct{})
	blocked := make(chan struct{}, 1)
	h := startWith(t, mount, engineio.Options{}, hooks{message: func(_ *engineio.Session, data []byte, _ bool) bool {
		if string(data) != "block" {
			return false
		}
		blocked <- struct{}{}
		<-release
		return true
	}})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
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
	writeText(t, c, "4block")
	<-blocked
	time.Sleep(50 * time.Millisecond) // let the poll arrive

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := h.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown with a blocked handler: %v, want DeadlineExceeded", err)
	}
	if got := <-pending; len(got) != 1 || got[0] != "1" {
		t.Errorf("pending poll got %q, want [1]", got)
	}
	h.expectReason(sid, engineio.ReasonServerShuttingDown)
	// The WebSocket was closed, whatever it was sent first.
	_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
				t.Fatal("the WebSocket stayed open after Shutdown")
			}
			break
		}
	}
	expectError(t, h.do("GET", "EIO=4&transport=polling", nil, nil), 403, 4, "")
	close(release)
	h.expectReason(o.SID, engineio.ReasonServerShuttingDown)
	if err := h.srv.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown once the handler returned: %v", err)
	}
}
