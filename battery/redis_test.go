package battery

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/siokit/siokit/core/eiotest"
	"github.com/siokit/siokit/core/socketio"
	siopubsubtest "github.com/siokit/siokit/managers/pubsub/pubsubtest"
	sioredis "github.com/siokit/siokit/managers/redis"
)

// sharedRedis is the Redis that runs on this machine kind (make deps).
const sharedRedis = "127.0.0.1:6379"

func redisClient(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	if err := c.Ping(context.Background()).Err(); err != nil && addr == sharedRedis {
		t.Skipf("no Redis at %s: %v (make deps starts one)", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// privateRedis runs a redis-server of the test's own on port; the returned
// function kills it.
func privateRedis(t *testing.T, port int) (stop func()) {
	t.Helper()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Skipf("redis-server: %v (make deps installs it)", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stop = func() {
		_ = cmd.Process.Signal(os.Kill)
		<-done
	}
	t.Cleanup(stop)
	waitFor(t, "the private redis-server", func() bool {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	})
	return stop
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// cluster mounts two Socket.IO servers that share Redis at addr through
// sioredis, and waits until they count each other.
func cluster(t *testing.T, m eiotest.Mount, addr string, o sioredis.Options) []*env {
	const n = 2
	t.Helper()
	if o.Key == "" {
		o.Key = siopubsubtest.Prefix(t)
	}
	var envs []*env
	var srvs []*socketio.Server
	for range n {
		rdb := redisClient(t, addr)
		e := newEnv(t, m, socketio.Options{NewManager: sioredis.New(rdb, &o)}, nil)
		envs = append(envs, e)
		srvs = append(srvs, e.Server())
	}
	(&siopubsubtest.Cluster{Servers: srvs}).WaitCount(t, n)
	return envs
}

func TestBattery43_RedisRestart(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		port := freePort(t)
		stop := privateRedis(t, port)
		addr := "127.0.0.1:" + strconv.Itoa(port)
		nodes := cluster(t, m, addr, sioredis.Options{MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
		a, b := nodes[0], nodes[1]
		ca, cb := a.Dial(), b.Dial()
		// Closed before any node's leak check, which would see them.
		t.Cleanup(func() { ca.Close(); cb.Close() })
		ca.Connect("/", "")
		cb.Connect("/", "")
		_ = a.Server().Emit("before")
		ca.Expect(`2["before"]`)
		cb.Expect(`2["before"]`)

		stop()
		time.Sleep(100 * time.Millisecond)
		g0 := waitGoroutines(0)
		for range 50 {
			_ = a.Server().Emit("during") // lost for the other node, delivered here
		}
		for range 50 {
			ca.Expect(`2["during"]`)
		}
		time.Sleep(500 * time.Millisecond) // several resubscribe attempts
		if g1 := waitGoroutines(g0 + 5); g1 > g0+5 {
			t.Errorf("goroutines went from %d to %d while Redis was down: retries pile up", g0, g1)
		}

		privateRedis(t, port) // the same port: both nodes resubscribe
		done := make(chan struct{})
		go func() {
			for {
				select {
				case <-done:
					return
				case <-time.After(100 * time.Millisecond):
					_ = a.Server().Emit("after")
				}
			}
		}()
		for {
			got := cb.NextText() // fails the test after 5 s without one
			if got == `2["after"]` {
				break
			}
			if got != `2["during"]` {
				t.Fatalf("got %q", got)
			}
		}
		close(done)
		a.Healthy()
		b.Healthy()
	})
}

func TestBattery44_RedisGarbageAndOwnMessages(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		prefix := siopubsubtest.Prefix(t)
		nodes := cluster(t, m, sharedRedis, sioredis.Options{Key: prefix})
		a, b := nodes[0], nodes[1]
		ca, cb := a.Dial(), b.Dial()
		// Closed before any node's leak check, which would see them.
		t.Cleanup(func() { ca.Close(); cb.Close() })
		ca.Connect("/", "")
		cb.Connect("/", "")
		rdb := redisClient(t, sharedRedis)
		for _, ch := range []string{prefix + "#/#", prefix + "-request#/#", prefix + "-response#/#"} {
			for _, g := range [][]byte{nil, []byte("{"), []byte(`{"type":7}`), {0x93, 0xa1, 'x', 0xc0, 0xc0}, {0xc1}, {0xdd, 0xff, 0xff, 0xff, 0xff}} {
				if err := rdb.Publish(context.Background(), ch, g).Err(); err != nil {
					t.Fatal(err)
				}
			}
		}
		_ = a.Server().Emit("alive")
		cb.Expect(`2["alive"]`)
		// The node's own message, back from Redis, is ignored: one copy only.
		ca.Expect(`2["alive"]`)
		ca.ExpectSilence()
		a.Healthy()
		b.Healthy()
	})
}

func TestBattery45_RedisSilentNode(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		prefix := siopubsubtest.Prefix(t)
		rdb := redisClient(t, sharedRedis)
		silent := rdb.Subscribe(context.Background(), prefix+"-request#/#")
		t.Cleanup(func() { _ = silent.Close() })
		if _, err := silent.Receive(context.Background()); err != nil {
			t.Fatal(err)
		}
		// RequestsTimeout is 5 s by default; 200 ms here.
		const timeout = 200 * time.Millisecond
		e := newEnv(t, m, socketio.Options{NewManager: sioredis.New(redisClient(t, sharedRedis), &sioredis.Options{Key: prefix, RequestsTimeout: timeout})}, nil)
		(&siopubsubtest.Cluster{Servers: []*socketio.Server{e.Server()}}).WaitCount(t, 2)
		c := e.Dial()
		c.Connect("/", "")
		var h0 uint64
		// Each repetition waits out two timeouts: a few of them.
		for i := range reps(5) {
			if i == 1 {
				h0 = heapInuse()
			}
			start := time.Now()
			if _, err := e.Server().FetchSockets(context.Background()); !errors.Is(err, socketio.ErrTimeout) {
				t.Fatalf("FetchSockets with a silent node: %v, want ErrTimeout", err)
			}
			if d := time.Since(start); d < timeout-10*time.Millisecond {
				t.Errorf("FetchSockets gave up after %v, before the %v timeout", d, timeout)
			}
			if _, err := e.Server().Of("/").ServerSideEmitWithAck(context.Background(), "x"); !errors.Is(err, socketio.ErrTimeout) {
				t.Fatalf("ServerSideEmitWithAck with a silent node: %v, want ErrTimeout", err)
			}
		}
		if growth := int64(heapInuse()) - int64(h0); growth > heapBound {
			t.Errorf("HeapInuse grew by %d KiB over timed-out requests", growth>>10)
		}
		c.RoundTrip("/", 1)
	})
}

func TestBattery46_RedisNoStickySessions(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		nodes := cluster(t, m, sharedRedis, sioredis.Options{})
		a, b := nodes[0], nodes[1]
		// Polling without sticky routing: the second request lands on a
		// node that does not know the session.
		t.Cleanup(a.tr.CloseIdleConnections) // before b's leak check
		sid := a.openPolling()
		status, body := b.do(http.MethodGet, sidQuery(sid), nil, nil)
		expectError(t, status, body, 400, 1, "Session ID unknown")
		a.closePolling(sid)
		// WebSocket only needs no affinity.
		cb := b.Dial()
		t.Cleanup(cb.Close)
		cb.Connect("/", "")
		_ = a.Server().Emit("cross")
		cb.Expect(`2["cross"]`)
		cb.RoundTrip("/", 1)
	})
}

