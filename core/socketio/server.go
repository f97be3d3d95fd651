package socketio

import (
	"context"
	"encoding/json"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/parser"
)

// Server is a Socket.IO v5 server. Mount it on any framework through an
// adapter: it implements [engineio.Handler]. Its methods are safe for
// concurrent use; the ones on the default namespace "/" are shortcuts for
// Of("/").
type Server struct {
	opts Options
	eio  *engineio.Server
	log  *slog.Logger
	root *Namespace

	mu      sync.RWMutex
	nsps    map[string]*Namespace
	parents []*ParentNamespace
	closed  bool

	wg sync.WaitGroup // handler goroutines
}

var _ engineio.Handler = (*Server)(nil)

// NewServer returns a server with the given options; nil selects every default.
func NewServer(opts *Options) *Server {
	o := opts.withDefaults()
	s := &Server{opts: o, log: o.Logger, nsps: make(map[string]*Namespace)}
	s.eio = engineio.NewServer(&o.Engine)
	s.eio.OnConnection = func(es *engineio.Session) { newConn(s, es) }
	s.root = s.Of("/")
	return s
}

// Engine returns the underlying Engine.IO server.
func (s *Server) Engine() *engineio.Server { return s.eio }

// ServeRequest implements [engineio.Handler].
func (s *Server) ServeRequest(w engineio.ResponseWriter, r engineio.Request) {
	s.eio.ServeRequest(w, r)
}

// Match implements [engineio.Handler]: true for paths under the server's path.
func (s *Server) Match(path string) bool { return s.eio.Match(path) }

// Of returns the namespace with the given name, creating it on first use.
// A name without a leading slash gets one.
func (s *Server) Of(name string) *Namespace {
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.nsps[name]; n != nil {
		return n
	}
	n := newNamespace(s, name, newHandlers(), nil)
	s.nsps[name] = n
	return n
}

// OfFunc registers a dynamic namespace: a client connecting to a namespace
// that does not exist is let in when match accepts its name and auth.
// Parents are tried in the order they were registered.
func (s *Server) OfFunc(match func(name string, auth json.RawMessage) bool) *ParentNamespace {
	p := &ParentNamespace{match: match, children: make(map[string]*Namespace)}
	s.mu.Lock()
	p.Namespace = &Namespace{name: "parent", server: s, h: newHandlers(), sockets: make(map[string]*Socket)}
	p.manager = NewInMemoryManager(p.Namespace)
	s.parents = append(s.parents, p)
	s.mu.Unlock()
	return p
}

// OfRegexp registers a dynamic namespace matching names against re.
func (s *Server) OfRegexp(re *regexp.Regexp) *ParentNamespace {
	return s.OfFunc(regexpMatcher(re))
}

// lookup finds the namespace a client asks for, creating a dynamic child
// when a parent matches; nil when there is none.
func (s *Server) lookup(name string, auth json.RawMessage) *Namespace {
	s.mu.RLock()
	n := s.nsps[name]
	parents := s.parents
	s.mu.RUnlock()
	if n != nil {
		return n
	}
	for _, p := range parents {
		if p.match(name, auth) {
			return p.child(name)
		}
	}
	return nil
}

// On registers an event handler on the default namespace; see [Namespace.On].
func (s *Server) On(event string, handler any) error { return s.root.On(event, handler) }

// OnAny registers the catch-all handler of the default namespace.
func (s *Server) OnAny(handler any) error { return s.root.OnAny(handler) }

// OnConnect adds a connect handler to the default namespace.
func (s *Server) OnConnect(fn func(s *Socket) error) { s.root.OnConnect(fn) }

// OnDisconnect adds a disconnect handler to the default namespace.
func (s *Server) OnDisconnect(fn func(s *Socket, reason string)) { s.root.OnDisconnect(fn) }

// Use adds a middleware to the default namespace.
func (s *Server) Use(mw func(s *Socket) error) { s.root.Use(mw) }

// Emit sends an event to every socket of the default namespace.
func (s *Server) Emit(event string, args ...any) error { return s.root.Emit(event, args...) }

// Send sends a "message" event to every socket of the default namespace.
func (s *Server) Send(args ...any) error { return s.root.Send(args...) }

// To selects rooms of the default namespace.
func (s *Server) To(rooms ...string) *BroadcastOperator { return s.root.To(rooms...) }

// In is To.
func (s *Server) In(rooms ...string) *BroadcastOperator { return s.root.To(rooms...) }

// Except skips rooms of the default namespace.
func (s *Server) Except(rooms ...string) *BroadcastOperator { return s.root.Except(rooms...) }

// Timeout sets the ack timeout of a broadcast on the default namespace.
func (s *Server) Timeout(d time.Duration) *BroadcastOperator { return s.root.Timeout(d) }

// FetchSockets returns the sockets of the default namespace.
func (s *Server) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return s.root.FetchSockets(ctx)
}

// Close disconnects every client with reason "server shutting down", waits
// for running handlers to return and closes the managers.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var all []*Namespace
	for _, n := range s.nsps {
		all = append(all, n)
	}
	for _, p := range s.parents {
		all = append(all, p.Children()...)
	}
	s.mu.Unlock()
	err := s.eio.Close()
	s.wg.Wait()
	for _, n := range all {
		if e := n.manager.Close(); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// safeCall runs a user callback, logging a panic instead of crashing.
func (s *Server) safeCall(what, sid string, fn func()) {
	defer s.recoverHandler(what, sid)
	fn()
}

func (s *Server) recoverHandler(what, sid string) {
	if v := recover(); v != nil {
		s.log.Error("socketio: panic in "+what, "sid", sid, "panic", v)
		s.hookPanic(what, v)
	}
}

func isReserved(event string) bool { return parser.IsReserved(event) }
