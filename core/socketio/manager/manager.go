// Package manager is for authors of Socket.IO managers: the pieces a
// [socketio.Manager] that relays between server processes is built from,
// kept off the types users see.
//
// A pub/sub manager embeds an [InMemory] for delivery to this process's
// sockets and relays what crosses processes through its broker. For what it
// receives from other processes it calls [HandleServerSideEmit] (a
// server-side emit) and [NewRemoteSocket] (a socket description fetched
// from another process). It is plugged in through
// [socketio.Options].NewManager. Package
// github.com/siokit/siokit/managers/pubsub is such a manager, over any
// broker.
package manager

import (
	"context"
	"encoding/json"

	"github.com/siokit/siokit/core/internal/mgrhook"
	"github.com/siokit/siokit/core/parser"
	"github.com/siokit/siokit/core/socketio"
)

// InMemory is the manager a [socketio.Server] gives every namespace by
// default: room membership and delivery within one process. Pub/sub
// managers embed it for local delivery. Its methods are safe for concurrent
// use.
type InMemory struct {
	nsp  *socketio.Namespace
	impl socketio.Manager
}

var _ socketio.Manager = (*InMemory)(nil)

// NewInMemory returns a new in-process manager of nsp. Call it from the
// [socketio.Options].NewManager function: the namespace uses the manager
// that function returns.
func NewInMemory(nsp *socketio.Namespace) *InMemory {
	newInMemory := mgrhook.NewInMemory.(func(*socketio.Namespace) socketio.Manager)
	return &InMemory{nsp: nsp, impl: newInMemory(nsp)}
}

// HandleServerSideEmit runs nsp's handler, registered with
// [socketio.Namespace.OnServerSideEmit], of an event another process sent
// with ServerSideEmit. ack, when not nil, receives the handler's results. A
// panic in the handler is recovered and logged.
func HandleServerSideEmit(nsp *socketio.Namespace, event string, args []json.RawMessage, attachments [][]byte, ack func([]any)) {
	handle := mgrhook.HandleServerSideEmit.(func(*socketio.Namespace, string, []json.RawMessage, [][]byte, func([]any)))
	handle(nsp, event, args, attachments, ack)
}

// NewRemoteSocket binds r, a socket description received from another
// process, to nsp so that its methods (Emit, Join, Leave, Disconnect) act
// through nsp's manager, and returns it.
func NewRemoteSocket(nsp *socketio.Namespace, r *socketio.RemoteSocket) *socketio.RemoteSocket {
	bind := mgrhook.NewRemoteSocket.(func(*socketio.Namespace, *socketio.RemoteSocket) *socketio.RemoteSocket)
	return bind(nsp, r)
}

// Namespace returns the namespace the manager serves.
func (m *InMemory) Namespace() *socketio.Namespace { return m.nsp }

// Rooms returns every room of the namespace with members on this process,
// sorted; a socket's own room (its id) counts.
func (m *InMemory) Rooms() []string {
	return m.impl.(interface{ Rooms() []string }).Rooms()
}

// AddAll implements [socketio.Manager].
func (m *InMemory) AddAll(sid string, rooms []string) { m.impl.AddAll(sid, rooms) }

// Del implements [socketio.Manager].
func (m *InMemory) Del(sid, room string) { m.impl.Del(sid, room) }

// DelAll implements [socketio.Manager].
func (m *InMemory) DelAll(sid string) { m.impl.DelAll(sid) }

// SocketRooms implements [socketio.Manager].
func (m *InMemory) SocketRooms(sid string) []string { return m.impl.SocketRooms(sid) }

// Sockets implements [socketio.Manager]: the ids of this process's sockets.
func (m *InMemory) Sockets(rooms []string) []string { return m.impl.Sockets(rooms) }

// Broadcast implements [socketio.Manager]: the packet is encoded once and
// the same bytes go to every local recipient.
func (m *InMemory) Broadcast(p *parser.Packet, opts *socketio.BroadcastOptions) {
	m.impl.Broadcast(p, opts)
}

// BroadcastWithAck implements [socketio.Manager] for this process's sockets.
func (m *InMemory) BroadcastWithAck(p *parser.Packet, opts *socketio.BroadcastOptions, onCount func(int), onAck func(*socketio.Response)) {
	m.impl.BroadcastWithAck(p, opts, onCount, onAck)
}

// FetchSockets implements [socketio.Manager] for this process's sockets.
func (m *InMemory) FetchSockets(ctx context.Context, opts *socketio.BroadcastOptions) ([]*socketio.RemoteSocket, error) {
	return m.impl.FetchSockets(ctx, opts)
}

// AddSockets implements [socketio.Manager] for this process's sockets.
func (m *InMemory) AddSockets(opts *socketio.BroadcastOptions, rooms []string) {
	m.impl.AddSockets(opts, rooms)
}

// DelSockets implements [socketio.Manager] for this process's sockets.
func (m *InMemory) DelSockets(opts *socketio.BroadcastOptions, rooms []string) {
	m.impl.DelSockets(opts, rooms)
}

// DisconnectSockets implements [socketio.Manager] for this process's sockets.
func (m *InMemory) DisconnectSockets(opts *socketio.BroadcastOptions, close bool) {
	m.impl.DisconnectSockets(opts, close)
}

// ServerSideEmit implements [socketio.Manager]: with one process there is
// nobody to tell, so it returns nil at once.
func (m *InMemory) ServerSideEmit(ctx context.Context, p *parser.Packet, onAck func(*socketio.Response)) error {
	return m.impl.ServerSideEmit(ctx, p, onAck)
}

// PersistSession implements [socketio.Manager]: the state is kept in this
// process's memory when the server has [socketio.Options].Recovery.
func (m *InMemory) PersistSession(s *socketio.PersistedSession) { m.impl.PersistSession(s) }

// RestoreSession implements [socketio.Manager].
func (m *InMemory) RestoreSession(pid, offset string) (*socketio.PersistedSession, bool) {
	return m.impl.RestoreSession(pid, offset)
}

// Close implements [socketio.Manager]: it stops the recovery store's timer.
func (m *InMemory) Close() error { return m.impl.Close() }
