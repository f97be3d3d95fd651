//go:build unix

package sioamqp_test

import (
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

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
	var once sync.Once
	siopubsubtest.RunPythonFleet(t, siopubsubtest.PythonFleet{
		NewManager: func(t testing.TB, prefix, channel string) func(*socketio.Namespace) socketio.Manager {
			once.Do(func() { t.Cleanup(func() { deleteExchange(t, channel) }) })
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

// deleteExchange deletes the exchange kombu and siokit declared for the
// test's channel (not durable, but not auto-deleted either).
func deleteExchange(t testing.TB, name string) {
	conn, err := amqp.Dial(amqpURL)
	if err != nil {
		t.Logf("delete exchange %s: %v", name, err)
		return
	}
	defer func() { _ = conn.Close() }()
	ch, err := conn.Channel()
	if err == nil {
		err = ch.ExchangeDelete(name, false, false)
	}
	if err != nil {
		t.Logf("delete exchange %s: %v", name, err)
	}
}
