package siohttp_test

import (
	"testing"

	"github.com/siokit/siokit/core/siotest"
)

// TestSocketIOClient runs the Go Socket.IO client scenarios against the Go
// server served through siohttp.
func TestSocketIOClient(t *testing.T) {
	siotest.RunClient(t, mount)
}
