//go:build unix

package siopubsubtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/siokit/siokit/core/socketio"
	siopubsub "github.com/siokit/siokit/managers/pubsub"
)

// Python is Debian's interpreter, with python3-socketio and the brokers'
// client libraries that scripts/deps.sh installs.
const Python = "/usr/bin/python3"

// RequirePython fails the test unless Python imports modules.
func RequirePython(t testing.TB, modules ...string) {
	t.Helper()
	out, err := exec.Command(Python, "-c", "import "+strings.Join(modules, ", ")).CombinedOutput() //nolint:gosec // a test kit: the test names the modules
	if err != nil {
		t.Fatalf("%s cannot import %s (%v): %s; run make deps", Python, strings.Join(modules, ", "), err, out)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// StartPython runs Python with args, in a process group of its own that
// is killed when the test ends, and returns the port of the "LISTENING
// <port>" line it prints. Its stderr is logged if the test fails.
func StartPython(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(Python, args...) //nolint:gosec // a test kit: the test names the program
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	port := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "LISTENING "); ok {
				port <- p
			}
		}
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		if t.Failed() {
			t.Logf("%s stderr:\n%s", args[0], stderr.String())
		}
	})
	select {
	case p := <-port:
		return p
	case <-done:
		t.Fatalf("%s exited:\n%s", args[0], stderr.String())
	case <-time.After(60 * time.Second): // Python's imports are slow on a busy machine
		t.Fatalf("%s did not listen:\n%s", args[0], stderr.String())
	}
	return ""
}

// SyncServerScript is the path of a python-socketio Server (threading
// mode, HTTP long-polling only; eventlet with WebSocket for zmq) whose
// manager is its first argument: kombu, kafka, redis or zmq; then the
// broker's URL and the channel. Its handlers are
// those [PythonFleet].ServerArgs needs.
func SyncServerScript() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", "py_sync_fleet_server.py")
}

// RunPython runs a short Python program to its end.
func RunPython(t testing.TB, program string, args ...string) {
	t.Helper()
	out, err := exec.Command(Python, append([]string{"-c", program}, args...)...).CombinedOutput() //nolint:gosec // a test kit: the test names the program
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
}

// PythonFleet names what [RunPythonFleet] needs of a broker.
type PythonFleet struct {
	// NewManager builds a siokit server's manager with Options.Python on
	// the python-socketio channel.
	NewManager func(t testing.TB, prefix, channel string) func(*socketio.Namespace) socketio.Manager
	// ServerArgs are the arguments of Python that start a python-socketio
	// server of the fleet on channel, with the handlers of
	// managers/redis/testdata/py_fleet_server.py, printing "LISTENING <port>".
	ServerArgs func(channel string) []string
	// Polling: the Python server serves HTTP long-polling only.
	Polling bool
	// WriteOnly is a Python expression of a write-only python-socketio
	// manager on the fleet's channel, which is in the variable channel.
	WriteOnly string
	// NewEmitter, when set, builds a siokit write-only emitter with
	// Options.Python on the channel, whose emits must reach the
	// python-socketio server's sockets too.
	NewEmitter func(t testing.TB, prefix, channel string) *siopubsub.Emitter
	// AfterEmit are Python statements run after the write-only manager's
	// emits, before the program ends (to let a ZeroMQ socket flush).
	AfterEmit string
}

