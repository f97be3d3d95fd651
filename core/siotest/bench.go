package siotest

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/siokit/siokit/core/eiotest"
	"github.com/siokit/siokit/core/socketio"
)

// BenchmarkRoundTrip measures, through mount on a real loopback listener,
// one acknowledged Socket.IO event: the client emits "echo" with an ack id,
// the server's handler returns its argument and the ack comes back. Its
// sub-benchmarks do the same work over each transport, so that adapters
// compare on equal terms:
//
//   - "websocket": one text frame each way on a WebSocket session;
//   - "polling": a POST carrying the event, then a GET that returns the ack,
//     on a long-polling session (keep-alive connections).
//
// Each reports allocations (of the whole process: client, server and
// adapter). Call it from an adapter's benchmark:
//
//	func BenchmarkRoundTrip(b *testing.B) { siotest.BenchmarkRoundTrip(b, mount) }
func BenchmarkRoundTrip(b *testing.B, mount eiotest.Mount) {
	b.Run("websocket", func(b *testing.B) { benchWebSocket(b, mount) })
	b.Run("polling", func(b *testing.B) { benchPolling(b, mount) })
}

// benchServer mounts a server with the "echo" handler and returns its
// engine URL without a query ("http://127.0.0.1:1234/socket.io/").
func benchServer(b *testing.B, mount eiotest.Mount) string {
	b.Helper()
	srv := socketio.NewServer(nil)
	registerEcho(srv)
	base := strings.TrimSuffix(mount(b, srv), "/")
	b.Cleanup(func() { _ = srv.Close() }) // before the mount's shutdown
	return base + srv.Engine().Options().Path
}

// benchPayload is the event argument of every round trip.
const benchPayload = `"hello, round trip"`

func benchWebSocket(b *testing.B, mount eiotest.Mount) {
	url := "ws" + strings.TrimPrefix(benchServer(b, mount), "http") + "?EIO=4&transport=websocket"
	d := websocket.Dialer{HandshakeTimeout: rawWait}
	ws, res, err := d.Dial(url, nil)
	if err != nil {
		b.Fatal(err)
	}
	_ = res.Body.Close()
	defer func() { _ = ws.Close() }()
	next := func() []byte {
		for {
			_ = ws.SetReadDeadline(time.Now().Add(rawWait))
			_, msg, err := ws.ReadMessage()
			if err != nil {
				b.Fatal(err)
			}
			if string(msg) == "2" { // a ping, should the run outlast the interval
				_ = ws.WriteMessage(websocket.TextMessage, []byte("3"))
				continue
			}
			return msg
		}
	}
	if msg := next(); !bytes.HasPrefix(msg, []byte("0{")) {
		b.Fatalf("open packet %q", msg)
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("40"))
	if msg := next(); !bytes.HasPrefix(msg, []byte("40{")) {
		b.Fatalf("connect answer %q", msg)
	}
	var out, want []byte
	b.ReportAllocs()
	id := 0
	for b.Loop() {
		id++
		out, want = appendEcho(out[:0], want[:0], id)
		if err := ws.WriteMessage(websocket.TextMessage, out); err != nil {
			b.Fatal(err)
		}
		if msg := next(); !bytes.Equal(msg, want) {
			b.Fatalf("ack %q, want %q", msg, want)
		}
	}
}

func benchPolling(b *testing.B, mount eiotest.Mount) {
	base := benchServer(b, mount) + "?EIO=4&transport=polling"
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: rawWait}
	do := func(method, url string, body []byte) []byte {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequest(method, url, rd)
		if err != nil {
			b.Fatal(err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		}
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		got, err := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d %q %v", method, res.StatusCode, got, err)
		}
		return got
	}
	open := do(http.MethodGet, base, nil)
	sid, _, ok := strings.Cut(strings.TrimPrefix(string(open), `0{"sid":"`), `"`)
	if !ok {
		b.Fatalf("open packet %q", open)
	}
	url := base + "&sid=" + sid
	do(http.MethodPost, url, []byte("40"))
	if got := do(http.MethodGet, url, nil); !bytes.HasPrefix(got, []byte("40{")) {
		b.Fatalf("connect answer %q", got)
	}
	var out, want []byte
	b.ReportAllocs()
	id := 0
	for b.Loop() {
		id++
		out, want = appendEcho(out[:0], want[:0], id)
		if got := do(http.MethodPost, url, out); string(got) != "ok" {
			b.Fatalf("POST answer %q", got)
		}
		got := do(http.MethodGet, url, nil)
		for bytes.Equal(got, []byte("2")) { // a ping, should the run outlast the interval
			do(http.MethodPost, url, []byte("3"))
			got = do(http.MethodGet, url, nil)
		}
		if !bytes.Equal(got, want) {
			b.Fatalf("ack %q, want %q", got, want)
		}
	}
}

// appendEcho appends the echo event with ack id and the ack that answers it.
func appendEcho(out, want []byte, id int) ([]byte, []byte) {
	out = append(strconv.AppendInt(append(out, "42"...), int64(id), 10), `["echo",`+benchPayload+`]`...)
	want = append(strconv.AppendInt(append(want, "43"...), int64(id), 10), `[`+benchPayload+`]`...)
	return out, want
}
