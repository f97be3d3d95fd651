package socketio

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/siokit/siokit/core/engineio"
)

// BenchmarkBroadcast1000 measures one Emit delivered to 1,000 in-process
// sockets, through the manager and each session's queue and writer, up to
// the (in-memory) WebSocket write.
func BenchmarkBroadcast1000(b *testing.B) {
	const n = 1000
	srv := NewServer(&Options{Engine: engineio.Options{PingInterval: 1 << 40}})
	defer func() { _ = srv.Close() }()
	var (
		wg   sync.WaitGroup
		sids = make(chan string, n)
	)
	for range n {
		conn := newMemConn(func(typ int, parts [][]byte) {
			if typ != textMessage || len(parts) == 0 {
				return
			}
			if len(parts) == 1 && bytes.HasPrefix(parts[0], []byte("42")) {
				wg.Done() // the broadcast, written as one message
				return
			}
			data := bytes.Join(parts, nil)
			if bytes.HasPrefix(data, []byte("40{")) {
				var ok struct{ SID string }
				_ = json.Unmarshal(data[2:], &ok)
				sids <- ok.SID
			}
		})
		serveMem(srv, conn)
		conn.sendText("40")
	}
	for range n {
		<-sids
	}
	payload := map[string]any{"user": "ann", "text": strings.Repeat("x", 64)}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		wg.Add(n)
		if err := srv.Emit("chat", payload); err != nil {
			b.Fatal(err)
		}
		wg.Wait()
	}
}

// BenchmarkEchoAck measures one event round trip with an ack through the
// whole server (engine session, decoder, handler, ack encoding, writer) over
// an in-memory WebSocket: the server's own cost per message.
func BenchmarkEchoAck(b *testing.B) {
	srv := NewServer(&Options{Engine: engineio.Options{PingInterval: 1 << 40}})
	defer func() { _ = srv.Close() }()
	if err := srv.On("echo", func(_ *Socket, ack AckFunc, args ...json.RawMessage) {
		vals := make([]any, len(args))
		for i, a := range args {
			vals[i] = a
		}
		_ = ack(vals...)
	}); err != nil {
		b.Fatal(err)
	}
	got := make(chan struct{}, 1)
	connected := make(chan struct{}, 1)
	conn := newMemConn(func(typ int, parts [][]byte) {
		data := bytes.Join(parts, nil)
		switch {
		case bytes.HasPrefix(data, []byte("40{")):
			connected <- struct{}{}
		case bytes.HasPrefix(data, []byte("43")):
			got <- struct{}{}
		}
	})
	serveMem(srv, conn)
	conn.sendText("40")
	<-connected
	msg := `421["echo",{"user":"bench","n":12345,"text":"hello, world"}]`
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		conn.sendText(msg)
		<-got
	}
}
