// Package siokafka runs a Socket.IO cluster on Kafka: a [socketio.Manager]
// for [socketio.Options].NewManager built on package siopubsub, with
// franz-go (github.com/twmb/franz-go) as the Kafka client.
//
//	b, _ := siokafka.Dial(ctx, &siokafka.Options{Brokers: []string{"127.0.0.1:9092"}})
//	defer b.Close() // after the server's Close
//	srv := socketio.NewServer(&socketio.Options{NewManager: siokafka.New(b, nil)})
//
// siokit's own messages (the Node adapter's format, see siopubsub) go on one
// topic, [Options].Topic ("socket.io" by default), with the channel name as
// the record key, because those channel names are not valid topic names.
// Each subscription reads every partition of its topics from their end,
// without a consumer group, as python-socketio's KafkaManager does: every
// server sees every message published after it subscribed, and nothing
// older. Topics that do not exist are created with one partition, which
// keeps each publisher's messages in order.
//
// With [siopubsub.Options].Python set, the servers also join a
// python-socketio 5.x fleet of KafkaManager servers and write-only emitters:
// python-socketio's channel is the topic (KafkaManager's semantics, default
// "socketio"), carrying pickled messages without a key. See "Python fleets"
// in package siopubsub.
//
// Kafka cannot count subscribers, so the servers count each other by
// heartbeat. franz-go reconnects by itself; messages published while no
// broker is reachable are dropped after [siopubsub.Options].PublishTimeout.
//
// The tests run against franz-go's kfake, an in-memory Kafka-protocol broker,
// started as a process of its own (cmd/kfakebroker); it is for tests only:
// production uses real Kafka.
package siokafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/siokit/siokit/core/socketio"
	siopubsub "github.com/siokit/siokit/managers/pubsub"
	"github.com/siokit/siokit/managers/pubsub/pickle"
)

// DefaultTopic is the topic of siokit's own messages.
const DefaultTopic = "socket.io"

// Options configures the broker.
type Options struct {
	// Brokers are the seed brokers, host:port. Required.
	Brokers []string
	// Topic carries siokit's own messages, keyed by channel. Default
	// DefaultTopic.
	Topic string
	// ClientOpts are extra franz-go options for every client the broker
	// makes (TLS, SASL, logging).
	ClientOpts []kgo.Opt
}

// ErrNoBrokers is returned by Dial without [Options].Brokers.
var ErrNoBrokers = errors.New("siokafka: no seed brokers")

// Broker is the [siopubsub.Broker] on Kafka. It owns a producing client;
// each subscription has a consuming client of its own.
type Broker struct {
	seeds []string
	topic string
	extra []kgo.Opt
	prod  *kgo.Client

	mu      sync.Mutex
	pyTopic string          // python-socketio's channel (set by New with Options.Python)
	made    map[string]bool // topics known to exist
}

var _ siopubsub.Broker = (*Broker)(nil)

// Dial returns a broker on the Kafka cluster of opts.Brokers and makes sure
// its topic exists.
func Dial(ctx context.Context, opts *Options) (*Broker, error) {
	if opts == nil || len(opts.Brokers) == 0 {
		return nil, ErrNoBrokers
	}
	b := &Broker{seeds: opts.Brokers, topic: opts.Topic, extra: opts.ClientOpts, made: map[string]bool{}}
	if b.topic == "" {
		b.topic = DefaultTopic
	}
	prod, err := kgo.NewClient(b.clientOpts(kgo.ProducerLinger(0), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))...)
	if err != nil {
		return nil, fmt.Errorf("siokafka: client: %w", err)
	}
	b.prod = prod
	if err := b.ensureTopics(ctx, b.topic); err != nil {
		prod.Close()
		return nil, err
	}
	return b, nil
}

// clientOpts are the options of every client: no compression (kafka-python,
// as Debian packages it, reads no snappy, and the messages are small), then
// the caller's, then more.
func (b *Broker) clientOpts(more ...kgo.Opt) []kgo.Opt {
	opts := append([]kgo.Opt{kgo.SeedBrokers(b.seeds...), kgo.ProducerBatchCompression(kgo.NoCompression())}, b.extra...)
	return append(opts, more...)
}

// New returns a [socketio.Options].NewManager function: every namespace
// gets a pub/sub manager on b.
func New(b *Broker, opts *siopubsub.Options) func(nsp *socketio.Namespace) socketio.Manager {
	b.setPython(opts)
	return siopubsub.New(b, siopubsub.ExactChannels(opts))
}

// NewEmitter returns a write-only emitter on b.
func NewEmitter(b *Broker, opts *siopubsub.Options) *siopubsub.Emitter {
	b.setPython(opts)
	return siopubsub.NewEmitter(b, siopubsub.ExactChannels(opts))
}

func (b *Broker) setPython(opts *siopubsub.Options) {
	ch := siopubsub.PythonChannel(opts)
	if ch == "" {
		return
	}
	b.mu.Lock()
	b.pyTopic = ch
	b.mu.Unlock()
}

