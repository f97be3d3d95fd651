package socketio_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"regexp"
	"time"

	"github.com/siokit/siokit/core/socketio"
)

// A server with a connect handler that reads the client's auth, and an event
// whose return value acknowledges it. Mount it with an adapter, for example
// http.ListenAndServe(":8080", siohttp.Handler(srv)) with
// github.com/siokit/siokit/adapters/nethttp.
func ExampleNewServer() {
	srv := socketio.NewServer(&socketio.Options{ConnectTimeout: 10 * time.Second})
	defer func() { _ = srv.Close() }()

	srv.OnConnect(func(s *socketio.Socket) error {
		var auth struct{ Token string }
		if err := s.Handshake().DecodeAuth(&auth); err != nil || auth.Token == "" {
			return socketio.NewConnectError("not authorized", map[string]any{"retry": false})
		}
		s.Join("lobby")
		return nil
	})
	srv.OnDisconnect(func(s *socketio.Socket, reason string) {
		log.Printf("%s left: %s", s.ID(), reason)
	})
	if err := srv.On("ping", func() string { return "pong" }); err != nil {
		log.Fatal(err)
	}
	fmt.Println(srv.Match("/socket.io/"))
	// Output: true
}

// Handlers take typed arguments, decoded from the event's JSON ([]byte
// receives a binary attachment); their results acknowledge the event. A
// handler with an AckFunc parameter acknowledges when it chooses to.
func ExampleNamespace_On() {
	srv := socketio.NewServer(nil)
	defer func() { _ = srv.Close() }()
	chat := srv.Of("/chat")

	type message struct {
		Room string `json:"room"`
		Text string `json:"text"`
	}
	_ = chat.On("add", func(a, b int) int { return a + b })
	_ = chat.On("say", func(s *socketio.Socket, m message) error {
		return s.To(m.Room).Emit("said", s.ID(), m.Text)
	})
	_ = chat.On("upload", func(s *socketio.Socket, name string, data []byte, ack socketio.AckFunc) {
		go func() { _ = ack(name, len(data)) }()
	})

	err := chat.On("bad", 42)
	fmt.Println(errors.Is(err, socketio.ErrBadHandler))
	// Output: true
}

// EmitWithAck waits for the client's acknowledgement. Do not wait for it in
// the connect handler itself: start a goroutine.
func ExampleSocket_EmitWithAck() {
	srv := socketio.NewServer(nil)
	defer func() { _ = srv.Close() }()
	srv.OnConnect(func(s *socketio.Socket) error {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			res, err := s.EmitWithAck(ctx, "question", "ready?")
			switch {
			case errors.Is(err, socketio.ErrTimeout):
				log.Printf("%s did not answer", s.ID())
			case err != nil:
				log.Printf("%s: %v", s.ID(), err)
			default:
				var answer string
				if err := res.Decode(&answer); err == nil {
					log.Printf("%s answered %q", s.ID(), answer)
				}
			}
		}()
		return nil
	})
}

// A dynamic namespace: a client connecting to /workspace-42 gets a child
// namespace created on first use, with the parent's handlers. Emitting on
// the parent reaches every child.
func ExampleServer_OfRegexp() {
	srv := socketio.NewServer(nil)
	defer func() { _ = srv.Close() }()
	workspaces := srv.OfRegexp(regexp.MustCompile(`^/workspace-\d+$`))
	workspaces.OnConnect(func(s *socketio.Socket) error {
		log.Printf("%s joined %s", s.ID(), s.Namespace().Name())
		return nil
	})
	if err := workspaces.Emit("maintenance", "at noon"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(workspaces.Children()))
	// Output: 0
}

// Registration refuses what can never work; Must turns the refusal into a
// panic at startup, as http.ServeMux does for a bad pattern.
func ExampleMust() {
	srv := socketio.NewServer(nil)
	defer func() { _ = srv.Close() }()
	socketio.Must(srv.On("chat", func(s *socketio.Socket, msg string) string { return msg }))

	err := srv.On("connect", func(s *socketio.Socket) {}) // also logged at Error
	fmt.Println(errors.Is(err, socketio.ErrReservedEvent))
	err = srv.On("work", func(ctx context.Context, job string) {})
	fmt.Println(errors.Is(err, socketio.ErrBadHandler))
	// Output:
	// true
	// true
}
