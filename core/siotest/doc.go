// Package siotest is the scenario kit that holds every siokit adapter to the
// same Socket.IO v5 behaviour, as [github.com/siokit/siokit/core/eiotest]
// does for Engine.IO.
//
// An adapter's test provides an [eiotest.Mount] and calls the runners:
//
//	func TestSocketIORaw(t *testing.T) {
//		siotest.RunRaw(t, mount)
//	}
//
// [RunRaw] builds [socketio.Server] instances with varied options, mounts
// them and speaks raw Engine.IO and Socket.IO frames to them over
// gorilla/websocket (and long-polling where it matters): namespaces, events,
// acks, binary attachments, rooms, middleware, sessions, disconnects,
// connection state recovery, and every bad input of the reliability
// battery, each closing the offending connection while the others go on.
//
// [RunInterop] drives real Socket.IO clients (the official JavaScript
// client and python-socketio) against the same mount.
//
// [RunClient] drives the Go client ([socketio.Client], [socketio.SimpleClient])
// against the Go server through the same mount.
//
// Every scenario ends with a goroutine-leak check (go.uber.org/goleak), so
// the runners must not run in parallel with other tests of the same process.
package siotest
