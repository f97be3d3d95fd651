package engineio

import (
	"bytes"
	"errors"
	"io"
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

// captureConn records what is written on it.
type captureConn struct {
	net.Conn
	mu  sync.Mutex
	buf []byte
}

func (c *captureConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.buf = append(c.buf, b...)
	c.mu.Unlock()
	return len(b), nil
}
func (*captureConn) SetWriteDeadline(time.Time) error { return nil }
func (*captureConn) SetReadDeadline(time.Time) error  { return nil }

// TestDeflateWrites: with permessage-deflate, messages at or over the
// threshold go out compressed (RSV1) unless marked NoCompress, and the
// client inflates them back.
func TestDeflateWrites(t *testing.T) {
	server, _ := wsPair(t)
	cc := &captureConn{Conn: server}
	set := testSettings(time.Minute)
	set.deflate, set.minZip = true, 100
	c := newWSConn(cc, nil, set)
	big := strings.Repeat("abc", 1000)
	batch := []Packet{
		{Type: PacketMessage, Data: []byte(big)},
		{Type: PacketMessage, Data: []byte(big), NoCompress: true},
		{Type: PacketMessage, Data: []byte("short")},
		{Type: PacketMessage, Data: []byte(big), Binary: true},
	}
	if _, err := c.write(batch); err != nil {
		t.Fatal(err)
	}
	b := cc.buf
	wantRsv1 := []bool{true, false, false, true}
	wantData := []string{"4" + big, "4" + big, "4short", big}
	for i := range batch {
		h, n, err := wsframe.ParseHeader(b)
		if err != nil || n == 0 {
			t.Fatalf("frame %d: %v", i, err)
		}
		payload := b[n : n+int(h.Length)]
		b = b[n+int(h.Length):]
		if h.Rsv1 != wantRsv1[i] {
			t.Fatalf("frame %d: compressed %v, want %v", i, h.Rsv1, wantRsv1[i])
		}
		if h.Rsv1 {
			if len(payload) > len(big)/4 {
				t.Errorf("frame %d: %d bytes compressed", i, len(payload))
			}
			var err error
			if payload, err = wsframe.Inflate(payload, 1<<20); err != nil {
				t.Fatal(err)
			}
		}
		if string(payload) != wantData[i] {
			t.Fatalf("frame %d carries %.10q (%d bytes)", i, payload, len(payload))
		}
	}
}

// clientFrame returns a masked client frame.
func clientFrame(op byte, rsv1 bool, payload []byte) []byte {
	b := wsframe.AppendHeader(nil, op, rsv1, len(payload))
	b[1] |= 0x80
	key := [4]byte{9, 8, 7, 6}
	b = append(b, key[:]...)
	start := len(b)
	b = append(b, payload...)
	wsframe.Mask(key, 0, b[start:])
	return b
}

// TestReadCloses: the reader answers a peer's violation with the close
// frame of its code: a bomb (a small compressed frame inflating past the
// limit) with 1009, a ping flood over the cap with 1008, invalid UTF-8
// with 1007, a protocol error with 1002.
func TestReadCloses(t *testing.T) {
	bomb := wsframe.AppendDeflate(nil, make([]byte, 2<<20))
	pings := bytes.Repeat(clientFrame(wsframe.OpPing, false, nil), 40)
	tests := []struct {
		name string
		in   []byte
		code int
	}{
		{"bomb", clientFrame(wsframe.OpBinary, true, bomb), wsframe.CloseTooBig},
		{"ping flood", pings, wsframe.ClosePolicy},
		{"invalid UTF-8", clientFrame(wsframe.OpText, false, []byte("4\xff")), wsframe.CloseInvalidData},
		{"unmasked", []byte{0x81, 0x01, '4'}, wsframe.CloseProtocolError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(bomb) > 4<<10 {
				t.Fatalf("bomb of %d bytes", len(bomb))
			}
			srv, cli := net.Pipe()
			defer cli.Close()
			set := testSettings(time.Minute)
			set.deflate, set.ctlLimit = true, 10
			c := newWSConn(srv, nil, set)
			go func() { _, _ = cli.Write(tt.in) }()
			got := make(chan []byte, 1)
			go func() { // everything the server writes, until it closes
				b, _ := io.ReadAll(cli)
				got <- b
			}()
			_, err := c.readPacket()
			if wsframe.CloseCode(err) != tt.code {
				t.Fatalf("read error %v, want close code %d", err, tt.code)
			}
			c.Close()
			b := <-got
			// Pongs, then the close frame.
			for {
				h, n, err := wsframe.ParseHeader(b)
				if err != nil || n == 0 {
					t.Fatalf("no close frame in what the server wrote (%v)", err)
				}
				if h.Op == wsframe.OpClose {
					if h.Length < 2 || int(b[n])<<8|int(b[n+1]) != tt.code {
						t.Fatalf("close frame % x, want code %d", b, tt.code)
					}
					break
				}
				b = b[n+int(h.Length):]
			}
			c.Close()
		})
	}
}
