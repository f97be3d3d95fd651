package siofiber_test

import (
	"github.com/gofiber/fiber/v2"

	siofiber "github.com/siokit/siokit/adapters/fiber"
	"github.com/siokit/siokit/core/engineio"
)

func Example() {
	server := engineio.NewServer(nil) // or a Socket.IO server, or an app.App
	// Streamed request bodies and read, write and idle timeouts.
	a := fiber.New(siofiber.Config(fiber.Config{}))
	a.Get("/api/ping", func(c *fiber.Ctx) error { return c.SendString("pong") })

	// Either on a route next to the application's own:
	a.All("/engine.io/*", siofiber.Handler(server))

	// or, instead, as middleware in front of every route:
	//	a.Use(siofiber.Middleware(server))

	_ = a.Listen(":8000")
}
