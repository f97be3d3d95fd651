package eiotest

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "embed"

	"github.com/gorilla/websocket"

	"github.com/siokit/siokit/core/engineio"
)

//go:embed testdata/ws_client.js
var wsJSScript []byte

//go:embed testdata/ws_client.py
var wsPyScript []byte

// RunWebSocket holds the server's WebSocket protocol (RFC 6455, RFC 7692)
// to three independent client implementations through mount, which may
// serve plain HTTP or HTTPS (a loopback certificate is accepted): gorilla's
// client in Go, npm's ws in Node.js and python's websocket-client (Debian
// python3-websocket). Each, with permessage-deflate off and on (the server
// offering it): messages of 125, 126, 65535 and 65536 bytes both ways,
// fragmented messages with pings between the fragments, a close frame
// answered with its code, and the closes the server initiates: 1002 for a
// protocol error, 1007 for invalid UTF-8, 1008 for a ping flood, 1009 for a
// message over the limit (and, compressed, for a small frame that inflates
// past it), 1000 when the server closes the session.
//
// It needs Node.js with the repository's node_modules and Debian's
// python3-websocket, which `make test` installs.
func RunWebSocket(t *testing.T, mount Mount) {
	t.Helper()
	for _, deflate := range []bool{false, true} {
		name := "plain"
		if deflate {
			name = "deflate"
		}
		t.Run("gorilla/"+name, func(t *testing.T) { wsGorilla(t, mount, deflate) })
		t.Run("ws/"+name, func(t *testing.T) { wsScript(t, mount, deflate, "node") })
		t.Run("python/"+name, func(t *testing.T) { wsScript(t, mount, deflate, "python") })
	}
}

// wsLimit is the MaxHTTPBufferSize of the WebSocket checks: above 65536 so
// that every length encoding passes.
const wsLimit = 100_000

// wsOptions are the server's options for the WebSocket checks. The server
// echoes every message; "close" makes it close the session.
func wsStart(t *testing.T, mount Mount, deflate bool) *harness {
	return startWith(t, mount, engineio.Options{MaxHTTPBufferSize: wsLimit, PerMessageDeflate: deflate},
		hooks{message: func(s *engineio.Session, data []byte, _ bool) bool {
			if string(data) == "close" {
				_ = s.Close()
				return true
			}
			return false
		}})
}

// countConn counts the bytes read from a connection.
type countConn struct {
	net.Conn
	read *atomic.Int64
}

