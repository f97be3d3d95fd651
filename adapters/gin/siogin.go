// Package siogin mounts siokit on gin. [Handler] serves an engine (an
// Engine.IO server, a Socket.IO server or an
// [github.com/siokit/siokit/core/app.App]) on a route next to the
// application's own:
//
//	r.Any("/socket.io/*any", siogin.Handler(server))
//
// and [Middleware] serves every request the engine matches before gin routes
// it, passing the others on:
//
//	r.Use(siogin.Middleware(server)) // before the routes are added
//
// Requests go through siohttp, the net/http translation, unchanged: the
// engine sees the original URL path, so a route group must keep the engine's
// path (r.Group("/socket.io").Any("/*any", ...) is fine).
//
// # Shutdown
//
// Close the engine first, so every session ends with reason "server shutting
// down" and blocked long-polls return, then shut the HTTP server down:
//
//	server.Close()
//	httpServer.Shutdown(ctx)
package siogin

import (
	"net/http"

	"github.com/gin-gonic/gin"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/engineio"
)

// Handler returns a gin handler serving h. Mount it on h's path with a
// catch-all parameter, e.g. r.Any("/socket.io/*any", siogin.Handler(h)).
func Handler(h engineio.Handler) gin.HandlerFunc {
	return func(c *gin.Context) { serve(h, c) }
}

// Middleware returns gin middleware that answers the requests h matches and
// aborts the chain, and calls the next handler for every other request.
// Middleware added with Engine.Use also runs for unrouted paths, so the
// engine needs no route of its own.
func Middleware(h engineio.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !h.Match(c.Request.URL.EscapedPath()) { // as Request.Path
			c.Next()
			return
		}
		serve(h, c)
		c.Abort()
	}
}

// serve answers c with h. gin presets status 404 on the writer of an
// unrouted request before running the middleware; the engine counts on
// net/http's implicit 200, so the status is reset first (nothing is sent).
func serve(h engineio.Handler, c *gin.Context) {
	c.Status(http.StatusOK)
	siohttp.Serve(h, c.Writer, c.Request)
}

// Unwrap returns the *http.Request behind a request the engine received
// through this package. It panics on a request of another adapter.
func Unwrap(r engineio.Request) *http.Request { return siohttp.Unwrap(r) }

// gin's writer must reach the WebSocket handshake.
var _ http.Hijacker = gin.ResponseWriter(nil)
