package siopubsub

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/siokit/siokit/core/parser"
	"github.com/siokit/siokit/core/socketio"
	"github.com/siokit/siokit/managers/pubsub/pickle"
)

// emitterUID is the uid the Node emitter (@socket.io/redis-emitter) puts on
// its messages; no server has it, so every server applies them.
const emitterUID = "emitter"

// Emitter publishes to the sockets of a cluster from a process that serves
// no clients, as Node's @socket.io/redis-emitter does: emits to rooms and
// namespaces, remote join, leave and disconnect, and server-side emits.
// Each method returns a new Emitter, so a partly built one can be reused;
// all are safe for concurrent use.
type Emitter struct {
	broker   Broker
	opts     Options
	hostID   string // python-socketio's host id, with Options.Python
	nsp      string
	rooms    []string
	except   []string
	volatile bool
}

// NewEmitter returns an emitter for the namespace "/" on broker. Of opts,
// Prefix and RoomChannels matter (they must match the servers'), and
// PublishTimeout bounds each publish attempt. With Python set, Emit
// publishes python-socketio's emit message on the Python channel, which
// python-socketio servers and siokit servers with Options.Python read.
func NewEmitter(broker Broker, opts *Options) *Emitter {
	return &Emitter{broker: broker, opts: opts.withDefaults(), nsp: "/", hostID: newHostID()}
}

func (e *Emitter) clone() *Emitter {
	c := *e
	c.rooms = slices.Clone(e.rooms)
	c.except = slices.Clone(e.except)
	return &c
}

// Of selects a namespace (a missing leading slash is added) and clears the
// rooms and flags.
func (e *Emitter) Of(nsp string) *Emitter {
	if !strings.HasPrefix(nsp, "/") {
		nsp = "/" + nsp
	}
	return &Emitter{broker: e.broker, opts: e.opts, nsp: nsp, hostID: e.hostID}
}

// To adds rooms to reach.
func (e *Emitter) To(rooms ...string) *Emitter {
	c := e.clone()
	c.rooms = append(c.rooms, rooms...)
	return c
}

// In is To.
func (e *Emitter) In(rooms ...string) *Emitter { return e.To(rooms...) }

// Except adds rooms (or socket ids) to skip.
func (e *Emitter) Except(rooms ...string) *Emitter {
	c := e.clone()
	c.except = append(c.except, rooms...)
	return c
}

// Volatile lets servers drop the event for sockets not ready for it.
func (e *Emitter) Volatile() *Emitter {
	c := e.clone()
	c.volatile = true
	return c
}

func (e *Emitter) options() *socketio.BroadcastOptions {
	return &socketio.BroadcastOptions{Rooms: e.rooms, Except: e.except, Volatile: e.volatile}
}

// Emit sends an event to the selected sockets on every server. Values of
// type []byte travel as binary.
func (e *Emitter) Emit(ctx context.Context, event string, args ...any) error {
	if parser.IsReserved(event) {
		return fmt.Errorf("%w: %q", socketio.ErrReservedEvent, event)
	}
	data, atts, err := parser.EncodeEvent(nil, event, args)
	if err != nil {
		return fmt.Errorf("siopubsub: encode %q: %w", event, err)
	}
	p := &parser.Packet{Type: parser.Event, Namespace: e.nsp, Data: data, Attachments: atts}
	if e.opts.Python != nil {
		pm, err := pyEmitMessage(e.nsp, e.hostID, p, e.options(), nil)
		if err != nil {
			return fmt.Errorf("siopubsub: encode %q: %w", event, err)
		}
		return e.publishPython(ctx, pm)
	}
	w, err := packetToWire(p)
	if err != nil {
		return fmt.Errorf("siopubsub: encode %q: %w", event, err)
	}
	msg, err := msgpack.Marshal([]any{emitterUID, w, optsToWire(e.options(), true)})
	if err != nil {
		return fmt.Errorf("siopubsub: encode %q: %w", event, err)
	}
	ch := e.opts.Prefix + "#" + e.nsp + "#"
	if e.opts.RoomChannels && len(e.rooms) == 1 {
		ch += e.rooms[0] + "#"
	}
	return e.publish(ctx, ch, msg)
}

// SocketsJoin makes the selected sockets join rooms.
func (e *Emitter) SocketsJoin(ctx context.Context, rooms ...string) error {
	return e.request(ctx, map[string]any{"type": reqRemoteJoin, "opts": optsToWire(e.options(), false), "rooms": nonNil(rooms)})
}

// SocketsLeave makes the selected sockets leave rooms. With
// [Options].Python, a leave that empties rooms also goes to python-socketio
// servers as close_room, as the manager's does.
func (e *Emitter) SocketsLeave(ctx context.Context, rooms ...string) error {
	err := e.request(ctx, map[string]any{"type": reqRemoteLeave, "opts": optsToWire(e.options(), false), "rooms": nonNil(rooms)})
	if e.opts.Python != nil {
		for _, m := range pyCloseRoomMessages(e.nsp, e.hostID, e.options(), rooms) {
			err = errors.Join(err, e.publishPython(ctx, m))
		}
	}
	return err
}

// DisconnectSockets disconnects the selected sockets; close also closes
// their connections. With [Options].Python, the selected rooms also go to
// python-socketio servers as disconnect messages, as the manager's do.
func (e *Emitter) DisconnectSockets(ctx context.Context, close bool) error {
	err := e.request(ctx, map[string]any{"type": reqRemoteDisconnect, "opts": optsToWire(e.options(), false), "close": close})
	if e.opts.Python != nil {
		for _, m := range pyDisconnectMessages(e.nsp, e.hostID, e.options()) {
			err = errors.Join(err, e.publishPython(ctx, m))
		}
	}
	return err
}

// publishPython pickles a python-socketio message and publishes it on the
// Python channel.
func (e *Emitter) publishPython(ctx context.Context, msg map[string]any) error {
	b, err := pickle.Marshal(msg)
	if err != nil {
		return fmt.Errorf("siopubsub: encode a python-socketio message: %w", err)
	}
	return e.publish(ctx, e.opts.Python.Channel, b)
}

// ServerSideEmit sends an event to the namespace's OnServerSideEmit
// handlers on every server. Acknowledgements are not supported.
func (e *Emitter) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	data := append([]any{event}, args...)
	return e.request(ctx, map[string]any{"type": reqServerSideEmit, "data": data})
}

func (e *Emitter) request(ctx context.Context, req map[string]any) error {
	req["uid"] = emitterUID
	msg, err := encodeRequest(req)
	if err != nil {
		return fmt.Errorf("siopubsub: encode request: %w", err)
	}
	return e.publish(ctx, e.opts.Prefix+"-request#"+e.nsp+"#", msg)
}

// publish tries twice.
func (e *Emitter) publish(ctx context.Context, channel string, msg []byte) error {
	var err error
	for attempt := range 2 {
		if attempt > 0 {
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
				return fmt.Errorf("siopubsub: publish to %s: %w", channel, ctx.Err())
			}
		}
		pctx, cancel := context.WithTimeout(ctx, e.opts.PublishTimeout)
		err = e.broker.Publish(pctx, channel, msg)
		cancel()
		if err == nil {
			return nil
		}
	}
	return fmt.Errorf("siopubsub: publish to %s: %w", channel, err)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