func TestBattery47_RedisAcksAcrossNodes(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		nodes := cluster(t, m, sharedRedis, sioredis.Options{})
		a, b := nodes[0], nodes[1]
		cb := b.Dial()
		t.Cleanup(cb.Close)
		cb.Connect("/", "")
		type result struct {
			n   int
			err error
		}
		ask := func(d time.Duration) chan result {
			ch := make(chan result, 1)
			go func() {
				rs, err := a.Server().Timeout(d).EmitWithAck(context.Background(), "ask")
				ch <- result{len(rs), err}
			}()
			return ch
		}
		// Answered once: the ack reaches the originating node once.
		res := ask(3 * time.Second)
		rest := cb.ExpectPrefix("2")
		id := rest[:strings.IndexByte(rest, '[')]
		cb.Send("3" + id + `["ok"]`)
		cb.Send("3" + id + `["again"]`)
		if r := recv(t, res, "the acks"); r.err != nil || r.n != 1 {
			t.Errorf("EmitWithAck across nodes: %d responses, %v; want 1", r.n, r.err)
		}
		// Never answered: a timeout.
		res = ask(300 * time.Millisecond)
		cb.ExpectPrefix("2")
		if r := recv(t, res, "the timeout"); !errors.Is(r.err, socketio.ErrTimeout) {
			t.Errorf("unanswered EmitWithAck across nodes: %d responses, %v; want ErrTimeout", r.n, r.err)
		}
		cb.RoundTrip("/", 1)
	})
}
