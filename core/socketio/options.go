package socketio

import (
	"log/slog"
	"time"

	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/hooks"
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

	// NewManager builds the manager of each namespace. Default
	// [NewInMemoryManager]. A pub/sub manager relays between processes.
	NewManager func(nsp *Namespace) Manager

	// Parser is the wire format of packets; every client must speak it.
	// Default nil: the protocol's text format (JSON with binary
	// attachments). See [Parser].
	Parser Parser

	// Hooks receives instrumentation events (connections, packets, acks,
	// broadcasts, errors). Default nil: none, at no cost. See [hooks.Hooks].
	Hooks *hooks.Hooks

	// Logger receives the Socket.IO layer's logs. Default: discarded.
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
	if c.Recovery != nil {
		r := *c.Recovery
		if r.MaxDisconnectionDuration <= 0 {
			r.MaxDisconnectionDuration = DefaultMaxDisconnectionDuration
		}
		c.Recovery = &r
	}
	if c.NewManager == nil {
		c.NewManager = func(nsp *Namespace) Manager { return NewInMemoryManager(nsp) }
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
