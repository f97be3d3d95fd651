package sioprometheus_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/hooks"
	"github.com/siokit/siokit/core/socketio"
	sioprometheus "github.com/siokit/siokit/metrics/prometheus"
)

// scrape fetches url and returns the samples by "name{labels}".
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for line := range strings.SplitSeq(string(body), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

// TestScrapeDuringLoad connects clients over both transports, sends events
// with acks, a broadcast and server-side acks, and checks what a scrape of
// the registry shows: as many sockets as clients, each event counted once.
func TestScrapeDuringLoad(t *testing.T) {
	const clients, events = 8, 25
	reg := prometheus.NewRegistry()
	m := sioprometheus.New(nil)
	reg.MustRegister(m)
	srv := socketio.NewServer(&socketio.Options{Hooks: m.Hooks()})
	must(t, srv.On("msg", func(n int) int { return n }))
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", siohttp.Handler(srv))
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		_ = srv.Close()
		hs.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	news := make(chan struct{}, clients)
	var all []*socketio.Client
	for i := range clients {
		var tr []string
		if i%2 == 1 {
			tr = []string{engineio.TransportWebSocket}
		}
		c := socketio.NewClient(hs.URL, &socketio.ClientOptions{
			Engine:       engineio.ClientOptions{Transports: tr},
			Reconnection: new(false),
		})
		t.Cleanup(func() { _ = c.Close() })
		must(t, c.Of("/").On("news", func(string) { news <- struct{}{} }))
		must(t, c.Of("/").On("q", func() int { return 1 }))
		must(t, c.Connect(ctx))
		all = append(all, c)
	}
	var wg sync.WaitGroup
	for _, c := range all {
		wg.Go(func() {
			for n := range events {
				if _, err := c.Of("/").EmitWithAck(ctx, "msg", n); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	// Mid-run scrape: every client is connected.
	mid := scrape(t, hs.URL+"/metrics")
	if got := mid[`siokit_sockets{namespace="/"}`]; got != clients {
		t.Errorf("mid-run siokit_sockets = %v, want %d", got, clients)
	}
	wg.Wait()

	must(t, srv.Emit("news", "hello"))
	for range clients {
		select {
		case <-news:
		case <-ctx.Done():
			t.Fatal("broadcast not received")
		}
	}
	sockets, err := srv.FetchSockets(ctx)
	must(t, err)
	for _, rs := range sockets {
		s := srv.Of("/").Socket(rs.ID)
		if _, err := s.EmitWithAck(ctx, "q"); err != nil {
			t.Fatal(err)
		}
	}

	got := scrape(t, hs.URL+"/metrics")
	want := map[string]float64{
		`siokit_sockets{namespace="/"}`:                           clients,
		`siokit_events_received_total{event="msg",namespace="/"}`: clients * events,
		`siokit_events_sent_total{event="news",namespace="/"}`:    clients,
		`siokit_events_sent_total{event="q",namespace="/"}`:       clients,
		`siokit_broadcasts_total{namespace="/"}`:                  1,
		`siokit_broadcast_recipients_total{namespace="/"}`:        clients,
		`siokit_ack_latency_seconds_count{namespace="/"}`:         clients,
		`siokit_connections_opened_total{transport="polling"}`:    clients / 2,
		`siokit_connections_opened_total{transport="websocket"}`:  clients / 2,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	// A polling client may have upgraded before its namespace connection
	// was accepted: only the sum is known.
	joined := got[`siokit_sockets_connected_total{namespace="/",transport="polling"}`] +
		got[`siokit_sockets_connected_total{namespace="/",transport="websocket"}`]
	if joined != clients || got[`siokit_sockets_connected_total{namespace="/",transport="websocket"}`] < clients/2 {
		t.Errorf("siokit_sockets_connected_total sum %v, want %d (websocket at least %d)", joined, clients, clients/2)
	}
	open := got[`siokit_connections{transport="polling"}`] + got[`siokit_connections{transport="websocket"}`]
	if open != clients {
		t.Errorf("open connections %v, want %d", open, clients)
	}
	if got[`siokit_received_bytes_total{namespace="/"}`] <= 0 || got[`siokit_sent_bytes_total{namespace="/"}`] <= 0 {
		t.Errorf("no bytes counted: %v", got)
	}

	for _, c := range all {
		_ = c.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got = scrape(t, hs.URL+"/metrics")
		open = got[`siokit_connections{transport="polling"}`] + got[`siokit_connections{transport="websocket"}`]
		if got[`siokit_sockets{namespace="/"}`] == 0 && open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the clients closed: sockets %v, connections %v", got[`siokit_sockets{namespace="/"}`], open)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestEventNamesBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := sioprometheus.New(&sioprometheus.Options{MaxEventNames: 2})
	reg.MustRegister(m)
	h := m.Hooks()
	for i := range 5 {
		h.PacketIn(hooksPacket(fmt.Sprintf("e%d", i)))
	}
	mfs, err := reg.Gather()
	must(t, err)
	var names []string
	for _, mf := range mfs {
		if mf.GetName() != "siokit_events_received_total" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == "event" {
					names = append(names, fmt.Sprintf("%s=%v", l.GetValue(), mt.GetCounter().GetValue()))
				}
			}
		}
	}
	if strings.Join(names, " ") != "_other=3 e0=1 e1=1" {
		t.Fatalf("event series %q", names)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func hooksPacket(event string) hooks.Packet {
	return hooks.Packet{Namespace: "/", Type: "EVENT", Event: event, Bytes: 10}
}
