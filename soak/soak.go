package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/socketio"
)

// Config is one soak run.
type Config struct {
	// Duration is how long clients keep working; the checks follow.
	Duration time.Duration
	// Clients is the number of virtual clients, each looping connect, join,
	// emit, leave, reconnect (or one misbehaviour) for the duration.
	Clients int
	// Misbehave is the fraction of the clients given each misbehaving kind.
	Misbehave float64
	// Rooms is the number of rooms clients pick from.
	Rooms int
	// Interval is the mean pause between two emits of a client.
	Interval time.Duration
	// DialConcurrency bounds the connections being opened at once.
	DialConcurrency int
	// PingInterval and PingTimeout configure the server's heartbeat (short,
	// so that clients that never answer are reaped within the run).
	PingInterval, PingTimeout time.Duration
	// Settle bounds the wait for goroutines and sessions to go away.
	Settle time.Duration
	// HeapSlack is how far above the baseline HeapInuse may end.
	HeapSlack uint64
	// Logf receives progress lines; nil discards them.
	Logf func(format string, args ...any)
}

func (c *Config) withDefaults() Config {
	o := *c
	if o.Duration <= 0 {
		o.Duration = 3 * time.Minute
	}
	if o.Clients <= 0 {
		o.Clients = 2000
	}
	if o.Misbehave <= 0 {
		o.Misbehave = 0.02
	}
	if o.Rooms <= 0 {
		o.Rooms = max(4, o.Clients/10)
	}
	if o.Interval <= 0 {
		o.Interval = 2 * time.Second
	}
	if o.DialConcurrency <= 0 {
		o.DialConcurrency = 32
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 5 * time.Second
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = 4 * time.Second
	}
	if o.Settle <= 0 {
		o.Settle = 30 * time.Second
	}
	if o.HeapSlack == 0 { // -heap-slack 0 still gets the default
		o.HeapSlack = 8 << 20
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

// Kind is what a virtual client does.
type Kind int

// The kinds of virtual clients.
const (
	Good       Kind = iota // connects, joins, emits with acks, leaves, reconnects
	Slow                   // asks for a flood, then stops reading
	Abrupt                 // drops its TCP connection in the middle of an emit
	Malformed              // sends a malformed packet
	NoPong                 // reads but never answers pings
	DoublePoll             // opens a second concurrent long-poll
	Flooder                // bursts events into the flood room (one client; see flood.go)
	numKinds
)

var kindNames = [numKinds]string{"good", "slow-consumer", "abrupt-disconnect", "malformed", "no-pong", "double-poll", "flooder"}

func (k Kind) String() string { return kindNames[k] }

// Report is the outcome of a run.
type Report struct {
	Config  Config
	Elapsed time.Duration // the traffic phase

	Clients     [numKinds]int   // virtual clients per kind
	Episodes    [numKinds]int64 // connections or misbehaviours carried out per kind
	Reaped      [numKinds]int64 // misbehaving connections the server closed as expected
	Connections int64           // namespace connections established
	ConnectErrs int64           // failed connection attempts of good clients

	Sent       int64 // acked emits sent
	Acked      int64 // acknowledgements received (with the right id)
	AckErrs    int64 // emits that got no ack (timeout, disconnect)
	ServerMsgs int64 // messages the server handled
	Broadcasts int64 // broadcast deliveries received by clients
	Floods     int64 // flood packets the server tried to send to slow consumers

	FloodEvents  int64  // events the server broadcast to the flood room
	FloodClosed  int64  // connections the server closed for their rate
	FloodReasons string // how the flooders' sockets were disconnected

	GoroutinesBefore, GoroutinesAfter int
	GoroutinesPeak                    int // sampled every 100 ms
	HeapBefore, HeapAfter             uint64
	SessionsAfterClients              int
	SessionsAfterClose                int
	RoomsLeft, SocketsLeft            int

	Violations []string
}

// Failed reports whether the run found a violation.
func (r *Report) Failed() bool { return len(r.Violations) > 0 }

func (r *Report) violate(format string, args ...any) {
	r.Violations = append(r.Violations, fmt.Sprintf(format, args...))
}

// counters are updated by clients and server handlers concurrently.
type counters struct {
	episodes    [numKinds]atomic.Int64
	reaped      [numKinds]atomic.Int64
	connections atomic.Int64
	connectErrs atomic.Int64
	sent        atomic.Int64
	acked       atomic.Int64
	ackErrs     atomic.Int64
	serverMsgs  atomic.Int64
	broadcasts  atomic.Int64
	floods      atomic.Int64
}

// ledger records message ids: how often the server handled each, and
// which ones clients saw acknowledged. Sharded to keep lock contention low.
type ledger struct {
	shards [64]struct {
		mu      sync.Mutex
		handled map[uint64]uint32
		acked   map[uint64]uint32
	}
}

func newLedger() *ledger {
	l := &ledger{}
	for i := range l.shards {
		l.shards[i].handled = make(map[uint64]uint32)
		l.shards[i].acked = make(map[uint64]uint32)
	}
	return l
}

func (l *ledger) handled(id uint64) {
	s := &l.shards[id%uint64(len(l.shards))]
	s.mu.Lock()
	s.handled[id]++
	s.mu.Unlock()
}

func (l *ledger) acked(id uint64) {
	s := &l.shards[id%uint64(len(l.shards))]
	s.mu.Lock()
	s.acked[id]++
	s.mu.Unlock()
}

// check compares both sides: every acknowledged id handled exactly once,
// no id handled twice, no id acknowledged twice.
func (l *ledger) check(r *Report) {
	var lost, dupHandled, dupAcked int
	var examples []string
	note := func(format string, args ...any) {
		if len(examples) < 5 {
			examples = append(examples, fmt.Sprintf(format, args...))
		}
	}
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		for id, n := range s.acked {
			if n > 1 {
				dupAcked++
				note("id %d acknowledged %d times", id, n)
			}
			if s.handled[id] == 0 {
				lost++
				note("id %d acknowledged but never handled", id)
			}
		}
		for id, n := range s.handled {
			if n > 1 {
				dupHandled++
				note("id %d handled %d times", id, n)
			}
		}
		s.mu.Unlock()
	}
	if lost > 0 {
		r.violate("%d acknowledged messages were never handled by the server", lost)
	}
	if dupHandled > 0 {
		r.violate("%d messages were handled more than once", dupHandled)
	}
	if dupAcked > 0 {
		r.violate("%d messages were acknowledged more than once", dupAcked)
	}
	for _, e := range examples {
		r.violate("  e.g. %s", e)
	}
}

// errorLog counts the Error records of the server and clients (panics).
type errorLog struct {
	mu    sync.Mutex
	n     int
	first []string
}

func (e *errorLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (e *errorLog) Handle(_ context.Context, r slog.Record) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n++
	if len(e.first) < 5 {
		msg := r.Message
		r.Attrs(func(a slog.Attr) bool { msg += " " + a.String(); return true })
		e.first = append(e.first, msg)
	}
	return nil
}
func (e *errorLog) WithAttrs([]slog.Attr) slog.Handler { return e }
func (e *errorLog) WithGroup(string) slog.Handler      { return e }

// run is one soak: it owns every goroutine it starts.
type run struct {
	cfg    Config
	url    string
	srv    *socketio.Server
	ledger *ledger
	flood  floodState
	c      counters
	errs   *errorLog
	dials  chan struct{} // dial slots
	hc     *http.Client  // raw polling clients

	vmu        sync.Mutex
	violations []string
}

func (r *run) violate(format string, args ...any) {
	r.vmu.Lock()
	defer r.vmu.Unlock()
	if len(r.violations) < 50 {
		r.violations = append(r.violations, fmt.Sprintf(format, args...))
	}
}

// dialSlot takes a dial slot, or fails when ctx ends first.
func (r *run) dialSlot(ctx context.Context) (release func(), err error) {
	select {
	case r.dials <- struct{}{}:
		return func() { <-r.dials }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *run) room() string { return fmt.Sprintf("r%d", randN(r.cfg.Rooms)) }

// floodSize and floodCount: what a slow consumer asks for, 2 MiB in all,
// twice the per-session queue bound below.
const (
	floodSize     = 16 << 10
	floodCount    = 128
	maxQueueBytes = 1 << 20
)

// newServer builds the server under test: "join" and "leave" manage rooms,
// "msg" records the message id, broadcasts it to a room and acknowledges
// it, "flood" sends a slow consumer more than its queue can take.
func (r *run) newServer() (*socketio.Server, error) {
	log := slog.New(r.errs)
	srv := socketio.NewServer(&socketio.Options{
		Engine: engineio.Options{
			PingInterval:   r.cfg.PingInterval,
			PingTimeout:    r.cfg.PingTimeout,
			WriteTimeout:   3 * time.Second,
			MaxQueuedBytes: maxQueueBytes,
			Logger:         log,
			// Every virtual client connects from the loopback address
			// (2,000 by default): no per-address cap.
			MaxConnectionsPerAddress: -1,
		},
		Logger: log,
		// The flooder's pongs wait behind its events: a rate window shorter
		// than the heartbeat lets the rate rule, not a ping timeout, end it
		// (with the defaults, 5 s against 20 s, it is so already).
		RateLimitWait: r.cfg.PingTimeout / 2,
		// A well-behaved client emits every Interval (2 s); the flooder,
		// sharing two busy cores with thousands of clients, sends a few
		// thousand events a second at best, under the default 5,000/s:
		// a limit that it is over, and they are far under.
		EventRate:  500,
		EventBurst: 1000,
	})
	blob := make([]byte, floodSize)
	for i := range blob {
		blob[i] = 'x'
	}
	payload := string(blob)
	err := errors.Join(
		srv.On("join", func(s *socketio.Socket, room string) bool { s.Join(room); return true }),
		srv.On("leave", func(s *socketio.Socket, room string) bool { s.Leave(room); return true }),
		srv.On("msg", func(s *socketio.Socket, id uint64, room string) uint64 {
			r.ledger.handled(id)
			r.c.serverMsgs.Add(1)
			_ = srv.To(room).Emit("bcast", id, room)
			return id
		}),
		srv.On("flood", func(s *socketio.Socket) {
			for range floodCount {
				r.c.floods.Add(1)
				if s.Emit("blob", payload) != nil {
					return
				}
			}
		}),
		r.floodHandlers(srv),
	)
	if err != nil {
		return nil, fmt.Errorf("register handlers: %w", err)
	}
	return srv, nil
}

// Run runs a soak and checks its outcome; the error is for setup failures,
// violations are in the report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = cfg.withDefaults()
	rep := &Report{Config: cfg}
	rep.GoroutinesBefore, rep.HeapBefore = settledBaseline()
	base := goroutineProfile()

	r := &run{cfg: cfg, ledger: newLedger(), errs: &errorLog{}, dials: make(chan struct{}, cfg.DialConcurrency)}
	tr := &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 5 * time.Second}
	r.hc = &http.Client{Transport: tr, Timeout: 30 * time.Second}

	srv, err := r.newServer()
	if err != nil {
		return nil, err
	}
	r.srv = srv
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{Handler: siohttp.Handler(srv), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	r.url = "http://" + ln.Addr().String()

	// Assign kinds: a share of the clients for each misbehaviour, the rest good.
	kinds := make([]Kind, cfg.Clients)
	i := 0
	for k := Slow; k < numKinds; k++ {
		n := max(1, int(float64(cfg.Clients)*cfg.Misbehave+0.5))
		if k == Flooder {
			n = 1 // one flooder is enough to flood; more only load the machine
		}
		for j := 0; j < n && i < cfg.Clients; j++ {
			kinds[i] = k
			i++
		}
	}
	for _, k := range kinds {
		rep.Clients[k]++
	}

	if err := r.startWatchers(ctx); err != nil {
		return nil, err
	}
	cfg.Logf("soak: %d clients (%d misbehaving) on %s for %s", cfg.Clients, cfg.Clients-rep.Clients[Good], r.url, cfg.Duration)
	start := time.Now()
	tctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var wg sync.WaitGroup
	for idx, k := range kinds {
		wg.Go(func() {
			// Spread the start over the first seconds.
			if !sleep(tctx, time.Duration(randInt64N(int64(min(cfg.Duration/4, 5*time.Second))))) {
				return
			}
			switch k {
			case Good:
				r.goodClient(tctx, uint64(idx)) //nolint:gosec // idx >= 0
			default:
				r.badClient(tctx, k, uint64(idx)) //nolint:gosec // idx >= 0
			}
		})
	}
	// Sample the goroutine count until the server is closed; log progress.
	sampler := time.NewTicker(100 * time.Millisecond)
	stopSampling, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		for tick := 1; ; tick++ {
			select {
			case <-stopSampling:
				return
			case <-sampler.C:
			}
			n := numGoroutine()
			rep.GoroutinesPeak = max(rep.GoroutinesPeak, n)
			if tick%100 == 0 && tctx.Err() == nil {
				cfg.Logf("soak: %s: %d connections, %d acked of %d sent, %d broadcasts, %d sessions, %d goroutines",
					time.Since(start).Round(time.Second), r.c.connections.Load(), r.c.acked.Load(), r.c.sent.Load(),
					r.c.broadcasts.Load(), srv.Engine().Count(), n)
			}
		}
	}()
	<-tctx.Done()
	cfg.Logf("soak: time is up, waiting for clients to finish")
	wg.Wait()
	rep.Elapsed = time.Since(start)
	for k := range numKinds {
		rep.Episodes[k] = r.c.episodes[k].Load()
	}
	r.checkWatchers(rep)

	// Every client is gone: the server must have let go of every session.
	rep.SessionsAfterClients = waitFor(cfg.Settle, func() int { return srv.Engine().Count() })
	if rep.SessionsAfterClients != 0 {
		rep.violate("%d engine sessions still open %s after the last client left", rep.SessionsAfterClients, cfg.Settle)
	}
	rep.RoomsLeft, rep.SocketsLeft = leftovers(srv)
	if rep.RoomsLeft != 0 || rep.SocketsLeft != 0 {
		rep.violate("after the last client left: %d rooms and %d sockets remain in the namespaces", rep.RoomsLeft, rep.SocketsLeft)
	}

	if err := srv.Close(); err != nil {
		rep.violate("server close: %v", err)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	if err := hs.Shutdown(sctx); err != nil {
		rep.violate("http server shutdown: %v", err)
	}
	scancel()
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		rep.violate("http server: %v", err)
	}
	tr.CloseIdleConnections()
	sampler.Stop()
	close(stopSampling)
	<-sampled
	rep.SessionsAfterClose = srv.Engine().Count()
	if rep.SessionsAfterClose != 0 {
		rep.violate("%d engine sessions after Close", rep.SessionsAfterClose)
	}
	if rooms, socks := leftovers(srv); rooms != 0 || socks != 0 {
		rep.violate("after Close: %d rooms and %d sockets remain in the namespaces", rooms, socks)
	}

	// Counters and the ledger, then drop everything before measuring.
	for k := range numKinds {
		rep.Episodes[k] = r.c.episodes[k].Load()
		rep.Reaped[k] = r.c.reaped[k].Load()
	}
	rep.Connections = r.c.connections.Load()
	rep.ConnectErrs = r.c.connectErrs.Load()
	rep.Sent, rep.Acked, rep.AckErrs = r.c.sent.Load(), r.c.acked.Load(), r.c.ackErrs.Load()
	rep.ServerMsgs, rep.Broadcasts, rep.Floods = r.c.serverMsgs.Load(), r.c.broadcasts.Load(), r.c.floods.Load()
	r.ledger.check(rep)
	rep.Violations = append(rep.Violations, r.violations...)
	if r.errs.n > 0 {
		rep.violate("%d error logs (panics) from the server or clients", r.errs.n)
		for _, m := range r.errs.first {
			rep.violate("  %s", m)
		}
	}
	if rep.Sent > 0 && rep.Acked == 0 {
		rep.violate("no emit was acknowledged")
	}
	if fails := rep.AckErrs + rep.ConnectErrs; float64(fails) > 0.01*float64(rep.Sent+rep.Connections) {
		rep.violate("well-behaved clients failed too often: %d of %d emits unacknowledged, %d failed connects",
			rep.AckErrs, rep.Sent, rep.ConnectErrs)
	}
	for k := Slow; k < numKinds; k++ {
		if rep.Episodes[k] == 0 {
			rep.violate("no %s episode ran", k)
		}
	}

	r, srv, hs, tr = nil, nil, nil, nil //nolint:ineffassign,wastedassign // let the collector have them
	// The runtime keeps the descriptor of every goroutine that ever ran for
	// reuse (a few hundred bytes each, on the heap): allow for them.
	heapLimit := rep.HeapBefore + cfg.HeapSlack + uint64(rep.GoroutinesPeak)*gSlack //nolint:gosec // a count
	rep.GoroutinesAfter, rep.HeapAfter = settle(rep.GoroutinesBefore, heapLimit, cfg.Settle)
	if rep.GoroutinesAfter > rep.GoroutinesBefore {
		rep.violate("%d goroutines after the run, %d before; new ones:\n%s",
			rep.GoroutinesAfter, rep.GoroutinesBefore, diffProfiles(base, goroutineProfile()))
	}
	if rep.HeapAfter > heapLimit {
		rep.violate("HeapInuse %s after the run, %s before (limit %s: slack %s and %d B for each of %d goroutines at the peak)%s",
			mib(rep.HeapAfter), mib(rep.HeapBefore), mib(heapLimit), mib(cfg.HeapSlack), gSlack, rep.GoroutinesPeak, writeHeapProfile())
	}
	return rep, nil
}

// leftovers counts the rooms and sockets still held by the server's
// namespaces.
func leftovers(srv *socketio.Server) (rooms, sockets int) {
	nsp := srv.Of("/")
	if m, ok := nsp.Manager().(interface{ Rooms() []string }); ok {
		rooms = len(m.Rooms())
	}
	return rooms, len(nsp.Sockets())
}

// waitFor polls f until it returns 0 or d has passed, and returns its last value.
func waitFor(d time.Duration, f func() int) int {
	deadline := time.Now().Add(d)
	for {
		n := f()
		if n == 0 || time.Now().After(deadline) {
			return n
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// randN and randInt64N shape the load: no cryptographic randomness needed.
func randN(n int) int          { return rand.IntN(n) }   //nolint:gosec // load shaping
func randInt64N(n int64) int64 { return rand.Int64N(n) } //nolint:gosec // load shaping

// jitter returns a random duration with mean d.
func jitter(d time.Duration) time.Duration {
	return time.Duration(randInt64N(int64(d)*2 + 1))
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
