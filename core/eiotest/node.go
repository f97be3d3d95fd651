package eiotest

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/core/engineio"
)

// nodeTimeout bounds one run of a Node.js script.
const nodeTimeout = 60 * time.Second

// RepoRoot returns the repository root: the nearest directory, from the
// working directory up, that holds go.work. It fails t when there is none.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("eiotest: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("eiotest: no go.work above the working directory; run the tests inside the siokit repository")
		}
		dir = parent
	}
}

// RunNode runs a Node.js script with NODE_PATH set to the repository's
// node_modules and returns its standard output. A relative script path is
// taken from the repository root. The test fails, and does not skip, when
// node or node_modules is missing, or when the script fails or runs longer
// than a minute; the failure shows the script's output.
func RunNode(t testing.TB, script string, args ...string) string {
	t.Helper()
	root := RepoRoot(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("eiotest: node not found (%v); run `make test`, which installs Node.js and the npm packages", err)
	}
	modules := filepath.Join(root, "node_modules")
	if st, err := os.Stat(modules); err != nil || !st.IsDir() {
		t.Fatalf("eiotest: %s is missing; run `make test` (or `npm ci` at the repository root)", modules)
	}
	if !filepath.IsAbs(script) {
		script = filepath.Join(root, script)
	}
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{script}, args...)...) //nolint:gosec // G204: test kit running the Node.js on PATH with a script and arguments chosen by the calling test
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("eiotest: node %s %s: %v\nstdout:\n%s\nstderr:\n%s",
			filepath.Base(script), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

//go:embed testdata/eio_client.js
var eioClientScript []byte

// RunClientInterop runs the official JavaScript engine.io-client (from the
// repository's node_modules, see [RunNode]) against servers mounted with
// mount: over polling only, WebSocket only and polling with upgrade, it
// exchanges text and binary messages both ways, then closes from the client
// side and, in another run, from the server side. Every run ends with a
// goroutine-leak check, so it must not run in parallel with other tests.
func RunClientInterop(t *testing.T, mount Mount) {
	t.Helper()
	script := filepath.Join(t.TempDir(), "eio_client.js")
	if err := os.WriteFile(script, eioClientScript, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"polling", "websocket", "upgrade"} {
		for _, closer := range []string{"client", "server"} {
			t.Run(mode+"/"+closer+"Close", func(t *testing.T) {
				runClient(t, mount, script, mode, closer)
			})
		}
	}
}

func runClient(t *testing.T, mount Mount, script, mode, closer string) {
	h := startWith(t, mount, engineio.Options{}, hooks{
		connection: func(s *engineio.Session) {
			_ = s.Send([]byte("welcome"), false)
			_ = s.Send([]byte{0xde, 0xad, 0xbe, 0xef}, true)
		},
		message: func(s *engineio.Session, data []byte, binary bool) bool {
			if !binary && string(data) == "close me" {
				_ = s.Close()
				return true
			}
			return false
		},
	})
	out := RunNode(t, script, h.base, mode, closer)
	var res struct{ SID, Transport, Reason string }
	for line := range strings.Lines(out) {
		if rest, ok := strings.CutPrefix(line, "RESULT "); ok {
			if err := json.Unmarshal([]byte(rest), &res); err != nil {
				t.Fatalf("bad result line %q: %v", line, err)
			}
		}
	}
	if res.SID == "" {
		t.Fatalf("the script printed no result:\n%s", out)
	}
	wantTransport, wantReason := engineio.TransportWebSocket, engineio.ReasonTransportClose
	if mode == "polling" {
		wantTransport = engineio.TransportPolling
	}
	if closer == "server" {
		wantReason = engineio.ReasonForcedClose
	}
	ev := h.waitClose(res.SID)
	if ev.reason != wantReason || ev.transport != wantTransport || res.Transport != wantTransport {
		t.Errorf("server saw close %+v, client transport %q; want reason %q over %s",
			ev, res.Transport, wantReason, wantTransport)
	}
}
