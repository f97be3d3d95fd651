package siokafka_test

import (
	"context"
	"log"

	"github.com/siokit/siokit/core/socketio"
	siokafka "github.com/siokit/siokit/managers/kafka"
	siopubsub "github.com/siokit/siokit/managers/pubsub"
)

// A server whose namespaces share rooms and broadcasts with the other
// servers of a Kafka cluster, and with python-socketio servers using
// KafkaManager on the topic "socketio".
func ExampleNew() {
	b, err := siokafka.Dial(context.Background(), &siokafka.Options{Brokers: []string{"127.0.0.1:9092"}})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = b.Close() }() // after the server's Close
	srv := socketio.NewServer(&socketio.Options{
		NewManager: siokafka.New(b, &siopubsub.Options{Python: &siopubsub.PythonOptions{}}),
	})
	defer func() { _ = srv.Close() }()
	// Serve srv with an adapter, e.g. siohttp.Handler(srv).
}
