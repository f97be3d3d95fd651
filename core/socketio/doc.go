// Package socketio implements Socket.IO v5 over [github.com/siokit/siokit/core/engineio]:
// namespaces, event handlers, acknowledgements, rooms and broadcasts,
// connection state recovery and the client.
//
// [NewServer] returns a [Server] that serves Engine.IO requests; each client
// connection to a [Namespace] is a [Socket]. Broadcasts go through the
// namespace's [Manager], by default an in-memory one; a cluster plugs in one
// that relays to the other servers ([Options].NewManager). [NewClient] and
// [NewSimpleClient] connect to a Socket.IO server.
//
// Package [github.com/siokit/siokit/core/socketio/manager] is for authors of
// managers: the in-memory manager to embed and the hooks a manager calls.
package socketio
