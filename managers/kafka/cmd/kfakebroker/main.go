// Command kfakebroker runs franz-go's kfake, an in-memory Kafka-protocol
// broker, on a loopback port, for siokit's tests and for trying siokafka
// without Kafka. It prints "LISTENING <host:port>" and serves until its
// standard input ends. It keeps everything in memory and is no production
// broker: production uses real Kafka.
//
//	go run ./managers/kafka/cmd/kfakebroker -port 9092 </dev/tty
package main

import (
	"flag"
	"os"

	"github.com/siokit/siokit/managers/kafka/internal/kfakebroker"
)

func main() {
	port := flag.Int("port", 0, "port on 127.0.0.1 (0 picks a free one)")
	flag.Parse()
	os.Exit(kfakebroker.Run(*port, os.Stdin, os.Stdout, os.Stderr))
}
