package sioecho_test

import (
	"net/http"

	"github.com/labstack/echo/v4"

	sioecho "github.com/siokit/siokit/adapters/echo"
	"github.com/siokit/siokit/core/engineio"
)

func Example() {
	server := engineio.NewServer(nil) // or a Socket.IO server, or an app.App
	e := echo.New()
	e.GET("/api/ping", func(c echo.Context) error { return c.String(http.StatusOK, "pong") })

	// Either on a route next to the application's own:
	e.Any("/engine.io/*", sioecho.Handler(server))

	// or, instead, as middleware in front of every route:
	//	e.Pre(sioecho.Middleware(server))

	_ = e.Start(":8000")
}
