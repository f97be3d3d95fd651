package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Result is one measurement of one scenario against one server.
type Result struct {
	Scenario string
	Value    float64 // the headline figure, in Unit
	Unit     string
	P50, P99 time.Duration
	Errors   int64
	Note     string // what the figure does not say (idle: total memory, heartbeats)
}

// LoadConfig sizes a scenario.
type LoadConfig struct {
	URL      string
	Conns    int
	Duration time.Duration // measuring time
	// Warmup runs the load this long before measuring starts, uncounted:
	// servers reach their steady state (goroutine stacks grown, the
	// collector paced, Node's code compiled) first.
	Warmup time.Duration
	PID    int // server process, for the idle scenario's RSS
}

// window is the measured part of a run: work started in [from, to) counts.
type window struct{ from, to time.Time }

func (cfg LoadConfig) window() window {
	from := time.Now().Add(cfg.Warmup)
	return window{from: from, to: from.Add(cfg.Duration)}
}

// counts reports whether work started at t is measured.
func (w window) counts(t time.Time) bool { return !t.Before(w.from) }

// running reports whether work may still start at t.
func (w window) running(t time.Time) bool { return t.Before(w.to) }

// rate is n per second of the measured time, which runs to now: work
// started before w.to and finished after it counts, so its time does too.
func (w window) rate(n int64) float64 { return float64(n) / time.Since(w.from).Seconds() }

// scenario is one kind of load.
type scenario struct {
	run   func(context.Context, LoadConfig) (Result, error)
	conns int // default connections, sized for a 2-core machine with the server on one core
	// lowerIsBetter: the figure is a cost (memory), not a rate.
	lowerIsBetter bool
	// once: measured in the first round only (memory is not a rate that
	// drifts with the machine's load, and it takes long to set up).
	once bool
	// optIn: not in the default list; run it by naming it in -scenarios.
	optIn bool
	// noRaw: the raw servers do not speak it (they are WebSocket only).
	noRaw bool
	doc   string
}

// scenarioOrder is the order of the table; the default list is every
// scenario that is not opt-in.
var scenarioOrder = []string{"echo", "echo-any", "echo-16k", "echo-binary", "broadcast", "room",
	"connect", "idle", "polling", "idle-50k"}

var scenarios = map[string]*scenario{
	"echo": {run: echoLoad{event: "echo", payload: echoPayload}.run, conns: 50,
		doc: "event round trips with acks, small JSON, json.RawMessage handler"},
	"echo-any": {run: echoLoad{event: "echoany", payload: echoPayload}.run, conns: 50,
		doc: "echo with a ...any handler (decoded values)"},
	"echo-16k": {run: echoLoad{event: "echoany", payload: bigPayload}.run, conns: 50,
		doc: "a 16 KiB JSON object, ...any handler"},
	"echo-binary": {run: echoLoad{event: "echoany", payload: binaryHead, attachment: binaryAttachment}.run, conns: 50,
		doc: "a 4 KiB binary attachment and a name, ...any handler"},
	"broadcast": {run: broadcastScenario, conns: 1000,
		doc: "one sender's events re-emitted to every socket (json.RawMessage handler)"},
	"room": {run: roomScenario, conns: 1000,
		doc: "events to a room of one socket in ten (string and ...any handler)"},
	"connect": {run: connectScenario, conns: 16,
		doc: "handshake and namespace connect, then close"},
	"idle": {run: idleScenario, conns: 10000, lowerIsBetter: true, once: true,
		doc: "resident memory per idle WebSocket connection"},
	"polling": {run: pollingScenario, conns: 50, noRaw: true,
		doc: "the echo scenario over long-polling"},
	"idle-50k": {run: idleHeartbeatScenario, conns: 50000, lowerIsBetter: true, once: true, optIn: true,
		doc: "idle, held two heartbeats: every ping answered, none closed"},
}

// defaultScenarios lists the scenarios run unless -scenarios names others.
func defaultScenarios() []string {
	var out []string
	for _, n := range scenarioOrder {
		if !scenarios[n].optIn {
			out = append(out, n)
		}
	}
	return out
}

