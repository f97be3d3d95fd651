package engineio

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/siokit/siokit/core/internal/wsframe"
)

// countingConn counts the writes made on a network connection.
type countingConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// wsPair returns the server's and the client's ends of a real WebSocket
// over loopback: the server's is the network connection, handshake
// answered, for newWSConn; the client's is gorilla's.
func wsPair(t testing.TB) (server net.Conn, client *websocket.Conn) {
	t.Helper()
	conns := make(chan net.Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		_, _ = c.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + wsframe.AcceptKey(r.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n"))
		conns <- c
	}))
	t.Cleanup(srv.Close)
	client, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	server = <-conns
	t.Cleanup(func() {
		_ = client.Close()
		_ = server.Close()
	})
	return server, client
}

// testSettings are the settings of test connections: a minute's write
// timeout, the default limit, no control-frame cap.
func testSettings(timeout time.Duration) wsSettings {
	return wsSettings{limit: DefaultMaxHTTPBufferSize, timeout: timeout}
}

// message is one WebSocket message as the client read it.
type message struct {
	binary bool
	data   string
}

func readMessages(t *testing.T, c *websocket.Conn, n int) []message {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var got []message
	for range n {
		typ, data, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("after %d messages: %v", len(got), err)
		}
		got = append(got, message{typ == websocket.BinaryMessage, string(data)})
	}
	return got
}

func TestRawFrames(t *testing.T) {
	text := func(s string) Packet { return Packet{Type: PacketMessage, Data: []byte(s)} }
	binary := func(n int) Packet {
		return Packet{Type: PacketMessage, Data: bytes.Repeat([]byte{0xfe}, n), Binary: true}
	}
	frame := func(s string) Packet { return MessageFrame(append([]byte{0}, s...)) }
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name     string
		batch    []Packet
		want     []message
		stop     bool
		oneWrite bool // everything goes out in one write
	}{
		{
			name:     "packets of every kind",
			batch:    []Packet{text("hello"), {Type: PacketPing}, frame(`2["chat"]`), binary(3)},
			want:     []message{{false, "4hello"}, {false, "2"}, {false, `42["chat"]`}, {true, "\xfe\xfe\xfe"}},
			oneWrite: true,
		},
		{
			// 7-bit, 16-bit and 64-bit lengths, on either side of each limit.
			name:  "length encodings",
			batch: []Packet{text(long(124)), text(long(125)), frame(long(126)), text(long(65534)), binary(65535), binary(65536)},
			want:  []message{{false, "4" + long(124)}, {false, "4" + long(125)}, {false, "4" + long(126)}, {false, "4" + long(65534)}, {true, strings.Repeat("\xfe", 65535)}, {true, strings.Repeat("\xfe", 65536)}},
		},
		{
			name:  "large payloads between small ones",
			batch: []Packet{text("a"), binary(maxCopied + 1), text(long(maxCopied + 7)), frame(long(maxCopied + 3)), text("b")},
			want: []message{{false, "4a"}, {true, strings.Repeat("\xfe", maxCopied+1)}, {false, "4" + long(maxCopied+7)},
				{false, "4" + long(maxCopied+3)}, {false, "4b"}},
		},
		{
			name:     "a close frame for the close packet, nothing after it",
			batch:    []Packet{text("last"), {Type: PacketClose}, text("never")},
			want:     []message{{false, "4last"}},
			stop:     true,
			oneWrite: true,
		},
	}
	for _, tt := range tests {
		for _, counted := range []bool{true, false} {
			name := tt.name
			if !counted {
				name += "/tcp" // writev for the large payloads
			}
			t.Run(name, func(t *testing.T) {
				server, client := wsPair(t)
				cc := &countingConn{Conn: server}
				ws := server
				if counted {
					ws = cc
				}
				c := newWSConn(ws, nil, testSettings(time.Minute))
				stop, err := c.write(tt.batch)
				if err != nil || stop != tt.stop {
					t.Fatalf("write = %v, %v; want %v, nil", stop, err, tt.stop)
				}
				got := readMessages(t, client, len(tt.want))
				if !slices.Equal(got, tt.want) {
					t.Fatalf("client read %s\nwant %s", summary(got), summary(tt.want))
				}
				if n := cc.writes.Load(); counted && tt.oneWrite && n != 1 {
					t.Fatalf("the batch took %d writes, want 1", n)
				}
				if tt.stop {
					// The close frame (1000) was the last frame.
					_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
					if _, data, err := client.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
						t.Fatalf("the client read %q, %v; want a close frame 1000", data, err)
					}
				}
			})
		}
	}
}

