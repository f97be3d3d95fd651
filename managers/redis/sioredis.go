// Package sioredis runs a Socket.IO cluster on Redis pub/sub: a
// [socketio.Manager] for [socketio.Options].NewManager that is
// wire-compatible with the Node @socket.io/redis-adapter (channel names and
// MessagePack/JSON messages), and a write-only [Emitter].
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	srv := socketio.NewServer(&socketio.Options{NewManager: sioredis.New(rdb, nil)})
//
// Each namespace holds one subscription connection of its own; publishing
// uses the client's pool. Sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7) is
// an option; it speaks the same messages, on the same channel names, so it
// is not compatible with Node's createShardedAdapter.
//
// With [Options].Python set, the servers also join a python-socketio 5.x
// fleet on the same Redis (RedisManager or AsyncRedisManager servers and
// write-only emitters, on the channel "socketio" by default): broadcasts,
// rooms, callbacks, disconnects and close_room cross between Python and Go
// servers. See "Python fleets" in package siopubsub.
//
//	srv := socketio.NewServer(&socketio.Options{NewManager: sioredis.New(rdb,
//		&sioredis.Options{Python: &siopubsub.PythonOptions{}})})
//
// See package siopubsub for the behaviour during a Redis outage.
package sioredis

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/siokit/siokit/core/socketio"
	siopubsub "github.com/siokit/siokit/managers/pubsub"
)

// Options configures the manager and the emitter. Zero fields take the
// default in their comment.
type Options struct {
	// Key prefixes every channel name. Default "socket.io", as the Node
	// adapter's key option.
	Key string
	// RequestsTimeout bounds the wait for other servers' answers. Default 5s.
	RequestsTimeout time.Duration
	// Sharded uses sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7 or later).
	// Broadcasts to one room then go on the namespace channel.
	Sharded bool
	// PublishOnSpecificResponseChannel answers on the requester's own
	// response channel (the Node option of the same name).
	PublishOnSpecificResponseChannel bool
	// MinBackoff and MaxBackoff bound the wait before re-subscribing after a
	// lost connection. Defaults 1s and 60s.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives the manager's logs. Default: discarded.
	Logger *slog.Logger
	// Python, when set, makes the servers members of a python-socketio 5.x
	// fleet (socketio.RedisManager or AsyncRedisManager on the same Redis
	// and channel): see [siopubsub.PythonOptions]. Default: off.
	Python *siopubsub.PythonOptions
}

func (o *Options) pubsub() *siopubsub.Options {
	var c Options
	if o != nil {
		c = *o
	}
	return &siopubsub.Options{
		Prefix:                           c.Key,
		RequestsTimeout:                  c.RequestsTimeout,
		RoomChannels:                     !c.Sharded,
		PublishOnSpecificResponseChannel: c.PublishOnSpecificResponseChannel,
		MinBackoff:                       c.MinBackoff,
		MaxBackoff:                       c.MaxBackoff,
		Logger:                           c.Logger,
		Python:                           c.Python,
	}
}

// New returns a [socketio.Options].NewManager function: every namespace
// gets a pub/sub manager on client. The client stays the caller's: close it
// after the server.
func New(client redis.UniversalClient, opts *Options) func(nsp *socketio.Namespace) socketio.Manager {
	return siopubsub.New(NewBroker(client, opts), opts.pubsub())
}

// Emitter is the write-only emitter: see [siopubsub.Emitter].
type Emitter = siopubsub.Emitter

// NewEmitter returns an emitter that reaches the sockets of every server
// sharing client's Redis (with the same Key and Sharded setting).
func NewEmitter(client redis.UniversalClient, opts *Options) *Emitter {
	return siopubsub.NewEmitter(NewBroker(client, opts), opts.pubsub())
}

// Broker is the [siopubsub.Broker] on Redis pub/sub.
type Broker struct {
	client  redis.UniversalClient
	sharded bool
}

