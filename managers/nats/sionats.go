// Package sionats runs a Socket.IO cluster on NATS core pub/sub: a
// [socketio.Manager] for [socketio.Options].NewManager built on package
// siopubsub (same messages as the Node Redis adapter, on NATS subjects).
//
//	nc, _ := nats.Connect(nats.DefaultURL, nats.MaxReconnects(-1))
//	srv := socketio.NewServer(&socketio.Options{NewManager: sionats.New(nc, nil)})
//
// NATS cannot count subscribers, so the servers count each other by
// heartbeat. The nats.go client reconnects and resubscribes by itself
// (give it nats.MaxReconnects(-1) so that it never gives up); messages
// published during an outage are lost.
package sionats

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/siokit/siokit/core/socketio"
	siopubsub "github.com/siokit/siokit/managers/pubsub"
)

// New returns a [socketio.Options].NewManager function: every namespace
// gets a pub/sub manager on nc. The connection stays the caller's.
func New(nc *nats.Conn, opts *siopubsub.Options) func(nsp *socketio.Namespace) socketio.Manager {
	return siopubsub.New(NewBroker(nc), noRooms(opts))
}

// NewEmitter returns a write-only emitter on nc.
func NewEmitter(nc *nats.Conn, opts *siopubsub.Options) *siopubsub.Emitter {
	return siopubsub.NewEmitter(NewBroker(nc), noRooms(opts))
}

func noRooms(opts *siopubsub.Options) *siopubsub.Options {
	var o siopubsub.Options
	if opts != nil {
		o = *opts
	}
	o.RoomChannels = false // a room name may hold characters a subject cannot
	return &o
}

// Broker is the [siopubsub.Broker] on NATS.
type Broker struct{ nc *nats.Conn }

var _ siopubsub.Broker = (*Broker)(nil)

// NewBroker returns the broker on nc.
func NewBroker(nc *nats.Conn) *Broker { return &Broker{nc: nc} }

// Subject maps a channel name to a NATS subject: whitespace and the
// wildcards '*' and '>' (and '%') are percent-escaped.
func Subject(channel string) string {
	var sb strings.Builder
	for _, c := range []byte(channel) {
		if c <= ' ' || c == '*' || c == '>' || c == '%' || c == 0x7f {
			fmt.Fprintf(&sb, "%%%02X", c)
			continue
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

// Publish implements [siopubsub.Broker].
func (b *Broker) Publish(ctx context.Context, channel string, msg []byte) error {
	if !b.nc.IsConnected() {
		return fmt.Errorf("sionats: publish: %w", nats.ErrConnectionClosed)
	}
	if err := b.nc.Publish(Subject(channel), msg); err != nil {
		return fmt.Errorf("sionats: publish: %w", err)
	}
	return nil
}

// Subscribe implements [siopubsub.Broker]. It returns when ctx ends or the
// connection is closed for good.
func (b *Broker) Subscribe(ctx context.Context, sub siopubsub.Subscription, onMessage func(channel string, msg []byte)) error {
	if len(sub.Prefixes) > 0 {
		return fmt.Errorf("sionats: prefix subscriptions are not supported")
	}
	ch := make(chan *nats.Msg, 4096)
	names := make(map[string]string, len(sub.Channels))
	for _, c := range sub.Channels {
		s, err := b.nc.ChanSubscribe(Subject(c), ch)
		if err != nil {
			return fmt.Errorf("sionats: subscribe: %w", err)
		}
		defer func() { _ = s.Unsubscribe() }()
		names[Subject(c)] = c
	}
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err := b.nc.FlushWithContext(fctx) // the server has the subscriptions
	cancel()
	if err != nil {
		return fmt.Errorf("sionats: subscribe: %w", err)
	}
	if sub.OnReady != nil {
		sub.OnReady()
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case m := <-ch:
			onMessage(names[m.Subject], m.Data)
		case <-tick.C:
			if b.nc.IsClosed() {
				return fmt.Errorf("sionats: %w", nats.ErrConnectionClosed)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close implements [siopubsub.Broker]; the connection stays open.
func (b *Broker) Close() error { return nil }
