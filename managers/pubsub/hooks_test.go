package siopubsub

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/siokit/siokit/core/hooks"
	"github.com/siokit/siokit/core/socketio"
)

// memBroker delivers every message to every subscriber of its channel, in
// process, one subscriber goroutine each.
type memBroker struct {
	mu   sync.Mutex
	subs []*memSub
}

type memSub struct {
	sub Subscription
	ch  chan [2]string
}

func (b *memBroker) Publish(_ context.Context, channel string, msg []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.subs {
		if slices.Contains(s.sub.Channels, channel) || slices.ContainsFunc(s.sub.Prefixes, func(p string) bool { return strings.HasPrefix(channel, p) }) {
			select {
			case s.ch <- [2]string{channel, string(msg)}:
			default:
			}
		}
	}
	return nil
}

func (b *memBroker) Subscribe(ctx context.Context, sub Subscription, onMessage func(string, []byte)) error {
	s := &memSub{sub: sub, ch: make(chan [2]string, 256)}
	b.mu.Lock()
	b.subs = append(b.subs, s)
	b.mu.Unlock()
	sub.OnReady()
	for {
		select {
		case m := <-s.ch:
			onMessage(m[0], []byte(m[1]))
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (b *memBroker) Close() error { return nil }

func (b *memBroker) NumSub(context.Context, string) (int, error) { return 2, nil }

// TestManagerHooks checks that a broadcast relayed between two servers is
// reported as published by one and received by the other.
func TestManagerHooks(t *testing.T) {
	b := &memBroker{}
	type call struct{ nsp, kind string }
	var mu sync.Mutex
	var published, received []call
	h := &hooks.Hooks{
		ManagerPublish: func(nsp, kind string, size int) {
			mu.Lock()
			published = append(published, call{nsp, kind})
			mu.Unlock()
		},
	}
	h2 := &hooks.Hooks{
		ManagerReceive: func(nsp, kind string, size int) {
			mu.Lock()
			received = append(received, call{nsp, kind})
			mu.Unlock()
		},
	}
	a := socketio.NewServer(&socketio.Options{NewManager: New(b, nil), Hooks: h})
	defer func() { _ = a.Close() }()
	c := socketio.NewServer(&socketio.Options{NewManager: New(b, nil), Hooks: h2})
	defer func() { _ = c.Close() }()
	<-a.Of("/").Manager().(*Manager).Ready()
	<-c.Of("/").Manager().(*Manager).Ready()
	if err := a.Emit("news", "x"); err != nil {
		t.Fatal(err)
	}
	want := call{"/", "broadcast"}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		done := slices.Contains(published, want) && slices.Contains(received, want)
		mu.Unlock()
		if done {
			return
		}
		if time.Now().After(deadline) {
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("published %v, received %v; want %v in both", published, received, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
