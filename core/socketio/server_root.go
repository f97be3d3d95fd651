package socketio

import "context"

// The methods below give the Server what its default namespace "/" has,
// as Node's io.* does for io.of("/"): each is a shortcut for the same call
// on Of("/").

// Socket returns the connected socket of this process with the given id in
// namespace "/", or nil.
func (s *Server) Socket(sid string) *Socket { return s.root.Socket(sid) }

// Sockets returns the connected sockets of this process in namespace "/".
func (s *Server) Sockets() []*Socket { return s.root.Sockets() }

// Volatile selects every socket of namespace "/" for a broadcast that may
// be dropped for a socket that is not ready for it.
func (s *Server) Volatile() *BroadcastOperator { return s.root.Volatile() }

// Local selects every socket of namespace "/" on this process only.
func (s *Server) Local() *BroadcastOperator { return s.root.Local() }

// EmitWithAck sends an event to every socket of namespace "/" and waits for
// their acknowledgements until ctx ends (see [Namespace.EmitWithAck]).
func (s *Server) EmitWithAck(ctx context.Context, event string, args ...any) ([]*Response, error) {
	return s.root.EmitWithAck(ctx, event, args...)
}

// SocketsJoin makes every socket of namespace "/" join rooms.
func (s *Server) SocketsJoin(rooms ...string) { s.root.SocketsJoin(rooms...) }

// SocketsLeave makes every socket of namespace "/" leave rooms.
func (s *Server) SocketsLeave(rooms ...string) { s.root.SocketsLeave(rooms...) }

// DisconnectSockets disconnects every socket of namespace "/"; close also
// closes their underlying connections.
func (s *Server) DisconnectSockets(close bool) { s.root.DisconnectSockets(close) }

// ServerSideEmit sends an event to namespace "/" on every other server
// process (see [Namespace.ServerSideEmit]).
func (s *Server) ServerSideEmit(event string, args ...any) error {
	return s.root.ServerSideEmit(event, args...)
}

// ServerSideEmitWithAck sends an event to namespace "/" on every other
// server process and waits for their acknowledgements (see
// [Namespace.ServerSideEmitWithAck]).
func (s *Server) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]*Response, error) {
	return s.root.ServerSideEmitWithAck(ctx, event, args...)
}

// OnServerSideEmit registers the handler, on namespace "/", of an event
// another server process sends with ServerSideEmit (see
// [Namespace.OnServerSideEmit]).
func (s *Server) OnServerSideEmit(event string, handler any) error {
	return s.root.OnServerSideEmit(event, handler)
}

// Register registers the exported methods of v as handlers on namespace
// "/" (see [Namespace.Register]).
func (s *Server) Register(v any) error { return s.root.Register(v) }
