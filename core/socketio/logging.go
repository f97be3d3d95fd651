package socketio

import (
	"context"
	"log/slog"
	"runtime/debug"

	"github.com/siokit/siokit/core/internal/logx"
)

// Kinds of warnings the server rate-limits per socket: a client repeating
// one fault gets a few records per window, then one with the count of what
// was held back.
const (
	logPanic   = "panic"    // a handler panicked
	logBadArgs = "bad-args" // event arguments did not decode into the handler's parameters
	logAck     = "ack"      // an acknowledgement could not be sent
)

var socketLogKinds = [...]string{logPanic, logBadArgs, logAck}

// warnSocket writes a rate-limited record about socket sid (its id, or an
// Engine.IO id when no socket exists yet) of the given kind.
func (s *Server) warnSocket(level slog.Level, kind, sid, msg string, args ...any) {
	s.limiter.Log(context.Background(), s.log, level, sid+"\x00"+kind, msg, append(args, "sid", sid)...)
}

// forgetSocket drops the log windows of a socket that is gone, reporting
// what was held back and never written.
func (s *Server) forgetSocket(sid string) {
	for _, kind := range socketLogKinds {
		if n := s.limiter.Forget(sid + "\x00" + kind); n > 0 {
			s.log.Warn("socketio: records held back for a socket that has left", "sid", sid, "kind", kind, "suppressed", n)
		}
	}
}

// warnClose logs a connection the server closed for a reason other than a
// routine one (a protocol violation, an abuse guard), rate-limited per
// reason across connections: a flood of bad clients cannot flood the log.
func (s *Server) warnClose(eio, reason string, err error) {
	s.limiter.Log(context.Background(), s.log, slog.LevelWarn, "close\x00"+reason,
		"socketio: closing connection", "eio", eio, "reason", reason, "err", err)
}

// safeCall runs a user callback, logging a panic instead of crashing.
func (s *Server) safeCall(what, sid string, fn func()) {
	defer s.recoverHandler(what, sid)
	fn()
}

// recoverHandler logs a recovered panic at Error, with the stack of the
// panicking goroutine, rate-limited per socket.
func (s *Server) recoverHandler(what, sid string) {
	if v := recover(); v != nil {
		s.logPanic(what, sid, v)
	}
}

// logPanic logs the panic v of a handler for socket sid, with the stack of
// the panicking goroutine (call it from the deferred function that
// recovered) and extra attributes.
func (s *Server) logPanic(what, sid string, v any, extra ...any) {
	args := append([]any{"panic", v, "stack", string(debug.Stack())}, extra...)
	s.warnSocket(slog.LevelError, logPanic, sid, "socketio: panic in "+what, args...)
	s.hookPanic(what, v)
}

// newLimiter is the limiter of a server's warnings: a few records per
// socket and kind every ten seconds.
func newLimiter() *logx.Limiter { return logx.NewLimiter(0, 0) }
