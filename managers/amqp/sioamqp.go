// Package sioamqp runs a Socket.IO cluster on RabbitMQ (AMQP 0-9-1): a
// [socketio.Manager] for [socketio.Options].NewManager built on package
// siopubsub. Every message goes to one fanout exchange with the channel
// name as routing key; each subscription has an exclusive auto-delete queue
// bound to it and keeps the channels it wants.
//
//	b, _ := sioamqp.Dial("amqp://guest:guest@127.0.0.1:5672/", nil)
//	defer b.Close() // after the server's Close
//	srv := socketio.NewServer(&socketio.Options{NewManager: sioamqp.New(b, nil)})
//
// With [siopubsub.Options].Python set, the servers also join a
// python-socketio 5.x fleet of KombuManager servers and write-only emitters
// on the same RabbitMQ: python-socketio's channel (default "socketio") is a
// fanout exchange of its own, declared as kombu declares it (not durable),
// its messages are published with kombu's content type for raw bytes
// (application/data, binary), and each subscription binds its queue to it as
// well. See "Python fleets" in package siopubsub.
//
// RabbitMQ cannot count subscribers, so the servers count each other by
// heartbeat. A lost connection is dialled again on the next publish or
// subscription; messages published during an outage are lost.
package sioamqp

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/siokit/siokit/core/socketio"
	siopubsub "github.com/siokit/siokit/managers/pubsub"
)

// DefaultExchange is the name of the fanout exchange.
const DefaultExchange = "socket.io"

// Options configures the broker.
type Options struct {
	// Exchange is the fanout exchange every message goes through. Default
	// DefaultExchange.
	Exchange string
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

// setPython makes python-socketio's channel of opts an exchange of its own.
func (b *Broker) setPython(opts *siopubsub.Options) {
	ch := siopubsub.PythonChannel(opts)
	if ch == "" {
		return
	}
	b.mu.Lock()
	b.pyExchange = ch
	b.mu.Unlock()
}

// Broker is the [siopubsub.Broker] on RabbitMQ. It owns its connection.
type Broker struct {
	url      string
	exchange string

	// pyExchange is python-socketio's channel, an exchange of its own
	// (set by New with Options.Python).
	pyExchange string
	pyDeclared bool // on the current connection

	mu     sync.Mutex
	conn   *amqp.Connection
	pub    *amqp.Channel
	closed bool
}

var _ siopubsub.Broker = (*Broker)(nil)

// ErrClosed is returned by a closed broker.
var ErrClosed = errors.New("sioamqp: broker closed")

// Dial connects to the RabbitMQ at url and declares the exchange.
func Dial(url string, opts *Options) (*Broker, error) {
	b := &Broker{url: url, exchange: DefaultExchange}
	if opts != nil && opts.Exchange != "" {
		b.exchange = opts.Exchange
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := b.connLocked(); err != nil {
		return nil, err
	}
	return b, nil
}

// connLocked returns the connection, dialling again when it was lost.
func (b *Broker) connLocked() (*amqp.Connection, error) {
	if b.closed {
		return nil, ErrClosed
	}
	if b.conn != nil && !b.conn.IsClosed() {
		return b.conn, nil
	}
	conn, err := amqp.Dial(b.url)
	if err != nil {
		return nil, fmt.Errorf("sioamqp: dial: %w", err)
	}
	ch, err := conn.Channel()
	if err == nil {
		err = ch.ExchangeDeclare(b.exchange, amqp.ExchangeFanout, false, false, false, false, nil)
	}
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("sioamqp: declare exchange: %w", err)
	}
	b.conn, b.pub, b.pyDeclared = conn, ch, false
	return conn, nil
}

// Publish implements [siopubsub.Broker].
func (b *Broker) Publish(ctx context.Context, channel string, msg []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := b.connLocked(); err != nil {
		return err
	}
	exchange, key, pub := b.exchange, channel, amqp.Publishing{Body: msg}
	if channel == b.pyExchange {
		// As kombu publishes bytes, so that its consumers hand them over
		// undecoded.
		exchange, key = b.pyExchange, ""
		pub.ContentType, pub.ContentEncoding = "application/data", "binary"
		if !b.pyDeclared {
			if err := b.pub.ExchangeDeclare(b.pyExchange, amqp.ExchangeFanout, false, false, false, false, nil); err != nil {
				_ = b.conn.Close()
				return fmt.Errorf("sioamqp: declare exchange %s: %w", b.pyExchange, err)
			}
			b.pyDeclared = true
		}
	}
	err := b.pub.PublishWithContext(ctx, exchange, key, false, false, pub)
	if err != nil {
		_ = b.conn.Close() // dial again next time
		return fmt.Errorf("sioamqp: publish: %w", err)
	}
	return nil
}

// Subscribe implements [siopubsub.Broker] with an exclusive queue of its own.
func (b *Broker) Subscribe(ctx context.Context, sub siopubsub.Subscription, onMessage func(channel string, msg []byte)) error {
	if len(sub.Prefixes) > 0 {
		return fmt.Errorf("sioamqp: prefix subscriptions are not supported")
	}
	b.mu.Lock()
	conn, err := b.connLocked()
	py := b.pyExchange
	b.mu.Unlock()
	if err != nil {
		return err
	}
	if py != "" && !slices.Contains(sub.Channels, py) {
		py = ""
	}
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("sioamqp: channel: %w", err)
	}
	// The subscription ends with its own error (or ctx's); a failure to close
	// the channel afterwards changes nothing for the caller, who redials.
	defer func() { _ = ch.Close() }()
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err == nil {
		err = ch.QueueBind(q.Name, "", b.exchange, false, nil)
	}
	if err == nil && py != "" {
		err = ch.ExchangeDeclare(py, amqp.ExchangeFanout, false, false, false, false, nil)
		if err == nil {
			err = ch.QueueBind(q.Name, "", py, false, nil)
		}
	}
	var deliveries <-chan amqp.Delivery
	if err == nil {
		deliveries, err = ch.Consume(q.Name, "", true, true, false, false, nil)
	}
	if err != nil {
		return fmt.Errorf("sioamqp: subscribe: %w", err)
	}
	want := make(map[string]bool, len(sub.Channels))
	for _, c := range sub.Channels {
		want[c] = true
	}
	if sub.OnReady != nil {
		sub.OnReady()
	}
	for {
		select {
		case d, ok := <-deliveries:
			if !ok {
				return fmt.Errorf("sioamqp: subscription closed")
			}
			switch {
			case py != "" && d.Exchange == py:
				onMessage(py, d.Body)
			case d.Exchange == b.exchange && want[d.RoutingKey]:
				onMessage(d.RoutingKey, d.Body)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close closes the connection.
func (b *Broker) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	if b.conn != nil {
		return b.conn.Close()
	}
	return nil
}
