package main

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/socketio"
)

// goodClient loops over sessions of a well-behaved client until ctx ends:
// connect, join rooms, emit acknowledged messages and receive the room
// broadcasts, move between rooms, leave, disconnect, pause, reconnect.
// One client in five starts on long-polling and upgrades; the others use
// WebSocket only.
func (r *run) goodClient(ctx context.Context, idx uint64) {
	var seq uint64
	var transports []string
	if idx%5 != 0 {
		transports = []string{engineio.TransportWebSocket}
	}
	for ctx.Err() == nil {
		r.goodSession(ctx, idx, &seq, transports)
		if !sleep(ctx, jitter(500*time.Millisecond)) {
			return
		}
	}
}

// callTimeout bounds the wait for one acknowledgement.
const callTimeout = 15 * time.Second

func (r *run) goodSession(ctx context.Context, idx uint64, seq *uint64, transports []string) {
	release, err := r.dialSlot(ctx)
	if err != nil {
		return
	}
	log := slog.New(r.errs)
	c := socketio.NewClient(r.url, &socketio.ClientOptions{
		Engine:               engineio.ClientOptions{Transports: transports, Logger: log},
		ReconnectionDelay:    new(100 * time.Millisecond),
		ReconnectionDelayMax: time.Second,
		ReconnectionAttempts: 3,
		Logger:               log,
	})
	defer func() {
		_ = c.Close()
		<-c.Done()
	}()
	// Each broadcast must reach this connection at most once.
	var mu sync.Mutex
	seen := make(map[uint64]struct{})
	if err := c.On("bcast", func(id uint64, _ string) {
		r.c.broadcasts.Add(1)
		mu.Lock()
		_, dup := seen[id]
		seen[id] = struct{}{}
		mu.Unlock()
		if dup {
			r.violate("client %d received broadcast of message %d twice", idx, id)
		}
	}); err != nil {
		release()
		r.violate("register bcast handler: %v", err)
		return
	}
	c.OnReconnect(func(int) { r.c.connections.Add(1) })
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	err = c.Connect(cctx)
	cancel()
	release()
	if err != nil {
		if ctx.Err() == nil {
			r.c.connectErrs.Add(1)
		}
		return
	}
	r.c.episodes[Good].Add(1)
	r.c.connections.Add(1)

	rooms := []string{r.room()}
	if randN(2) == 0 {
		rooms = append(rooms, r.room())
	}
	for _, room := range rooms {
		r.call(c, "join", room)
	}
	for range 3 + randN(10) {
		if !sleep(ctx, jitter(r.cfg.Interval)) {
			break
		}
		room := rooms[randN(len(rooms))]
		*seq++
		id := idx<<32 | *seq
		r.c.sent.Add(1)
		actx, cancel := context.WithTimeout(context.Background(), callTimeout)
		res, err := c.EmitWithAck(actx, "msg", id, room)
		cancel()
		if err != nil {
			r.c.ackErrs.Add(1)
			continue
		}
		var got uint64
		if err := res.Decode(&got); err != nil || got != id {
			r.violate("message %d acknowledged with %v (%v)", id, res.Args, err)
			continue
		}
		r.ledger.acked(id)
		r.c.acked.Add(1)
		if randN(5) == 0 { // move to another room
			i := randN(len(rooms))
			r.call(c, "leave", rooms[i])
			rooms[i] = r.room()
			r.call(c, "join", rooms[i])
		}
	}
	slices.Sort(rooms)
	for _, room := range slices.Compact(rooms) {
		r.call(c, "leave", room)
	}
}

// call emits a room operation and waits for its acknowledgement.
func (r *run) call(c *socketio.Client, event, room string) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	_, _ = c.EmitWithAck(ctx, event, room)
}
