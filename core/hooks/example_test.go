package hooks_test

import (
	"fmt"
	"sync/atomic"

	"github.com/siokit/siokit/core/hooks"
	"github.com/siokit/siokit/core/socketio"
)

func Example() {
	var events atomic.Int64
	counter := &hooks.Hooks{
		PacketIn: func(p hooks.Packet) {
			if p.Event != "" {
				events.Add(1)
			}
		},
	}
	logger := &hooks.Hooks{Error: func(kind string, err error) { fmt.Println(kind, err) }}
	srv := socketio.NewServer(&socketio.Options{Hooks: hooks.Merge(counter, logger)})
	defer func() { _ = srv.Close() }()
	fmt.Println(srv.Hooks().PacketIn != nil, srv.Hooks().AckLatency != nil)
	// Output: true false
}