// RunPythonFleet runs two siokit servers and a python-socketio server on
// one channel, a client on each, and a python-socketio write-only emitter,
// and checks that broadcasts, rooms, skip_sid/except, callbacks,
// close_room and disconnects cross between them both ways.
func RunPythonFleet(t *testing.T, f PythonFleet) {
	channel, prefix := Prefix(t)+"-py", Prefix(t)
	cl := NewCluster(t, 2, prefix, func(t testing.TB, prefix string) func(*socketio.Namespace) socketio.Manager {
		return f.NewManager(t, prefix, channel)
	})
	s0, s1 := cl.Servers[0], cl.Servers[1]
	port := StartPython(t, f.ServerArgs(channel)...)
	c0, c1 := Dial(t, cl.URLs[0]), Dial(t, cl.URLs[1])
	// python-socketio starts its manager's listener at its first connection.
	var cp *Client
	if f.Polling {
		cp = DialPolling(t, "http://127.0.0.1:"+port)
	} else {
		cp = Dial(t, "http://127.0.0.1:"+port)
	}
	clients := []*Client{c0, c1, cp}

	// The Python listener is up once a siokit broadcast reaches its client.
	deadline := time.Now().Add(30 * time.Second)
	for ready := false; !ready; {
		if err := s0.Emit("probe"); err != nil {
			t.Fatal(err)
		}
		select {
		case e := <-cp.Events():
			ready = e.Name == "probe"
		case <-time.After(200 * time.Millisecond):
		}
		if !ready && time.Now().After(deadline) {
			t.Fatal("the python-socketio server does not receive the fleet's broadcasts")
		}
	}
	if err := s0.Emit("sync"); err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		for c.Next(t).Name != "sync" {
		}
	}

	// sync emits a marker (each origin publishes in order) and checks that
	// it is each client's next event, after the events of want.
	sync := func(t *testing.T, emit func(*testing.T, string), want ...[]string) {
		t.Helper()
		emit(t, "sync")
		for i, c := range clients {
			if i < len(want) {
				for _, name := range want[i] {
					c.Expect(t, name)
				}
			}
			c.Expect(t, "sync")
		}
	}
	fromS0 := func(t *testing.T, ev string) {
		t.Helper()
		if err := s0.Emit(ev); err != nil {
			t.Fatal(err)
		}
	}
	fromS1 := func(t *testing.T, ev string) {
		t.Helper()
		if err := s1.Emit(ev); err != nil {
			t.Fatal(err)
		}
	}
	fromPy := func(t *testing.T, ev string) { t.Helper(); cp.Call(t, "bcast", "", "", ev, "-") }
	argString := func(t *testing.T, e Event, i int) string {
		t.Helper()
		var s string
		if err := e.Arg(i, &s); err != nil {
			t.Fatalf("event %q argument %d: %v", e.Name, i, err)
		}
		return s
	}

	t.Run("PythonBroadcast", func(t *testing.T) {
		cp.Call(t, "bcast", "", "", "hello", "héllo")
		for _, c := range clients {
			e := c.Expect(t, "hello")
			var bin []byte
			if err := e.Arg(2, &bin); err != nil || string(bin) != "héllo" {
				t.Fatalf("binary argument %q (%v)", bin, err)
			}
			if argString(t, e, 0) != "py" || argString(t, e, 1) != "héllo" || len(e.Args) != 3 {
				t.Fatalf("hello %s", e.Args)
			}
		}
	})

	t.Run("SiokitBroadcast", func(t *testing.T) {
		if err := s1.Emit("hi", 7, []byte{1, 2}, map[string]any{"k": []any{true, nil, 1.5}}); err != nil {
			t.Fatal(err)
		}
		for _, c := range clients {
			e := c.Expect(t, "hi")
			var n int
			var bin []byte
			var obj map[string]any
			if e.Arg(0, &n) != nil || n != 7 || e.Arg(1, &bin) != nil || !slices.Equal(bin, []byte{1, 2}) || e.Arg(2, &obj) != nil {
				t.Fatalf("hi %s", e.Args)
			}
			if got, _ := json.Marshal(obj); string(got) != `{"k":[true,null,1.5]}` {
				t.Fatalf("object %s", got)
			}
		}
	})

	t.Run("Rooms", func(t *testing.T) {
		cp.Call(t, "join", "r")
		c1.Call(t, "join", "r")
		if err := s0.To("r").Emit("room", "go"); err != nil {
			t.Fatal(err)
		}
		sync(t, fromS0, nil, []string{"room"}, []string{"room"})
		cp.Call(t, "bcast", "r", "", "proom", "py")
		sync(t, fromPy, nil, []string{"proom"}, []string{"proom"})
	})

	t.Run("Except", func(t *testing.T) {
		cp.Call(t, "bcast", "", c1.SID(), "skip", "-")
		sync(t, fromPy, []string{"skip"}, nil, []string{"skip"})
		if err := s0.Except(cp.SID()).Emit("skip2"); err != nil {
			t.Fatal(err)
		}
		sync(t, fromS0, []string{"skip2"}, []string{"skip2"}, nil)
		// Several rooms go as a list, which python-socketio's Server reads
		// (its AsyncServer 5.7 cannot, and logs a TypeError).
		if err := s0.To(c0.SID(), c1.SID()).Emit("two"); err != nil {
			t.Fatal(err)
		}
		sync(t, fromS0, []string{"two"}, []string{"two"}, nil)
	})

	t.Run("WriteOnlyEmitter", func(t *testing.T) {
		RunPython(t, `
import sys, socketio
channel = sys.argv[1]
m = `+f.WriteOnly+`
m.emit('job', data=('done', b'\x07', 3), room=sys.argv[2], namespace='/')
m.emit('sync', data=None, namespace='/')
`+f.AfterEmit+`
`, channel, c0.SID())
		e := c0.Expect(t, "job")
		var n int
		var bin []byte
		if argString(t, e, 0) != "done" || e.Arg(1, &bin) != nil || !slices.Equal(bin, []byte{7}) || e.Arg(2, &n) != nil || n != 3 {
			t.Fatalf("job %s", e.Args)
		}
		for _, c := range clients {
			c.Expect(t, "sync")
		}
	})

	t.Run("SiokitEmitter", func(t *testing.T) {
		if f.NewEmitter == nil {
			t.Skip("no siokit emitter for this broker")
		}
		e := f.NewEmitter(t, prefix, channel)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.To(cp.SID()).Emit(ctx, "gojob", "x", []byte{9}); err != nil {
			t.Fatal(err)
		}
		if err := e.Except(c1.SID()).Emit(ctx, "gojob2"); err != nil {
			t.Fatal(err)
		}
		if err := e.Emit(ctx, "sync"); err != nil {
			t.Fatal(err)
		}
		ev := cp.Expect(t, "gojob")
		var bin []byte
		if argString(t, ev, 0) != "x" || ev.Arg(1, &bin) != nil || !slices.Equal(bin, []byte{9}) {
			t.Fatalf("gojob %s", ev.Args)
		}
		c0.Expect(t, "gojob2")
		cp.Expect(t, "gojob2")
		for _, c := range clients {
			c.Expect(t, "sync")
		}
	})

	t.Run("Callbacks", func(t *testing.T) {
		// python-socketio calls a socket of a siokit server; the client
		// answers with its sid.
		ack := cp.Call(t, "call", c0.SID())
		var got string
		if len(ack) == 0 || json.Unmarshal(ack[0], &got) != nil || got != c0.SID() {
			t.Fatalf("python call answered %s, want %q", ack, c0.SID())
		}
		c0.Expect(t, "ask")
		// siokit asks a socket of the python-socketio server, and one of
		// the other siokit server, through the python channel.
		for _, c := range []*Client{cp, c1} {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			res, err := s0.To(c.SID()).EmitWithAck(ctx, "ask", "go")
			cancel()
			if err != nil || len(res) != 1 {
				t.Fatalf("ack of %s: %v, %v", c.SID(), res, err)
			}
			var sid string
			if err := res[0].Decode(&sid); err != nil || sid != c.SID() {
				t.Fatalf("ack %q (%v), want %q", sid, err, c.SID())
			}
			c.Expect(t, "ask")
		}
	})

	t.Run("CloseRoom", func(t *testing.T) {
		// python-socketio closes "r", joined by cp and c1.
		cp.Call(t, "close", "r")
		// Every server handles the close_room before this marker, which
		// the python-socketio server publishes after it.
		sync(t, fromPy)
		if err := s1.To("r").Emit("closed"); err != nil {
			t.Fatal(err)
		}
		sync(t, fromS1)
		// siokit closes "r" (every socket of it leaves it).
		cp.Call(t, "join", "r")
		c1.Call(t, "join", "r")
		s1.In("r").SocketsLeave("r")
		sync(t, fromS1) // the close_room went out before this marker
		cp.Call(t, "bcast", "r", "", "closed", "-")
		sync(t, fromPy)
	})

	t.Run("Disconnect", func(t *testing.T) {
		cp.Call(t, "kick", c0.SID())
		select {
		case <-c0.Disconnected():
		case <-time.After(5 * time.Second):
			t.Fatal("python-socketio's disconnect did not reach the siokit socket")
		}
		s1.In(cp.SID()).DisconnectSockets(false)
		select {
		case <-cp.Disconnected():
		case <-time.After(5 * time.Second):
			t.Fatal("siokit's disconnect did not reach the python-socketio socket")
		}
	})
}
