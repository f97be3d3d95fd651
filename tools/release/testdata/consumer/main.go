// Command consumer is what `make release-check` builds and tests outside the
// repository's workspace, against siokit's modules served at the versions
// about to be tagged: a service that mounts one Socket.IO server, whose
// rooms go through Redis, on gin and on Fiber.
package main

import (
	"context"
	"errors"
	"log"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	siofiber "github.com/siokit/siokit/adapters/fiber"
	siogin "github.com/siokit/siokit/adapters/gin"
	"github.com/siokit/siokit/core/socketio"
	sioredis "github.com/siokit/siokit/managers/redis"
)

// newServer returns the Socket.IO server: "echo" acknowledges its text.
func newServer(rdb redis.UniversalClient) (*socketio.Server, error) {
	sio := socketio.NewServer(&socketio.Options{NewManager: sioredis.New(rdb, nil)})
	err := sio.On("echo", func(text string) string { return text })
	return sio, err
}

// ginRouter serves sio beside a REST route.
func ginRouter(sio *socketio.Server) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/api/health", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	r.Any("/socket.io/*any", siogin.Handler(sio))
	return r
}

// fiberApp serves sio beside a REST route.
func fiberApp(sio *socketio.Server) *fiber.App {
	a := fiber.New(siofiber.Config(fiber.Config{DisableStartupMessage: true}))
	a.Get("/api/health", func(c *fiber.Ctx) error { return c.SendString("ok") })
	a.All("/socket.io/*", siofiber.Handler(sio))
	return a
}

func main() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer func() { _ = rdb.Close() }()
	sio, err := newServer(rdb)
	if err != nil {
		log.Fatal(err)
	}
	hs := &http.Server{Addr: "127.0.0.1:8000", Handler: ginRouter(sio), ReadHeaderTimeout: 10 * time.Second}
	a := fiberApp(sio)
	go func() {
		if err := hs.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
			log.Print(err)
		}
	}()
	go func() { _ = a.Listen("127.0.0.1:8001") }()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	_ = sio.Close()
	_ = hs.Shutdown(context.Background())
	_ = a.Shutdown()
}
