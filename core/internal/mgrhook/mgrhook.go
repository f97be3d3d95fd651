// Package mgrhook carries the functions package socketio lends to package
// socketio/manager without exporting them on its user-facing types.
//
// Package socketio sets every variable in its init; package manager, which
// imports socketio (so runs after that init), asserts their types. The types
// are written beside each variable because this package cannot name
// socketio's types without an import cycle.
package mgrhook

var (
	// NewInMemory is func(*socketio.Namespace) socketio.Manager: the
	// in-process manager of a namespace.
	NewInMemory any

	// HandleServerSideEmit is func(nsp *socketio.Namespace, event string,
	// args []json.RawMessage, attachments [][]byte, ack func([]any)): runs
	// the namespace's handler of a server-side emit from another process.
	HandleServerSideEmit any

	// NewRemoteSocket is func(*socketio.Namespace, *socketio.RemoteSocket)
	// *socketio.RemoteSocket: binds a socket description to the namespace.
	NewRemoteSocket any
)
