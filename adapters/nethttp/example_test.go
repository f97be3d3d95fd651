package siohttp_test

import (
	"net/http"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/engineio"
)

func Example() {
	srv := engineio.NewServer(nil)
	srv.OnConnection = func(s *engineio.Session) {
		s.OnMessage(func(data []byte, binary bool) { _ = s.Send(data, binary) })
	}

	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir("static")))

	// The one-line mount: /engine.io/ goes to the engine, the rest to mux.
	_ = http.ListenAndServe("127.0.0.1:8080", siohttp.Middleware(srv, mux))
}
