package siochi_test

import (
	"io"
	"net/http"

	"github.com/go-chi/chi/v5"

	siochi "github.com/siokit/siokit/adapters/chi"
	"github.com/siokit/siokit/core/engineio"
)

func Example() {
	server := engineio.NewServer(nil) // or a Socket.IO server, or an app.App
	r := chi.NewRouter()

	// Either as middleware in front of every route (add it first):
	r.Use(siochi.Middleware(server))

	// or, instead, mounted on its path next to the application's routes:
	//	r.Mount("/engine.io", siochi.Handler(server))

	r.Get("/api/ping", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "pong") })
	_ = http.ListenAndServe(":8000", r)
}
