package siopubsub

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/siokit/siokit/core/socketio"
)

func TestCheckMsgpack(t *testing.T) {
	valid, err := msgpack.Marshal([]any{"uid", map[string]any{"type": 2, "data": []any{"ev", []byte{1, 2}, 1.5, nil, true}}, map[string]any{"rooms": []string{}}})
	if err != nil {
		t.Fatal(err)
	}
	deep := make([]byte, 0, 100)
	for range 80 {
		deep = append(deep, 0x91)
	}
	deep = append(deep, 0xc0)
	for _, tc := range []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"valid", valid, true},
		{"fixint", []byte{0x05}, true},
		{"empty", nil, false},
		{"huge array32", []byte{0xdd, 0xff, 0xff, 0xff, 0xff}, false},
		{"huge map16", []byte{0xde, 0xff, 0xff, 0x01}, false},
		{"bin beyond end", []byte{0xc4, 0x05, 0x01}, false},
		{"never used", []byte{0xc1}, false},
		{"trailing bytes", []byte{0x01, 0x02}, false},
		{"truncated str16", []byte{0xda, 0x00}, false},
		{"too deep", deep, false},
		{"fixext1 undefined", []byte{0xd4, 0x00, 0x00}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkMsgpack(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("checkMsgpack(% x) = %v, want ok=%v", tc.in, err, tc.ok)
			}
			if err != nil && !errors.Is(err, errMalformed) {
				t.Fatalf("error %v does not wrap errMalformed", err)
			}
		})
	}
}

// countingBroker counts two servers but never delivers anything: the
// other one is silent.
type countingBroker struct {
	mu        sync.Mutex
	published int
}

func (b *countingBroker) Publish(context.Context, string, []byte) error {
	b.mu.Lock()
	b.published++
	b.mu.Unlock()
	return nil
}

func (b *countingBroker) Subscribe(ctx context.Context, sub Subscription, _ func(string, []byte)) error {
	sub.OnReady()
	<-ctx.Done()
	return ctx.Err()
}

func (b *countingBroker) Close() error { return nil }

func (b *countingBroker) NumSub(context.Context, string) (int, error) { return 2, nil }

// TestSilentServerCleansUp checks that requests to a silent server end with
// ErrTimeout after RequestsTimeout and leave no pending entry behind.
func TestSilentServerCleansUp(t *testing.T) {
	b := &countingBroker{}
	srv := socketio.NewServer(&socketio.Options{NewManager: New(b, &Options{RequestsTimeout: 100 * time.Millisecond})})
	defer func() { _ = srv.Close() }()
	m := srv.Of("/").Manager().(*Manager)
	<-m.Ready()
	ctx := context.Background()
	if _, err := srv.FetchSockets(ctx); !errors.Is(err, socketio.ErrTimeout) {
		t.Fatalf("FetchSockets: %v, want ErrTimeout", err)
	}
	if _, err := srv.Of("/").ServerSideEmitWithAck(ctx, "x"); !errors.Is(err, socketio.ErrTimeout) {
		t.Fatalf("ServerSideEmitWithAck: %v, want ErrTimeout", err)
	}
	res, err := srv.Timeout(time.Second).EmitWithAck(ctx, "x")
	if err != nil || len(res) != 0 {
		t.Fatalf("EmitWithAck with no clients: %v, %v", res, err)
	}
	time.Sleep(150 * time.Millisecond)
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.requests) != 0 || len(m.acks) != 0 {
		t.Fatalf("pending: %d requests, %d ack requests", len(m.requests), len(m.acks))
	}
}
