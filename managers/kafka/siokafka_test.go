//go:build unix

package siokafka_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/siokit/siokit/core/socketio"
	siokafka "github.com/siokit/siokit/managers/kafka"
	"github.com/siokit/siokit/managers/kafka/internal/kfakebroker"
	siopubsub "github.com/siokit/siokit/managers/pubsub"
	siopubsubtest "github.com/siokit/siokit/managers/pubsub/pubsubtest"
)

// Run with brokerEnv set, the test binary is the Kafka-protocol broker of
// the tests (franz-go's kfake, as cmd/kfakebroker runs it) instead of
// running tests: the os/exec helper-process pattern, so the broker is a
// process of its own without a separate build.
const brokerEnv = "SIOKAFKA_KFAKE_BROKER"

func TestMain(m *testing.M) {
	if os.Getenv(brokerEnv) != "" {
		os.Exit(kfakebroker.Run(0, os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// startBroker starts a broker process for the test and returns its address.
func startBroker(t testing.TB) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), brokerEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "LISTENING "); ok {
				addr <- a
			}
		}
		done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("exit: %v", err)
			}
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			t.Errorf("kfake broker did not stop within 5s of its stdin closing: %v", <-done)
		}
	})
	select {
	case a := <-addr:
		return a
	case err := <-done:
		t.Fatalf("kfake broker exited: %v", err)
	case <-time.After(15 * time.Second):
		t.Fatal("kfake broker did not listen")
	}
	return ""
}

func dial(t testing.TB, addr, topic string) *siokafka.Broker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := siokafka.Dial(ctx, &siokafka.Options{Brokers: []string{addr}, Topic: topic})
	if err != nil {
		t.Fatalf("kafka at %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestCluster(t *testing.T) {
	addr := startBroker(t)
	siopubsubtest.Run(t, siopubsubtest.Config{
		NewManager: func(t testing.TB, prefix string) func(*socketio.Namespace) socketio.Manager {
			return siokafka.New(dial(t, addr, prefix), &siopubsub.Options{Prefix: prefix, HeartbeatInterval: 500 * time.Millisecond})
		},
		NewEmitter: func(t testing.TB, prefix string) *siopubsub.Emitter {
			return siokafka.NewEmitter(dial(t, addr, prefix), &siopubsub.Options{Prefix: prefix})
		},
	})
}

func TestDialErrors(t *testing.T) {
	if _, err := siokafka.Dial(context.Background(), nil); !errors.Is(err, siokafka.ErrNoBrokers) {
		t.Fatalf("err = %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := siokafka.Dial(ctx, &siokafka.Options{Brokers: []string{"127.0.0.1:1"}}); err == nil {
		t.Fatal("Dial to a closed port succeeded")
	} else {
		t.Logf("closed port: %v", err)
	}
}
