// Package siozmq runs a Socket.IO cluster on ZeroMQ, with python-socketio's
// ZmqManager topology: every server PUSHes its messages to a forwarder,
// which PUBlishes them to every server's SUB socket. [Forward] is the
// forwarder (cmd/siozmqforwarder runs it); the ZeroMQ library is the pure-Go
// github.com/go-zeromq/zmq4, so no libzmq is needed.
//
//	// the forwarder, once: go run ./managers/zmq/cmd/siozmqforwarder -pull 5555 -pub 5556
//	b, _ := siozmq.Dial(ctx, "zmq+tcp://127.0.0.1:5555+5556")
//	defer b.Close() // after the server's Close
//	srv := socketio.NewServer(&socketio.Options{NewManager: siozmq.New(b, nil)})
//
// The URL is ZmqManager's: zmq+tcp://HOST:PULL_PORT+PUB_PORT. python-socketio
// documents a PULL-to-PUB forwarder (its PUSH sockets cannot talk to an
// XSUB), and Forward is that. Every message on the wire is what ZmqManager
// sends, a pickled dict {"type": "message", "channel": CHANNEL, "data":
// DATA}: siokit's own messages (the Node adapter's format, see siopubsub)
// carry their bytes as data, on their own channel names, which ZmqManager
// ignores. Messages are read with package pickle (plain data only).
//
// With [siopubsub.Options].Python set, the servers also join a
// python-socketio 5.x fleet of ZmqManager servers and write-only emitters
// on the same forwarder: python-socketio's channel (default "socketio")
// carries its message dict itself as data. See "Python fleets" in package
// siopubsub.
//
// ZeroMQ PUB/SUB cannot count subscribers, so the servers count each other
// by heartbeat. A SUB socket misses what is published before it is
// connected; each subscription knows it is in place once it receives a
// probe it PUSHes itself. If the forwarder restarts, subscriptions are
// made again (with backoff) and messages published meanwhile are lost.
package siozmq

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/siokit/siokit/core/socketio"
	siopubsub "github.com/siokit/siokit/managers/pubsub"
	"github.com/siokit/siokit/managers/pubsub/pickle"
)

// ErrURL is returned for a URL not of the form zmq+tcp://HOST:PORT+PORT.
var ErrURL = errors.New("siozmq: URL is not zmq+tcp://HOST:PULL_PORT+PUB_PORT")

var urlRE = regexp.MustCompile(`^zmq\+tcp://(.+):(\d+)\+(\d+)$`)

// Endpoints returns the forwarder's PULL and PUB endpoints of a
// ZmqManager URL, as tcp://HOST:PORT.
func Endpoints(url string) (pull, pub string, err error) {
	m := urlRE.FindStringSubmatch(url)
	if m == nil {
		return "", "", fmt.Errorf("%w: %q", ErrURL, url)
	}
	return "tcp://" + m[1] + ":" + m[2], "tcp://" + m[1] + ":" + m[3], nil
}

// sendTimeout bounds a send on the PUSH socket when the forwarder is away.
const sendTimeout = time.Second

// Broker is the [siopubsub.Broker] on ZeroMQ. It owns its PUSH socket;
// each subscription has a SUB socket of its own.
type Broker struct {
	pull, pub string

	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	push    zmq4.Socket
	pyCh    string // python-socketio's channel (set by New with Options.Python)
	closed  bool
	sendErr error
}

var _ siopubsub.Broker = (*Broker)(nil)

// Dial returns a broker on the forwarder at url (zmq+tcp://HOST:PULL+PUB).
func Dial(ctx context.Context, url string) (*Broker, error) {
	pull, pub, err := Endpoints(url)
	if err != nil {
		return nil, err
	}
	b := &Broker{pull: pull, pub: pub}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	if err := b.dialLocked(ctx); err != nil {
		b.cancel()
		return nil, err
	}
	return b, nil
}