func loadCmd(args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	u := fs.String("url", "http://127.0.0.1:4000", "server URL")
	sc := fs.String("scenario", "echo", "one of:\n"+scenarioList())
	c := fs.Int("c", 0, "connections (0: the scenario's default)")
	d := fs.Duration("duration", 10*time.Second, "measuring time")
	warm := fs.Duration("warmup", time.Second, "load run before measuring starts, not counted")
	pid := fs.Int("pid", 0, "server process id (idle scenarios)")
	_ = fs.Parse(args)
	s, ok := scenarios[*sc]
	if !ok {
		return fmt.Errorf("unknown scenario %q", *sc)
	}
	if err := raiseNoFile(); err != nil {
		return err
	}
	cfg := LoadConfig{URL: *u, Conns: *c, Duration: *d, Warmup: *warm, PID: *pid}
	r, err := s.run(context.Background(), withDefaultConns(*sc, cfg))
	if err != nil {
		return err
	}
	r.Scenario = *sc
	fmt.Printf("%s: %.1f %s p50=%v p99=%v errors=%d %s\n", r.Scenario, r.Value, r.Unit, r.P50, r.P99, r.Errors, r.Note)
	return nil
}

// scenarioList describes the scenarios, one a line.
func scenarioList() string {
	var b strings.Builder
	for _, n := range scenarioOrder {
		s := scenarios[n]
		fmt.Fprintf(&b, "  %-11s %s (%d connections)\n", n, s.doc, s.conns)
	}
	return b.String()
}

func withDefaultConns(sc string, cfg LoadConfig) LoadConfig {
	if cfg.Conns <= 0 {
		cfg.Conns = scenarios[sc].conns
	}
	return cfg
}

// latencies collects samples from many goroutines.
type latencies struct {
	mu      sync.Mutex
	samples []time.Duration
}

func (l *latencies) add(s []time.Duration) {
	l.mu.Lock()
	l.samples = append(l.samples, s...)
	l.mu.Unlock()
}

func (l *latencies) percentiles() (p50, p99 time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.samples) == 0 {
		return 0, 0
	}
	slices.Sort(l.samples)
	at := func(q float64) time.Duration { return l.samples[int(q*float64(len(l.samples)-1))] }
	return at(0.50), at(0.99)
}

var echoPayload = []byte(`{"user":"bench","n":12345,"text":"hello, world"}`)

// bigPayload is a JSON object of 16 KiB: a list of small records, as an
// application sends a page of results.
var bigPayload = func() []byte {
	const size = 16 << 10
	b := []byte(`{"items":[`)
	for i := 0; ; i++ {
		item := fmt.Appendf(nil, `{"id":%d,"user":"user%d","ok":true,"text":"%s"}`, i, i%97, strings.Repeat("x", 48))
		if len(b)+len(item)+3 > size {
			break
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, item...)
	}
	// Pad the last record's neighbour so the object is exactly size bytes.
	pad := size - len(b) - len(`],"pad":""}`)
	return append(append(append(b, `],"pad":"`...), strings.Repeat("p", pad)...), `"}`...)
}()

// binaryHead and binaryAttachment are the binary echo's arguments: a name
// and the placeholder of a 4 KiB attachment.
var (
	binaryHead       = []byte(`"a.bin",{"_placeholder":true,"num":0}`)
	binaryAttachment = func() []byte {
		b := make([]byte, 4<<10)
		for i := range b {
			b[i] = byte(i * 7)
		}
		return b
	}()
)

// echoLoad is an echo scenario: each connection does back-to-back round
// trips of event with payload (the JSON arguments after the event name),
// acknowledged with the same arguments. With an attachment, the event is a
// BINARY_EVENT whose payload holds its placeholder, and the ack must bring
// the attachment back.
type echoLoad struct {
	event      string
	payload    []byte
	attachment []byte
}

func (e echoLoad) run(ctx context.Context, cfg LoadConfig) (Result, error) {
	return roundTrips(ctx, cfg, e, func() (roundTripper, error) {
		c, err := dialWS(cfg.URL)
		if err != nil {
			return nil, err
		}
		return c, nil
	})
}

