package siohttp_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/engineio"
)

// BenchmarkWebSocketRoundTrip measures one message from a raw WebSocket
// client to the echo engine behind siohttp and back, over loopback.
func BenchmarkWebSocketRoundTrip(b *testing.B) {
	for _, c := range []struct {
		name string
		typ  int
		msg  []byte
		want string
	}{
		{"text", websocket.TextMessage, []byte("4" + strings.Repeat("x", 63)), "4" + strings.Repeat("x", 63)},
		{"binary", websocket.BinaryMessage, []byte(strings.Repeat("y", 64)), strings.Repeat("y", 64)},
	} {
		b.Run(c.name, func(b *testing.B) {
			srv := engineio.NewServer(nil)
			srv.OnConnection = func(s *engineio.Session) {
				s.OnMessage(func(data []byte, binary bool) { _ = s.Send(data, binary) })
			}
			ts := httptest.NewServer(siohttp.Handler(srv))
			defer ts.Close()
			defer func() { _ = srv.Close() }()
			conn, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/engine.io/?EIO=4&transport=websocket", nil)
			if err != nil {
				b.Fatal(err)
			}
			_ = res.Body.Close() // empty after a successful handshake
			defer conn.Close()
			if _, _, err := conn.ReadMessage(); err != nil { // the open packet
				b.Fatal(err)
			}
			b.SetBytes(int64(len(c.msg)))
			b.ReportAllocs()
			for b.Loop() {
				if err := conn.WriteMessage(c.typ, c.msg); err != nil {
					b.Fatal(err)
				}
				_, got, err := conn.ReadMessage()
				if err != nil {
					b.Fatal(err)
				}
				if len(got) != len(c.want) {
					b.Fatalf("echo %q", got)
				}
			}
		})
	}
}
