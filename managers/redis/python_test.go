//go:build unix

package sioredis_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/siokit/siokit/core/socketio"
	siopubsub "github.com/siokit/siokit/managers/pubsub"
	"github.com/siokit/siokit/managers/pubsub/pickle"
	siopubsubtest "github.com/siokit/siokit/managers/pubsub/pubsubtest"
	sioredis "github.com/siokit/siokit/managers/redis"
)

func pyFleetManager(channel string) siopubsubtest.NewManagerFunc {
	return func(t testing.TB, prefix string) func(*socketio.Namespace) socketio.Manager {
		return sioredis.New(newClient(t), &sioredis.Options{Key: prefix, Python: &siopubsub.PythonOptions{Channel: channel}})
	}
}

// TestPythonFleet runs two siokit servers, a python-socketio AsyncServer
// with AsyncRedisManager (testdata/py_fleet_server.py) and a
// RedisManager(write_only=True) emitter on one Redis channel.
func TestPythonFleet(t *testing.T) {
	siopubsubtest.RequirePython(t, "socketio", "aiohttp", "redis")
	siopubsubtest.RunPythonFleet(t, siopubsubtest.PythonFleet{
		NewManager: func(t testing.TB, prefix, channel string) func(*socketio.Namespace) socketio.Manager {
			return pyFleetManager(channel)(t, prefix)
		},
		ServerArgs: func(channel string) []string {
			return []string{filepath.Join("testdata", "py_fleet_server.py"), "redis://" + sharedAddr + "/0", channel}
		},
		WriteOnly: "socketio.RedisManager('redis://" + sharedAddr + "/0', channel=channel, write_only=True)",
		NewEmitter: func(t testing.TB, prefix, channel string) *siopubsub.Emitter {
			return sioredis.NewEmitter(newClient(t), &sioredis.Options{Key: prefix, Python: &siopubsub.PythonOptions{Channel: channel}})
		},
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
