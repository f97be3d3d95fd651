package socketio

import (
	"encoding/json"

	"github.com/siokit/siokit/core/internal/mgrhook"
)

// The functions package manager lends to manager authors, kept off the
// user-facing types.
func init() {
	mgrhook.NewInMemory = func(nsp *Namespace) Manager { return newInMemoryManager(nsp) }
	mgrhook.HandleServerSideEmit = func(nsp *Namespace, event string, args []json.RawMessage, attachments [][]byte, ack func([]any)) {
		nsp.handleServerSideEmit(event, args, attachments, ack)
	}
	mgrhook.NewRemoteSocket = func(nsp *Namespace, r *RemoteSocket) *RemoteSocket { return nsp.bindRemote(r) }
}
