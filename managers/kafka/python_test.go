//go:build unix

package siokafka_test

import (
	"testing"
	"time"

	"github.com/siokit/siokit/core/socketio"
	siokafka "github.com/siokit/siokit/managers/kafka"
	siopubsub "github.com/siokit/siokit/managers/pubsub"
	siopubsubtest "github.com/siokit/siokit/managers/pubsub/pubsubtest"
)

// TestPythonFleet runs two siokit servers, a python-socketio Server with
// KafkaManager (python3-kafka; siopubsubtest.SyncServerScript) and a
// KafkaManager(write_only=True) emitter on one topic of the kfake broker.
// The siokit servers start first and create the topic: kfake does not
// create topics for the metadata requests of kafka-python 2.0.
func TestPythonFleet(t *testing.T) {
	siopubsubtest.RequirePython(t, "socketio", "kafka")
	addr := startBroker(t)
	siopubsubtest.RunPythonFleet(t, siopubsubtest.PythonFleet{
		NewManager: func(t testing.TB, prefix, channel string) func(*socketio.Namespace) socketio.Manager {
			return siokafka.New(dial(t, addr, prefix), &siopubsub.Options{
				Prefix: prefix, HeartbeatInterval: 500 * time.Millisecond, Python: &siopubsub.PythonOptions{Channel: channel},
			})
		},
		ServerArgs: func(channel string) []string {
			return []string{siopubsubtest.SyncServerScript(), "kafka", "kafka://" + addr, channel}
		},
		Polling: true,
		NewEmitter: func(t testing.TB, prefix, channel string) *siopubsub.Emitter {
			return siokafka.NewEmitter(dial(t, addr, prefix), &siopubsub.Options{Prefix: prefix, Python: &siopubsub.PythonOptions{Channel: channel}})
		},
		WriteOnly: "socketio.KafkaManager('kafka://" + addr + "', channel=channel, write_only=True)",
	})
}
