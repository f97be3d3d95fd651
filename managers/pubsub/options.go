package siopubsub

import (
	"context"
	"log/slog"
	"time"
)

// Options configures the manager. Zero fields take the default in their
// comment.
type Options struct {
	// Prefix starts every channel name. Default "socket.io", as the Node
	// adapter's "key".
	Prefix string
	// RequestsTimeout bounds the wait for the answers of other processes
	// (fetch sockets, server-side emit with acks, the client counts of a
	// broadcast with acks). Default 5s.
	RequestsTimeout time.Duration
	// RoomChannels publishes a broadcast to exactly one room on the room's
	// own channel and subscribes to the broadcast channel as a prefix, as
	// the Node Redis adapter does. The broker must support Prefixes.
	RoomChannels bool
	// PublishOnSpecificResponseChannel answers requests on the requester's
	// own response channel rather than the shared one (the Node option of
	// the same name).
	PublishOnSpecificResponseChannel bool
	// PublishTimeout bounds one publish attempt. Default 2s.
	PublishTimeout time.Duration
	// QueueSize bounds the messages waiting to be published; when it is
	// full new ones are dropped and logged. Default 4096.
	QueueSize int
	// MinBackoff and MaxBackoff bound the wait before re-subscribing after
	// a lost subscription: it starts at MinBackoff and doubles up to
	// MaxBackoff. Defaults 1s and 60s.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// HeartbeatInterval is how often a process announces itself, when the
	// broker is no [SubscriberCounter]. Default 5s; a process unheard of
	// for two intervals is counted gone.
	HeartbeatInterval time.Duration
	// Logger receives the manager's logs. Default: the handler of
	// [slog.Default] (as it is when the manager is built) at Warn and above,
	// so dropped publishes and lost subscriptions show; pass
	// slog.New(slog.DiscardHandler) to silence it.
	Logger *slog.Logger
	// Python, when set, makes the manager a member of a python-socketio 5.x
	// fleet on the same broker: see the package documentation's "Python
	// fleets". Default: off.
	Python *PythonOptions
}

// Defaults of [Options].
const (
	DefaultPrefix            = "socket.io"
	DefaultRequestsTimeout   = 5 * time.Second
	DefaultPublishTimeout    = 2 * time.Second
	DefaultQueueSize         = 4096
	DefaultMinBackoff        = time.Second
	DefaultMaxBackoff        = 60 * time.Second
	DefaultHeartbeatInterval = 5 * time.Second
)

func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.RequestsTimeout <= 0 {
		c.RequestsTimeout = DefaultRequestsTimeout
	}
	if c.PublishTimeout <= 0 {
		c.PublishTimeout = DefaultPublishTimeout
	}
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = c.MinBackoff
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.Python != nil {
		py := *c.Python
		if py.Channel == "" {
			py.Channel = DefaultPythonChannel
		}
		c.Python = &py
	}
	if c.Logger == nil {
		c.Logger = slog.New(warnOnly{slog.Default().Handler()})
	}
	return c
}

// PythonChannel returns python-socketio's channel that opts names (the
// default when Python is set without one), or "" when opts has no Python.
func PythonChannel(opts *Options) string {
	if opts == nil || opts.Python == nil {
		return ""
	}
	if opts.Python.Channel == "" {
		return DefaultPythonChannel
	}
	return opts.Python.Channel
}

// ExactChannels returns a copy of opts (nil: the defaults) with
// RoomChannels off, for a broker that matches channel names exactly rather
// than by prefix.
func ExactChannels(opts *Options) *Options {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.RoomChannels = false
	return &o
}

// warnOnly passes records of level Warn and above to its handler: the
// default logger, as the core's layers have it.
type warnOnly struct{ slog.Handler }

func (w warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && w.Handler.Enabled(ctx, l)
}

func (w warnOnly) WithAttrs(as []slog.Attr) slog.Handler { return warnOnly{w.Handler.WithAttrs(as)} }

func (w warnOnly) WithGroup(name string) slog.Handler { return warnOnly{w.Handler.WithGroup(name)} }
