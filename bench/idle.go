package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// idleScenario opens Conns idle WebSocket connections, keeps them for the
// measuring time (at least idleHold) answering pings, and reports the server's resident memory
// per connection above its baseline.
func idleScenario(ctx context.Context, cfg LoadConfig) (Result, error) {
	return idleRun(ctx, cfg, false)
}

// idleHeartbeatScenario is idleScenario held for at least two heartbeats of
// the server (2 × pingInterval + 5 s): every connection must get its pings
// and stay open, the proof that every pong reached the server in time.
func idleHeartbeatScenario(ctx context.Context, cfg LoadConfig) (Result, error) {
	return idleRun(ctx, cfg, true)
}

// idleHold is the least time idle connections are held before the
// server's memory is read: the time the scenario held them before the
// default -duration became shorter.
const idleHold = 10 * time.Second

// idleConn is an idle client connection and what its reader saw.
type idleConn struct {
	c        *wsConn
	pings    int
	maxGap   time.Duration // longest time between two pings
	maxPong  time.Duration // longest time to write a pong
	lastPing time.Time
	err      error // why the connection ended before the scenario closed it
}

func (ic *idleConn) read(closing *atomic.Bool) {
	for {
		_, msg, err := ic.c.ws.ReadMessage()
		if err != nil {
			if !closing.Load() {
				ic.err = err
			}
			return
		}
		if len(msg) != 1 || msg[0] != '2' {
			continue
		}
		now := time.Now()
		if ic.pings > 0 {
			ic.maxGap = max(ic.maxGap, now.Sub(ic.lastPing))
		}
		ic.pings++
		ic.lastPing = now
		if err := ic.c.send([]byte("3")); err != nil {
			if !closing.Load() {
				ic.err = err
			}
			return
		}
		ic.maxPong = max(ic.maxPong, time.Since(now))
	}
}

func idleRun(ctx context.Context, cfg LoadConfig, heartbeat bool) (Result, error) {
	if cfg.PID == 0 {
		return Result{}, errors.New("idle: the server's pid is needed (-pid)")
	}
	if err := checkNoFile(cfg.Conns); err != nil {
		return Result{}, err
	}
	// Warm the server up, so the baseline includes its steady state.
	warm, err := dialWS(cfg.URL)
	if err != nil {
		return Result{}, err
	}
	interval, timeout := warm.pingInterval, warm.pingTimeout
	warm.close()
	time.Sleep(time.Second)
	base, err := rss(cfg.PID)
	if err != nil {
		return Result{}, err
	}
	var (
		closing atomic.Bool
		readers sync.WaitGroup
	)
	// Each connection is read from the moment it is open: dialing many
	// takes longer than a heartbeat on a busy machine.
	conns, err := dialIdle(cfg.URL, cfg.Conns, func(ic *idleConn) {
		readers.Add(1)
		go func() {
			defer readers.Done()
			ic.read(&closing)
		}()
	})
	defer func() {
		closing.Store(true)
		for _, ic := range conns {
			ic.c.close()
		}
		readers.Wait()
	}()
	if err != nil {
		return Result{}, err
	}
	// Let the server settle (and a Go server's collector run) while the
	// clients stay idle, answering pings in the background.
	// At least idleHold, so that the figure does not depend on -duration.
	hold := max(cfg.Duration, idleHold)
	if heartbeat {
		hold = max(hold, 2*interval+5*time.Second)
	}
	select {
	case <-time.After(hold):
	case <-ctx.Done():
	}
	after, err := rss(cfg.PID)
	if err != nil {
		return Result{}, err
	}
	closing.Store(true)
	for _, ic := range conns {
		ic.c.close()
	}
	readers.Wait()
	r := Result{Value: float64(after-base) / 1024 / float64(cfg.Conns), Unit: "KB/conn"}
	r.Note = fmt.Sprintf("RSS %.1f MB at %d connections (%.1f MB before)", float64(after)/(1<<20), cfg.Conns, float64(base)/(1<<20))
	r.Errors, r.Note = heartbeats(r.Note, conns, heartbeat, hold, interval, timeout)
	conns = nil
	return r, nil
}

