package socketio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/siokit/siokit/core/parser"
)

func pendingAcks(s *Socket) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.acks)
}

func TestEmitWithAckLeavesNothingBehind(t *testing.T) {
	srv := newTestServer(t)
	c := dialMem(t, srv)
	s := c.connect(srv)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.EmitWithAck(ctx, "q"); !errors.Is(err, ErrTimeout) {
		t.Fatalf("EmitWithAck = %v, want ErrTimeout", err)
	}
	if n := pendingAcks(s); n != 0 {
		t.Errorf("%d acks pending after a timeout", n)
	}

	// Broadcast acks: the timed-out entry is dropped from every socket.
	c2 := dialMem(t, srv)
	s2 := c2.connect(srv)
	rs, err := srv.Timeout(20*time.Millisecond).EmitWithAck(context.Background(), "all")
	if !errors.Is(err, ErrTimeout) || len(rs) != 0 {
		t.Fatalf("broadcast EmitWithAck = %d, %v", len(rs), err)
	}
	if n, n2 := pendingAcks(s), pendingAcks(s2); n != 0 || n2 != 0 {
		t.Errorf("%d and %d acks pending after a broadcast timeout", n, n2)
	}

	// An answered ack leaves nothing either.
	done := make(chan error, 1)
	go func() {
		_, err := s.EmitWithAck(context.Background(), "q2")
		done <- err
	}()
	for {
		p := c.next()
		if strings.HasSuffix(p, `["q2"]`) {
			c.send("3" + strings.TrimSuffix(strings.TrimPrefix(p, "2"), `["q2"]`) + "[]")
			break
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := pendingAcks(s); n != 0 {
		t.Errorf("%d acks pending after an answer", n)
	}

	// Pending acks fail on disconnect, and the map is emptied.
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.EmitWithAck(context.Background(), "never")
			errs <- err
		}()
	}
	for pendingAcks(s) < 3 {
		time.Sleep(time.Millisecond)
	}
	s.Disconnect(false)
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrDisconnected) {
			t.Errorf("pending ack error %v, want ErrDisconnected", err)
		}
	}
	if n := pendingAcks(s); n != 0 {
		t.Errorf("%d acks pending after disconnect", n)
	}
}

// TestBroadcastSharesBytes checks that a broadcast is encoded once: every
// recipient's WebSocket writer is handed the same byte slice.
func TestBroadcastSharesBytes(t *testing.T) {
	srv := newTestServer(t)
	var mu sync.Mutex
	seen := map[*byte]int{}
	got := make(chan struct{}, 16)
	big := strings.Repeat("x", 20<<10) // written from where it is, not copied into a frame buffer
	const n = 5
	for range n {
		c := &memClient{t: t, msgs: make(chan string, 16)}
		c.conn = newMemConn(func(typ int, parts [][]byte) {
			data := string(bytes.Join(parts, nil))
			if strings.HasPrefix(data, `42["b"`) {
				got <- struct{}{}
				return
			}
			if typ == textMessage && strings.HasPrefix(data, "4") {
				c.msgs <- data[1:]
			}
		})
		c.conn.onWrite = func(b []byte) {
			if len(b) > 16<<10 {
				mu.Lock()
				seen[&b[0]]++
				mu.Unlock()
			}
		}
		serveMem(srv, c.conn)
		c.connect(srv)
	}
	if err := srv.Emit("b", big); err != nil {
		t.Fatal(err)
	}
	for range n {
		<-got
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 {
		t.Errorf("the broadcast was written from %d distinct buffers, want 1: %v", len(seen), seen)
	}
}

func TestEmitReserved(t *testing.T) {
	srv := newTestServer(t)
	c := dialMem(t, srv)
	s := c.connect(srv)
	for _, ev := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		if err := s.Emit(ev); !errors.Is(err, ErrReservedEvent) {
			t.Errorf("Emit(%q) = %v", ev, err)
		}
		if _, err := s.EmitWithAck(context.Background(), ev); !errors.Is(err, ErrReservedEvent) {
			t.Errorf("EmitWithAck(%q) = %v", ev, err)
		}
		if err := srv.To("x").Emit(ev); !errors.Is(err, ErrReservedEvent) {
			t.Errorf("To().Emit(%q) = %v", ev, err)
		}
	}
	if err := s.Emit("bad", func() {}); err == nil {
		t.Error("Emit of a func value succeeded")
	}
	if err := s.Emit("ok", 1); err != nil {
		t.Error(err)
	}
	if got := c.next(); got != `2["ok",1]` {
		t.Errorf("got %q", got)
	}
}

func TestConnectErrorPayload(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{NewConnectError("no", nil), `{"message":"no"}`},
		{NewConnectError("no", map[string]int{"code": 4}), `{"message":"no","data":{"code":4}}`},
		{NewConnectError("no", func() {}), `{"message":"no"}`},
		{errors.New("plain"), `{"message":"plain"}`},
		{fmt.Errorf("wrapped: %w", NewConnectError("inner", 1)), `{"message":"inner","data":1}`},
	} {
		if got := string(refusal(tc.err).payload()); got != tc.want {
			t.Errorf("refusal(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}

func TestRecoverable(t *testing.T) {
	for reason, want := range map[string]bool{
		ReasonTransportClose: true, ReasonTransportError: true, ReasonPingTimeout: true,
		ReasonServerShuttingDown: true, ReasonForcedClose: true, ReasonForcedServerClose: true,
		ReasonClientNamespaceDisconnect: false, ReasonServerNamespaceDisconnect: false, ReasonParseError: false,
	} {
		if got := recoverable(reason); got != want {
			t.Errorf("recoverable(%q) = %v, want %v", reason, got, want)
		}
	}
}

// TestCompressFlag: Compress(false) on an operator reaches the engine
// packets of the emit, binary attachments included.
func TestCompressFlag(t *testing.T) {
	srv := newTestServer(t)
	if !srv.Of("/").Compress(false).opts.NoCompress || srv.Of("/").Compress(false).Compress(true).opts.NoCompress {
		t.Fatal("Compress does not set the operator's flag")
	}
	p := &parser.Packet{Type: parser.BinaryEvent, Data: []byte(`["a",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1}}}
	for _, off := range []bool{false, true} {
		frames := encodeFrames(p)
		noCompress(frames, &BroadcastOptions{NoCompress: off})
		for i, f := range frames {
			if f.NoCompress != off {
				t.Errorf("NoCompress=%v: frame %d has %v", off, i, f.NoCompress)
			}
		}
	}
}
