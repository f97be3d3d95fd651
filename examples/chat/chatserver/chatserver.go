// Package chatserver is the chat of examples/chat as a reusable piece: the
// Socket.IO server (nicknames, rooms, a typing notice), a short history of
// recent messages, server-side announcements, and the static-file rules that
// serve the chat page and the official browser client. The framework
// examples (examples/gin, examples/echo, ...) mount it next to their own
// routes.
package chatserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/siokit/siokit/core/app"
	"github.com/siokit/siokit/core/socketio"
)

// historySize is how many recent messages [Chat.Recent] returns at most.
const historySize = 50

// ErrEmptyText is returned by [Chat.Announce] for a blank text.
var ErrEmptyText = errors.New("chatserver: empty text")

// Message is one chat line as the page receives it.
type Message struct {
	Nick string `json:"nick"`
	Text string `json:"text"`
	Room string `json:"room"`
	Time int64  `json:"time"`
}

// Chat is the chat's Socket.IO server. It embeds the [socketio.Server], so it
// mounts on any adapter, wraps in an [app.App] and closes like the server
// alone. All methods are safe for concurrent use.
type Chat struct {
	*socketio.Server

	mu     sync.Mutex
	recent []Message // oldest first, at most historySize
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

// New returns the chat's Socket.IO server, logging to log. A socket's
// nickname and room live in its session.
func New(log *slog.Logger) (*Chat, error) {
	c := &Chat{Server: socketio.NewServer(&socketio.Options{Logger: log})}
	nsp := c.Of("/")
	nick := func(s *socketio.Socket) string {
		if n, _ := s.Session()["nick"].(string); n != "" {
			return n
		}
		return "anonymous"
	}
	room := func(s *socketio.Socket) string { r, _ := s.Session()["room"].(string); return r }
	system := func(r, text string) { _ = c.emit(r, "system", text) }

	err := errors.Join(
		nsp.On("nick", func(s *socketio.Socket, name string) (string, error) {
			name = strings.TrimSpace(name)
			if name == "" || len(name) > 32 {
				return "", errors.New("a nickname has 1 to 32 characters")
			}
			s.UpdateSession(func(m map[string]any) { m["nick"] = name })
			return name, nil
		}),
		nsp.On("join", func(s *socketio.Socket, r string) (string, error) {
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
		}),
		nsp.On("message", func(s *socketio.Socket, text string) error {
			r := room(s)
			if r == "" {
				return errors.New("join a room first")
			}
			if text = strings.TrimSpace(text); text == "" {
				return nil
			}
			return c.emit(r, nick(s), text)
		}),
		nsp.On("typing", func(s *socketio.Socket, typing bool) {
			if r := room(s); r != "" {
				_ = s.To(r).Volatile().Emit("typing", map[string]any{"nick": nick(s), "typing": typing})
			}
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("chatserver: register handlers: %w", err)
	}
	nsp.OnDisconnect(func(s *socketio.Socket, _ string) {
		if r := room(s); r != "" {
			system(r, nick(s)+" left")
		}
	})
	return c, nil
}

// Announce sends text as a system message to every connected page, whatever
// its room, and returns the message sent. It is how a REST handler talks to
// the chat.
func (c *Chat) Announce(text string) (Message, error) {
	if text = strings.TrimSpace(text); text == "" {
		return Message{}, ErrEmptyText
	}
	m := c.record("system", text, "")
	if err := c.Emit("message", m); err != nil {
		return m, fmt.Errorf("chatserver: announce: %w", err)
	}
	return m, nil
}

// Recent returns the last messages (at most 50), oldest first.
func (c *Chat) Recent() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Message, len(c.recent))
	copy(out, c.recent)
	return out
}

// Clients returns how many sockets are connected to the chat.
func (c *Chat) Clients() int { return len(c.Of("/").Sockets()) }

// emit records a message from nick and sends it to room.
func (c *Chat) emit(room, nick, text string) error {
	return c.To(room).Emit("message", c.record(nick, text, room))
}

// record adds a message to the history and returns it.
func (c *Chat) record(nick, text, room string) Message {
	m := Message{Nick: nick, Text: text, Room: room, Time: time.Now().UnixMilli()}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.recent) == historySize {
		c.recent = append(c.recent[:0], c.recent[1:]...)
	}
	c.recent = append(c.recent, m)
	return m
}

// WriteJSON answers with status and v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// The REST routes of the examples, as net/http handlers (the chi and
// net/http examples mount them; the others show their framework's own).

// ServeHealth answers GET /api/health: {"status":"ok","clients":N}.
func (c *Chat) ServeHealth(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]any{"status": "ok", "clients": c.Clients()})
}

// ServeMessages answers GET /api/messages with the recent messages.
func (c *Chat) ServeMessages(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, c.Recent())
}

// ServeAnnounce answers POST /api/announce {"text":...}: the announcement
// sent to everyone, 400 for a bad body or an empty text.
func (c *Chat) ServeAnnounce(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Text string `json:"text"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
		WriteJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	m, err := c.Announce(req.Text)
	switch {
	case errors.Is(err, ErrEmptyText):
		WriteJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	case err != nil:
		WriteJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
	default:
		WriteJSON(w, http.StatusOK, m)
	}
}
