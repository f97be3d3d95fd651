package siofiber_test

import (
	"github.com/gofiber/fiber/v2"

	siofiber "github.com/siokit/siokit/adapters/fiber"
	"github.com/siokit/siokit/core/engineio"
)

func Example() {
	server := engineio.NewServer(nil) // or a Socket.IO server, or an app.App
	// Streamed request bodies and read, write and idle timeouts.
	web := fiber.New(siofiber.Config(fiber.Config{}))
	web.Get("/api/ping", func(c *fiber.Ctx) error { return c.SendString("pong") })

	// Either on a route next to the application's own:
	web.All("/engine.io/*", siofiber.Handler(server))

	// or, instead, as middleware in front of every route:
	//	web.Use(siofiber.Middleware(server))

	_ = web.Listen(":8000")
}
