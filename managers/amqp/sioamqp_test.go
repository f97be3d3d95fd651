package sioamqp_test

import (
	"testing"
	"time"

	"github.com/siokit/siokit/core/socketio"
	sioamqp "github.com/siokit/siokit/managers/amqp"
	siopubsub "github.com/siokit/siokit/managers/pubsub"
	siopubsubtest "github.com/siokit/siokit/managers/pubsub/pubsubtest"
)

// amqpURL is the RabbitMQ that runs on this machine kind (make deps starts it).
const amqpURL = "amqp://guest:guest@127.0.0.1:5672/"

func dial(t testing.TB, exchange string) *sioamqp.Broker {
	t.Helper()
	b, err := sioamqp.Dial(amqpURL, &sioamqp.Options{Exchange: exchange})
	if err != nil {
		t.Fatalf("RabbitMQ at %s: %v (run make deps)", amqpURL, err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestCluster(t *testing.T) {
	siopubsubtest.Run(t, siopubsubtest.Config{
		NewManager: func(t testing.TB, prefix string) func(*socketio.Namespace) socketio.Manager {
			return sioamqp.New(dial(t, prefix), &siopubsub.Options{Prefix: prefix, HeartbeatInterval: 500 * time.Millisecond})
		},
		NewEmitter: func(t testing.TB, prefix string) *siopubsub.Emitter {
			return sioamqp.NewEmitter(dial(t, prefix), &siopubsub.Options{Prefix: prefix})
		},
	})
}