// heartbeats sums up what the idle connections saw: the pings, the longest
// gap between two of them on one connection, the longest pong write, and
// the connections the server closed (a pong that came too late, or another
// failure). It returns the number of lost connections and the note.
// Unless asked (heartbeat), only lost connections are noted.
func heartbeats(note string, conns []*idleConn, heartbeat bool, hold, interval, timeout time.Duration) (int64, string) {
	var (
		pings, lost     int64
		minPings        = -1
		maxGap, maxPong time.Duration
		firstErr        error
	)
	for _, ic := range conns {
		pings += int64(ic.pings)
		if minPings < 0 || ic.pings < minPings {
			minPings = ic.pings
		}
		maxGap, maxPong = max(maxGap, ic.maxGap), max(maxPong, ic.maxPong)
		if ic.err != nil {
			lost++
			if firstErr == nil {
				firstErr = ic.err
			}
		}
	}
	if !heartbeat {
		if lost > 0 {
			note += fmt.Sprintf("; connections lost %d (first: %v)", lost, firstErr)
		}
		return lost, note
	}
	note += fmt.Sprintf("; held %v; pings %d (fewest on a connection %d, pingInterval %v), longest gap %v, slowest pong write %v; connections lost %d",
		hold.Round(time.Second), pings, minPings, interval, maxGap.Round(time.Millisecond), maxPong.Round(time.Microsecond), lost)
	if firstErr != nil {
		note += fmt.Sprintf(" (first: %v)", firstErr)
	}
	switch {
	case pings == 0:
		note += "; the server sent no ping"
	case hold > interval && lost == 0 && minPings >= 1 && maxGap <= interval+timeout:
		note += "; every heartbeat answered on time"
	case hold > interval:
		note += "; NOT every heartbeat answered on time"
	}
	return lost, note
}

// dialIdle opens n WebSocket connections, a few at a time. Connections to a
// loopback server come from several loopback source addresses, so that
// more than one address's ephemeral ports (about 28,000 by default) can be
// used.
func dialIdle(base string, n int, opened func(*idleConn)) ([]*idleConn, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	sources := []net.IP{nil}
	if ip := net.ParseIP(u.Hostname()); n > 20000 && ip != nil && ip.IsLoopback() && ip.To4() != nil {
		sources = nil
		for i := range max(1, (n+19999)/20000) {
			sources = append(sources, net.IPv4(127, 0, 0, byte(1+i)))
		}
	}
	dialers := make([]*websocket.Dialer, len(sources))
	for i, ip := range sources {
		d := &websocket.Dialer{
			HandshakeTimeout: 30 * time.Second,
			ReadBufferSize:   512, WriteBufferSize: 512,
			WriteBufferPool: idleWriteBufs,
		}
		if ip != nil {
			// The port is chosen at connect, not at bind: a bind to port 0
			// searches the ephemeral ports one by one.
			nd := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Control: bindNoPort}
			d.NetDialContext = nd.DialContext
		}
		dialers[i] = d
	}
	conns := make([]*idleConn, n)
	_, err = dialMany(n, func(i int) (*wsConn, error) {
		c, err := dialWSWith(dialers[i%len(dialers)], base)
		if err == nil {
			conns[i] = &idleConn{c: c}
			opened(conns[i])
		}
		return c, err
	})
	out := conns[:0]
	for _, ic := range conns {
		if ic != nil {
			out = append(out, ic)
		}
	}
	if err != nil {
		return out, fmt.Errorf("idle: %w", err)
	}
	return out, nil
}

var idleWriteBufs = &sync.Pool{}

// raiseNoFile raises this process's limit on open files to its hard limit;
// the servers it starts inherit it (Go raises its own at start, Node does
// not).
func raiseNoFile() error {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return fmt.Errorf("RLIMIT_NOFILE: %w", err)
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			return fmt.Errorf("raise RLIMIT_NOFILE to %d: %w", l.Max, err)
		}
	}
	return nil
}

// checkNoFile says, before any connection is opened, whether n connections
// fit under the limit on open files (the server needs as many as this
// process).
func checkNoFile(n int) error {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return fmt.Errorf("RLIMIT_NOFILE: %w", err)
	}
	if need := uint64(max(n, 0)) + 256; l.Cur < need {
		return fmt.Errorf("%d connections need about %d open files per process, and the limit is %d (hard %d); "+
			"raise the hard limit (ulimit -Hn, or LimitNOFILE in systemd) as a user allowed to, or lower the connections (-conns, -c)", n, need, l.Cur, l.Max)
	}
	return nil
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

// openTimes reads pingInterval and pingTimeout from an open packet.
func openTimes(open []byte) (interval, timeout time.Duration) {
	field := func(name string) time.Duration {
		i := bytes.Index(open, []byte(`"`+name+`":`))
		if i < 0 {
			return 0
		}
		rest := open[i+len(name)+3:]
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		ms, _ := strconv.Atoi(string(rest[:j]))
		return time.Duration(ms) * time.Millisecond
	}
	return field("pingInterval"), field("pingTimeout")
}

// bindNoPort sets IP_BIND_ADDRESS_NO_PORT on a socket about to be bound.
func bindNoPort(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

// ipBindAddressNoPort is IP_BIND_ADDRESS_NO_PORT (linux/in.h); package
// syscall does not name it.
const ipBindAddressNoPort = 24
