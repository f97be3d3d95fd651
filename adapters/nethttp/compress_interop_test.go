package siohttp_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/app"
	"github.com/siokit/siokit/core/eiotest"
	"github.com/siokit/siokit/core/socketio"
)

// encodingLog records the Content-Encoding of every long-polling GET
// response with a session id, by the client's User-Agent.
type encodingLog struct {
	mu   sync.Mutex
	seen map[string][]string // User-Agent -> encodings ("" for none)
}

func (l *encodingLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.Method != http.MethodGet || q.Get("transport") != "polling" || q.Get("sid") == "" {
			h.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
		l.mu.Lock()
		defer l.mu.Unlock()
		ua := r.Header.Get("User-Agent")
		l.seen[ua] = append(l.seen[ua], w.Header().Get("Content-Encoding"))
	})
}

// encodings returns the encodings seen for User-Agents that start with prefix.
func (l *encodingLog) encodings(prefix string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for ua, encs := range l.seen {
		if strings.HasPrefix(ua, prefix) {
			out = append(out, encs...)
		}
	}
	return out
}

// compressServer serves a Socket.IO server that greets each client with a
// 30,000-byte event and answers "big" with a string of the asked length.
func compressServer(t *testing.T, log *encodingLog) *httptest.Server {
	t.Helper()
	return compressServerApp(t, log, nil)
}

// compressServerApp is compressServer in an App with static rules.
func compressServerApp(t *testing.T, log *encodingLog, rules []app.StaticRule) *httptest.Server {
	t.Helper()
	srv := socketio.NewServer(nil)
	srv.OnConnect(func(s *socketio.Socket) error {
		return s.Emit("welcome", strings.Repeat("w", 30000))
	})
	if err := srv.On("big", func(n int) string { return strings.Repeat("z", n) }); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(log.wrap(siohttp.Handler(app.New(srv, &app.Options{Static: rules}))))
	t.Cleanup(func() {
		ts.Close()
		_ = srv.Close()
	})
	return ts
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestCompressionInteropNode: socket.io-client in Node over polling with
// the Fetch transport gets gzip responses and reads them; with its default
// XHR transport (which sends no Accept-Encoding) it gets them uncompressed;
// a raw Node request inflates a gzip poll with zlib.
func TestCompressionInteropNode(t *testing.T) {
	log := &encodingLog{seen: map[string][]string{}}
	ts := compressServer(t, log)
	out := eiotest.RunNode(t, "adapters/nethttp/testdata/compress_client.js", ts.URL)
	checks := 0
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		var c struct {
			Check string
			OK    bool
			Error string
		}
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("script output %q: %v", line, err)
		}
		checks++
		if !c.OK {
			t.Errorf("%s: %s", c.Check, c.Error)
		}
	}
	t.Logf("encodings by User-Agent: %q", log.seen)
	if checks != 3 {
		t.Errorf("%d checks reported, want 3:\n%s", checks, out)
	}
	if encs := log.encodings("node-XMLHttpRequest"); len(encs) == 0 || contains(encs, "gzip") || contains(encs, "deflate") {
		t.Errorf("xhr client responses: %q, want uncompressed ones", encs)
	}
	if encs := log.seen["node"]; !contains(encs, "gzip") { // Node's fetch
		t.Errorf("fetch client responses: %q, want gzip among them", encs)
	}
}

// TestCompressionInteropPython: python-socketio's client over polling
// (python requests asks for gzip and inflates it) reads compressed
// responses.
func TestCompressionInteropPython(t *testing.T) {
	log := &encodingLog{seen: map[string][]string{}}
	ts := compressServer(t, log)
	script := `
import sys, threading, socketio
sio = socketio.Client(reconnection=False)
got = threading.Event()
welcome = []
@sio.on("welcome")
def on_welcome(text):
    welcome.append(len(text))
    got.set()
sio.connect(sys.argv[1], transports=["polling"], wait_timeout=10)
if not got.wait(10):
    sys.exit("no welcome")
reply = sio.call("big", 30000, timeout=10)
sio.disconnect()
print(welcome[0], len(reply))
`
	out, err := exec.CommandContext(t.Context(), "/usr/bin/python3", "-c", script, ts.URL).CombinedOutput() //nolint:gosec // G204: the test's own script
	if err != nil {
		t.Fatalf("python client: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "30000 30000" {
		t.Errorf("python client read %q, want \"30000 30000\"", got)
	}
	if encs := log.encodings("python-requests"); !contains(encs, "gzip") {
		t.Errorf("python client responses: %q, want gzip among them", encs)
	}
}
