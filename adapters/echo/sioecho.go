// Package sioecho mounts siokit on echo (v4). [Handler] serves an engine (an
// Engine.IO server, a Socket.IO server or an
// [github.com/siokit/siokit/core/app.App]) on a route next to the
// application's own:
//
//	e.Any("/socket.io/*", sioecho.Handler(server))
//
// and [Middleware] serves every request the engine matches and passes the
// others on:
//
//	e.Pre(sioecho.Middleware(server)) // or e.Use
//
// Requests go through siohttp, the net/http translation, unchanged: the
// engine sees the original URL path, so a group must keep the engine's path
// (e.Group("/socket.io").Any("/*", ...) is fine).
//
// # Shutdown
//
// Close the engine first, so every session ends with reason "server shutting
// down" and blocked long-polls return, then shut echo down:
//
//	server.Close()
//	e.Shutdown(ctx)
package sioecho

import (
	"net/http"

	"github.com/labstack/echo/v4"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/engineio"
)

// Handler returns an echo handler serving h. Mount it on h's path with a
// wildcard, e.g. e.Any("/socket.io/*", sioecho.Handler(h)).
func Handler(h engineio.Handler) echo.HandlerFunc {
	return func(c echo.Context) error {
		siohttp.Serve(h, c.Response(), c.Request())
		return nil
	}
}

// Middleware returns echo middleware that answers the requests h matches and
// calls the next handler for every other request. Registered with Echo.Pre it
// runs before routing; with Echo.Use it also runs for unrouted paths, so the
// engine needs no route of its own either way.
func Middleware(h engineio.Handler) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !h.Match(c.Request().URL.EscapedPath()) { // as Request.Path
				return next(c)
			}
			siohttp.Serve(h, c.Response(), c.Request())
			return nil
		}
	}
}

// Unwrap returns the *http.Request behind a request the engine received
// through this package. It panics on a request of another adapter.
func Unwrap(r engineio.Request) *http.Request { return siohttp.Unwrap(r) }

// echo's response must reach the WebSocket handshake.
var _ http.Hijacker = (*echo.Response)(nil)
