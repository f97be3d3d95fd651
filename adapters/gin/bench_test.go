package siogin_test

import (
	"testing"

	"github.com/siokit/siokit/core/siotest"
)

// BenchmarkRoundTrip measures an acknowledged Socket.IO event over
// WebSocket and over long-polling through a route group of the framework,
// the same work siotest.BenchmarkRoundTrip gives every adapter.
func BenchmarkRoundTrip(b *testing.B) { siotest.BenchmarkRoundTrip(b, serve(mountRoute)) }
