//go:build unix

package sioamqp_test

import (
	"testing"
	"time"

	"github.com/siokit/siokit/core/socketio"
	sioamqp "github.com/siokit/siokit/managers/amqp"
	siopubsub "github.com/siokit/siokit/managers/pubsub"
	siopubsubtest "github.com/siokit/siokit/managers/pubsub/pubsubtest"
)

// TestPythonFleet runs two siokit servers, a python-socketio Server with
// KombuManager (siopubsubtest.SyncServerScript) and a
// KombuManager(write_only=True) emitter on one RabbitMQ exchange.
func TestPythonFleet(t *testing.T) {
	siopubsubtest.RequirePython(t, "socketio", "kombu")
	siopubsubtest.RunPythonFleet(t, siopubsubtest.PythonFleet{
		NewManager: func(t testing.TB, prefix, channel string) func(*socketio.Namespace) socketio.Manager {
			return sioamqp.New(dial(t, prefix), &siopubsub.Options{
				Prefix: prefix, HeartbeatInterval: 500 * time.Millisecond, Python: &siopubsub.PythonOptions{Channel: channel},
			})
		},
		ServerArgs: func(channel string) []string {
			return []string{siopubsubtest.SyncServerScript(), "kombu", amqpURL, channel}
		},
		Polling: true,
		NewEmitter: func(t testing.TB, prefix, channel string) *siopubsub.Emitter {
			return sioamqp.NewEmitter(dial(t, prefix), &siopubsub.Options{Prefix: prefix, Python: &siopubsub.PythonOptions{Channel: channel}})
		},
		WriteOnly: "socketio.KombuManager('" + amqpURL + "', channel=channel, write_only=True)",
	})
}
