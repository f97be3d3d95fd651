package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
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

var scenarios = map[string]func(context.Context, LoadConfig) (Result, error){
	"echo":      echoScenario,
	"broadcast": broadcastScenario,
	"connect":   connectScenario,
	"idle":      idleScenario,
	"polling":   pollingScenario,
}

func loadCmd(args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	u := fs.String("url", "http://127.0.0.1:4000", "server URL")
	sc := fs.String("scenario", "echo", "echo, broadcast, connect, idle or polling")
	c := fs.Int("c", 0, "connections (0: the scenario's default)")
	d := fs.Duration("duration", 10*time.Second, "measuring time")
	warm := fs.Duration("warmup", time.Second, "load run before measuring starts, not counted")
	pid := fs.Int("pid", 0, "server process id (idle scenario)")
	_ = fs.Parse(args)
	run, ok := scenarios[*sc]
	if !ok {
		return fmt.Errorf("unknown scenario %q", *sc)
	}
	cfg := LoadConfig{URL: *u, Conns: *c, Duration: *d, Warmup: *warm, PID: *pid}
	r, err := run(context.Background(), withDefaultConns(*sc, cfg))
	if err != nil {
		return err
	}
	fmt.Printf("%s: %.0f %s p50=%v p99=%v errors=%d\n", r.Scenario, r.Value, r.Unit, r.P50, r.P99, r.Errors)
	return nil
}

// defaultConns are sized for a 2-core machine with the server on one core.
var defaultConns = map[string]int{"echo": 50, "broadcast": 200, "connect": 16, "idle": 2000, "polling": 50}

