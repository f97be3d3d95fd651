package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// fanout is a broadcast scenario: Conns receivers, of which members get the
// events, and one sender whose events the server re-emits. The sender is
// one of the recipients: a window of events in flight, refilled as its own
// copies come back, keeps the server busy without queueing without end.
type fanout struct {
	name   string
	perTen int    // receivers in ten that get the events (rounded up); all when 0
	room   string // joined by the members and the sender; "" for a broadcast to all
	// event builds the event carrying the send time t (nanoseconds).
	event func(buf []byte, t int64) []byte
	// prefix starts every message the recipients get.
	prefix []byte
}

var (
	// 42["bcast",<t>] -> 42["bcast",<t>] to everyone.
	broadcastLoad = fanout{
		name: "broadcast",
		event: func(buf []byte, t int64) []byte {
			return append(strconv.AppendInt(append(buf, `42["bcast",`...), t, 10), ']')
		},
		prefix: []byte(`42["bcast",`),
	}
	// 42["rbcast","r",{"t":"<t>",...}] -> 42["rbcast",{"t":"<t>",...}] to
	// the room's members.
	roomLoad = fanout{
		name: "room", perTen: 1, room: "r", // 100 of 1,000
		event: func(buf []byte, t int64) []byte {
			buf = strconv.AppendInt(append(buf, `42["rbcast","r",{"t":"`...), t, 10)
			return append(buf, `","user":"bench","text":"hello, room"}]`...)
		},
		prefix: []byte(`42["rbcast",`),
	}
)

func broadcastScenario(ctx context.Context, cfg LoadConfig) (Result, error) {
	return broadcastLoad.run(ctx, cfg)
}

func roomScenario(ctx context.Context, cfg LoadConfig) (Result, error) {
	return roomLoad.run(ctx, cfg)
}

// join joins c to room and waits for the ack.
func join(c *wsConn, room string) error {
	if err := c.send([]byte(`421["join","` + room + `"]`)); err != nil {
		return err
	}
	for {
		msg, err := c.next()
		if err != nil {
			return err
		}
		if bytes.HasPrefix(msg, []byte("431[")) {
			return nil
		}
	}
}

// sendTime reads the send time from a delivered event: the first run of
// digits after the prefix.
func sendTime(msg, prefix []byte) (int64, bool) {
	rest := msg[len(prefix):]
	i := bytes.IndexAny(rest, "0123456789")
	if i < 0 {
		return 0, false
	}
	j := i
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	t, err := strconv.ParseInt(string(rest[i:j]), 10, 64)
	return t, err == nil
}

func (f fanout) run(ctx context.Context, cfg LoadConfig) (Result, error) {
	members := cfg.Conns
	if f.perTen > 0 {
		members = (cfg.Conns*f.perTen + 9) / 10
	}
	receivers, err := dialMany(cfg.Conns, func(i int) (*wsConn, error) {
		c, err := dialWS(cfg.URL)
		if err == nil && f.room != "" && i < members {
			if err = join(c, f.room); err != nil {
				c.close()
			}
		}
		return c, err
	})
	defer func() {
		for _, c := range receivers {
			c.close()
		}
	}()
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", f.name, err)
	}
	sender, err := dialWS(cfg.URL)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", f.name, err)
	}
	defer sender.close()
	if f.room != "" {
		if err := join(sender, f.room); err != nil {
			return Result{}, fmt.Errorf("%s: join: %w", f.name, err)
		}
	}

	var (
		delivered, errs atomic.Int64
		lat             latencies
		wg              sync.WaitGroup
		measuring       atomic.Bool
	)
	w := cfg.window()
	from := w.from.UnixNano()
	measuring.Store(true)
	for i, c := range receivers {
		member := i < members
		wg.Add(1)
		go func() {
			defer wg.Done()
			samples := make([]time.Duration, 0, 4096)
			for {
				msg, err := c.next()
				if err != nil || !measuring.Load() {
					break
				}
				if !bytes.HasPrefix(msg, f.prefix) {
					continue
				}
				if !member {
					errs.Add(1) // a room's event reached a socket outside it
					continue
				}
				// Events carry their send time: those sent while warming
				// up do not count.
				t, ok := sendTime(msg, f.prefix)
				if !ok || t < from {
					continue
				}
				samples = append(samples, time.Since(time.Unix(0, t)))
				delivered.Add(1)
			}
			lat.add(samples)
		}()
	}
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
			if bytes.HasPrefix(msg, f.prefix) {
				select {
				case tokens <- struct{}{}:
				default:
				}
			}
		}
	}()
	buf := make([]byte, 0, 128)
	for w.running(time.Now()) && ctx.Err() == nil {
		select {
		case <-tokens:
		case <-time.After(2 * time.Second):
			errs.Add(1) // an event went missing; refill the window
			tokens <- struct{}{}
			continue
		}
		buf = f.event(buf[:0], time.Now().UnixNano())
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
	p50, p99 := lat.percentiles()
	return Result{Value: value, Unit: "deliveries/s", P50: p50, P99: p99, Errors: errs.Load()}, nil
}

// dialMany opens n connections with dial, 8 at a time; on an error it
// returns those it opened and the first error.
func dialMany(n int, dial func(i int) (*wsConn, error)) ([]*wsConn, error) {
	conns := make([]*wsConn, n)
	var (
		next     atomic.Int64
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				c, err := dial(i)
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("connection %d: %w", i, err) })
					next.Store(int64(n)) // stop the others
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	out := conns[:0]
	for _, c := range conns {
		if c != nil {
			out = append(out, c)
		}
	}
	return out, firstErr
}
