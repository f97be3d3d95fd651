package sioredis_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/siokit/siokit/core/socketio"
	siopubsub "github.com/siokit/siokit/managers/pubsub"
	siopubsubtest "github.com/siokit/siokit/managers/pubsub/pubsubtest"
	sioredis "github.com/siokit/siokit/managers/redis"
)

// sharedAddr is the Redis that runs on this machine kind (make deps starts it).
const sharedAddr = "127.0.0.1:6379"

// newClient connects to the shared Redis and fails the test when it does
// not answer.
func newClient(t testing.TB) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: sharedAddr})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at %s: %v (run make deps)", sharedAddr, err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

func TestCluster(t *testing.T) {
	for _, sharded := range []bool{false, true} {
		name := "PubSub"
		if sharded {
			name = "Sharded"
		}
		t.Run(name, func(t *testing.T) {
			siopubsubtest.Run(t, siopubsubtest.Config{
				NewManager: func(t testing.TB, prefix string) func(*socketio.Namespace) socketio.Manager {
					return sioredis.New(newClient(t), &sioredis.Options{Key: prefix, Sharded: sharded})
				},
				NewEmitter: func(t testing.TB, prefix string) *siopubsub.Emitter {
					return sioredis.NewEmitter(newClient(t), &sioredis.Options{Key: prefix, Sharded: sharded})
				},
			})
		})
	}
}
