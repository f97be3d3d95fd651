package sioredis_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/socketio"
	siopubsubtest "github.com/siokit/siokit/managers/pubsub/pubsubtest"
	sioredis "github.com/siokit/siokit/managers/redis"
)

// privateRedis runs a redis-server of the test's own on port; stop kills it.
func privateRedis(t *testing.T, port int) (stop func()) {
	t.Helper()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatalf("redis-server: %v (make deps installs it)", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stop = func() {
		_ = cmd.Process.Signal(os.Kill)
		<-done
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			_ = c.Close()
			return stop
		}
		if time.Now().After(deadline) {
			t.Fatalf("private redis-server on %d: %v", port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
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

// TestRedisRestart kills the Redis of two servers during traffic and starts
// it again on the same port: local delivery goes on during the outage, and
// afterwards broadcasts cross again with no server restart and no
// goroutine pile-up.
func TestRedisRestart(t *testing.T) {
	port := freePort(t)
	stop := privateRedis(t, port)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	logs := &logRecorder{t: t}
	cl := siopubsubtest.NewCluster(t, 2, siopubsubtest.Prefix(t), func(t testing.TB, prefix string) func(*socketio.Namespace) socketio.Manager {
		// No retries inside go-redis, so that publishing fails fast.
		rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
		t.Cleanup(func() { _ = rdb.Close() })
		return sioredis.New(rdb, &sioredis.Options{Logger: slog.New(slog.NewTextHandler(logs, nil)),
			Key: prefix, MinBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond,
		})
	})
	s0, s1 := cl.Servers[0], cl.Servers[1]
	c0, c1 := siopubsubtest.Dial(t, cl.URLs[0]), siopubsubtest.Dial(t, cl.URLs[1])
	if err := s0.Emit("before"); err != nil {
		t.Fatal(err)
	}
	c0.Expect(t, "before")
	c1.Expect(t, "before")
	baseline := runtime.NumGoroutine()

	stop()
	for i := range 200 {
		if err := s0.Emit("during", i); err != nil {
			t.Fatal(err)
		}
		if i%20 == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	for range 200 {
		c0.Expect(t, "during") // local delivery goes on
	}
	time.Sleep(1500 * time.Millisecond) // publishes fail now: retried once, then dropped
	peak := runtime.NumGoroutine()
	privateRedis(t, port)

	// Emit until the other server gets one: both sides have resubscribed.
	deadline := time.Now().Add(15 * time.Second)
	for crossed := false; !crossed; {
		if time.Now().After(deadline) {
			t.Fatal("no broadcast crossed after the restart")
		}
		if err := s0.Emit("after"); err != nil {
			t.Fatal(err)
		}
		select {
		case e := <-c1.Events():
			crossed = e.Name == "after"
		case <-time.After(200 * time.Millisecond):
		}
	}
	cl.WaitCount(t, 2)
	if err := s1.Emit("back"); err != nil {
		t.Fatal(err)
	}
	for e := c0.Next(t); e.Name != "back"; e = c0.Next(t) {
		if e.Name != "after" && e.Name != "during" {
			t.Fatalf("unexpected %q", e.Name)
		}
	}
	if !logs.has("message dropped") {
		t.Error("no log line for the messages dropped during the outage")
	}
	if n := runtime.NumGoroutine(); n > baseline+10 || peak > baseline+10 {
		t.Fatalf("goroutines: %d before the outage, %d during, %d after", baseline, peak, n)
	}
}

// TestGarbage publishes malformed messages on every channel of a server:
// they are skipped, and the server goes on.
func TestGarbage(t *testing.T) {
	prefix := siopubsubtest.Prefix(t)
	cl := siopubsubtest.NewCluster(t, 2, prefix, func(t testing.TB, prefix string) func(*socketio.Namespace) socketio.Manager {
		return sioredis.New(newClient(t), &sioredis.Options{Key: prefix})
	})
	c1 := siopubsubtest.Dial(t, cl.URLs[1])
	rdb := newClient(t)
	ctx := context.Background()
	garbage := [][]byte{
		nil, []byte("{"), []byte("{}"), []byte(`{"type":"x"}`), []byte(`{"type":7,"packet":1}`),
		[]byte(`{"type":6,"data":[1]}`), []byte(`{"type":5,"requestId":"r","opts":7}`),
		{0x93, 0xa1, 'x', 0xc0, 0xc0}, {0x92, 0x01}, {0xc1}, {0xdd, 0xff, 0xff, 0xff, 0xff},
		{0x93, 0xa1, 'x', 0x81, 0xa4, 'd', 'a', 't', 'a', 0x91, 0x01, 0x80},
	}
	for _, ch := range []string{prefix + "#/#", prefix + "#/#room#", prefix + "-request#/#", prefix + "-response#/#"} {
		for _, g := range garbage {
			if err := rdb.Publish(ctx, ch, g).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := cl.Servers[0].Emit("still-alive"); err != nil {
		t.Fatal(err)
	}
	c1.Expect(t, "still-alive")
}

// TestSilentServer counts a subscriber that never answers: requests that
// wait for answers end with ErrTimeout after RequestsTimeout.
func TestSilentServer(t *testing.T) {
	prefix := siopubsubtest.Prefix(t)
	rdb := newClient(t)
	silent := rdb.Subscribe(context.Background(), prefix+"-request#/#")
	t.Cleanup(func() { _ = silent.Close() })
	if _, err := silent.Receive(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := socketio.NewServer(&socketio.Options{NewManager: sioredis.New(rdb, &sioredis.Options{
		Key: prefix, RequestsTimeout: 300 * time.Millisecond,
	})})
	hs := httptest.NewServer(siohttp.Handler(srv))
	t.Cleanup(func() { _ = srv.Close(); hs.Close() })
	(&siopubsubtest.Cluster{Servers: []*socketio.Server{srv}}).WaitCount(t, 2)
	c := siopubsubtest.Dial(t, hs.URL)

	start := time.Now()
	socks, err := srv.FetchSockets(context.Background())
	if !errors.Is(err, socketio.ErrTimeout) {
		t.Fatalf("FetchSockets = %d sockets, %v; want ErrTimeout", len(socks), err)
	}
	_, err = srv.Of("/").ServerSideEmitWithAck(context.Background(), "x")
	if !errors.Is(err, socketio.ErrTimeout) {
		t.Fatalf("ServerSideEmitWithAck: %v, want ErrTimeout", err)
	}
	// The broadcast's client count comes from this server only, after the
	// requests timeout; the local ack then completes it.
	res, err := srv.Timeout(3*time.Second).EmitWithAck(context.Background(), "ask")
	if err != nil || len(res) != 1 {
		t.Fatalf("EmitWithAck: %d responses, %v", len(res), err)
	}
	c.Expect(t, "ask")
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v", d)
	}
}

// logRecorder passes log lines to t.Log and remembers them.
type logRecorder struct {
	t     testing.TB
	mu    sync.Mutex
	lines []string
}

func (r *logRecorder) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	r.mu.Lock()
	r.lines = append(r.lines, line)
	r.mu.Unlock()
	r.t.Log(line)
	return len(p), nil
}

func (r *logRecorder) has(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}
