package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/socketio"
)

// The flood room: a few well-behaved watchers (Go clients over WebSocket)
// stay in room "flood" for the whole run while a flooder (raw WebSocket)
// bursts events there, each of which the server re-emits to the room with
// a sequence number of its own. The server's abuse guards must slow the
// flooder, then close it with "rate limit exceeded", and never close a
// watcher: each must receive every sequence number the server broadcast,
// once.

const (
	floodRoom     = "flood"
	floodWatchers = 5
	floodBurst    = 50_000 // events a flooder tries to send per episode
)

// floodState is the server's and the watchers' record of the flood room.
type floodState struct {
	seq        atomic.Uint64 // the last sequence number broadcast
	rateClosed atomic.Int64  // sockets the server closed for their rate
	watchers   []*watcher
	flooders   sync.Map // socket id -> struct{}: the sockets that shouted
	rmu        sync.Mutex
	reasons    map[string]int // the flooders' disconnect reasons
}

// watcher is a well-behaved member of the flood room.
type watcher struct {
	c           *socketio.Client
	mu          sync.Mutex
	bits        []uint64 // the sequence numbers received
	count       int64
	dups        int64
	disconnects atomic.Int64
}

func (w *watcher) got(n uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	i, b := n/64, uint64(1)<<(n%64)
	for uint64(len(w.bits)) <= i {
		w.bits = append(w.bits, 0)
	}
	if w.bits[i]&b != 0 {
		w.dups++
		return
	}
	w.bits[i] |= b
	w.count++
}

func (w *watcher) received() (count, dups int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.count, w.dups
}

// floodHandlers registers the server side: "shout" re-emits to the flood
// room, as a chat does; closes for the rate are counted.
func (r *run) floodHandlers(srv *socketio.Server) error {
	r.flood.reasons = make(map[string]int)
	srv.OnDisconnect(func(s *socketio.Socket, reason string) {
		if reason == socketio.ReasonRateLimitExceeded {
			r.flood.rateClosed.Add(1)
		}
		if _, ok := r.flood.flooders.LoadAndDelete(s.ID()); ok {
			r.flood.rmu.Lock()
			r.flood.reasons[reason]++
			r.flood.rmu.Unlock()
		}
	})
	return srv.On("shout", func(s *socketio.Socket) {
		r.flood.flooders.Store(s.ID(), struct{}{})
		_ = srv.To(floodRoom).Emit("shout", r.flood.seq.Add(1))
	})
}

// startWatchers connects the watchers and joins them to the flood room.
func (r *run) startWatchers(ctx context.Context) error {
	log := slog.New(r.errs)
	for i := range floodWatchers {
		w := &watcher{c: socketio.NewClient(r.url, &socketio.ClientOptions{
			Engine: engineio.ClientOptions{Transports: []string{engineio.TransportWebSocket}, Logger: log},
			Logger: log,
		})}
		r.flood.watchers = append(r.flood.watchers, w)
		if err := w.c.On("shout", w.got); err != nil {
			return fmt.Errorf("watcher %d: %w", i, err)
		}
		w.c.OnDisconnect(func(string) { w.disconnects.Add(1) })
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := w.c.Connect(cctx)
		cancel()
		if err != nil {
			return fmt.Errorf("watcher %d: connect: %w", i, err)
		}
		actx, cancel := context.WithTimeout(ctx, callTimeout)
		_, err = w.c.EmitWithAck(actx, "join", floodRoom)
		cancel()
		if err != nil {
			return fmt.Errorf("watcher %d: join: %w", i, err)
		}
	}
	return nil
}

// checkWatchers waits for the watchers to have read every broadcast, checks
// them and closes them.
func (r *run) checkWatchers(rep *Report) {
	want := int64(r.flood.seq.Load()) //nolint:gosec // a count
	rep.FloodEvents, rep.FloodClosed = want, r.flood.rateClosed.Load()
	r.flood.rmu.Lock()
	rep.FloodReasons = fmt.Sprint(r.flood.reasons)
	r.flood.rmu.Unlock()
	deadline := time.Now().Add(r.cfg.Settle)
	for i, w := range r.flood.watchers {
		for {
			if n, _ := w.received(); n >= want || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		n, dups := w.received()
		switch {
		case w.disconnects.Load() > 0:
			rep.violate("flood watcher %d was disconnected %d times", i, w.disconnects.Load())
		case n != want:
			rep.violate("flood watcher %d received %d of the %d events broadcast to its room", i, n, want)
		}
		if dups > 0 {
			rep.violate("flood watcher %d received %d events twice", i, dups)
		}
		_ = w.c.Close()
		<-w.c.Done()
	}
	if rep.Episodes[Flooder] > 0 && rep.FloodClosed == 0 {
		rep.violate("no flooder was closed for its rate")
	}
}

// floodEpisode joins the flood room and bursts events into it, reading
// (and discarding) what comes back, until the server closes the connection.
func (r *run) floodEpisode(ctx context.Context) error {
	c, err := r.dialRaw(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	if err := c.send(`421["join","` + floodRoom + `"]`); err != nil {
		return fmt.Errorf("%w: join: %w", errSetup, err)
	}
	r.c.episodes[Flooder].Add(1)
	ended := make(chan error, 1)
	go func() { ended <- c.waitClosed(time.Minute, true) }()
	sent := 0
	for ; sent < floodBurst && ctx.Err() == nil; sent++ {
		if c.send(`42["shout"]`) != nil {
			break
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	if err := <-ended; err != nil {
		return fmt.Errorf("after %d events: %w", sent, err)
	}
	r.c.reaped[Flooder].Add(1)
	return nil
}

// floodViolated reports whether a violation concerns the flood room.
func (r *Report) floodViolated() bool {
	for _, v := range r.Violations {
		if len(v) >= 5 && (v[:5] == "flood" || v == "no flooder was closed for its rate") {
			return true
		}
	}
	return false
}
