// Package kfakebroker runs franz-go's kfake, an in-memory Kafka-protocol
// broker, for siokit's tests: cmd/kfakebroker is it as a command, and the
// tests of siokafka run it as a process of their own. It is no production
// broker: production uses real Kafka.
package kfakebroker

import (
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Run starts a one-broker cluster on 127.0.0.1:port (0 picks a free port),
// with topics created on first use and one partition each, writes
// "LISTENING <host:port>" to out, and serves until in ends. It returns the
// process's exit code.
func Run(port int, in io.Reader, out, errOut io.Writer) int {
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(1),
	)
	if err != nil {
		_, _ = fmt.Fprintf(errOut, "kfakebroker: %v\n", err)
		return 1
	}
	defer c.Close()
	if _, err := fmt.Fprintf(out, "LISTENING %s\n", c.ListenAddrs()[0]); err != nil {
		return 1
	}
	_, _ = io.Copy(io.Discard, in)
	return 0
}
