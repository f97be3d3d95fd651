package siomsgpack_test

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/parser"
	"github.com/siokit/siokit/core/socketio"
	siomsgpack "github.com/siokit/siokit/parsers/msgpack"
)

// countingParser counts the EVENT packets it encodes.
type countingParser struct {
	siomsgpack.Parser
	events atomic.Int64
}

func (c *countingParser) Encode(p *parser.Packet) ([]engineio.Packet, error) {
	if p.Type == parser.Event || p.Type == parser.BinaryEvent {
		c.events.Add(1)
	}
	return c.Parser.Encode(p)
}

// TestBroadcastEncodedOnce checks that a broadcast to many clients calls
// the parser once, and that each client receives it.
func TestBroadcastEncodedOnce(t *testing.T) {
	const clients = 4
	pr := &countingParser{}
	srv := socketio.NewServer(&socketio.Options{Parser: pr})
	hs := httptest.NewServer(siohttp.Handler(srv))
	t.Cleanup(func() {
		_ = srv.Close()
		hs.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	got := make(chan []byte, clients)
	for range clients {
		c := socketio.NewClient(hs.URL, &socketio.ClientOptions{Parser: siomsgpack.Parser{}, Reconnection: new(false)})
		t.Cleanup(func() { _ = c.Close() })
		must(t, c.Of("/").On("news", func(b []byte) { got <- b }))
		must(t, c.Connect(ctx))
	}
	before := pr.events.Load()
	must(t, srv.Emit("news", []byte{1, 2, 3}))
	for range clients {
		select {
		case b := <-got:
			if string(b) != "\x01\x02\x03" {
				t.Fatalf("news = %q", b)
			}
		case <-ctx.Done():
			t.Fatal("a client did not receive the broadcast")
		}
	}
	if n := pr.events.Load() - before; n != 1 {
		t.Fatalf("the broadcast to %d clients was encoded %d times, want 1", clients, n)
	}
}
