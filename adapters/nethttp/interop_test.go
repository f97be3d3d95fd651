package siohttp_test

import (
	"testing"

	"github.com/siokit/siokit/core/eiotest"
)

// TestEngineIOClientInterop runs the official JavaScript engine.io-client
// against siohttp over polling, WebSocket and upgrade. It needs Node.js and
// the repository's node_modules, which `make test` installs.
func TestEngineIOClientInterop(t *testing.T) {
	eiotest.RunClientInterop(t, mount)
}