// dialLocked makes the PUSH socket and connects it to the forwarder, once:
// a failed send drops the socket, and the next send dials again (zmq4's own
// reconnection tries once, and gives up while the forwarder is down).
func (b *Broker) dialLocked(ctx context.Context) error {
	push := zmq4.NewPush(b.ctx, zmq4.WithTimeout(sendTimeout), zmq4.WithDialerMaxRetries(0))
	dialed := make(chan error, 1)
	go func() { dialed <- push.Dial(b.pull) }()
	var err error
	select {
	case err = <-dialed:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		_ = push.Close()
		return fmt.Errorf("siozmq: dial %s: %w", b.pull, err)
	}
	b.push = push
	return nil
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

// setPython records python-socketio's channel of opts.
func (b *Broker) setPython(opts *siopubsub.Options) {
	ch := siopubsub.PythonChannel(opts)
	if ch == "" {
		return
	}
	b.mu.Lock()
	b.pyCh = ch
	b.mu.Unlock()
}

// wrap returns ZmqManager's envelope of msg on channel. A message on
// python-socketio's channel is a pickled dict, which goes in as the dict.
func (b *Broker) wrap(channel string, msg []byte) ([]byte, error) {
	b.mu.Lock()
	py := b.pyCh
	b.mu.Unlock()
	var data any = msg
	if py != "" && channel == py {
		v, err := pickle.Unmarshal(msg)
		if err != nil {
			return nil, fmt.Errorf("siozmq: python-socketio message: %w", err)
		}
		data = v
	}
	return pickle.Marshal(map[string]any{"type": "message", "channel": channel, "data": data})
}

// Publish implements [siopubsub.Broker].
func (b *Broker) Publish(ctx context.Context, channel string, msg []byte) error {
	env, err := b.wrap(channel, msg)
	if err != nil {
		return err
	}
	return b.send(ctx, env)
}

func (b *Broker) send(ctx context.Context, env []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return fmt.Errorf("siozmq: publish: %w", ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.push == nil {
		if err := b.dialLocked(ctx); err != nil {
			return err
		}
	}
	if err := b.push.Send(zmq4.NewMsg(env)); err != nil {
		_ = b.push.Close()
		b.push = nil
		return fmt.Errorf("siozmq: publish: %w", err)
	}
	return nil
}

// ErrClosed is returned by a closed broker.
var ErrClosed = errors.New("siozmq: broker closed")

// probeChannel carries the probes a subscription PUSHes itself; nobody
// subscribes to it.
const probeChannel = "\x00siokit-probe"

// probeInterval is how often a subscription that has not received its
// probe sends another.
const probeInterval = 250 * time.Millisecond

// Subscribe implements [siopubsub.Broker] with a SUB socket of its own.
func (b *Broker) Subscribe(ctx context.Context, sub siopubsub.Subscription, onMessage func(channel string, msg []byte)) error {
	if len(sub.Prefixes) > 0 {
		return fmt.Errorf("siozmq: prefix subscriptions are not supported")
	}
	b.mu.Lock()
	py := b.pyCh
	b.mu.Unlock()
	if py != "" && !slices.Contains(sub.Channels, py) {
		py = ""
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := zmq4.NewSub(sctx, zmq4.WithDialerMaxRetries(0))
	defer func() { _ = s.Close() }()
	if err := s.Dial(b.pub); err != nil {
		return fmt.Errorf("siozmq: subscribe: %w", err)
	}
	if err := s.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		return fmt.Errorf("siozmq: subscribe: %w", err)
	}
	want := make(map[string]bool, len(sub.Channels))
	for _, c := range sub.Channels {
		want[c] = true
	}
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	probe, err := pickle.Marshal(map[string]any{"type": "message", "channel": probeChannel, "data": hex.EncodeToString(id)})
	if err != nil {
		return err
	}
	ready := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // probes until one comes back
		defer wg.Done()
		t := time.NewTicker(probeInterval)
		defer t.Stop()
		for {
			_ = b.send(sctx, probe) // a lost probe is sent again
			select {
			case <-ready:
				return
			case <-sctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	defer wg.Wait()
	defer cancel() // runs before wg.Wait
	isReady := false
	for {
		msg, err := s.Recv()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("siozmq: subscription: %w", err)
		}
		if len(msg.Frames) != 1 {
			continue
		}
		env, err := pickle.Unmarshal(msg.Frames[0])
		if err != nil {
			continue // not a ZmqManager message
		}
		m, _ := env.(map[string]any)
		channel, _ := m["channel"].(string)
		if typ, _ := m["type"].(string); typ != "message" {
			continue
		}
		switch {
		case channel == probeChannel:
			if !isReady && string(msg.Frames[0]) == string(probe) {
				isReady = true
				close(ready)
				if sub.OnReady != nil {
					sub.OnReady()
				}
			}
		case py != "" && channel == py:
			data, err := pickle.Marshal(m["data"])
			if err == nil {
				onMessage(py, data)
			}
		case want[channel]:
			if data, ok := m["data"].([]byte); ok {
				onMessage(channel, data)
			}
		}
	}
}

// Close closes the PUSH socket.
func (b *Broker) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	b.cancel()
	if b.push == nil {
		return nil
	}
	return b.push.Close()
}

// Forward runs python-socketio's ZeroMQ forwarder until ctx ends: it binds
// a PULL socket on pull and a PUB socket on pub (tcp://HOST:PORT; port 0
// picks a free one) and publishes every message it pulls. ready, when not
// nil, is called with the bound addresses once both listen.
func Forward(ctx context.Context, pull, pub string, ready func(pull, pub string)) error {
	in := zmq4.NewPull(ctx)
	defer func() { _ = in.Close() }()
	out := zmq4.NewPub(ctx)
	defer func() { _ = out.Close() }()
	if err := in.Listen(pull); err != nil {
		return fmt.Errorf("siozmq: forwarder: %w", err)
	}
	if err := out.Listen(pub); err != nil {
		return fmt.Errorf("siozmq: forwarder: %w", err)
	}
	if ready != nil {
		ready(in.Addr().String(), out.Addr().String())
	}
	for {
		msg, err := in.Recv()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if strings.Contains(err.Error(), "EOF") {
				continue // one pusher went away
			}
			return fmt.Errorf("siozmq: forwarder: %w", err)
		}
		if err := out.Send(msg); err != nil && ctx.Err() == nil {
			return fmt.Errorf("siozmq: forwarder: %w", err)
		}
	}
}