// pollingScenario is the echo scenario over long-polling only.
func pollingScenario(ctx context.Context, cfg LoadConfig) (Result, error) {
	e := echoLoad{event: "echo", payload: echoPayload}
	return roundTrips(ctx, cfg, e, func() (roundTripper, error) {
		c, err := dialPolling(cfg.URL)
		if err != nil {
			return nil, err
		}
		return c, nil
	})
}

type roundTripper interface {
	send([]byte) error
	next() ([]byte, error)
	close()
}

func (c *pollConn) close() { c.hc.drop() }

func (c *pollConn) send(b []byte) error { return c.post(b) }

var errShortAck = errors.New("the ack does not carry the arguments back")

// roundTrip sends one event with ack id and waits for its ack.
func (e echoLoad) roundTrip(c roundTripper, id int, msg []byte) ([]byte, error) {
	idStr := strconv.Itoa(id)
	head, ack := "42", "43"
	if e.attachment != nil {
		head, ack = "451-", "461-"
	}
	msg = append(append(append(msg[:0], head...), idStr...), `["`...)
	msg = append(append(append(append(msg, e.event...), `",`...), e.payload...), ']')
	if err := c.send(msg); err != nil {
		return msg, err
	}
	if e.attachment != nil {
		if err := c.(*wsConn).sendBinary(e.attachment); err != nil {
			return msg, err
		}
	}
	want := ack + idStr + "["
	for {
		got, err := c.next()
		if err != nil {
			return msg, err
		}
		if !bytes.HasPrefix(got, []byte(want)) {
			continue
		}
		if len(got)-len(want) < len(e.payload) {
			return msg, errShortAck
		}
		if e.attachment != nil {
			att, err := c.next()
			if err != nil {
				return msg, err
			}
			if !bytes.Equal(att, e.attachment) {
				return msg, errShortAck
			}
		}
		return msg, nil
	}
}

func roundTrips(ctx context.Context, cfg LoadConfig, e echoLoad, dial func() (roundTripper, error)) (Result, error) {
	name := e.event
	conns := make([]roundTripper, 0, cfg.Conns)
	defer func() {
		for _, c := range conns {
			c.close()
		}
	}()
	for range cfg.Conns {
		c, err := dial()
		if err != nil {
			return Result{}, fmt.Errorf("%s: connect: %w", name, err)
		}
		conns = append(conns, c)
	}
	var (
		count, errs atomic.Int64
		lat         latencies
		wg          sync.WaitGroup
	)
	w := cfg.window()
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			samples := make([]time.Duration, 0, 4096)
			msg := make([]byte, 0, len(e.payload)+64)
			for id := 1; w.running(time.Now()) && ctx.Err() == nil; id++ {
				t0 := time.Now()
				var err error
				if msg, err = e.roundTrip(c, id, msg); err != nil {
					errs.Add(1)
					return
				}
				if w.counts(t0) {
					samples = append(samples, time.Since(t0))
					count.Add(1)
				}
			}
			lat.add(samples)
		}()
	}
	wg.Wait()
	p50, p99 := lat.percentiles()
	return Result{Value: w.rate(count.Load()), Unit: "acks/s",
		P50: p50, P99: p99, Errors: errs.Load()}, nil
}

// connectScenario: handshake and namespace connect, then close, with
// Conns connections in progress at a time.
func connectScenario(ctx context.Context, cfg LoadConfig) (Result, error) {
	var (
		count, errs atomic.Int64
		lat         latencies
		wg          sync.WaitGroup
	)
	w := cfg.window()
	for range cfg.Conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			samples := make([]time.Duration, 0, 1024)
			for {
				t0 := time.Now()
				if !w.running(t0) || ctx.Err() != nil {
					break
				}
				c, err := dialWS(cfg.URL)
				if err != nil {
					errs.Add(1)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				if w.counts(t0) {
					samples = append(samples, time.Since(t0))
					count.Add(1)
				}
				c.close()
			}
			lat.add(samples)
		}()
	}
	wg.Wait()
	p50, p99 := lat.percentiles()
	return Result{Scenario: "connect", Value: w.rate(count.Load()), Unit: "conns/s",
		P50: p50, P99: p99, Errors: errs.Load()}, nil
}
