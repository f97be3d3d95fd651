// Package eiotest is the scenario kit that holds every siokit adapter to the
// same Engine.IO v4 behaviour.
//
// An adapter's test provides a [Mount], a function that serves an
// [engineio.Handler] on a real loopback server, and calls [Run]:
//
//	func TestEngineIO(t *testing.T) {
//		eiotest.Run(t, func(t testing.TB, h engineio.Handler) string {
//			ts := httptest.NewServer(siohttp.Handler(h))
//			t.Cleanup(ts.Close)
//			return ts.URL
//		})
//	}
//
// Run creates servers with [engineio.NewServer] and varied options and drives
// them with raw HTTP requests (net/http) and raw WebSocket frames
// (gorilla/websocket), never through a Go Engine.IO client: the handshake,
// long-polling, WebSocket, the upgrade, binary payloads, the heartbeat, close
// packets, every error code, CORS, limits and concurrent sessions. Every
// scenario ends with a goroutine-leak check (go.uber.org/goleak).
//
// [RunClientInterop] runs the official JavaScript engine.io-client against
// the same mount, and [RunNode] runs any Node.js script with the repository's
// node_modules.
//
// # Caveats
//
// The leak check compares the goroutines at the end of each scenario with
// those at its start, so Run must not run in parallel with other tests of
// the same process (do not call t.Parallel around it).
package eiotest

import (
	"testing"

	"github.com/siokit/siokit/core/engineio"
)

// Mount starts a real loopback server that serves h and returns its base
// URL, such as "http://127.0.0.1:41234" (no trailing slash, no path). The
// server must serve every path under h's path, answer WebSocket upgrades, and
// be shut down by a cleanup registered with t.Cleanup.
type Mount func(t testing.TB, h engineio.Handler) (baseURL string)

// scenario is one end-to-end behaviour the engine must show through a mount.
type scenario struct {
	name string
	run  func(t *testing.T, mount Mount)
}

// Run runs the scenario table as subtests, each against a fresh server
// mounted with mount.
func Run(t *testing.T, mount Mount) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, mount) })
	}
}
