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
//
// # Registering handlers
//
// [Namespace.On] refuses, with an error, what can never work: the names the
// protocol reserves (connect, connect_error, disconnect, disconnecting,
// newListener, removeListener; the error names the method to use instead,
// such as [Namespace.OnConnect]), and parameter types JSON cannot decode
// into (context.Context, channels, functions, complex numbers, interfaces
// other than any) or result types it cannot encode. On returns an error
// rather than panicking as [net/http.ServeMux.Handle] does, because handlers
// are also registered while a server runs (a dynamic namespace's first use,
// [Namespace.Register] of a plugin type), where a panic would end a serving
// process for one bad handler. A refusal is also logged at Error, so an
// unchecked call cannot lose a handler silently; at startup, [Must] turns it
// into a panic:
//
//	socketio.Must(srv.On("chat", func(s *socketio.Socket, msg string) { ... }))
//
// After [Server.Close], registering, emitting, broadcasting and fetching
// sockets return [ErrServerClosed].
//
// # Logging
//
// The server logs through Options.Logger, by default the handler of
// [log/slog.Default] at Warn and above. A handler that panics is logged at
// Error with its stack; arguments that do not decode into a handler's
// parameters (the handler is then not called and no ack is sent, as
// before), acks that cannot be encoded or queued, and connections closed by
// a guard below are logged at Warn with the socket id and the event. A
// client repeating a fault gets five records per kind every ten seconds; the
// next record, or one written when the socket leaves, carries the count of
// what was held back ("suppressed"). Routine closes log at Debug.
//
// # Abuse guards
//
// Every limit below is on by default, generous for a real application, and
// set in [Options]:
//
//   - Event rate: a connection (all its namespaces together) may send
//     EventRate packets per second after a burst of EventBurst (defaults
//     5,000 and 10,000). Over it the server stops reading from the
//     connection until a token is due, which slows the client through TCP;
//     a client that keeps the server waiting more than half of a
//     RateLimitWait window (5 s), for tokens or for its handlers (below), is
//     disconnected: its disconnect handlers see
//     [ReasonRateLimitExceeded], and the client gets a DISCONNECT so that
//     the official client does not reconnect by itself.
//   - Pending events: a socket's handlers run one at a time; when
//     MaxPendingEvents (1,024) events wait for them, reading stops until
//     half have run, so a slow handler slows its client rather than growing
//     memory. That wait counts toward the rate limit's window; a single one
//     longer than RateLimitWait plus SlowReceiverWait also disconnects the
//     client with the same reason. (Left alone, a client that outpaces its
//     handlers would end in a ping timeout: its pongs wait behind its
//     events.)
//   - Binary attachments: a packet's announced attachments must all arrive
//     within AttachmentTimeout (60 s) and add up to at most
//     MaxAttachmentBytes (16 MiB); otherwise the partial packet is dropped
//     and the connection closed with [ReasonAttachmentLimit].
//   - Fan-out: what one client causes to be broadcast is bounded by its own
//     budget, and only a receiver that does not read is ever closed. The
//     engine bounds each connection's outgoing queue (4,096 packets, 16 MiB)
//     and closes a connection whose queue overflows. A delivery that would
//     take a receiver's queue past three quarters of that bound waits, on the
//     goroutine that sends (for a handler's broadcast, the handler of the
//     client that caused it, whose reading then pauses through the pending
//     events limit), until the receiver's queue drains. A receiver whose
//     queue does not fall for SlowReceiverWait (1 s) is marked slow: sends
//     to it stop waiting and the engine's policy ends it when its queue
//     overflows. So a client bursting events that a handler re-emits to its
//     room is slowed, then disconnected by its rate limit; the members that
//     read receive everything the server accepted from it. Volatile emits
//     never wait: they are dropped for a receiver whose queue is full.
//
// The official Node server has none of these limits: its per-connection
// write buffer grows without bound (a receiver that does not read costs
// memory until its ping timeout), events are not rate-limited, and pending
// attachments wait as long as the connection lives. python-socketio, on
// python-engineio, queues outgoing packets without bound too, and handles a
// client's events concurrently (threads or tasks) without a cap per client.
// siokit trades that unbounded memory for bounded queues; the waits above
// keep the bound from turning a burst by one client into the disconnection
// of others.
package socketio
