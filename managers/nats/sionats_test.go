package sionats_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/siokit/siokit/core/socketio"
	sionats "github.com/siokit/siokit/managers/nats"
	siopubsub "github.com/siokit/siokit/managers/pubsub"
	siopubsubtest "github.com/siokit/siokit/managers/pubsub/pubsubtest"
)

// natsURL is the NATS server that runs on this machine kind (make deps starts it).
const natsURL = "nats://127.0.0.1:4222"

func connect(t testing.TB) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(natsURL, nats.MaxReconnects(-1), nats.Timeout(3*time.Second))
	if err != nil {
		t.Fatalf("NATS at %s: %v (run make deps)", natsURL, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func TestCluster(t *testing.T) {
	siopubsubtest.Run(t, siopubsubtest.Config{
		NewManager: func(t testing.TB, prefix string) func(*socketio.Namespace) socketio.Manager {
			return sionats.New(connect(t), &siopubsub.Options{Prefix: prefix, HeartbeatInterval: 500 * time.Millisecond})
		},
		NewEmitter: func(t testing.TB, prefix string) *siopubsub.Emitter {
			return sionats.NewEmitter(connect(t), &siopubsub.Options{Prefix: prefix})
		},
	})
}

func TestSubject(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"socket.io#/#", "socket.io#/#"},
		{"a b*c>d%", "a%20b%2Ac%3Ed%25"},
	} {
		if got := sionats.Subject(tc.in); got != tc.want {
			t.Errorf("Subject(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