var (
	_ siopubsub.Broker            = (*Broker)(nil)
	_ siopubsub.SubscriberCounter = (*Broker)(nil)
)

// NewBroker returns the broker on client; of opts only Sharded matters.
func NewBroker(client redis.UniversalClient, opts *Options) *Broker {
	return &Broker{client: client, sharded: opts != nil && opts.Sharded}
}

// Publish implements [siopubsub.Broker].
func (b *Broker) Publish(ctx context.Context, channel string, msg []byte) error {
	var err error
	if b.sharded {
		err = b.client.SPublish(ctx, channel, msg).Err()
	} else {
		err = b.client.Publish(ctx, channel, msg).Err()
	}
	if err != nil {
		return fmt.Errorf("sioredis: publish: %w", err)
	}
	return nil
}

// NumSub implements [siopubsub.SubscriberCounter] with PUBSUB NUMSUB (or
// SHARDNUMSUB).
func (b *Broker) NumSub(ctx context.Context, channel string) (int, error) {
	var m map[string]int64
	var err error
	if b.sharded {
		m, err = b.client.PubSubShardNumSub(ctx, channel).Result()
	} else {
		m, err = b.client.PubSubNumSub(ctx, channel).Result()
	}
	if err != nil {
		return 0, fmt.Errorf("sioredis: numsub: %w", err)
	}
	return int(m[channel]), nil
}

// healthInterval is how long a quiet subscription waits before it pings.
const healthInterval = 15 * time.Second

// Subscribe implements [siopubsub.Broker]. It holds one connection.
func (b *Broker) Subscribe(ctx context.Context, sub siopubsub.Subscription, onMessage func(channel string, msg []byte)) error {
	if b.sharded && len(sub.Prefixes) > 0 {
		return fmt.Errorf("sioredis: sharded pub/sub has no pattern subscriptions")
	}
	var ps *redis.PubSub
	if b.sharded {
		ps = b.client.SSubscribe(ctx)
	} else {
		ps = b.client.Subscribe(ctx)
	}
	// Close errors are dropped: the subscription is over either way, and a
	// second Close (after the AfterFunc's) reports only that it is closed.
	defer func() { _ = ps.Close() }()
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()

	want := len(sub.Channels) + len(sub.Prefixes)
	var err error
	if b.sharded {
		err = ps.SSubscribe(ctx, sub.Channels...)
	} else {
		err = ps.Subscribe(ctx, sub.Channels...)
		if err == nil && len(sub.Prefixes) > 0 {
			patterns := make([]string, len(sub.Prefixes))
			for i, p := range sub.Prefixes {
				patterns[i] = globEscape(p) + "*"
			}
			err = ps.PSubscribe(ctx, patterns...)
		}
	}
	if err != nil {
		return b.lost(ctx, err)
	}
	confirmed := 0
	for {
		msg, err := ps.ReceiveTimeout(ctx, healthInterval)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if isTimeout(err) {
				if err := ps.Ping(ctx); err != nil {
					return b.lost(ctx, err)
				}
				continue
			}
			return b.lost(ctx, err)
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" || m.Kind == "psubscribe" || m.Kind == "ssubscribe" {
				confirmed++
				if confirmed == want && sub.OnReady != nil {
					sub.OnReady()
				}
			}
		case *redis.Message:
			onMessage(m.Channel, []byte(m.Payload))
		}
	}
}

func (b *Broker) lost(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("sioredis: subscription: %w", err)
}

func isTimeout(err error) bool {
	type timeout interface{ Timeout() bool }
	t, ok := err.(timeout)
	return ok && t.Timeout()
}

// Close implements [siopubsub.Broker]; the client stays open.
func (b *Broker) Close() error { return nil }

// globEscape escapes the characters Redis patterns give a meaning.
func globEscape(s string) string {
	var sb strings.Builder
	for _, c := range s {
		switch c {
		case '*', '?', '[', ']', '\\':
			sb.WriteByte('\\')
		}
		sb.WriteRune(c)
	}
	return sb.String()
}
