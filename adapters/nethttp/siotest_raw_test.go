package siohttp_test

import (
	"testing"

	"github.com/siokit/siokit/core/siotest"
)

// TestSocketIORaw runs the Socket.IO raw-frame scenarios through siohttp.
func TestSocketIORaw(t *testing.T) {
	siotest.RunRaw(t, mount)
}
