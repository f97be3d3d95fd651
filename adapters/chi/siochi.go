// Package siochi mounts siokit on chi. [Handler] serves an engine (an
// Engine.IO server, a Socket.IO server or an
// [github.com/siokit/siokit/core/app.App]) on the engine's path next to the
// application's own routes:
//
//	r.Mount("/socket.io", siochi.Handler(server))
//
// and [Middleware] serves every request the engine matches before chi routes
// it, passing the others on:
//
//	r.Use(siochi.Middleware(server)) // before the routes are added
//
// Requests go through siohttp, the net/http translation, unchanged. chi's
// Mount does not strip the prefix from the URL, so the engine still sees its
// own path; a sub-router mounted elsewhere must keep it too.
//
// # Shutdown
//
// Close the engine first, so every session ends with reason "server shutting
// down" and blocked long-polls return, then shut the HTTP server down:
//
//	server.Close()
//	httpServer.Shutdown(ctx)
package siochi

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/engineio"
)

// Handler returns an http.Handler serving h, for chi's Router.Mount on h's
// path or Router.Handle with a trailing wildcard ("/socket.io/*").
func Handler(h engineio.Handler) http.Handler { return siohttp.Handler(h) }

// Middleware returns chi middleware that answers the requests h matches and
// hands every other request to the next handler. Middleware added with
// Router.Use runs before routing, so the engine needs no route of its own.
func Middleware(h engineio.Handler) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler { return siohttp.Middleware(h, next) }
}

// Unwrap returns the *http.Request behind a request the engine received
// through this package. It panics on a request of another adapter. chi's
// route context is available from it with chi.RouteContext(r.Context()).
func Unwrap(r engineio.Request) *http.Request { return siohttp.Unwrap(r) }

// Middleware fits chi's middleware stack.
var _ chi.Middlewares = chi.Middlewares{Middleware(nil)}
