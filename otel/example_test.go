package siootel_test

import (
	"net/http"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/socketio"
	siootel "github.com/siokit/siokit/otel"
)

func Example() {
	// With the global TracerProvider (otel.SetTracerProvider) and the W3C
	// trace context.
	srv := socketio.NewServer(&socketio.Options{Hooks: siootel.Hooks(nil)})
	defer func() { _ = srv.Close() }()
	http.Handle("/socket.io/", siohttp.Handler(srv))
}