// TestRawFramesPings: pings read while the writer writes are answered with
// pongs that land between whole frames.
func TestRawFramesPings(t *testing.T) {
	server, client := wsPair(t)
	c := newWSConn(server, nil, testSettings(time.Minute))
	go func() { // the server's reader, which answers the pings
		for {
			if _, err := c.readPacket(); err != nil {
				return
			}
		}
	}()
	const pings, batches, perBatch = 200, 400, 5
	var pongs atomic.Int64
	client.SetPongHandler(func(string) error { pongs.Add(1); return nil })
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range pings {
			if err := client.WriteControl(websocket.PingMessage, []byte{byte(i)}, time.Now().Add(5*time.Second)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Go(func() {
		for i := range batches {
			batch := make([]Packet, perBatch)
			for j := range batch {
				batch[j] = Packet{Type: PacketMessage, Data: []byte(strings.Repeat("m", 100+i%50))}
			}
			if _, err := c.write(batch); err != nil {
				t.Error(err)
				return
			}
		}
	})
	got := readMessages(t, client, batches*perBatch)
	wg.Wait()
	for i, m := range got {
		if want := "4" + strings.Repeat("m", 100+(i/perBatch)%50); m.data != want {
			t.Fatalf("message %d is %.20q..., want %.20q...", i, m.data, want)
		}
	}
	// The last pongs may still be on their way: read until all came.
	deadline := time.Now().Add(10 * time.Second)
	for pongs.Load() < pings && time.Now().Before(deadline) {
		_, _ = c.write([]Packet{{Type: PacketNoop}})
		readMessages(t, client, 1)
	}
	if n := pongs.Load(); n != pings {
		t.Fatalf("%d pongs for %d pings", n, pings)
	}
}

// TestRawFramesCloseAnswer: the client's close frame is answered with its
// code, or with none when it had none.
func TestRawFramesCloseAnswer(t *testing.T) {
	tests := []struct {
		name     string
		payload  []byte
		wantCode int
	}{
		{"with a code", websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"), websocket.CloseNormalClosure},
		{"going away", websocket.FormatCloseMessage(websocket.CloseGoingAway, ""), websocket.CloseGoingAway},
		{"without a code", nil, websocket.CloseNoStatusReceived},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server, client := wsPair(t)
			c := newWSConn(server, nil, testSettings(time.Minute))
			if err := client.WriteControl(websocket.CloseMessage, tt.payload, time.Now().Add(5*time.Second)); err != nil {
				t.Fatal(err)
			}
			if _, err := c.readPacket(); wsframe.CloseCode(err) != tt.wantCode {
				t.Fatalf("server read %v, want a close error %d", err, tt.wantCode)
			}
			_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _, err := client.ReadMessage()
			if !websocket.IsCloseError(err, tt.wantCode) {
				t.Fatalf("client read %v, want the close frame answered with %d", err, tt.wantCode)
			}
		})
	}
}

// TestRawFramesWriteTimeout: a client that stops reading makes the writes
// fail once the write timeout has passed, rather than block.
func TestRawFramesWriteTimeout(t *testing.T) {
	server, _ := wsPair(t)
	c := newWSConn(server, nil, testSettings(300*time.Millisecond))
	big := Packet{Type: PacketMessage, Data: bytes.Repeat([]byte{'x'}, 1<<20), Binary: true}
	start := time.Now()
	var err error
	for err == nil && time.Since(start) < 20*time.Second {
		_, err = c.write([]Packet{big})
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("writes to a client that does not read ended with %v, want a deadline error", err)
	}
}

// summary shortens messages for a failure report.
func summary(ms []message) string {
	var b strings.Builder
	for _, m := range ms {
		d := m.data
		if len(d) > 12 {
			d = d[:12] + "…"
		}
		b.WriteString(" ")
		if m.binary {
			b.WriteString("bin:")
		}
		b.WriteString(d)
		b.WriteString("(" + strconv.Itoa(len(m.data)) + ")")
	}
	return b.String()
}

// discardConn is a network connection that takes every write.
type discardConn struct{ net.Conn }

func (discardConn) Write(b []byte) (int, error)      { return len(b), nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkWriteFrames: a batch of four broadcast frames, framed by the
// engine and written with one write.
func BenchmarkWriteFrames(b *testing.B) {
	server, _ := wsPair(b)
	c := newWSConn(discardConn{server}, nil, testSettings(time.Minute))
	p := MessageFrame(append([]byte{0}, `2["bcast",1733120000000000000]`...))
	batch := make([]Packet, 4)
	b.ReportAllocs()
	for b.Loop() {
		for i := range batch {
			batch[i] = p
		}
		if _, err := c.write(batch); err != nil {
			b.Fatal(err)
		}
	}
}
