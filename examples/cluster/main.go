// Command cluster shows a Socket.IO broadcast crossing three server
// processes that share one Redis through sioredis.
//
// Without -serve it is the demo: it starts itself three times as servers on
// ports 3001-3003, connects one client to each, has the client of the first
// server ask for a broadcast, prints what every client receives, then stops
// everything. With -serve ADDR it is one server of the cluster:
//
//	go run ./examples/cluster -serve 127.0.0.1:3001 &
//	go run ./examples/cluster -serve 127.0.0.1:3002 &
//
// A client emitting "shout" with a text makes its server broadcast
// "shouted" with the text and the server's address to every client of the
// cluster.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/parser"
	"github.com/siokit/siokit/core/socketio"
	siopubsub "github.com/siokit/siokit/managers/pubsub"
	sioredis "github.com/siokit/siokit/managers/redis"
)

func main() {
	serve := flag.String("serve", "", "run one server on this address (host:port)")
	redisAddr := flag.String("redis", "127.0.0.1:6379", "Redis address")
	key := flag.String("key", "siokit-cluster-example", "channel prefix shared by the servers")
	flag.Parse()
	log.SetFlags(0)
	if *serve != "" {
		if err := runServer(*serve, *redisAddr, *key); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := demo(*redisAddr, *key); err != nil {
		log.Fatal(err)
	}
}

// runServer serves one member of the cluster until SIGINT or SIGTERM.
func runServer(addr, redisAddr, key string) error {
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer func() { _ = rdb.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis at %s: %w (make deps starts one)", redisAddr, err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := socketio.NewServer(&socketio.Options{
		NewManager: sioredis.New(rdb, &sioredis.Options{Key: key, Logger: logger}),
		Logger:     logger,
	})
	err := srv.On("shout", func(s *socketio.Socket, text string) error {
		return srv.Emit("shouted", text, addr)
	})
	if err != nil {
		return err
	}
	hs := &http.Server{
		Addr:              addr,
		Handler:           siohttp.Handler(srv),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       40 * time.Second, // above the 25 s ping interval, the longest a long-poll waits
		WriteTimeout:      40 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	shutdownDone := make(chan error, 1)
	go func() {
		<-stop
		_ = srv.Close() // the engine first: sessions end, pending long-polls return
		shutdown, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		shutdownDone <- hs.Shutdown(shutdown)
	}()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if m, ok := srv.Of("/").Manager().(*siopubsub.Manager); ok {
		<-m.Ready() // subscribed: broadcasts from the others reach this server
	}
	fmt.Printf("listening %s\n", addr)
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return <-shutdownDone // Serve returns as Shutdown starts: wait for it to end
}

// demo starts three servers and a client on each.
func demo(redisAddr, key string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	addrs := []string{"127.0.0.1:3001", "127.0.0.1:3002", "127.0.0.1:3003"}
	for _, addr := range addrs {
		cmd := exec.Command(self, "-serve", addr, "-redis", redisAddr, "-key", key) //nolint:gosec // G204: starts this program's own binary (os.Executable) as a cluster member; the flags are its own
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		defer func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}()
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			return fmt.Errorf("server %s did not start", addr)
		}
		fmt.Printf("server pid %d: %s", cmd.Process.Pid, line)
	}
	got := make(chan string, 16)
	var clients []*engineio.Client
	for _, addr := range addrs {
		c, err := connect(addr, got)
		if err != nil {
			return err
		}
		defer func() { _ = c.Close() }()
		clients = append(clients, c)
	}
	fmt.Printf("client of %s emits shout(\"hello, cluster\")\n", addrs[0])
	data, _, _ := parser.EncodeEvent(nil, "shout", []any{"hello, cluster"})
	p := &parser.Packet{Type: parser.Event, Data: data}
	if err := clients[0].Send(p.Append(nil), false); err != nil {
		return err
	}
	for range addrs {
		select {
		case s := <-got:
			fmt.Println(s)
		case <-time.After(5 * time.Second):
			return errors.New("a client did not receive the broadcast")
		}
	}
	fmt.Println("the broadcast crossed all three servers")
	return nil
}

// connect opens a Socket.IO client (namespace "/") on addr over WebSocket
// and reports each "shouted" event it receives to got.
func connect(addr string, got chan<- string) (*engineio.Client, error) {
	connected := make(chan struct{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := engineio.Dial(ctx, "http://"+addr, &engineio.ClientOptions{
		Path:       socketio.DefaultPath,
		Transports: []string{engineio.TransportWebSocket},
		OnMessage: func(data []byte, _ bool) {
			var dec parser.Decoder
			p, err := dec.Decode(data, false)
			if err != nil || p == nil {
				return
			}
			switch p.Type {
			case parser.Connect:
				close(connected)
			case parser.Event:
				name, args, err := parser.ParseEvent(p.Data)
				if err != nil || name != "shouted" || len(args) < 2 {
					return
				}
				var text, from string
				_ = json.Unmarshal(args[0], &text)
				_ = json.Unmarshal(args[1], &from)
				got <- fmt.Sprintf("client of %s received %q broadcast by %s", addr, text, strings.TrimSpace(from))
			}
		},
	})
	if err != nil {
		return nil, err
	}
	if err := c.Send([]byte("0"), false); err != nil {
		return nil, err
	}
	select {
	case <-connected:
		return c, nil
	case <-time.After(5 * time.Second):
		_ = c.Close()
		return nil, fmt.Errorf("no CONNECT answer from %s", addr)
	}
}
