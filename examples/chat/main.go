// Command chat is a small browser chat built on siokit: nicknames, rooms and
// a typing notice. It serves its page and the official browser client
// through the App's static-file rules, next to the Socket.IO server. The
// chat itself lives in package chatserver, which the framework examples
// (examples/gin, examples/echo, ...) reuse.
//
// Run it from the repository root with `make run` (which installs the
// socket.io-client npm package first), then open http://127.0.0.1:8000/.
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/app"
	"github.com/siokit/siokit/examples/chat/chatserver"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "listen address")
	static := flag.String("static", "examples/chat/static", "directory of the chat page")
	client := flag.String("client", "node_modules/socket.io-client/dist", "directory of the socket.io-client browser bundle")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	chat, err := chatserver.New(log)
	if err != nil {
		log.Error("chat", "err", err)
		os.Exit(1)
	}
	handler := app.New(chat, &app.Options{Static: chatserver.StaticRules(*static, *client)})

	hs := &http.Server{Addr: *addr, Handler: siohttp.Handler(handler), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = chat.Close()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(shutdown)
	}()
	log.Info("chat listening", "url", "http://"+*addr+"/")
	if err := hs.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("server stopped", "err", err)
		os.Exit(1)
	}
}
