// Command siozmqforwarder is the ZeroMQ forwarder of a siozmq (and
// python-socketio ZmqManager) cluster: it binds a PULL socket, where every
// server PUSHes its messages, and a PUB socket, where every server
// subscribes, and publishes what it pulls. It prints "LISTENING
// zmq+tcp://HOST:PULL+PUB", the URL to give siozmq.Dial and ZmqManager, and
// runs until interrupted or, with -stdin, until its standard input ends.
//
//	siozmqforwarder -host 127.0.0.1 -pull 5555 -pub 5556
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	siozmq "github.com/siokit/siokit/managers/zmq"
)

func main() {
	host := flag.String("host", "127.0.0.1", "address to bind")
	pull := flag.Int("pull", 5555, "port of the PULL socket (0 picks a free one)")
	pub := flag.Int("pub", 5556, "port of the PUB socket (0 picks a free one)")
	stdin := flag.Bool("stdin", false, "also stop when standard input ends")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *stdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}
	ep := func(port int) string { return "tcp://" + net.JoinHostPort(*host, fmt.Sprint(port)) }
	err := siozmq.Forward(ctx, ep(*pull), ep(*pub), func(pullAddr, pubAddr string) {
		_, pubPort, _ := net.SplitHostPort(pubAddr)
		fmt.Printf("LISTENING zmq+tcp://%s+%s\n", pullAddr, pubPort)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
