// Command quickstart is a gin service with REST routes and Socket.IO beside them.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	siogin "github.com/siokit/siokit/adapters/gin"
	"github.com/siokit/siokit/core/socketio"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "listen address")
	flag.Parse()

	sio := socketio.NewServer(nil)
	err := sio.On("chat", func(s *socketio.Socket, text string) string {
		_ = s.Broadcast().Emit("chat", s.ID(), text) // to every other client
		return "got " + text                         // the acknowledgement
	})
	if err != nil {
		log.Fatal(err)
	}

	r := gin.Default()
	r.GET("/api/clients", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"clients": len(sio.Of("/").Sockets())})
	})
	r.POST("/api/announce", func(c *gin.Context) {
		_ = sio.Emit("announce", c.PostForm("text")) // to every client
		c.Status(http.StatusNoContent)
	})
	r.Any("/socket.io/*any", siogin.Handler(sio)) // the wildcard is required

	hs := &http.Server{
		Addr:              *addr,
		Handler:           r,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       40 * time.Second, // above the 25 s ping interval: a long-poll waits up to it
		WriteTimeout:      40 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	go func() {
		if err := hs.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
			log.Fatal(err)
		}
	}()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	_ = sio.Close() // first: sessions end and pending long-polls return
	shutdown, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil { // then HTTP, waiting for its requests
		log.Print(err)
	}
}
