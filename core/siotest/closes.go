package siotest

import (
	_ "embed"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/siokit/siokit/core/eiotest"
	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/socketio"
)

//go:embed testdata/closes_client.js
var closesJSScript []byte

//go:embed testdata/closes_client.py
var closesPyScript []byte

// closesTries is how many clients each close-during-upgrade check connects.
const closesTries = 200

// RunCloses checks how real clients live through the server's closes,
// against Socket.IO servers mounted with mount:
//
//   - UpgradeClose: the official socket.io-client connects closesTries
//     times over polling with upgrade, and each time, once its probe is
//     answered (polling paused), holds back its upgrade packet until the
//     server has closed the connection: with Socket.Disconnect(true), and
//     as many times with Socket.Drop. Every client must see the end within
//     5 s: none may be left waiting for its ping timeout, as when the server
//     dropped the probe.
//   - Restart: socket.io-client (polling, WebSocket, upgrade) and
//     python-socketio (WebSocket, upgrade) stay connected through a proxy
//     while the server closes and another takes its place; each must
//     reconnect by itself. (Over polling the server sends the close packet,
//     as Node does, which python-socketio 5.7.2 takes as final.)
//
// That Drop makes both clients reconnect with a new session, and that
// Disconnect(true) makes neither reconnect, is checked by [RunInterop].
// Like RunInterop it needs Node.js with the repository's node_modules and
// Debian's python3-socketio, and ends with a goroutine-leak check.
func RunCloses(t *testing.T, mount eiotest.Mount) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Run("UpgradeClose", func(t *testing.T) { closesUpgrade(t, mount) })
	t.Run("Restart", func(t *testing.T) { closesRestart(t, mount) })
	goleak.VerifyNone(t, ignore)
}

// closesNode returns node and the NODE_PATH setting, or fails t.
func closesNode(t *testing.T) (node string, env []string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node not found (%v); run `make test`, which installs Node.js and the npm packages", err)
	}
	modules := filepath.Join(eiotest.RepoRoot(t), "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "socket.io-client", "package.json")); err != nil {
		t.Fatalf("socket.io-client is missing from %s; run `make test` (or `npm ci` at the repository root)", modules)
	}
	return node, []string{"NODE_PATH=" + modules}
}

func closesUpgrade(t *testing.T, mount eiotest.Mount) {
	node, env := closesNode(t)
	srv := socketio.NewServer(nil)
	var sockets sync.Map // engine id -> *socketio.Socket of /kick or /drop
	for _, nsp := range []string{"/kick", "/drop"} {
		srv.Of(nsp).OnConnect(func(s *socketio.Socket) error {
			sockets.Store(s.EngineID(), s)
			return nil
		})
	}
	// The client asks, over a connection of its own, for its connection to
	// be closed while it holds back its upgrade packet.
	iopMust(t, srv.Of("/ctl").On("close", func(eid, how string) string {
		es := srv.Engine().Session(eid)
		v, connected := sockets.LoadAndDelete(eid)
		switch {
		case es == nil:
			return "gone"
		case how == "drop":
			es.Drop()
		case connected:
			v.(*socketio.Socket).Disconnect(true)
		default: // not connected to the namespace yet
			_ = es.Close()
		}
		return "closed"
	}))
	base := mount(t, srv)
	t.Cleanup(func() { _ = srv.Close() })
	script := iopWriteScript(t, "closes_client.js", closesJSScript)
	lines := iopRunProcess(t, env, node, script, "upgrade-close", base, strconv.Itoa(closesTries))
	iopAssert(t, []string{"upgrade-close/kick", "upgrade-close/drop"}, lines)
}

// closesHello is a client's hello, as a server received it.
type closesHello struct{ server, client, eid string }

func closesRestart(t *testing.T, mount eiotest.Mount) {
	node, nodeEnv := closesNode(t)
	hellos := make(chan closesHello, 256)
	newServer := func(label string) *socketio.Server {
		srv := socketio.NewServer(nil)
		iopMust(t, srv.Of("/").On("hello", func(s *socketio.Socket, name string) {
			hellos <- closesHello{label, name, s.EngineID()}
		}))
		return srv
	}
	a, b := newServer("a"), newServer("b")
	baseA := mount(t, a)
	t.Cleanup(func() { _ = a.Close() })
	baseB := mount(t, b)
	t.Cleanup(func() { _ = b.Close() })
	proxy := iopNewProxy(t, baseA)

	jsScript := iopWriteScript(t, "closes_client.js", closesJSScript)
	pyScript := iopWriteScript(t, "closes_client.py", closesPyScript)
	type client struct {
		name string
		run  func() []iopCheck
	}
	var clients []client
	for _, mode := range []string{"polling", "websocket", "upgrade"} {
		clients = append(clients, client{"js-" + mode, func() []iopCheck {
			return iopRunProcess(t, nodeEnv, node, jsScript, "restart", proxy.url, mode, "js-"+mode)
		}})
	}
	for _, mode := range []string{"websocket", "upgrade"} {
		clients = append(clients, client{"python-" + mode, func() []iopCheck {
			return iopRunProcess(t, nil, iopPython, pyScript, proxy.url, mode, "python-"+mode)
		}})
	}
	results := make([][]iopCheck, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() { results[i] = c.run() })
	}
	defer func() {
		wg.Wait()
		for i, c := range clients {
			t.Run(c.name, func(t *testing.T) { iopAssert(t, []string{"restart/reconnected"}, results[i]) })
		}
	}()

	began := time.Now()
	waitHellos := func(server string) map[string]string {
		seen := map[string]string{} // client -> engine id
		deadline := time.After(20 * time.Second)
		for len(seen) < len(clients) {
			select {
			case h := <-hellos:
				if h.server == server {
					seen[h.client] = h.eid
				}
			case <-deadline:
				t.Errorf("server %s: hellos from %d of %d clients: %v", server, len(seen), len(clients), seen)
				return nil
			}
		}
		t.Logf("hellos from every client on server %s after %v", server, time.Since(began).Round(time.Millisecond))
		return seen
	}
	onA := waitHellos("a")
	if onA == nil {
		_ = b.Emit("bye")
		return
	}
	// The clients that upgrade must have upgraded: on polling the server
	// closes with the close packet, which python-socketio takes as final.
	for name, eid := range onA {
		if !strings.HasSuffix(name, "-upgrade") {
			continue
		}
		for es := a.Engine().Session(eid); es != nil && es.Transport() != engineio.TransportWebSocket; {
			if time.Since(began) > 30*time.Second {
				t.Errorf("%s did not upgrade", name)
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// The restart: server a closes every session, as at shutdown, and
	// goes away with its connections; b takes its address.
	_ = a.Close()
	proxy.retarget(t, baseB)
	proxy.cut()
	waitHellos("b")
	_ = b.Emit("bye")
	t.Logf("bye after %v", time.Since(began).Round(time.Millisecond))
}
