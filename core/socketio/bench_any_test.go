package socketio

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/siokit/siokit/core/engineio"
)

// Benchmarks of handlers written the way users write them (decoded
// arguments) and of room broadcasts, beside bench_test.go's raw-argument
// echo and broadcast to everyone: issue 17's "before" figures.

// benchEcho runs b.N acknowledged events of msg (an EVENT packet with ack
// id 1) through a server whose "echo" handler is fn, over an in-memory
// WebSocket.
func benchEcho(b *testing.B, fn any, msg string) {
	b.Helper()
	srv := NewServer(&Options{Engine: engineio.Options{PingInterval: 1 << 40}})
	defer func() { _ = srv.Close() }()
	if err := srv.On("echo", fn); err != nil {
		b.Fatal(err)
	}
	got := make(chan struct{}, 1)
	connected := make(chan struct{}, 1)
	conn := newMemConn(func(_ int, parts [][]byte) {
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
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		conn.sendText(msg)
		<-got
	}
}

const echoMsg = `421["echo",{"user":"bench","n":12345,"text":"hello, world"}]`

// BenchmarkEchoAckAny is BenchmarkEchoAck with a ...any handler: the
// arguments are decoded into maps, strings and numbers, then encoded again
// for the ack.
func BenchmarkEchoAckAny(b *testing.B) {
	benchEcho(b, func(_ *Socket, ack AckFunc, args ...any) { _ = ack(args...) }, echoMsg)
}

// BenchmarkEchoAckTyped takes the argument as a struct and acknowledges by
// returning it, as the README's tour writes handlers (reflection path).
func BenchmarkEchoAckTyped(b *testing.B) {
	type message struct {
		User string `json:"user"`
		N    int    `json:"n"`
		Text string `json:"text"`
	}
	benchEcho(b, func(_ *Socket, m message) message { return m }, echoMsg)
}

// BenchmarkEchoAckAny16K echoes a 16 KiB JSON object (a list of records)
// through a ...any handler.
func BenchmarkEchoAckAny16K(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`421["echo",{"items":[`)
	for i := 0; sb.Len() < 16<<10; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"id":1,"user":"user","ok":true,"text":"` + strings.Repeat("x", 48) + `"}`)
	}
	sb.WriteString(`]}]`)
	benchEcho(b, func(_ *Socket, ack AckFunc, args ...any) { _ = ack(args...) }, sb.String())
}

// BenchmarkRoomBroadcast100of1000 measures one Emit to a room of 100
// sockets among 1,000 connected, up to the (in-memory) WebSocket writes.
func BenchmarkRoomBroadcast100of1000(b *testing.B) {
	const n, members = 1000, 100
	srv := NewServer(&Options{Engine: engineio.Options{PingInterval: 1 << 40}})
	defer func() { _ = srv.Close() }()
	var joined atomic.Int32
	srv.OnConnect(func(s *Socket) error {
		if joined.Add(1) <= members {
			s.Join("r")
		}
		return nil
	})
	var (
		wg      sync.WaitGroup
		strays  atomic.Int32 // deliveries outside the room
		inRoom  = make([]atomic.Bool, n)
		connect = make(chan int, n)
	)
	for i := range n {
		conn := newMemConn(func(typ int, parts [][]byte) {
			if typ != textMessage || len(parts) == 0 {
				return
			}
			if len(parts) == 1 && bytes.HasPrefix(parts[0], []byte("42")) {
				if !inRoom[i].Load() {
					strays.Add(1)
					return
				}
				wg.Done()
				return
			}
			if bytes.HasPrefix(bytes.Join(parts, nil), []byte("40{")) {
				connect <- i
			}
		})
		serveMem(srv, conn)
		conn.sendText("40")
		// One at a time, so that the first members to connect are the
		// room's members.
		<-connect
		inRoom[i].Store(i < members)
	}
	payload := map[string]any{"user": "ann", "text": strings.Repeat("x", 64)}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		wg.Add(members)
		if err := srv.To("r").Emit("chat", payload); err != nil {
			b.Fatal(err)
		}
		wg.Wait()
	}
	b.StopTimer()
	if s := strays.Load(); s != 0 {
		b.Fatalf("%d deliveries outside the room", s)
	}
}

// BenchmarkBroadcast1000Raw is BenchmarkBroadcast1000 with the arguments
// an event handler received as json.RawMessage: nothing to encode but the
// packet's frame around them.
func BenchmarkBroadcast1000Raw(b *testing.B) {
	const n = 1000
	srv := NewServer(&Options{Engine: engineio.Options{PingInterval: 1 << 40}})
	defer func() { _ = srv.Close() }()
	var (
		wg        sync.WaitGroup
		connected = make(chan struct{}, n)
	)
	for range n {
		conn := newMemConn(func(typ int, parts [][]byte) {
			if typ != textMessage || len(parts) != 1 {
				return
			}
			switch {
			case bytes.HasPrefix(parts[0], []byte("42")):
				wg.Done()
			case bytes.HasPrefix(parts[0], []byte("40{")):
				connected <- struct{}{}
			}
		})
		serveMem(srv, conn)
		conn.sendText("40")
	}
	for range n {
		<-connected
	}
	arg := json.RawMessage(`{"user":"ann","text":"` + strings.Repeat("x", 64) + `"}`)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		wg.Add(n)
		if err := srv.Emit("chat", arg); err != nil {
			b.Fatal(err)
		}
		wg.Wait()
	}
}
