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
	defer srv.Close()
	var (
		wg   sync.WaitGroup
		sids = make(chan string, n)
	)
	for range n {
		var conn *memConn
		conn = newMemConn(func(typ int, parts [][]byte) {
			if typ != engineio.TextMessage || len(parts) == 0 {
				return
			}
			if len(parts) == 2 && len(parts[1]) > 0 && parts[1][0] == '2' {
				wg.Done()
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
		conn.send(engineio.TextMessage, "40")
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