func withDefaultConns(sc string, cfg LoadConfig) LoadConfig {
	if cfg.Conns <= 0 {
		cfg.Conns = defaultConns[sc]
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

// echoScenario: each connection does back-to-back event round trips with
// acks of a small JSON payload.
func echoScenario(ctx context.Context, cfg LoadConfig) (Result, error) {
	return roundTrips(ctx, cfg, "echo", func() (roundTripper, error) {
		c, err := dialWS(cfg.URL)
		if err != nil {
			return nil, err
		}
		return c, nil
	})
}

// pollingScenario is the echo scenario over long-polling only.
func pollingScenario(ctx context.Context, cfg LoadConfig) (Result, error) {
	return roundTrips(ctx, cfg, "polling", func() (roundTripper, error) {
		c, err := dialPolling(cfg.URL)
		if err != nil {
			return nil, err
		}
		return c, nil
	})
}

type roundTripper interface {
	next() ([]byte, error)
	close()
}

func (c *pollConn) close() { c.hc.drop() }

func (c *pollConn) send(b []byte) error { return c.post(b) }

func roundTrips(ctx context.Context, cfg LoadConfig, name string, dial func() (roundTripper, error)) (Result, error) {
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
			sender := c.(interface{ send([]byte) error })
			samples := make([]time.Duration, 0, 4096)
			msg := make([]byte, 0, 128)
			for id := 1; w.running(time.Now()) && ctx.Err() == nil; id++ {
				idStr := strconv.Itoa(id)
				msg = append(append(append(append(msg[:0], "42"...), idStr...), `["echo",`...), echoPayload...)
				msg = append(msg, ']')
				t0 := time.Now()
				if sender.send(msg) != nil {
					errs.Add(1)
					return
				}
				want := "43" + idStr + "["
				for {
					got, err := c.next()
					if err != nil {
						errs.Add(1)
						return
					}
					if bytes.HasPrefix(got, []byte(want)) {
						break
					}
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
	return Result{Scenario: name, Value: w.rate(count.Load()), Unit: "acks/s",
		P50: p50, P99: p99, Errors: errs.Load()}, nil
}

// broadcastScenario: Conns receivers and one sender whose event the server
// re-emits to everyone; the sender keeps a few events in flight.
func broadcastScenario(ctx context.Context, cfg LoadConfig) (Result, error) {
	receivers := make([]*wsConn, 0, cfg.Conns)
	defer func() {
		for _, c := range receivers {
			c.close()
		}
	}()
	for range cfg.Conns {
		c, err := dialWS(cfg.URL)
		if err != nil {
			return Result{}, fmt.Errorf("broadcast: connect: %w", err)
		}
		receivers = append(receivers, c)
	}
	sender, err := dialWS(cfg.URL)
	if err != nil {
		return Result{}, err
	}
	defer sender.close()

	var (
		delivered, errs atomic.Int64
		lat             latencies
		wg              sync.WaitGroup
		measuring       atomic.Bool
	)
	w := cfg.window()
	from := w.from.UnixNano()
	measuring.Store(true)
	prefix := []byte(`42["bcast",`)
	for _, c := range receivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			samples := make([]time.Duration, 0, 4096)
			for {
				msg, err := c.next()
				if err != nil || !measuring.Load() {
					break
				}
				if !bytes.HasPrefix(msg, prefix) {
					continue
				}
				// Events carry their send time: those sent while warming
				// up do not count.
				t, err := strconv.ParseInt(string(msg[len(prefix):len(msg)-1]), 10, 64)
				if err != nil || t < from {
					continue
				}
				samples = append(samples, time.Since(time.Unix(0, t)))
				delivered.Add(1)
			}
			lat.add(samples)
		}()
	}
	// The sender receives its own broadcasts too; a window of in-flight
	// events keeps the server busy without queueing without end.
	const window = 4
	tokens := make(chan struct{}, window)
	for range window {
		tokens <- struct{}{}
	}
	senderDone := make(chan struct{})
	go func() {
		defer close(senderDone)
		for {
			msg, err := sender.next()
			if err != nil {
				return
			}
			if bytes.HasPrefix(msg, prefix) {
				select {
				case tokens <- struct{}{}:
				default:
				}
			}
		}
	}()
	buf := make([]byte, 0, 64)
	for w.running(time.Now()) && ctx.Err() == nil {
		select {
		case <-tokens:
		case <-time.After(2 * time.Second):
			errs.Add(1) // a broadcast went missing; refill the window
			tokens <- struct{}{}
			continue
		}
		buf = strconv.AppendInt(append(buf[:0], prefix...), time.Now().UnixNano(), 10)
		buf = append(buf, ']')
		if sender.send(buf) != nil {
			errs.Add(1)
			break
		}
	}
	n := delivered.Load()
	value := w.rate(n)
	measuring.Store(false)
	for _, c := range receivers {
		c.close()
	}
	sender.close()
	wg.Wait()
	<-senderDone
	receivers = nil
	_, p99 := lat.percentiles()
	return Result{Scenario: "broadcast", Value: value, Unit: "deliveries/s",
		P99: p99, Errors: errs.Load()}, nil
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

// idleScenario opens Conns idle WebSocket connections and reports the
// server's resident memory per connection above its baseline.
func idleScenario(ctx context.Context, cfg LoadConfig) (Result, error) {
	if cfg.PID == 0 {
		return Result{}, errors.New("idle: the server's pid is needed (-pid)")
	}
	// Warm the server up, so the baseline includes its steady state.
	warm, err := dialWS(cfg.URL)
	if err != nil {
		return Result{}, err
	}
	warm.close()
	time.Sleep(time.Second)
	base, err := rss(cfg.PID)
	if err != nil {
		return Result{}, err
	}
	conns := make([]*wsConn, 0, cfg.Conns)
	defer func() {
		for _, c := range conns {
			c.close()
		}
	}()
	for range cfg.Conns {
		c, err := dialWS(cfg.URL)
		if err != nil {
			return Result{}, fmt.Errorf("idle: connect: %w", err)
		}
		conns = append(conns, c)
	}
	// Let the server settle (and a Go server's collector run) while the
	// clients stay idle, answering pings in the background.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if _, err := c.next(); err != nil {
					return
				}
			}
		}()
	}
	select {
	case <-time.After(cfg.Duration):
	case <-ctx.Done():
	}
	after, err := rss(cfg.PID)
	close(stop)
	for _, c := range conns {
		c.close()
	}
	wg.Wait()
	conns = nil
	if err != nil {
		return Result{}, err
	}
	return Result{Scenario: "idle", Value: float64(after-base) / 1024 / float64(cfg.Conns), Unit: "KB/conn"}, nil
}

// rss returns a process's resident set size in bytes.
func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmRSS")
}
