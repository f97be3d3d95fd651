// Command gin is a small gin service with siokit in front of it:
// siogin.Middleware answers the Socket.IO path and the chat page before gin
// routes the request, and passes every other request on to gin's own routes
// (GET /api/health, GET /api/messages, POST /api/announce).
//
// Run it from the repository root (the chat page needs the browser client:
// `make deps` or `npm ci` first), then open http://127.0.0.1:8000/:
//
//	go run ./examples/gin -addr 127.0.0.1:8000
package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"

	"github.com/gin-gonic/gin"

	siogin "github.com/siokit/siokit/adapters/gin"
	"github.com/siokit/siokit/core/app"
	"github.com/siokit/siokit/examples/chat/chatserver"
)

func main() { chatserver.Main("gin", run) }

// run serves the service on ln until ctx is done, then closes the chat and
// shuts the HTTP server down.
func run(ctx context.Context, ln net.Listener, static []app.StaticRule, log *slog.Logger) error {
	chat, err := chatserver.New(log)
	if err != nil {
		return err
	}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery())

	// siokit in front of gin's routes: the Socket.IO path and the chat page.
	r.Use(siogin.Middleware(app.New(chat, &app.Options{Static: static})))

	api := r.Group("/api")
	api.GET("/health", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"status": "ok", "clients": chat.Clients()})
	})
	api.GET("/messages", func(c *gin.Context) { c.JSON(http.StatusOK, chat.Recent()) })
	api.POST("/announce", func(c *gin.Context) {
		var req struct {
			Text string `json:"text"`
		}
		if err := c.ShouldBindJSON(&req); err != nil {
			c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
			return
		}
		m, err := chat.Announce(req.Text)
		switch {
		case errors.Is(err, chatserver.ErrEmptyText):
			c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
		case err != nil:
			c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
		default:
			c.JSON(http.StatusOK, m)
		}
	})

	return chat.Serve(ctx, ln, r)
}
