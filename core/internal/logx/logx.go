// Package logx holds the logging defaults that siokit's layers share: the
// default logger, which writes Warn and above to [slog.Default], and a
// [Limiter] that keeps a peer repeating a fault from flooding the log.
package logx

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Default returns l when it is not nil. Otherwise it returns a logger that
// passes records of level Warn and above to the handler of [slog.Default] as
// it is when Default is called, so a program that calls [slog.SetDefault]
// before building its server gets siokit's warnings in its own log.
func Default(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.New(minLevel{h: slog.Default().Handler(), min: slog.LevelWarn})
}

// minLevel drops records below min before its handler sees them.
type minLevel struct {
	h   slog.Handler
	min slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.min && m.h.Enabled(ctx, l)
}

func (m minLevel) Handle(ctx context.Context, r slog.Record) error { return m.h.Handle(ctx, r) }

func (m minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h: m.h.WithAttrs(as), min: m.min}
}

func (m minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h: m.h.WithGroup(name), min: m.min}
}

// Limiter lets at most Burst records per key through in each window of
// Interval, and counts the ones it holds back; the next record let through
// for that key carries the count as the attribute "suppressed". It keeps at
// most MaxKeys windows: past that, keys share one overflow window, so memory
// stays bounded whatever keys a peer makes up.
//
// A Limiter is safe for concurrent use.
type Limiter struct {
	interval time.Duration
	burst    int
	maxKeys  int
	now      func() time.Time

	mu       sync.Mutex
	windows  map[string]*window
	overflow window
}

type window struct {
	start      time.Time
	n          int
	suppressed int
}

// Limits that [NewLimiter] uses for zero arguments.
const (
	DefaultInterval = 10 * time.Second
	DefaultBurst    = 5
	DefaultMaxKeys  = 4096
)

// NewLimiter returns a Limiter that lets burst records per key through in
// each interval; zero or negative arguments take the defaults above.
func NewLimiter(interval time.Duration, burst int) *Limiter {
	if interval <= 0 {
		interval = DefaultInterval
	}
	if burst <= 0 {
		burst = DefaultBurst
	}
	return &Limiter{
		interval: interval,
		burst:    burst,
		maxKeys:  DefaultMaxKeys,
		now:      time.Now,
		windows:  make(map[string]*window),
	}
}

// Allow reports whether a record for key may be written now and, when it
// may, how many records for key were held back since the last one that was.
func (l *Limiter) Allow(key string) (ok bool, suppressed int) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.windowLocked(key, now)
	if now.Sub(w.start) >= l.interval {
		w.start, w.n = now, 0
	}
	if w.n >= l.burst {
		w.suppressed++
		return false, 0
	}
	w.n++
	suppressed, w.suppressed = w.suppressed, 0
	return true, suppressed
}

// windowLocked finds or makes key's window, sweeping expired ones when the
// table is full and falling back to the overflow window when it stays full.
func (l *Limiter) windowLocked(key string, now time.Time) *window {
	if w, ok := l.windows[key]; ok {
		return w
	}
	if len(l.windows) >= l.maxKeys {
		for k, w := range l.windows {
			if now.Sub(w.start) >= l.interval && w.suppressed == 0 {
				delete(l.windows, k)
			}
		}
		if len(l.windows) >= l.maxKeys {
			return &l.overflow
		}
	}
	w := &window{start: now}
	l.windows[key] = w
	return w
}

// Forget drops key's window, for a key whose subject (a socket, say) is gone.
// It returns how many records were held back and never reported.
func (l *Limiter) Forget(key string) (suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w, ok := l.windows[key]; ok {
		suppressed = w.suppressed
		delete(l.windows, key)
	}
	return suppressed
}

// Log writes a record through logger when logger is enabled for level and
// Allow(key) lets it through, adding the count of held-back records.
func (l *Limiter) Log(ctx context.Context, logger *slog.Logger, level slog.Level, key, msg string, args ...any) {
	if !logger.Enabled(ctx, level) {
		return
	}
	ok, suppressed := l.Allow(key)
	if !ok {
		return
	}
	if suppressed > 0 {
		args = append(args, slog.Int("suppressed", suppressed))
	}
	logger.Log(ctx, level, msg, args...)
}
