package engineio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/siokit/siokit/core/internal/logx"
)

// Handler serves requests through the adapter contract. *Server implements
// it, and so do the layers built on it (the Socket.IO server, the App), so an
// adapter mounts any of them.
type Handler interface {
	// ServeRequest answers one request.
	ServeRequest(w ResponseWriter, r Request)
	// Match reports whether a request for path belongs to this handler; an
	// adapter's middleware forwards the others to the wrapped application.
	Match(path string) bool
}

// Server is an Engine.IO v4 server. It is safe for concurrent use.
//
// Set OnConnection before serving requests: it is called for every new
// session, and is where the session's message and close callbacks are set.
type Server struct {
	// OnConnection is called once for each new session, before any of its
	// messages is delivered.
	OnConnection func(s *Session)

	opts    Options
	log     *slog.Logger
	limiter *logx.Limiter // rate-limits the Warn records a peer can cause

	mu       sync.RWMutex
	sessions map[string]*Session
	// closing holds polling sessions closed by the server while no poll was
	// pending, until the next poll takes their close packet.
	closing map[string]*Session
	closed  bool
	perAddr map[string]int // open sessions per client address (clientAddr)
	wg      sync.WaitGroup // the sessions' WebSocket loops and close callbacks

	// writerWakes counts the writer goroutines started or woken, so that a
	// continuation that woke some (a broadcast) lets them run before it
	// writes its own session's share (see runInline).
	writerWakes atomic.Uint64
}

var _ Handler = (*Server)(nil)

// NewServer returns a server with the given options; nil selects every default.
func NewServer(opts *Options) *Server {
	o := opts.withDefaults()
	return &Server{
		opts: o, log: o.Logger, limiter: logx.NewLimiter(0, 0),
		sessions: make(map[string]*Session), closing: make(map[string]*Session),
		perAddr: make(map[string]int),
	}
}

// Options returns the server's options with defaults filled in.
func (s *Server) Options() Options { return s.opts }

// Match reports whether path is under the server's path.
func (s *Server) Match(path string) bool {
	p := s.opts.Path
	return strings.HasPrefix(path, p) || path == p[:len(p)-1]
}

// Session returns the open session with the given id, or nil.
func (s *Server) Session(id string) *Session {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.sessions[id]
}

// Count returns the number of open sessions.
func (s *Server) Count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.sessions)
}

// Close closes every session with reason "server shutting down", refuses new
// handshakes and waits until every session's callbacks have returned. It is
// the immediate form of [Server.Shutdown].
func (s *Server) Close() error {
	s.closeSessions()
	s.wg.Wait()
	return nil
}

// Shutdown closes the server gracefully, as http.Server.Shutdown does: it
// refuses new handshakes, closes every session with reason "server shutting
// down" (a polling client gets its close packet, a WebSocket client what was
// queued and then the close), and waits for the sessions' connection loops
// and callbacks to return. When ctx ends first, it closes every session's
// network connection at once and returns ctx.Err(); callbacks still running
// then are not waited for.
//
// Shutdown (like Close) waits for the callbacks, so a callback that calls it
// waits for itself until ctx ends: from a callback, call it on a goroutine
// of its own.
func (s *Server) Shutdown(ctx context.Context) error {
	all := s.closeSessions()
	done := make(chan struct{})
	go func() { // ends when the last callback does, whether or not ctx has ended
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, sess := range all {
			sess.abort()
		}
		return ctx.Err()
	}
}

// closeSessions refuses new handshakes, drops the lingering sessions and
// closes the open ones, which it returns.
func (s *Server) closeSessions() []*Session {
	s.mu.Lock()
	s.closed = true
	all := make([]*Session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		all = append(all, sess)
	}
	for id, sess := range s.closing {
		sess.lingerTimer.Stop()
		delete(s.closing, id)
	}
	s.mu.Unlock()
	for _, sess := range all {
		sess.close(ReasonServerShuttingDown, true)
	}
	return all
}

// ServeRequest answers one Engine.IO request.
func (s *Server) ServeRequest(w ResponseWriter, r Request) {
	if err := s.serve(w, r); err != nil {
		s.writeError(w, r, err)
	}
}

