//go:build unix

package siozmq_test

import (
	"testing"
	"time"

	"github.com/siokit/siokit/core/socketio"
	siopubsub "github.com/siokit/siokit/managers/pubsub"
	siopubsubtest "github.com/siokit/siokit/managers/pubsub/pubsubtest"
	siozmq "github.com/siokit/siokit/managers/zmq"
)

// TestPythonFleet runs two siokit servers, a python-socketio Server with
// ZmqManager (eventlet with python3-zmq, that is libzmq;
// siopubsubtest.SyncServerScript) and a ZmqManager(write_only=True) emitter
// through one siozmq forwarder.
func TestPythonFleet(t *testing.T) {
	siopubsubtest.RequirePython(t, "socketio", "eventlet", "zmq")
	url := startForwarder(t)
	siopubsubtest.RunPythonFleet(t, siopubsubtest.PythonFleet{
		NewManager: func(t testing.TB, prefix, channel string) func(*socketio.Namespace) socketio.Manager {
			return siozmq.New(dial(t, url), &siopubsub.Options{
				Prefix: prefix, HeartbeatInterval: 500 * time.Millisecond, Python: &siopubsub.PythonOptions{Channel: channel},
			})
		},
		ServerArgs: func(channel string) []string {
			return []string{siopubsubtest.SyncServerScript(), "zmq", url, channel}
		},
		WriteOnly: "socketio.ZmqManager('" + url + "', channel=channel, write_only=True)",
		NewEmitter: func(t testing.TB, _, channel string) *siopubsub.Emitter {
			return siozmq.NewEmitter(dial(t, url), &siopubsub.Options{Python: &siopubsub.PythonOptions{Channel: channel}})
		},
		// pyzmq drops what a PUSH socket has not sent when the program ends.
		AfterEmit: "import time; time.sleep(1)",
	})
}
