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

// newClient connects to addr and fails the test when Redis does not answer.
func newClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at %s: %v (run make deps)", addr, err)
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
					return sioredis.New(newClient(t, sharedAddr), &sioredis.Options{Key: prefix, Sharded: sharded})
				},
				NewEmitter: func(t testing.TB, prefix string) *siopubsub.Emitter {
					return sioredis.NewEmitter(newClient(t, sharedAddr), &sioredis.Options{Key: prefix, Sharded: sharded})
				},
			})
		})
	}
}
