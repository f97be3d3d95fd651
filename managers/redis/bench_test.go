package sioredis_test

import (
	"testing"
	"time"

	"github.com/siokit/siokit/core/socketio"
	siopubsubtest "github.com/siokit/siokit/managers/pubsub/pubsubtest"
	sioredis "github.com/siokit/siokit/managers/redis"
)

// BenchmarkCrossProcessBroadcast measures broadcasts from one server that
// cross Redis to the clients of two other servers (10 clients each). It
// reports deliveries/s: packets received by remote clients per second. At
// most window broadcasts are in flight, so no socket queue overflows.
func BenchmarkCrossProcessBroadcast(b *testing.B) {
	const perServer, window = 10, 256
	cl := siopubsubtest.NewCluster(b, 3, siopubsubtest.Prefix(b), func(t testing.TB, prefix string) func(*socketio.Namespace) socketio.Manager {
		return sioredis.New(newClient(t), &sioredis.Options{Key: prefix})
	})
	var clients []*siopubsubtest.Client
	for _, u := range cl.URLs[1:] {
		for range perServer {
			clients = append(clients, siopubsubtest.DialCounting(b, u))
		}
	}
	minCount := func() int64 {
		m := clients[0].Count()
		for _, c := range clients[1:] {
			m = min(m, c.Count())
		}
		return m
	}
	src := cl.Servers[0]
	payload := map[string]any{"text": "hello from another process", "n": 42}
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		for int64(i)-minCount() >= window {
			time.Sleep(50 * time.Microsecond)
		}
		if err := src.Emit("tick", payload); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for minCount() < int64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("received %d of %d", minCount(), b.N)
		}
		time.Sleep(100 * time.Microsecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N*len(clients))/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "broadcasts/s")
}