// ensureTopics creates the topics that are not known to exist, with one
// partition and the cluster's default replication.
func (b *Broker) ensureTopics(ctx context.Context, topics ...string) error {
	b.mu.Lock()
	var missing []string
	for _, t := range topics {
		if !b.made[t] {
			missing = append(missing, t)
		}
	}
	b.mu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 5000
	for _, t := range missing {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic = t
		rt.NumPartitions = 1
		rt.ReplicationFactor = -1
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, b.prod)
	if err != nil {
		return fmt.Errorf("siokafka: create topics: %w", err)
	}
	for _, rt := range resp.Topics {
		if err := kerr.ErrorForCode(rt.ErrorCode); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("siokafka: create topic %s: %w", rt.Topic, err)
		}
	}
	b.mu.Lock()
	for _, t := range missing {
		b.made[t] = true
	}
	b.mu.Unlock()
	return nil
}

// record returns the record that carries msg on channel.
func (b *Broker) record(channel string, msg []byte) *kgo.Record {
	b.mu.Lock()
	py := b.pyTopic
	b.mu.Unlock()
	if py != "" && channel == py {
		return &kgo.Record{Topic: py, Value: msg}
	}
	return &kgo.Record{Topic: b.topic, Key: []byte(channel), Value: msg}
}

// Publish implements [siopubsub.Broker].
func (b *Broker) Publish(ctx context.Context, channel string, msg []byte) error {
	r := b.record(channel, msg)
	if err := b.ensureTopics(ctx, r.Topic); err != nil {
		return err
	}
	if err := b.prod.ProduceSync(ctx, r).FirstErr(); err != nil {
		return fmt.Errorf("siokafka: publish: %w", err)
	}
	return nil
}

// probeKey marks the records a subscription sends itself to learn that it
// reads its topics: other servers skip the key, python-socketio skips a
// dict without "method".
const probeKey = "\x00siokit-probe"

// probeInterval is how often a subscription that has not seen its probes
// sends them again (the offsets of its topics may not have been resolved
// when it sent the last ones).
const probeInterval = 250 * time.Millisecond

// Subscribe implements [siopubsub.Broker] with a consuming client of its
// own that reads its topics from their end.
func (b *Broker) Subscribe(ctx context.Context, sub siopubsub.Subscription, onMessage func(channel string, msg []byte)) error {
	if len(sub.Prefixes) > 0 {
		return fmt.Errorf("siokafka: prefix subscriptions are not supported")
	}
	b.mu.Lock()
	py := b.pyTopic
	b.mu.Unlock()
	if py != "" && !slices.Contains(sub.Channels, py) {
		py = ""
	}
	topics := []string{b.topic}
	if py != "" {
		topics = append(topics, py)
	}
	if err := b.ensureTopics(ctx, topics...); err != nil {
		return err
	}
	cl, err := kgo.NewClient(b.clientOpts(
		kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()),
		kgo.FetchMaxWait(time.Second),
		kgo.ProducerLinger(0),
	)...)
	if err != nil {
		return fmt.Errorf("siokafka: client: %w", err)
	}
	defer cl.Close()

	want := make(map[string]bool, len(sub.Channels))
	for _, c := range sub.Channels {
		want[c] = true
	}
	id := fmt.Sprintf("%p-%d", cl, time.Now().UnixNano())
	pyProbe, err := pickle.Marshal(map[string]any{"siokit_probe": id})
	if err != nil {
		return err
	}
	unseen := map[string]bool{}
	for _, t := range topics {
		unseen[t] = true
	}
	var lastProbe time.Time
	for {
		pollCtx := ctx
		var cancel context.CancelFunc = func() {}
		if len(unseen) > 0 {
			if time.Since(lastProbe) >= probeInterval {
				for t := range unseen {
					r := &kgo.Record{Topic: t, Key: []byte(probeKey), Value: []byte(id)}
					if t == py {
						r = &kgo.Record{Topic: t, Value: pyProbe}
					}
					cl.Produce(ctx, r, nil)
				}
				lastProbe = time.Now()
			}
			pollCtx, cancel = context.WithTimeout(ctx, probeInterval)
		}
		fetches := cl.PollFetches(pollCtx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if fetches.IsClientClosed() {
			return fmt.Errorf("siokafka: subscription: %w", kgo.ErrClientClosed)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			switch {
			case r.Topic == py:
				if len(unseen) > 0 && string(r.Value) == string(pyProbe) {
					delete(unseen, r.Topic)
				} else {
					onMessage(py, r.Value)
				}
			case string(r.Key) == probeKey:
				if string(r.Value) == id {
					delete(unseen, r.Topic)
				}
			case want[string(r.Key)]:
				onMessage(string(r.Key), r.Value)
			}
		})
		if len(unseen) == 0 && !lastProbe.IsZero() {
			lastProbe = time.Time{}
			if sub.OnReady != nil {
				sub.OnReady()
			}
		}
	}
}

// Close closes the producing client.
func (b *Broker) Close() error {
	b.prod.Close()
	return nil
}
