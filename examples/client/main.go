// Command client is a command-line chat client for examples/chat, built on
// the Go Socket.IO client: it takes a nickname, joins a room, sends each
// line read from standard input and prints the room's messages. It
// reconnects by itself (and joins again) when the connection drops.
//
//	go run ./examples/chat &
//	go run ./examples/client -nick ada -room lobby
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/siokit/siokit/core/socketio"
)

// Message is one chat line, as examples/chat sends it.
type Message struct {
	Nick string `json:"nick"`
	Text string `json:"text"`
	Room string `json:"room"`
	Time int64  `json:"time"`
}

func main() {
	url := flag.String("url", "http://127.0.0.1:8000", "chat server URL")
	nick := flag.String("nick", "gopher", "nickname")
	room := flag.String("room", "lobby", "room to join")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *url, *nick, *room); err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url, nick, room string) error {
	c := socketio.NewClient(url, nil)
	defer func() { _ = c.Close(); <-c.Done() }()

	_ = c.On("message", func(m Message) {
		fmt.Printf("%s [%s] %s: %s\n", time.UnixMilli(m.Time).Format("15:04:05"), m.Room, m.Nick, m.Text)
	})
	c.OnConnect(func() {
		// A new connection has a new session: name ourselves and join again.
		for _, step := range [][2]string{{"nick", nick}, {"join", room}} {
			if err := call(ctx, c, step[0], step[1]); err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", step[0], err)
			}
		}
	})
	c.OnDisconnect(func(reason string) { fmt.Fprintln(os.Stderr, "disconnected:", reason) })
	c.OnReconnectAttempt(func(n int) { fmt.Fprintln(os.Stderr, "reconnecting, attempt", n) })

	connectCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.Connect(connectCtx); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "connected to %s as %s in %s; type messages, Ctrl-D to quit\n", url, nick, room)

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				return nil
			}
			if err := c.Emit("message", line); err != nil {
				return err
			}
		case <-c.Done():
			return errors.New("the server ended the connection")
		case <-ctx.Done():
			return nil
		}
	}
}

// call emits event with arg and turns the server's {"message": ...} answer
// into an error.
func call(ctx context.Context, c *socketio.Client, event, arg string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	r, err := c.Call(ctx, event, arg)
	if err != nil {
		return err
	}
	var refusal struct {
		Message string `json:"message"`
	}
	if r.Len() > 0 && len(r.Args[0]) > 0 && r.Args[0][0] == '{' && json.Unmarshal(r.Args[0], &refusal) == nil && refusal.Message != "" {
		return errors.New(refusal.Message)
	}
	return nil
}
