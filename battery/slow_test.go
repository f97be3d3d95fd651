package battery

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/core/eiotest"
	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/siotest"
	"github.com/siokit/siokit/core/socketio"
)

// stalled opens a raw WebSocket client that joins "/" and then never reads
// again, and returns it with its server-side socket.
func (e *env) stalled(t *testing.T, tr *tracker) (*wsConn, *socketio.Socket) {
	t.Helper()
	w := e.dialRaw(true)
	_, open, err := w.readFrame()
	if err != nil {
		t.Fatal(err)
	}
	var o struct{ SID string }
	_ = json.Unmarshal(open[1:], &o)
	_, _ = w.Write(frame(0x81, []byte("40"), true))
	if _, p, err := w.readFrame(); err != nil || !strings.HasPrefix(string(p), "40{") {
		t.Fatalf("CONNECT answer %q %v", p, err)
	}
	return w, tr.socket(t, o.SID)
}

// TestBattery23_SlowReader: the per-connection queue is bounded in packets
// and bytes (engineio.Options.MaxQueuedPackets/MaxQueuedBytes); on overflow
// a volatile packet is dropped and any other closes the laggard with
// "transport error"; memory stays bounded; a broadcast is not slowed by the
// laggard and the other clients' round trips stay fast.
func TestBattery23_SlowReader(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		tr := newTracker()
		// A send to a receiver whose queue is 3/4 full waits up to
		// SlowReceiverWait (default 1 s) for it to drain before the
		// receiver counts as slow (item 52); short here, where the
		// receiver is known to be stalled and broadcasts are timed.
		opts := socketio.Options{
			Engine:           engineio.Options{MaxQueuedPackets: 64, MaxQueuedBytes: 1 << 20},
			SlowReceiverWait: 20 * time.Millisecond,
		}
		e := newEnv(t, m, opts, tr.setup)
		healthy := e.Dial()
		healthy.Connect("/", "")
		payload := strings.Repeat("x", 64<<10)
		t0 := time.Now()

		// 100 MB of volatile emits to a client that stopped reading: dropped
		// once the socket buffers and the queue are full; it stays connected.
		w, s := e.stalled(t, tr)
		h0 := heapInuse()
		for range 1600 {
			if err := s.EmitVolatile("v", payload); err != nil {
				t.Fatalf("volatile emit: %v", err)
			}
		}
		t.Logf("%v: volatile emits done", time.Since(t0))
		if !s.Connected() {
			t.Fatal("a volatile overflow disconnected the client")
		}
		if growth := int64(heapInuse()) - int64(h0); growth > 32<<20 {
			t.Errorf("HeapInuse grew by %d MiB while 100 MB went to a stalled client", growth>>20)
		}
		start := time.Now()
		healthy.RoundTrip("/", 1)
		if d := time.Since(start); d > time.Second {
			t.Errorf("a healthy round trip took %v next to the stalled client", d)
		}
		// A regular emit overflows: the laggard is disconnected.
		var err error
		for range 1000 {
			if err = s.Emit("n", payload); err != nil {
				break
			}
		}
		if err == nil {
			t.Error("1,000 emits of 64 KiB to a stalled client all queued")
		}
		if r := tr.reason(t, s.EngineID(), 0); r != "transport error" {
			t.Errorf("laggard disconnected with %q, want transport error", r)
		}
		_ = w.Close()

		// A broadcast to 200 clients takes about as long with a stalled
		// reader among them as without (Emit only queues).
		t.Logf("%v: laggard closed", time.Since(t0))
		clients := []*siotest.Conn{healthy}
		for range 200 {
			c := e.Dial()
			c.Connect("/", "")
			clients = append(clients, c)
		}
		msg := strings.Repeat("y", 1024)
		measure := func() time.Duration {
			t1 := time.Now()
			for range 20 {
				_ = e.Server().Emit("b", msg)
			}
			d := time.Since(t1)
			for _, c := range clients {
				for range 20 {
					c.NextText()
				}
			}
			return d
		}
		t.Logf("%v: clients connected", time.Since(t0))
		measure() // warm up
		base := measure()
		w2, s2 := e.stalled(t, tr)
		for range 200 { // fill its socket buffers: its writer is now blocked
			_ = s2.EmitVolatile("v", payload)
		}
		stalledTime := measure()
		t.Logf("20 broadcasts to 200 clients: %v; with a stalled reader among them: %v", base, stalledTime)
		if stalledTime > 10*base+100*time.Millisecond {
			t.Errorf("broadcasts took %v with a stalled reader, %v without", stalledTime, base)
		}
		start = time.Now()
		healthy.RoundTrip("/", 2)
		if d := time.Since(start); d > time.Second {
			t.Errorf("a healthy round trip took %v next to the stalled client", d)
		}
		_ = w2.Close()
		tr.reason(t, s2.EngineID(), 0)
		for _, c := range clients {
			c.Close()
		}
		e.settle()
		if n := waitGoroutines(10); n > 10 {
			t.Errorf("%d goroutines left", n)
		}
		t.Logf("%v: done", time.Since(t0))
	})
}
