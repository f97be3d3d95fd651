//go:build unix

package siozmq_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/siokit/siokit/core/socketio"
	siopubsub "github.com/siokit/siokit/managers/pubsub"
	siopubsubtest "github.com/siokit/siokit/managers/pubsub/pubsubtest"
	siozmq "github.com/siokit/siokit/managers/zmq"
)

// Run with forwarderEnv set, the test binary is the forwarder of the tests
// (siozmq.Forward, as cmd/siozmqforwarder runs it) on free loopback ports,
// until its stdin ends: the os/exec helper-process pattern, so that the
// forwarder is a process of its own.
const forwarderEnv = "SIOZMQ_FORWARDER"

func TestMain(m *testing.M) {
	if ports := os.Getenv(forwarderEnv); ports != "" {
		pull, pub, _ := strings.Cut(ports, "+")
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			cancel()
		}()
		err := siozmq.Forward(ctx, "tcp://127.0.0.1:"+pull, "tcp://127.0.0.1:"+pub, func(pull, pub string) {
			_, port, _ := net.SplitHostPort(pub)
			fmt.Printf("LISTENING zmq+tcp://%s+%s\n", pull, port)
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startForwarder starts a forwarder process on free ports for the test and
// returns its URL.
func startForwarder(t testing.TB) string {
	t.Helper()
	url, _ := startForwarderOn(t, "0+0")
	return url
}

// startForwarderOn starts a forwarder process on ports ("PULL+PUB") and
// returns its URL and a function that kills it.
func startForwarderOn(t testing.TB, ports string) (string, func()) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), forwarderEnv+"="+ports)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	url := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "LISTENING "); ok {
				url <- u
			}
		}
		done <- cmd.Wait()
	}()
	killed := false
	kill := func() {
		killed = true
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if err := <-done; err == nil {
			t.Error("the killed forwarder exited cleanly")
		}
	}
	t.Cleanup(func() {
		if killed {
			return
		}
		_ = stdin.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("exit: %v", err)
			}
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			t.Errorf("forwarder did not stop within 5s of its stdin closing: %v", <-done)
		}
	})
	select {
	case u := <-url:
		return u, kill
	case err := <-done:
		t.Fatalf("forwarder exited: %v", err)
	case <-time.After(15 * time.Second):
		t.Fatal("forwarder did not listen")
	}
	return "", nil
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestForwarderRestart kills the forwarder under a two-server cluster and
// starts it again on the same ports: broadcasts cross again within 5 s.
func TestForwarderRestart(t *testing.T) {
	ports := fmt.Sprintf("%d+%d", freePort(t), freePort(t))
	url, kill := startForwarderOn(t, ports)
	cl := siopubsubtest.NewCluster(t, 2, siopubsubtest.Prefix(t), func(t testing.TB, prefix string) func(*socketio.Namespace) socketio.Manager {
		return siozmq.New(dial(t, url), &siopubsub.Options{
			Prefix: prefix, HeartbeatInterval: 500 * time.Millisecond, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second,
		})
	})
	c1 := siopubsubtest.Dial(t, cl.URLs[1])
	if err := cl.Servers[0].Emit("before"); err != nil {
		t.Fatal(err)
	}
	c1.Expect(t, "before")
	kill()
	startForwarderOn(t, ports)
	restarted := time.Now()
	deadline := restarted.Add(5 * time.Second)
	for {
		if err := cl.Servers[0].Emit("after"); err != nil {
			t.Fatal(err)
		}
		select {
		case e := <-c1.Events():
			if e.Name != "after" {
				t.Fatalf("got %q", e.Name)
			}
			t.Logf("broadcasts cross again %v after the restart", time.Since(restarted).Round(time.Millisecond))
			return
		case <-time.After(250 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no broadcast crossed within 5 s of the forwarder's restart")
		}
	}
}

func dial(t testing.TB, url string) *siozmq.Broker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := siozmq.Dial(ctx, url)
	if err != nil {
		t.Fatalf("forwarder at %s: %v", url, err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestCluster(t *testing.T) {
	url := startForwarder(t)
	siopubsubtest.Run(t, siopubsubtest.Config{
		NewManager: func(t testing.TB, prefix string) func(*socketio.Namespace) socketio.Manager {
			return siozmq.New(dial(t, url), &siopubsub.Options{Prefix: prefix, HeartbeatInterval: 500 * time.Millisecond})
		},
		NewEmitter: func(t testing.TB, prefix string) *siopubsub.Emitter {
			return siozmq.NewEmitter(dial(t, url), &siopubsub.Options{Prefix: prefix})
		},
	})
}

func TestEndpoints(t *testing.T) {
	pull, pub, err := siozmq.Endpoints("zmq+tcp://example.org:5555+5556")
	if err != nil || pull != "tcp://example.org:5555" || pub != "tcp://example.org:5556" {
		t.Fatalf("%q %q %v", pull, pub, err)
	}
	for _, bad := range []string{"tcp://h:1+2", "zmq+tcp://h:1", "zmq+tcp://h:x+2", ""} {
		if _, _, err := siozmq.Endpoints(bad); !errors.Is(err, siozmq.ErrURL) {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}

// TestForwarderOutlivesPushers checks that the forwarder goes on when a
// publishing broker goes away, and that a subscription ends with its
// context.
func TestForwarderOutlivesPushers(t *testing.T) {
	url := startForwarder(t)
	sub := dial(t, url)
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan string, 16)
	ready := make(chan struct{})
	ended := make(chan error, 1)
	go func() {
		ended <- sub.Subscribe(ctx, siopubsub.Subscription{
			Channels: []string{"c"},
			OnReady:  func() { close(ready) },
		}, func(channel string, msg []byte) { got <- channel + ":" + string(msg) })
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("subscription not ready")
	}
	for i := range 3 {
		b := dial(t, url)
		if err := b.Publish(context.Background(), "c", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		if err := b.Publish(context.Background(), "other", []byte("x")); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-got:
			if m != fmt.Sprintf("c:%d", i) {
				t.Fatalf("got %q", m)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("message %d did not arrive", i)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if err := b.Publish(context.Background(), "c", nil); !errors.Is(err, siozmq.ErrClosed) {
			t.Fatalf("publish on a closed broker: %v", err)
		}
	}
	cancel()
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("subscription ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("subscription did not end with its context")
	}
}
