package main

import (
	"github.com/gofiber/fiber/v2"

	siofiber "github.com/siokit/siokit/adapters/fiber"
)

func init() { goServers["siofiber"] = serveSiofiber }

// serveSiofiber serves the bench contract through Fiber on fasthttp.
func serveSiofiber(addr string) error {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.All("/socket.io/*", siofiber.Handler(newBenchServer()))
	return app.Listen(addr)
}
