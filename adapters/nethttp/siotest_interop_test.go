package siohttp_test

import (
	"testing"

	"github.com/siokit/siokit/core/siotest"
)

// TestSocketIOInterop runs the official JavaScript socket.io-client and
// python-socketio's Client against siohttp over polling, WebSocket and
// upgrade. It needs Node.js with the repository's node_modules and Debian's
// python3-socketio, which `make test` installs.
func TestSocketIOInterop(t *testing.T) {
	siotest.RunInterop(t, mount)
}

// TestSocketIOCloses checks that the official socket.io-client and
// python-socketio live through the server's closes through siohttp: a close
// during the upgrade, a server restart.
func TestSocketIOCloses(t *testing.T) {
	siotest.RunCloses(t, mount)
}
