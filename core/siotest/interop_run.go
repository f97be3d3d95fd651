package siotest

import (
	"bytes"
	"context"
	_ "embed"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/siokit/siokit/core/eiotest"
)

// iopProcessTimeout bounds one client process; the scripts give up on
// their own well before.
const iopProcessTimeout = 50 * time.Second

// iopPython is the interpreter with Debian's python3-socketio; the python3
// on PATH may be another one without it.
const iopPython = "/usr/bin/python3"

//go:embed testdata/interop_client.js
var iopJSScript []byte

//go:embed testdata/interop_client.py
var iopPyScript []byte

// iopRunJS runs the official JavaScript client.
func iopRunJS(t *testing.T, env *iopEnv, mode string) []iopCheck {
	root := eiotest.RepoRoot(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node not found (%v); run `make test`, which installs Node.js and the npm packages", err)
	}
	modules := filepath.Join(root, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "socket.io-client", "package.json")); err != nil {
		t.Fatalf("socket.io-client is missing from %s; run `make test` (or `npm ci` at the repository root)", modules)
	}
	script := iopWriteScript(t, "interop_client.js", iopJSScript)
	return iopRunProcess(t, []string{"NODE_PATH=" + modules},
		node, script, env.base, env.proxy.url, env.recBase, mode)
}

// iopRunPython runs python-socketio's Client.
func iopRunPython(t *testing.T, env *iopEnv, mode string) []iopCheck {
	out, err := exec.Command(iopPython, "-c", "import socketio, engineio, websocket, requests").CombinedOutput()
	if err != nil {
		t.Fatalf("%s cannot import python-socketio and its transports (%v: %s); run `make test`, "+
			"which installs Debian's python3-socketio", iopPython, err, bytes.TrimSpace(out))
	}
	script := iopWriteScript(t, "interop_client.py", iopPyScript)
	return iopRunProcess(t, nil, iopPython, script, env.base, env.proxy.url, mode)
}

func iopWriteScript(t *testing.T, name string, body []byte) string {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// iopRunProcess runs a client script to its end, bounded by
// iopProcessTimeout, and returns its check lines. A script that fails
// fails the test with its output.
func iopRunProcess(t *testing.T, env []string, name string, args ...string) []iopCheck {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), iopProcessTimeout)
	defer cancel()
	// name is node found by exec.LookPath or the fixed iopPython; args are
	// the embedded script written to t.TempDir and loopback URLs.
	cmd := exec.CommandContext(ctx, name, args...) //nolint:gosec // G204: a known interpreter running the kit's own script, see above
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 2 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	checks := iopParse(t, stdout.String())
	if err != nil {
		t.Errorf("%s %s: %v (context: %v)\nstderr:\n%s", filepath.Base(name), filepath.Base(args[0]), err, ctx.Err(), stderr.String())
	} else if t.Failed() || testing.Verbose() && stderr.Len() > 0 {
		t.Logf("stderr of %s:\n%s", filepath.Base(args[0]), stderr.String())
	}
	return checks
}

// iopProxy is a loopback TCP proxy in front of the main server. cut drops
// every connection through it, without a close packet or a WebSocket close
// frame, and refuses new ones for iopOutage: the client sees its transport
// lost, as when a network fails for a moment. (An instant cut alone can
// miss a long-polling client between two requests: its next request would
// go through a fresh connection and it would never notice.)
type iopProxy struct {
	url    string
	ln     net.Listener
	target string // host:port; guarded by mu

	mu        sync.Mutex
	conns     map[net.Conn]struct{}
	downUntil time.Time
	closed    bool
	wg        sync.WaitGroup
}

// iopOutage is how long the proxy refuses connections after a cut.
const iopOutage = 500 * time.Millisecond

func iopNewProxy(t *testing.T, base string) *iopProxy {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &iopProxy{url: "http://" + ln.Addr().String(), ln: ln, target: u.Host, conns: make(map[net.Conn]struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *iopProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down, target := time.Now().Before(p.downUntil), p.target
		p.mu.Unlock()
		if down {
			iopReset(c)
			continue
		}
		up, err := net.DialTimeout("tcp", target, 5*time.Second)
		if err != nil {
			_ = c.Close()
			continue
		}
		if !p.track(c, up) {
			return
		}
		p.wg.Add(2)
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *iopProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		for _, c := range conns {
			_ = c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *iopProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src) // a cut connection ends here with an error; nothing to report
	_ = dst.Close()
	_ = src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// cut drops every open connection through the proxy and refuses new ones
// for iopOutage.
func (p *iopProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.downUntil = time.Now().Add(iopOutage)
	for c := range p.conns {
		iopReset(c)
	}
}

// retarget sends the connections made from now on to the server at base.
func (p *iopProxy) retarget(t *testing.T, base string) {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.target = u.Host
	p.mu.Unlock()
}

// iopReset closes c with a TCP reset, as a failing network gives.
func iopReset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

func (p *iopProxy) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	_ = p.ln.Close()
	p.cut()
	p.wg.Wait()
}
