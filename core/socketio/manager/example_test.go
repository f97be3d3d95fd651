package manager_test

import (
	"fmt"
	"sync/atomic"

	"github.com/siokit/siokit/core/parser"
	"github.com/siokit/siokit/core/socketio"
	"github.com/siokit/siokit/core/socketio/manager"
)

// countingManager is a manager built as pub/sub managers are: it embeds
// the in-memory manager for local delivery and adds to what it does. A real
// one would relay Broadcast to the other processes here.
type countingManager struct {
	*manager.InMemory
	broadcasts *atomic.Int64
}

func (m countingManager) Broadcast(p *parser.Packet, opts *socketio.BroadcastOptions) {
	m.broadcasts.Add(1)
	m.InMemory.Broadcast(p, opts)
}

func ExampleNewInMemory() {
	var broadcasts atomic.Int64
	srv := socketio.NewServer(&socketio.Options{
		NewManager: func(nsp *socketio.Namespace) socketio.Manager {
			return countingManager{manager.NewInMemory(nsp), &broadcasts}
		},
	})
	defer func() { _ = srv.Close() }()

	_ = srv.Emit("news", "to every socket of /")
	_ = srv.To("room").Emit("news", "to one room")
	fmt.Println(broadcasts.Load(), "broadcasts")
	// Output: 2 broadcasts
}