func (c countConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func wsGorilla(t *testing.T, mount Mount, deflate bool) {
	h := wsStart(t, mount, deflate)
	var read atomic.Int64
	dialer := h.dialer
	dialer.EnableCompression = true // the client always offers it
	dialer.WriteBufferSize = 512    // so that long messages go out in fragments
	netDial := dialer.NetDialContext
	if netDial == nil {
		netDial = (&net.Dialer{}).DialContext
	}
	dialer.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := netDial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countConn{c, &read}, nil
	}
	if dialer.TLSClientConfig != nil {
		// With NetDialContext set, gorilla runs TLS over the counted conn.
		dialer.NetDialTLSContext = nil
	}
	dial := func() *websocket.Conn {
		t.Helper()
		c, res, err := dialer.Dial(h.wsURL("EIO=4&transport=websocket"), nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if got := res.Header.Get("Sec-WebSocket-Extensions") != ""; got != deflate {
			t.Fatalf("extension negotiated: %v, want %v (%q)", got, deflate, res.Header.Get("Sec-WebSocket-Extensions"))
		}
		c.EnableWriteCompression(deflate)
		t.Cleanup(func() { _ = c.Close() })
		if _, data, err := readWS(c); err != nil || !strings.HasPrefix(string(data), "0{") {
			t.Fatalf("open packet: %q, %v", data, err)
		}
		return c
	}

	c := dial()
	for _, n := range []int{125, 126, 65535, 65536} {
		msg := "4" + strings.Repeat("x", n-1)
		before := read.Load()
		writeText(t, c, msg)
		expectWS(t, c, msg)
		got := read.Load() - before
		if deflate && n >= engineio.DefaultPerMessageDeflateThreshold && got > int64(n)/4 {
			t.Errorf("%d-byte echo took %d bytes on the wire: not compressed", n, got)
		}
		if (!deflate || n < engineio.DefaultPerMessageDeflateThreshold) && got < int64(n) {
			t.Errorf("%d-byte echo took %d bytes on the wire", n, got)
		}
		bin := bytes.Repeat([]byte{0xfe}, n)
		if err := c.WriteMessage(websocket.BinaryMessage, bin); err != nil {
			t.Fatal(err)
		}
		if _, data, err := readWS(c); err != nil || !bytes.Equal(data, bin) {
			t.Fatalf("binary echo of %d bytes: %d bytes, %v", n, len(data), err)
		}
	}

	// A fragmented message with pings between its fragments.
	pongs := make(chan string, 4)
	c.SetPongHandler(func(s string) error { pongs <- s; return nil })
	w, err := c.NextWriter(websocket.TextMessage)
	if err != nil {
		t.Fatal(err)
	}
	frag := "4" + strings.Repeat("f", 3000)
	for i, part := range []string{frag[:1000], frag[1000:2000], frag[2000:]} {
		if _, err := w.Write([]byte(part)); err != nil {
			t.Fatal(err)
		}
		if i < 2 { // the part went out in frames of 512 bytes; a ping follows
			if err := c.WriteControl(websocket.PingMessage, []byte{byte('a' + i)}, time.Now().Add(waitTimeout)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	expectWS(t, c, frag) // pongs are read on the way
	for _, want := range []string{"a", "b"} {
		select {
		case got := <-pongs:
			if got != want {
				t.Errorf("pong %q, want %q", got, want)
			}
		case <-time.After(waitTimeout):
			t.Fatal("no pong")
		}
	}

	// The server closes the session: a close frame 1000.
	writeText(t, c, "4close")
	wantClose(t, c, websocket.CloseNormalClosure)

	// A client's close frame is answered with its code.
	c = dial()
	if err := c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4001, "bye"), time.Now().Add(waitTimeout)); err != nil {
		t.Fatal(err)
	}
	wantClose(t, c, 4001)

	// Invalid UTF-8 in a text message: 1007.
	c = dial()
	if err := c.WriteMessage(websocket.TextMessage, []byte("4\xff\xfe")); err != nil {
		t.Fatal(err)
	}
	wantClose(t, c, websocket.CloseInvalidFramePayloadData)

	// A reserved opcode: 1002.
	c = dial()
	if _, err := c.NetConn().Write([]byte{0x83, 0x80, 1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	wantClose(t, c, websocket.CloseProtocolError)

	// A ping flood: 1008.
	c = dial()
	for i := 0; i < 3*engineio.DefaultMaxControlFramesPerSecond; i++ {
		if c.WriteControl(websocket.PingMessage, nil, time.Now().Add(waitTimeout)) != nil {
			break // closed already
		}
	}
	wantClose(t, c, websocket.ClosePolicyViolation)

	// Too big: 1009; compressed, a small frame inflating past the limit.
	c = dial()
	if err := c.WriteMessage(websocket.TextMessage, []byte("4"+strings.Repeat("z", wsLimit))); err != nil {
		t.Fatal(err)
	}
	wantClose(t, c, websocket.CloseMessageTooBig)
}

// wantClose reads until the connection ends and fails t unless it ended
// with a close frame carrying code.
func wantClose(t *testing.T, c *websocket.Conn, code int) {
	t.Helper()
	err := waitWSClosed(t, c)
	if !websocket.IsCloseError(err, code) {
		t.Errorf("connection ended with %v, want close %d", err, code)
	}
}

// wsScript runs the Node.js (npm ws) or Python (websocket-client) check
// script against the server and fails t with what it reports.
func wsScript(t *testing.T, mount Mount, deflate bool, which string) {
	h := wsStart(t, mount, deflate)
	var cmd []string
	var env []string
	switch which {
	case "node":
		node, err := exec.LookPath("node")
		if err != nil {
			t.Fatalf("node not found (%v); run `make test`", err)
		}
		modules := filepath.Join(RepoRoot(t), "node_modules")
		if _, err := os.Stat(filepath.Join(modules, "ws", "package.json")); err != nil {
			t.Fatalf("ws is missing from %s; run `npm ci` at the repository root", modules)
		}
		cmd = []string{node, writeScript(t, "ws_client.js", wsJSScript)}
		env = []string{"NODE_PATH=" + modules, "NODE_TLS_REJECT_UNAUTHORIZED=0"}
	default:
		py := "/usr/bin/python3"
		if out, err := exec.Command(py, "-c", "import websocket").CombinedOutput(); err != nil {
			t.Fatalf("%s cannot import websocket-client (%v: %s); run `make test`, which installs python3-websocket", py, err, out)
		}
		cmd = []string{py, writeScript(t, "ws_client.py", wsPyScript)}
	}
	flag := "plain"
	if deflate {
		flag = "deflate"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p := exec.CommandContext(ctx, cmd[0], append(cmd[1:], h.wsURL("EIO=4&transport=websocket"), flag, "100000")...) //nolint:gosec // G204: a known interpreter running the kit's own script
	p.Env = append(os.Environ(), env...)
	p.WaitDelay = 2 * time.Second
	out, err := p.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("ALL OK")) {
		t.Errorf("%s: %v\n%s", filepath.Base(cmd[1]), err, out)
	} else if testing.Verbose() {
		t.Logf("%s", out)
	}
}

func writeScript(t *testing.T, name string, body []byte) string {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
