package siogin_test

import (
	"github.com/gin-gonic/gin"

	siogin "github.com/siokit/siokit/adapters/gin"
	"github.com/siokit/siokit/core/engineio"
)

func Example() {
	server := engineio.NewServer(nil) // or a Socket.IO server, or an app.App
	r := gin.New()
	r.GET("/api/ping", func(c *gin.Context) { c.String(200, "pong") })

	// Either on a route next to the application's own:
	r.Any("/engine.io/*any", siogin.Handler(server))

	// or, instead, as middleware in front of every route (add it first):
	//	r.Use(siogin.Middleware(server))

	_ = r.Run(":8000")
}
