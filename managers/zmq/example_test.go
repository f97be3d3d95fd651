package siozmq_test

import (
	"context"
	"log"

	"github.com/siokit/siokit/core/socketio"
	siopubsub "github.com/siokit/siokit/managers/pubsub"
	siozmq "github.com/siokit/siokit/managers/zmq"
)

// A server on a ZeroMQ forwarder (cmd/siozmqforwarder, or Forward in a
// process of its own) shared with python-socketio servers using
// ZmqManager("zmq+tcp://127.0.0.1:5555+5556").
func ExampleNew() {
	b, err := siozmq.Dial(context.Background(), "zmq+tcp://127.0.0.1:5555+5556")
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = b.Close() }() // after the server's Close
	srv := socketio.NewServer(&socketio.Options{
		NewManager: siozmq.New(b, &siopubsub.Options{Python: &siopubsub.PythonOptions{}}),
	})
	defer func() { _ = srv.Close() }()
	// Serve srv with an adapter, e.g. siohttp.Handler(srv).
}

// The forwarder, on the ports python-socketio's ZmqManager uses by default.
func ExampleForward() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := siozmq.Forward(ctx, "tcp://127.0.0.1:5555", "tcp://127.0.0.1:5556", func(pull, pub string) {
		log.Printf("forwarding from %s to %s", pull, pub)
	})
	if err != nil {
		log.Fatal(err)
	}
}
