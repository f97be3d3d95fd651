package socketio

import (
	"log/slog"
	"time"

	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/hooks"
	"github.com/siokit/siokit/core/internal/logx"
)

// Options configures a [Server]. Zero fields take the default in their comment.
type Options struct {
	// Engine configures the Engine.IO layer. Its Path defaults to "/socket.io/"
	// here; its Logger is the Engine.IO layer's logger, apart from Logger below.
	Engine engineio.Options

	// ConnectTimeout closes a connection that has joined no namespace in
	// this time. Default 45s.
	ConnectTimeout time.Duration

	// MaxAttachments caps the binary attachments of one packet; a packet
	// declaring more closes its connection. Default 10.
	MaxAttachments int

	// MaxNamespaceLen caps the length of a namespace name. Default 512.
	MaxNamespaceLen int

	// Recovery enables connection state recovery when set: a client that
	// reconnects within Recovery.MaxDisconnectionDuration gets its id, rooms
	// and data back and receives the packets it missed.
	Recovery *RecoveryOptions

	// NewManager builds the manager of each namespace. Default: the
	// in-memory manager, which serves one process. A pub/sub manager
	// (managers/redis, managers/nats, managers/amqp) relays between processes.
	NewManager func(nsp *Namespace) Manager

	// Parser is the wire format of packets; every client must speak it.
	// Default nil: the protocol's text format (JSON with binary
	// attachments). See [Parser].
	Parser Parser

	// EventRate and EventBurst limit the packets (events and acks) a client
	// connection may send, all its namespaces together: a token bucket of
	// EventBurst tokens refilled at EventRate per second. Over the limit the
	// server stops reading from the connection until a token is due, so the
	// client is slowed; a client that keeps it waiting more than half of a
	// RateLimitWait window (for tokens or for MaxPendingEvents below) is
	// disconnected with reason [ReasonRateLimitExceeded].
	// Defaults 5,000 per second, a burst of 10,000, 5 s. A negative
	// EventRate disables the limit.
	EventRate     float64
	EventBurst    int
	RateLimitWait time.Duration

	// MaxPendingEvents bounds the events a socket has received and not yet
	// handled (its handlers run one at a time): at that many, the server
	// stops reading from the connection until half have run; that wait
	// counts toward the RateLimitWait rule above, and one wait longer than
	// RateLimitWait plus SlowReceiverWait also ends the connection with
	// reason [ReasonRateLimitExceeded]. Default 1,024.
	// The wait allows for SlowReceiverWait too: the handlers may be waiting
	// for a receiver of their broadcasts.
	MaxPendingEvents int

	// SlowReceiverWait is how long a send waits for a receiver whose
	// outgoing queue is three quarters full to drain it (see "Abuse guards"
	// in the package doc). A receiver whose queue has not fallen in that time
	// is slow: sends stop waiting for it, and the engine closes it when its
	// queue overflows. Default 1 s.
	SlowReceiverWait time.Duration

	// AttachmentTimeout and MaxAttachmentBytes bound a packet's binary
	// attachments while they arrive: a packet whose announced attachments
	// are not all in within AttachmentTimeout of its header, or whose
	// attachments add up to more than MaxAttachmentBytes, is dropped and the
	// connection closed with reason [ReasonAttachmentLimit]. Defaults 60 s
	// and 16 MiB.
	AttachmentTimeout  time.Duration
	MaxAttachmentBytes int64

	// Hooks receives instrumentation events (connections, packets, acks,
	// broadcasts, errors). Default nil: none, at no cost. See [hooks.Hooks].
	Hooks *hooks.Hooks

	// Logger receives the Socket.IO layer's logs. Default: the handler of
	// [slog.Default] (as it is when NewServer runs), at Warn and above, so
	// handler panics, arguments that do not decode, acks that cannot be sent
	// and abuse-guard closes show up. Repeated warnings are rate-limited per
	// socket and kind, with a count of what was held back. To silence the
	// layer, pass slog.New(slog.DiscardHandler).
	Logger *slog.Logger
}

// RecoveryOptions configures connection state recovery.
type RecoveryOptions struct {
	// MaxDisconnectionDuration is how long a session is kept after an
	// accidental disconnect. Default 2 minutes.
	MaxDisconnectionDuration time.Duration
	// SkipMiddlewares skips the namespace middlewares for a recovered
	// connection. Default false: they run again.
	SkipMiddlewares bool
}

// Defaults of [Options].
const (
	DefaultPath                     = "/socket.io/"
	DefaultConnectTimeout           = 45 * time.Second
	DefaultMaxAttachments           = 10
	DefaultMaxNamespaceLen          = 512
	DefaultMaxDisconnectionDuration = 2 * time.Minute
	DefaultEventRate                = 5000
	DefaultEventBurst               = 10000
	DefaultRateLimitWait            = 5 * time.Second
	DefaultMaxPendingEvents         = 1024
	DefaultSlowReceiverWait         = time.Second
	DefaultAttachmentTimeout        = 60 * time.Second
	DefaultMaxAttachmentBytes       = 16 << 20
)

func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.Engine.Path == "" {
		c.Engine.Path = DefaultPath
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.MaxAttachments <= 0 {
		c.MaxAttachments = DefaultMaxAttachments
	}
	if c.MaxNamespaceLen <= 0 {
		c.MaxNamespaceLen = DefaultMaxNamespaceLen
	}
	if c.EventRate == 0 {
		c.EventRate = DefaultEventRate
	}
	if c.EventBurst <= 0 {
		c.EventBurst = DefaultEventBurst
	}
	if c.RateLimitWait <= 0 {
		c.RateLimitWait = DefaultRateLimitWait
	}
	if c.MaxPendingEvents <= 0 {
		c.MaxPendingEvents = DefaultMaxPendingEvents
	}
	if c.SlowReceiverWait <= 0 {
		c.SlowReceiverWait = DefaultSlowReceiverWait
	}
	if c.AttachmentTimeout <= 0 {
		c.AttachmentTimeout = DefaultAttachmentTimeout
	}
	if c.MaxAttachmentBytes <= 0 {
		c.MaxAttachmentBytes = DefaultMaxAttachmentBytes
	}
	if c.Engine.MaxQueuedPackets <= 0 {
		c.Engine.MaxQueuedPackets = engineio.DefaultMaxQueuedPackets
	}
	if c.Engine.MaxQueuedBytes <= 0 {
		c.Engine.MaxQueuedBytes = engineio.DefaultMaxQueuedBytes
	}
	if c.Recovery != nil {
		r := *c.Recovery
		if r.MaxDisconnectionDuration <= 0 {
			r.MaxDisconnectionDuration = DefaultMaxDisconnectionDuration
		}
		c.Recovery = &r
	}
	if c.NewManager == nil {
		c.NewManager = func(nsp *Namespace) Manager { return newInMemoryManager(nsp) }
	}
	c.Logger = logx.Default(c.Logger)
	return c
}
