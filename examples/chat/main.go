// Command chat is a small browser chat built on siokit: nicknames, rooms and
// a typing notice. It serves its page and the official browser client
// through the App's static-file rules, next to the Socket.IO server.
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
	"path/filepath"
	"strings"
	"syscall"
	"time"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/app"
	"github.com/siokit/siokit/core/socketio"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "listen address")
	static := flag.String("static", "examples/chat/static", "directory of the chat page")
	client := flag.String("client", "node_modules/socket.io-client/dist", "directory of the socket.io-client browser bundle")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	srv := NewChat(log)
	handler := app.New(srv, &app.Options{Static: StaticRules(*static, *client)})

	hs := &http.Server{Addr: *addr, Handler: siohttp.Handler(handler), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
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

// StaticRules returns the chat's static-file rules: the page at /, its
// script and style sheet under /static/ from staticDir, and the official
// browser client under /vendor/ from clientDir (socket.io-client's dist).
func StaticRules(staticDir, clientDir string) []app.StaticRule {
	return []app.StaticRule{
		app.File("/", filepath.Join(staticDir, "index.html")),
		app.Dir("/static", staticDir),
		app.Dir("/vendor", clientDir),
	}
}

// Message is one chat line as the page receives it.
type Message struct {
	Nick string `json:"nick"`
	Text string `json:"text"`
	Room string `json:"room"`
	Time int64  `json:"time"`
}

// NewChat returns the chat's Socket.IO server. A socket's nickname and room
// live in its session.
func NewChat(log *slog.Logger) *socketio.Server {
	srv := socketio.NewServer(&socketio.Options{Logger: log})
	nsp := srv.Of("/")
	must := func(err error) {
		if err != nil {
			log.Error("bad handler", "err", err)
			os.Exit(1)
		}
	}
	nick := func(s *socketio.Socket) string {
		if n, _ := s.Session()["nick"].(string); n != "" {
			return n
		}
		return "anonymous"
	}
	room := func(s *socketio.Socket) string { r, _ := s.Session()["room"].(string); return r }
	system := func(r, text string) {
		_ = nsp.To(r).Emit("message", Message{Nick: "system", Text: text, Room: r, Time: time.Now().UnixMilli()})
	}

	must(nsp.On("nick", func(s *socketio.Socket, name string) (string, error) {
		name = strings.TrimSpace(name)
		if name == "" || len(name) > 32 {
			return "", errors.New("a nickname has 1 to 32 characters")
		}
		s.UpdateSession(func(m map[string]any) { m["nick"] = name })
		return name, nil
	}))
	must(nsp.On("join", func(s *socketio.Socket, r string) (string, error) {
		r = strings.TrimSpace(r)
		if r == "" || len(r) > 32 {
			return "", errors.New("a room name has 1 to 32 characters")
		}
		if old := room(s); old != "" && old != r {
			s.Leave(old)
			system(old, nick(s)+" left")
		}
		s.UpdateSession(func(m map[string]any) { m["room"] = r })
		s.Join(r)
		system(r, nick(s)+" joined")
		return r, nil
	}))
	must(nsp.On("message", func(s *socketio.Socket, text string) error {
		r := room(s)
		if r == "" {
			return errors.New("join a room first")
		}
		if text = strings.TrimSpace(text); text == "" {
			return nil
		}
		return nsp.To(r).Emit("message", Message{Nick: nick(s), Text: text, Room: r, Time: time.Now().UnixMilli()})
	}))
	must(nsp.On("typing", func(s *socketio.Socket, typing bool) {
		if r := room(s); r != "" {
			_ = s.To(r).Volatile().Emit("typing", map[string]any{"nick": nick(s), "typing": typing})
		}
	}))
	nsp.OnDisconnect(func(s *socketio.Socket, _ string) {
		if r := room(s); r != "" {
			system(r, nick(s)+" left")
		}
	})
	return srv
}
