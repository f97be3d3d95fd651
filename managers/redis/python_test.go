//go:build unix

package sioredis_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/siokit/siokit/core/socketio"
	siopubsub "github.com/siokit/siokit/managers/pubsub"
	"github.com/siokit/siokit/managers/pubsub/pickle"
	siopubsubtest "github.com/siokit/siokit/managers/pubsub/pubsubtest"
	sioredis "github.com/siokit/siokit/managers/redis"
)

// python is Debian's interpreter with python3-socketio, python3-aiohttp and
// python3-redis (scripts/deps.sh installs them).
const python = "/usr/bin/python3"

func requirePython(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(python, "-c", "import socketio, aiohttp, redis").CombinedOutput(); err != nil {
		t.Fatalf("%s cannot import socketio, aiohttp and redis (%v): %s; run make deps", python, err, out)
	}
}

// startPython runs a Python program in a process group of its own until
// the test ends and returns the port of its "LISTENING <port>" line.
func startPython(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(python, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr := &syncBuffer{}
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
	case <-time.After(15 * time.Second):
		t.Fatalf("%s did not listen:\n%s", args[0], stderr.String())
	}
	return ""
}

// runPython runs a short Python program to its end.
func runPython(t *testing.T, program string, args ...string) {
	t.Helper()
	out, err := exec.Command(python, append([]string{"-c", program}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
}

// waitSubscribers waits until channel has n subscribers on the shared Redis.
func waitSubscribers(t *testing.T, channel string, n int64) {
	t.Helper()
	rdb := newClient(t)
	siopubsubtest.Eventually(t, "subscribers of "+channel, func() bool {
		m, err := rdb.PubSubNumSub(context.Background(), channel).Result()
		return err == nil && m[channel] == n
	})
}

func pyFleetManager(channel string) siopubsubtest.NewManagerFunc {
	return func(t testing.TB, prefix string) func(*socketio.Namespace) socketio.Manager {
		return sioredis.New(newClient(t), &sioredis.Options{Key: prefix, Python: &siopubsub.PythonOptions{Channel: channel}})
	}
}

func argString(t *testing.T, e siopubsubtest.Event, i int) string {
	t.Helper()
	var s string
	if err := e.Arg(i, &s); err != nil {
		t.Fatalf("event %q argument %d: %v", e.Name, i, err)
	}
	return s
}

func ackString(t *testing.T, ack []json.RawMessage) string {
	t.Helper()
	var s string
	if len(ack) == 0 || json.Unmarshal(ack[0], &s) != nil {
		t.Fatalf("ack %s is not a string", ack)
	}
	return s
}

// TestPythonFleet runs two siokit servers and a python-socketio server
// (AsyncRedisManager) on one Redis channel, a client on each, and a
// python-socketio write-only emitter: broadcasts, rooms, skip_sid/except,
// callbacks, close_room and disconnects cross between them both ways.
func TestPythonFleet(t *testing.T) {
	requirePython(t)
	channel := siopubsubtest.Prefix(t) + "-py"
	cl := siopubsubtest.NewCluster(t, 2, siopubsubtest.Prefix(t), pyFleetManager(channel))
	s0, s1 := cl.Servers[0], cl.Servers[1]
	port := startPython(t, filepath.Join("testdata", "py_fleet_server.py"), "redis://"+sharedAddr+"/0", channel)
	c0, c1 := siopubsubtest.Dial(t, cl.URLs[0]), siopubsubtest.Dial(t, cl.URLs[1])
	// python-socketio starts its manager's listener at its first connection.
	cp := siopubsubtest.Dial(t, "http://127.0.0.1:"+port)
	waitSubscribers(t, channel, 3)
	clients := []*siopubsubtest.Client{c0, c1, cp}

	// sync emits a marker from srv (each origin publishes in order) and
	// checks that it is each client's next event, after the events of want.
	sync := func(t *testing.T, emit func(string) error, want ...[]string) {
		t.Helper()
		if err := emit("sync"); err != nil {
			t.Fatal(err)
		}
		for i, c := range clients {
			if i < len(want) {
				for _, name := range want[i] {
					c.Expect(t, name)
				}
			}
			c.Expect(t, "sync")
		}
	}
	fromS0 := func(ev string) error { return s0.Emit(ev) }
	fromS1 := func(ev string) error { return s1.Emit(ev) }
	fromPy := func(ev string) error { cp.Call(t, "bcast", "", "", ev, "-"); return nil }

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
		// Several rooms go as a list, which python-socketio's Server reads;
		// its AsyncServer (5.7) cannot, and logs a TypeError.
		if err := s0.To(c0.SID(), c1.SID()).Emit("two"); err != nil {
			t.Fatal(err)
		}
		sync(t, fromS0, []string{"two"}, []string{"two"}, nil)
	})

	t.Run("WriteOnlyEmitter", func(t *testing.T) {
		runPython(t, `
import sys, socketio
m = socketio.RedisManager(sys.argv[1], channel=sys.argv[2], write_only=True)
m.emit('job', data=('done', b'\x07', 3), room=sys.argv[3], namespace='/')
m.emit('sync', data=None, namespace='/')
`, "redis://"+sharedAddr+"/0", channel, c0.SID())
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

	t.Run("Callbacks", func(t *testing.T) {
		// python-socketio calls a socket of a siokit server.
		if got := ackString(t, cp.Call(t, "call", c0.SID())); got != c0.SID() {
			t.Fatalf("python call answered %q, want %q", got, c0.SID())
		}
		c0.Expect(t, "ask")
		// siokit asks a socket of the python-socketio server, and one of
		// the other siokit server, through the python channel.
		for _, c := range []*siopubsubtest.Client{cp, c1} {
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

// TestPythonChannelInput checks what a siokit server takes from the Python
// channel that no python-socketio server sent: JSON messages are read
// (python-socketio's listener accepts them), and a pickle that imports or
// calls is refused, logged and skipped.
func TestPythonChannelInput(t *testing.T) {
	channel := siopubsubtest.Prefix(t) + "-py"
	cl := siopubsubtest.NewCluster(t, 1, siopubsubtest.Prefix(t), pyFleetManager(channel))
	c := siopubsubtest.Dial(t, cl.URLs[0])
	rdb := newClient(t)
	publish := func(msg []byte) {
		t.Helper()
		if err := rdb.Publish(context.Background(), channel, msg).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// os.system("true") as a pickle: GLOBAL, a str, TUPLE1, REDUCE.
	publish([]byte("\x80\x04cos\nsystem\n\x8c\x04true\x85R."))
	publish([]byte{0x80, 4, 0x8c, 1, 'x', 0x93, '.'})     // STACK_GLOBAL
	publish([]byte{0x80, 4, ']', 0x94, 'h', 0, 'a', '.'}) // a list holding itself
	publish([]byte(`{"method": "emit", "event": "json", "data": [1, "a"], "namespace": "/", "room": null}`))
	b, err := pickle.Marshal(map[string]any{"method": "emit", "event": "pickled", "data": pickle.Tuple{int64(1), "a"}, "namespace": "/"})
	if err != nil {
		t.Fatal(err)
	}
	publish(b)
	e := c.Expect(t, "json")
	if len(e.Args) != 1 || string(e.Args[0]) != `[1,"a"]` {
		t.Fatalf("a JSON list is one argument: %s", e.Args)
	}
	e = c.Expect(t, "pickled")
	if len(e.Args) != 2 {
		t.Fatalf("a tuple is several arguments: %s", e.Args)
	}
}