func (s *Server) serve(w ResponseWriter, r Request) *RequestError {
	if !s.Match(r.Path()) {
		// Mounted on every path: what is not under ours is not for us. It
		// is logged, as it is usually a mount under a route prefix.
		s.warn(r, "path", "engineio: request outside the engine's path; mounted under a prefix? set Options.Path",
			"path", r.Path(), "enginePath", s.opts.Path)
		return &RequestError{Status: http.StatusNotFound, Code: CodeBadRequest, Message: "Not Found"}
	}
	q, ok := scanQuery(r.RawQuery())
	if !ok {
		return badRequest(CodeBadRequest)
	}
	transport := q.transport
	if transport != TransportPolling && transport != TransportWebSocket || !s.opts.allows(transport) {
		return badRequest(CodeUnknownTransport)
	}
	if e := s.checkOrigin(r); e != nil {
		if e.Message == originRefused {
			s.warn(r, "origin", "engineio: origin refused; allow it in Options.CORS.AllowedOrigins (behind a TLS-terminating proxy, set Options.TrustProxy)",
				"origin", r.Header("Origin"), "host", r.Header("Host"),
				"allowed", s.opts.CORS.AllowedOrigins)
		}
		return e
	}
	if r.Method() == http.MethodOptions {
		s.setCORS(w, r)
		w.SetHeader("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		if h := r.Header("Access-Control-Request-Headers"); h != "" {
			w.SetHeader("Access-Control-Allow-Headers", h)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if q.eio != "4" {
		return badRequest(CodeUnsupportedProtocol)
	}
	sid := q.sid
	isWS := transport == TransportWebSocket
	if isWS && !strings.EqualFold(r.Header("Upgrade"), "websocket") {
		return badRequest(CodeBadRequest)
	}
	if sid == "" {
		if r.Method() != http.MethodGet {
			return badRequest(CodeBadHandshakeMethod)
		}
		return s.handshake(w, r, transport)
	}
	sess := s.Session(sid)
	if sess == nil {
		return s.serveClosing(w, r, sid, isWS)
	}
	if isWS {
		return sess.upgrade(w, r)
	}
	switch r.Method() {
	case http.MethodGet:
		return sess.poll(w, r)
	case http.MethodPost:
		return sess.post(w, r)
	}
	return badRequest(CodeBadRequest)
}

// badRequest returns the status 400 error of code.
func badRequest(code Code) *RequestError {
	return &RequestError{Status: http.StatusBadRequest, Code: code, Message: code.Message()}
}

// warn writes a Warn record about a request, rate-limited per client
// address and kind, since a peer can cause it at will.
func (s *Server) warn(r Request, kind, msg string, args ...any) {
	addr := s.clientAddr(r)
	args = append(args, "remote", addr)
	s.limiter.Log(r.Context(), s.log, slog.LevelWarn, kind+"|"+addr, msg, args...)
}

func (s *Server) writeError(w ResponseWriter, r Request, e *RequestError) {
	s.log.Debug("engineio: request refused", "status", e.Status, "code", int(e.Code),
		"message", e.Message, "remote", r.RemoteAddr(), "query", r.RawQuery())
	if e.Code != CodeBadRequest || e.Message != originRefused {
		s.setCORS(w, r)
	}
	w.SetHeader("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_, _ = w.Write(e.body())
}

// handshake opens a session over the requested transport.
func (s *Server) handshake(w ResponseWriter, r Request, transport string) *RequestError {
	if s.opts.AllowRequest != nil {
		if err := s.opts.AllowRequest(r); err != nil {
			return &RequestError{Status: http.StatusForbidden, Code: CodeForbidden, Message: err.Error()}
		}
	}
	if transport == TransportWebSocket {
		if _, ok := r.(Hijacker); !ok || !isWebSocketHandshake(r) {
			return badRequest(CodeBadRequest)
		}
	}
	q, err := url.ParseQuery(r.RawQuery()) // valid: scanQuery accepted it
	if err != nil {
		return badRequest(CodeBadRequest)
	}
	sess, e := s.newSession(r, q, transport)
	if e != nil {
		return e
	}
	if transport == TransportPolling {
		s.setCORS(w, r)
		s.setCookie(w, sess.id)
		w.SetHeader("Content-Type", "text/plain; charset=UTF-8")
		buf := append(make([]byte, 0, 160), '0')
		buf = sess.appendOpen(buf)
		_, _ = w.Write(buf)
		// Counted like a connection goroutine, so that a close callback
		// started here comes before a Server.Close's Wait; a closing
		// server closes the session itself, before it ever connected.
		if s.enter() {
			defer s.wg.Done()
			s.started(sess)
		}
		return nil
	}
	if e := s.acceptWebSocket(w, r, s.cookie(sess.id), sess.serveNewWebSocket); e != nil {
		sess.close(ReasonTransportError, false)
		return e
	}
	// An adapter that hands over the connection after returning (fasthttp)
	// never calls back when the client resets the connection first: drop a
	// session whose WebSocket has not attached within UpgradeTimeout, which
	// would otherwise stay registered with no heartbeat to reap it.
	// The timer keeps the id, not the session: a closed session and its
	// queue must not stay reachable until it fires.
	id := sess.id
	time.AfterFunc(s.opts.UpgradeTimeout, func() {
		sess := s.Session(id)
		if sess == nil {
			return
		}
		sess.mu.Lock()
		unattached := !sess.closed.Load() && !sess.started && sess.ws == nil
		sess.mu.Unlock()
		if unattached {
			sess.close(ReasonTransportError, false)
		}
	})
	return nil
}

// newSession registers a session, enforcing the server's limits.
func (s *Server) newSession(r Request, q url.Values, transport string) (*Session, *RequestError) {
	id := newSessionID()
	addr := s.clientAddr(r)
	sess := &Session{
		srv:       s,
		id:        id,
		addr:      addr,
		transport: transport,
		notify:    make(chan struct{}, 1),
		done:      make(chan struct{}),
		handshake: &Handshake{
			Headers:    r.Headers(),
			Query:      q,
			RemoteAddr: r.RemoteAddr(),
			Time:       time.Now(),
			Path:       r.Path(),
		},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, &RequestError{Status: http.StatusForbidden, Code: CodeForbidden, Message: "Server closed"}
	}
	if s.opts.MaxConnections > 0 && len(s.sessions) >= s.opts.MaxConnections {
		return nil, &RequestError{Status: http.StatusForbidden, Code: CodeForbidden, Message: "Too many connections"}
	}
	if m := s.opts.MaxConnectionsPerAddress; m > 0 && s.perAddr[addr] >= m {
		s.warn(r, "peraddr", "engineio: too many connections from one address; behind a proxy set Options.TrustProxy, or raise Options.MaxConnectionsPerAddress",
			"limit", m)
		return nil, &RequestError{Status: http.StatusForbidden, Code: CodeForbidden, Message: "Too many connections from this address"}
	}
	s.sessions[id] = sess
	s.perAddr[addr]++
	return sess, nil
}

// started runs the connection callback and the heartbeat of a new session.
// The WebSocket path calls it once the open packet is written.
func (s *Server) started(sess *Session) {
	if s.OnConnection != nil {
		s.OnConnection(sess)
	}
	sess.startHeartbeat()
}

// linger keeps a polling session that the server closed while no poll was
// pending, so that the client's next poll gets the close packet instead of
// "Session ID unknown", as with the reference server. It is dropped after
// pingTimeout if no poll comes.
func (s *Server) linger(sess *Session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closing[sess.id] = sess
	sess.lingerTimer = time.AfterFunc(s.opts.PingTimeout, func() {
		s.mu.Lock()
		if s.closing[sess.id] == sess {
			delete(s.closing, sess.id)
		}
		s.mu.Unlock()
	})
}

// serveClosing answers a request for a sid that is not open: a poll on a
// lingering session takes its close packet, a POST to it is accepted and
// ignored, anything else is an unknown sid.
func (s *Server) serveClosing(w ResponseWriter, r Request, sid string, isWS bool) *RequestError {
	method := r.Method()
	s.mu.Lock()
	sess := s.closing[sid]
	if sess != nil && !isWS && method == http.MethodGet {
		delete(s.closing, sid)
		sess.lingerTimer.Stop()
	}
	s.mu.Unlock()
	switch {
	case sess == nil || isWS:
		s.warn(r, "sid", "engineio: unknown session id (closed, or served by another process without sticky sessions?)",
			"sid", sid)
		return badRequest(CodeUnknownSID)
	case method == http.MethodGet:
		return sess.poll(w, r)
	case method == http.MethodPost:
		return sess.post(w, r)
	}
	return badRequest(CodeBadRequest)
}

func (s *Server) remove(sess *Session) {
	s.mu.Lock()
	if s.sessions[sess.id] == sess {
		delete(s.sessions, sess.id)
		if n := s.perAddr[sess.addr]; n > 1 {
			s.perAddr[sess.addr] = n - 1
		} else {
			delete(s.perAddr, sess.addr)
		}
	}
	s.mu.Unlock()
}

func (s *Server) setCookie(w ResponseWriter, sid string) {
	if v := s.cookie(sid); v != "" {
		w.SetHeader("Set-Cookie", v)
	}
}

// cookie returns the Set-Cookie value for a new session, or "".
func (s *Server) cookie(sid string) string {
	if s.opts.Cookie == nil {
		return ""
	}
	c := *s.opts.Cookie //nolint:gosec // G124: Options.Cookie is the application's template; its Secure, HttpOnly and SameSite are kept as configured (forcing Secure would break plain-HTTP deployments)
	if c.Name == "" {
		c.Name = "io"
	}
	c.Value = sid
	return c.String()
}

// newSessionID returns 144 random bits from crypto/rand, URL-safe base64.
func newSessionID() string {
	var b [18]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand documents it)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// appendOpenJSON appends the open packet's JSON body.
func (s *Server) appendOpenJSON(dst []byte, sid string, upgrades bool) []byte {
	dst = append(dst, `{"sid":`...)
	dst = strconv.AppendQuote(dst, sid)
	dst = append(dst, `,"upgrades":[`...)
	if upgrades && s.opts.allows(TransportWebSocket) {
		dst = append(dst, `"websocket"`...)
	}
	dst = append(dst, `],"pingInterval":`...)
	dst = strconv.AppendInt(dst, s.opts.PingInterval.Milliseconds(), 10)
	dst = append(dst, `,"pingTimeout":`...)
	dst = strconv.AppendInt(dst, s.opts.PingTimeout.Milliseconds(), 10)
	dst = append(dst, `,"maxPayload":`...)
	dst = strconv.AppendInt(dst, s.opts.MaxHTTPBufferSize, 10)
	return append(dst, '}')
}
