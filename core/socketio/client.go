package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/parser"
)

// errClosed is why a client that Close ended fails its emits.
var errClosed = fmt.Errorf("%w: %w", ErrDisconnected, ErrClientClosed)

// Errors of the [Client], testable with errors.Is. [ErrTimeout] and
// [ErrDisconnected] serve the client too.
var (
	// ErrConnection wraps every failure to reach the server: the Engine.IO
	// handshake (wrapping [engineio.ErrHandshake]) or a connection lost
	// before a namespace answered.
	ErrConnection = errors.New("socketio: connection error")
	// ErrConnectionRefused is matched by every [*ConnectionRefusedError].
	ErrConnectionRefused = errors.New("socketio: connection refused")
	// ErrBadNamespace is matched by a [*ConnectionRefusedError] for a
	// namespace the server does not have ("Invalid namespace"; python-socketio
	// 5.7 answers "Unable to connect").
	ErrBadNamespace = errors.New("socketio: bad namespace")
	// ErrClientClosed is returned by Connect once the client has ended
	// (wrapping why, when Close did not end it), and matched, beside
	// [ErrDisconnected], by the errors of emits after Close.
	ErrClientClosed = errors.New("socketio: client closed")
	// ErrReconnectFailed is matched, beside [ErrDisconnected], by the
	// errors of emits and acknowledgements once the client has spent its
	// ReconnectionAttempts and ended.
	ErrReconnectFailed = errors.New("socketio: reconnection attempts exhausted")
)

// ConnectionRefusedError is the server's refusal of a namespace connection
// (a CONNECT_ERROR packet). It matches [ErrConnectionRefused] and, for an
// unknown namespace, [ErrBadNamespace].
type ConnectionRefusedError struct {
	// Namespace is the namespace that refused.
	Namespace string
	// Message is the refusal's message.
	Message string
	// Data is the refusal's data as raw JSON, nil when there is none.
	Data json.RawMessage
}

func (e *ConnectionRefusedError) Error() string {
	return fmt.Sprintf("socketio: connection to namespace %q refused: %s", e.Namespace, e.Message)
}

// Is makes errors.Is match ErrConnectionRefused, and ErrBadNamespace for an
// unknown namespace.
func (e *ConnectionRefusedError) Is(target error) bool {
	switch target {
	case ErrConnectionRefused:
		return true
	case ErrBadNamespace:
		return e.Message == "Invalid namespace" || e.Message == "Unable to connect"
	}
	return false
}

// DecodeData decodes the refusal's data into v.
func (e *ConnectionRefusedError) DecodeData(v any) error {
	if len(e.Data) == 0 {
		return errors.New("socketio: the refusal carries no data")
	}
	return json.Unmarshal(e.Data, v)
}

// Disconnect reasons a [ClientSocket]'s disconnect handlers receive, as the
// official client names them. The engine's reasons ("transport close",
// "transport error", "ping timeout") pass through.
const (
	ReasonIOServerDisconnect = "io server disconnect"
	ReasonIOClientDisconnect = "io client disconnect"
)

// ClientOptions configures a [Client]. Zero fields take the default in their
// comment; the names follow the official JavaScript client's options. A
// field whose zero is a meaningful setting of its own (no jitter, no delay,
// no reconnection, no buffering) is a pointer: nil takes the default, and a
// pointer to zero, such as new(0.0) or new(false), sets it.
//
// [NewClient] reads the options once and keeps a copy (slices and maps
// included): changing them afterwards, callbacks such as AuthFunc included,
// has no effect on the client. Handlers are registered with the client's
// methods, which take effect at once.
type ClientOptions struct {
	// Engine configures the Engine.IO client: transports, headers, query,
	// TLS. Its Path defaults to "/socket.io/" here. Its OnMessage and OnClose
	// are the Socket.IO client's own and are ignored.
	Engine engineio.ClientOptions

	// Namespaces lists the namespaces Connect joins. Default: "/" and every
	// namespace obtained with [Client.Of] before Connect.
	Namespaces []string

	// Auth is sent with every namespace connection (a value that encodes as
	// a JSON object, such as a map or a struct). AuthFunc, when set, is
	// called instead on each attempt, for each namespace.
	Auth     any
	AuthFunc func(ctx context.Context, namespace string) (any, error)

	// Reconnection enables reconnecting after an accidental disconnect.
	// Default true (Reconnection: new(false) disables it).
	Reconnection *bool
	// ReconnectionAttempts caps the attempts after one disconnect; 0 means
	// unlimited.
	ReconnectionAttempts int
	// ReconnectionDelay is the delay before the first attempt; each attempt
	// doubles it, up to ReconnectionDelayMax. Default 1s (nil); new(0)
	// retries at once, every time, which against a server that is down
	// spins as fast as dials fail: bound it with ReconnectionAttempts.
	ReconnectionDelay *time.Duration
	// ReconnectionDelayMax caps the delay. Default 5s, and never below
	// ReconnectionDelay.
	ReconnectionDelayMax time.Duration
	// RandomizationFactor spreads each delay by up to this fraction either
	// way, from 0 to 1. Default 0.5 (nil); new(0.0) disables the jitter.
	RandomizationFactor *float64
	// Timeout bounds the Engine.IO handshake of each reconnection attempt.
	// Default 20s. (The first connection is bounded by Connect's context.)
	Timeout time.Duration

	// BufferWhileDisconnected queues emits made while a namespace is not
	// connected (before Connect, while connecting or reconnecting) and sends
	// them once it is. Default true; with false they fail with
	// [ErrDisconnected]. Volatile emits are never queued.
	BufferWhileDisconnected *bool

	// Parser is the wire format; it must be the server's. Default nil: the
	// protocol's text format. See [Parser].
	Parser Parser

	// Logger receives the Socket.IO client's logs (Engine.Logger the
	// Engine.IO layer's). Default: discarded.
	Logger *slog.Logger
}

// Client defaults.
const (
	DefaultReconnectionDelay    = time.Second
	DefaultReconnectionDelayMax = 5 * time.Second
	DefaultRandomizationFactor  = 0.5
	DefaultClientTimeout        = 20 * time.Second
)

// clientMaxAttachments caps the attachments of one packet from the server.
const clientMaxAttachments = 1000

func (o *ClientOptions) withDefaults() ClientOptions {
	var c ClientOptions
	if o != nil {
		c = *o
	}
	if c.Engine.Path == "" {
		c.Engine.Path = DefaultPath
	}
	// Every pointer is replaced by one of the client's own, so that the
	// caller's later changes do not reach the client.
	c.Reconnection = new(valueOr(c.Reconnection, true))
	c.ReconnectionDelay = new(max(valueOr(c.ReconnectionDelay, DefaultReconnectionDelay), 0))
	if c.ReconnectionDelayMax <= 0 {
		c.ReconnectionDelayMax = DefaultReconnectionDelayMax
	}
	c.ReconnectionDelayMax = max(c.ReconnectionDelayMax, *c.ReconnectionDelay)
	c.RandomizationFactor = new(min(max(valueOr(c.RandomizationFactor, DefaultRandomizationFactor), 0), 1))
	if c.Timeout <= 0 {
		c.Timeout = DefaultClientTimeout
	}
	c.BufferWhileDisconnected = new(valueOr(c.BufferWhileDisconnected, true))
	c.Engine.Transports = slices.Clone(c.Engine.Transports)
	c.Engine.Header = c.Engine.Header.Clone()
	if c.Engine.Query != nil {
		c.Engine.Query = url.Values(http.Header(c.Engine.Query).Clone())
	}
	if c.Engine.Upgrade != nil {
		c.Engine.Upgrade = new(*c.Engine.Upgrade)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.Namespaces = slices.Clone(c.Namespaces)
	for i, n := range c.Namespaces {
		c.Namespaces[i] = normNamespace(n)
	}
	return c
}

// valueOr returns *p, or def when p is nil.
func valueOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

func normNamespace(n string) string {
	if !strings.HasPrefix(n, "/") {
		return "/" + n
	}
	return n
}

// Client is a Socket.IO v5 client: one Engine.IO connection to a server
// carrying one [ClientSocket] per namespace. Create it with [NewClient],
// register handlers, then call [Client.Connect]; or use the [Connect]
// shortcut. Its methods are safe for concurrent use; the event methods on
// the client are shortcuts for the namespace "/".
//
// After an accidental disconnect (transport closed or failing, ping
// timeout, undecodable packet) the client reconnects with exponential
// backoff and joins its namespaces again; a server-side disconnect of every
// namespace, [Client.Close], spending ReconnectionAttempts, or losing the
// connection with Reconnection off ends the client, which then cannot be
// connected again.
//
// A client that ends, ends loudly: from the moment the end is known, every
// emit fails at once and every acknowledgement still awaited, sent or
// queued, fails, with an error matching [ErrDisconnected] that says why
// (matching [ErrClientClosed] after Close, [ErrReconnectFailed] after the
// last attempt); [Client.Transport] is "" and [Client.Done] closes once the
// handlers have returned.
//
// Handlers run on goroutines of the client, one at a time per namespace and
// in the order the packets arrived; a handler may emit, wait for an
// acknowledgement, or close the client. All goroutines of the client have
// returned once [Client.Done] is closed.
type Client struct {
	url  string
	opts ClientOptions
	log  *slog.Logger

	ctx    context.Context // cancelled by Close: dials, AuthFunc calls
	cancel context.CancelFunc

	mu         sync.Mutex
	sockets    map[string]*ClientSocket
	ses        *clientSession
	connecting bool
	started    bool // the first Connect succeeded: run owns the lifecycle
	closing    bool
	stopReason string
	stopCh     chan struct{} // closed to end run
	draining   bool
	jobs       sync.WaitGroup

	endErr  error // why the client ended or is ending; set once
	connErr error // the failure of the last Connect, until the next one

	stopped    chan struct{} // closed once the engine is down for good
	done       chan struct{} // closed once every goroutine has returned
	finishOnce sync.Once

	events      jobQueue // client-level callbacks
	hmu         sync.Mutex
	onAttempt   []func(attempt int)
	onReconnect []func(attempt int)
	onFailed    []func()
	onError     []func(err error)
}

// NewClient returns a client for the server at url (http, https, ws or wss;
// its path is a prefix to the engine path, as behind a reverse proxy),
// not yet connected. opts may be nil; NewClient keeps a copy of it, so
// later changes to it have no effect (see [ClientOptions]).
func NewClient(url string, opts *ClientOptions) *Client {
	o := opts.withDefaults()
	c := &Client{
		url:     url,
		opts:    o,
		log:     o.Logger,
		sockets: make(map[string]*ClientSocket),
		stopCh:  make(chan struct{}),
		stopped: make(chan struct{}),
		done:    make(chan struct{}),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.Of("/")
	return c
}

// Connect is NewClient followed by [Client.Connect]. Handlers registered
// afterwards miss what arrives before they are.
func Connect(ctx context.Context, url string, opts *ClientOptions) (*Client, error) {
	c := NewClient(url, opts)
	if err := c.Connect(ctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

// Of returns the socket of a namespace ("/chat"; a missing leading slash is
// added), creating it on first use. Sockets obtained before Connect are
// joined by it unless [ClientOptions.Namespaces] is set; later ones join
// with [ClientSocket.Connect].
func (c *Client) Of(namespace string) *ClientSocket {
	namespace = normNamespace(namespace)
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.sockets[namespace]; s != nil {
		return s
	}
	s := newClientSocket(c, namespace)
	c.sockets[namespace] = s
	return s
}

// Socket returns the socket of the namespace "/".
func (c *Client) Socket() *ClientSocket { return c.Of("/") }

// Connect opens the connection and joins the namespaces, returning once
// every one has answered. ctx bounds this first connection; it does not
// retry. A refused namespace fails it with a [*ConnectionRefusedError] and
// closes the connection. The client has not ended: it may Connect again.
// What was queued for this connection fails with Connect's error (wrapped
// with [ErrDisconnected]), and so do emits until the next Connect.
func (c *Client) Connect(ctx context.Context) error {
	c.mu.Lock()
	switch {
	case c.closing:
		c.mu.Unlock()
		return ErrClientClosed
	case c.endErr != nil:
		err := c.endErr
		c.mu.Unlock()
		return fmt.Errorf("%w: %w", ErrClientClosed, err)
	case c.stopReason != "":
		c.mu.Unlock()
		return ErrClientClosed
	case c.started || c.connecting:
		c.mu.Unlock()
		return errors.New("socketio: client already connected")
	}
	c.connecting, c.connErr = true, nil
	nsps := c.opts.Namespaces
	if len(nsps) == 0 {
		nsps = []string{"/"}
		for n := range c.sockets {
			if n != "/" {
				nsps = append(nsps, n)
			}
		}
	}
	c.mu.Unlock()
	socks := make([]*ClientSocket, len(nsps))
	for i, n := range nsps {
		socks[i] = c.Of(n)
		socks[i].want()
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(c.ctx, cancel)
	defer stop()

	ses, err := c.dial(ctx)
	if err != nil {
		c.connectFailed(err)
		return err
	}
	c.mu.Lock()
	c.ses = ses
	c.mu.Unlock()
	waits := make([]chan error, len(socks))
	for i, s := range socks {
		waits[i] = s.addWaiter()
	}
	for _, s := range socks {
		s.sendConnect(ctx, ses)
	}
	for i, w := range waits {
		select {
		case err = <-w:
		case <-ctx.Done():
			err = fmt.Errorf("socketio: connecting to namespace %q: %w", socks[i].nsp, waitError(ctx))
		}
		if err != nil {
			break
		}
	}
	if err != nil {
		for _, s := range socks {
			s.dropWaiters()
		}
		ses.close(ReasonIOClientDisconnect)
		<-ses.eng().Done()
		c.connectFailed(err)
		return err
	}
	c.mu.Lock()
	c.connecting = false
	if c.closing { // Close came meanwhile; it left the rest to us
		c.mu.Unlock()
		ses.close(ReasonIOClientDisconnect)
		<-ses.eng().Done()
		c.finish()
		return ErrClientClosed
	}
	c.started = true
	c.mu.Unlock()
	go c.run(ses)
	return nil
}

// waitError is the error of a wait that ctx ended: it wraps ErrTimeout on a
// deadline, and ctx's error in any case.
func waitError(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
	}
	return ctx.Err()
}

// connectFailed ends a Connect that failed with err: until the next
// Connect, emits fail at once, and those queued for this one fail now.
func (c *Client) connectFailed(err error) {
	err = fmt.Errorf("%w: %w", ErrDisconnected, err)
	c.mu.Lock()
	c.connecting = false
	c.ses = nil
	c.connErr = err
	closing := c.closing
	socks := c.socketList()
	c.mu.Unlock()
	for _, s := range socks {
		s.failQueue(err)
	}
	if closing {
		c.finish()
	}
}

// endWith records why the client is ending, unless a reason is known
// already. From then on emits fail at once with it.
func (c *Client) endWith(err error) {
	c.mu.Lock()
	if c.endErr == nil {
		c.endErr = err
	}
	c.mu.Unlock()
}

// emitBlocked returns the error an emit fails with at once because no
// connection is coming (the client has ended or is ending, or the last
// Connect failed), or nil when the emit may wait for one.
func (c *Client) emitBlocked() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.endErr != nil:
		return c.endErr
	case !c.started && !c.connecting:
		return c.connErr
	}
	return nil
}

// ended returns why the client ended, or ErrDisconnected when it has not
// said.
func (c *Client) ended() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.endErr != nil {
		return c.endErr
	}
	return ErrDisconnected
}

// dial opens an Engine.IO session whose messages feed a new clientSession.
func (c *Client) dial(ctx context.Context) (*clientSession, error) {
	ses := &clientSession{c: c, dec: newDecoder(c.opts.Parser, DecoderLimits{MaxAttachments: clientMaxAttachments})}
	eo := c.opts.Engine
	eo.OnMessage = ses.onMessage
	eo.OnClose = ses.onClose
	eng, err := engineio.Dial(ctx, c.url, &eo)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConnection, err)
	}
	ses.engine.Store(eng)
	c.log.Debug("socketio: client connected", "eio", eng.ID(), "transport", eng.Transport())
	return ses, nil
}

// run owns the connection after the first Connect: it waits for the engine
// to end, then reconnects or finishes.
func (c *Client) run(ses *clientSession) {
	defer c.finish()
	for {
		select {
		case <-ses.eng().Done():
		case <-c.stopCh:
			ses.close(c.getStopReason())
			<-ses.eng().Done()
			return
		}
		c.mu.Lock()
		c.ses = nil
		stop := c.closing || c.stopReason != ""
		c.mu.Unlock()
		if stop || !*c.opts.Reconnection || !c.anyWanted() {
			return
		}
		if ses = c.reconnect(); ses == nil {
			return
		}
	}
}

// reconnect dials with backoff until it succeeds (the namespaces are then
// asked to connect), gives up or the client stops; nil in the last cases.
func (c *Client) reconnect() *clientSession {
	for attempt := 1; ; attempt++ {
		if max := c.opts.ReconnectionAttempts; max > 0 && attempt > max {
			c.log.Info("socketio: reconnection failed", "attempts", max)
			c.endWith(fmt.Errorf("%w: %w after %d attempts", ErrDisconnected, ErrReconnectFailed, max))
			c.fire(func() {
				for _, fn := range cloneList(&c.hmu, &c.onFailed) {
					fn()
				}
			})
			return nil
		}
		t := time.NewTimer(c.backoff(attempt - 1))
		select {
		case <-t.C:
		case <-c.stopCh:
			t.Stop()
			return nil
		}
		c.fire(func() {
			for _, fn := range cloneList(&c.hmu, &c.onAttempt) {
				fn(attempt)
			}
		})
		ctx, cancel := context.WithTimeout(c.ctx, c.opts.Timeout)
		ses, err := c.dial(ctx)
		if err != nil {
			cancel()
			c.log.Debug("socketio: reconnection attempt failed", "attempt", attempt, "err", err)
			c.fire(func() {
				for _, fn := range cloneList(&c.hmu, &c.onError) {
					fn(err)
				}
			})
			continue
		}
		c.mu.Lock()
		if c.closing || c.stopReason != "" {
			c.mu.Unlock()
			cancel()
			ses.close(ReasonIOClientDisconnect)
			<-ses.eng().Done()
			return nil
		}
		c.ses = ses
		socks := c.socketList()
		c.mu.Unlock()
		c.log.Info("socketio: reconnected", "attempt", attempt)
		c.fire(func() {
			for _, fn := range cloneList(&c.hmu, &c.onReconnect) {
				fn(attempt)
			}
		})
		for _, s := range socks {
			s.sendConnect(ctx, ses)
		}
		cancel()
		return ses
	}
}

// backoff returns the delay before attempt n (from 0): the first delay
// doubled n times, spread by the randomization factor, capped at the maximum.
func (c *Client) backoff(n int) time.Duration {
	d := float64(*c.opts.ReconnectionDelay) * math.Pow(2, float64(min(n, 62)))
	d = math.Min(d, float64(c.opts.ReconnectionDelayMax)*2)
	if f := *c.opts.RandomizationFactor; f > 0 {
		r := rand.Float64() //nolint:gosec // reconnection jitter needs no cryptographic randomness
		dev := r * f * d
		if int(r*10)&1 == 0 {
			d -= dev
		} else {
			d += dev
		}
	}
	return time.Duration(math.Min(d, float64(c.opts.ReconnectionDelayMax)))
}

// finish ends the client once: the engine is down, every emit still queued
// and every acknowledgement still awaited fails, then every handler
// returns, then Done is closed.
func (c *Client) finish() {
	c.finishOnce.Do(func() {
		c.cancel()
		c.mu.Lock()
		if c.endErr == nil {
			why := c.stopReason
			if why == "" {
				why = "client ended"
			}
			c.endErr = fmt.Errorf("%w (%s)", ErrDisconnected, why)
		}
		err := c.endErr
		c.ses = nil
		socks := c.socketList()
		c.mu.Unlock()
		for _, s := range socks {
			s.end(err)
		}
		close(c.stopped)
		c.mu.Lock()
		c.draining = true
		c.mu.Unlock()
		go func() {
			c.jobs.Wait()
			close(c.done)
		}()
	})
}

// requestStop asks run to close the connection for good.
func (c *Client) requestStop(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopReason == "" {
		c.stopReason = reason
		close(c.stopCh)
	}
}

func (c *Client) getStopReason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopReason
}

func (c *Client) socketList() []*ClientSocket {
	out := make([]*ClientSocket, 0, len(c.sockets))
	for _, s := range c.sockets {
		out = append(out, s)
	}
	return out
}

func (c *Client) allSockets() []*ClientSocket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.socketList()
}

// anyWanted reports whether some namespace is to be connected.
func (c *Client) anyWanted() bool {
	for _, s := range c.allSockets() {
		if s.isWanted() {
			return true
		}
	}
	return false
}

// checkIdle ends the client when no namespace is to be connected any more.
func (c *Client) checkIdle(reason string) {
	if !c.anyWanted() {
		c.requestStop(reason)
	}
}

func (c *Client) current() *clientSession {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ses
}

// leaveError is what the emits and acknowledgements of a namespace left on
// the client's initiative fail with: the client's end reason when it is
// ending.
func (c *Client) leaveError() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.endErr != nil {
		return c.endErr
	}
	return fmt.Errorf("%w (%s)", ErrDisconnected, ReasonIOClientDisconnect)
}

// Close leaves every namespace (each gets its disconnect handlers with
// reason "io client disconnect"), closes the connection and stops
// reconnecting. It returns once the connection is closed; handlers may
// still be running: wait on [Client.Done] for them. Calling it again does
// nothing.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return nil
	}
	c.closing = true
	if c.endErr == nil {
		c.endErr = errClosed
	}
	started, connecting := c.started, c.connecting
	socks := c.socketList()
	c.mu.Unlock()
	for _, s := range socks {
		s.leave(true)
	}
	c.cancel()
	c.requestStop(ReasonIOClientDisconnect)
	switch {
	case started:
		<-c.stopped
	case !connecting:
		c.finish()
	}
	return nil
}

// Disconnect is Close, named as python-socketio names it.
func (c *Client) Disconnect() error { return c.Close() }

// Done returns a channel closed once the client has ended for good and
// every goroutine of it, handlers included, has returned.
func (c *Client) Done() <-chan struct{} { return c.done }

// Wait blocks until the client has ended (see [Client.Done]) or ctx ends,
// whose error it then returns.
func (c *Client) Wait(ctx context.Context) error {
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Transport returns the current transport, "polling" or "websocket", or ""
// while disconnected and once the client is ending.
func (c *Client) Transport() string {
	c.mu.Lock()
	ses, ending := c.ses, c.endErr != nil
	c.mu.Unlock()
	if ses == nil || ending {
		return ""
	}
	select {
	case <-ses.eng().Done():
		return ""
	default:
		return ses.eng().Transport()
	}
}

// OnReconnectAttempt adds a callback run before each reconnection attempt,
// with its number from 1.
func (c *Client) OnReconnectAttempt(fn func(attempt int)) { addTo(&c.hmu, &c.onAttempt, fn) }

// OnReconnect adds a callback run when an attempt has reopened the
// connection, with its number; the namespaces connect next.
func (c *Client) OnReconnect(fn func(attempt int)) { addTo(&c.hmu, &c.onReconnect, fn) }

// OnReconnectError adds a callback run when an attempt fails.
func (c *Client) OnReconnectError(fn func(err error)) { addTo(&c.hmu, &c.onError, fn) }

// OnReconnectFailed adds a callback run when ReconnectionAttempts were
// spent; the client then ends.
func (c *Client) OnReconnectFailed(fn func()) { addTo(&c.hmu, &c.onFailed, fn) }

func addTo[T any](mu *sync.Mutex, list *[]T, fn T) {
	mu.Lock()
	*list = append(*list, fn)
	mu.Unlock()
}

func cloneList[T any](mu *sync.Mutex, list *[]T) []T {
	mu.Lock()
	defer mu.Unlock()
	return slices.Clone(*list)
}

// fire runs a client-level callback on the client's event queue.
func (c *Client) fire(job func()) { c.enqueue(&c.events, "client callback", job) }

// On registers an event handler on the namespace "/"; see [ClientSocket.On].
func (c *Client) On(event string, handler any) error { return c.Of("/").On(event, handler) }

// OnAny registers the catch-all handler of the namespace "/".
func (c *Client) OnAny(handler any) error { return c.Of("/").OnAny(handler) }

// OnConnect adds a connect handler to the namespace "/".
func (c *Client) OnConnect(fn func()) { c.Of("/").OnConnect(fn) }

// OnConnectError adds a connect_error handler to the namespace "/".
func (c *Client) OnConnectError(fn func(err error)) { c.Of("/").OnConnectError(fn) }

// OnDisconnect adds a disconnect handler to the namespace "/".
func (c *Client) OnDisconnect(fn func(reason string)) { c.Of("/").OnDisconnect(fn) }

// Emit sends an event on the namespace "/".
func (c *Client) Emit(event string, args ...any) error { return c.Of("/").Emit(event, args...) }

// Send sends a "message" event on the namespace "/".
func (c *Client) Send(args ...any) error { return c.Of("/").Send(args...) }

// EmitWithAck emits on the namespace "/" and waits for the acknowledgement.
func (c *Client) EmitWithAck(ctx context.Context, event string, args ...any) (*Response, error) {
	return c.Of("/").EmitWithAck(ctx, event, args...)
}

// Call is EmitWithAck, named as python-socketio names it.
func (c *Client) Call(ctx context.Context, event string, args ...any) (*Response, error) {
	return c.Of("/").EmitWithAck(ctx, event, args...)
}

// ID returns the id of the socket of the namespace "/".
func (c *Client) ID() string { return c.Of("/").ID() }

// Connected reports whether the namespace "/" is connected.
func (c *Client) Connected() bool { return c.Of("/").Connected() }

// jobQueue runs jobs one at a time, in order, on a goroutine that exists
// only while there is work.
type jobQueue struct {
	mu      sync.Mutex
	jobs    []func()
	running bool
}

// enqueue adds job to q. Jobs queued after the client has finished are
// dropped. It must not be called with c.mu held.
func (c *Client) enqueue(q *jobQueue, what string, job func()) {
	q.mu.Lock()
	q.jobs = append(q.jobs, job)
	if q.running {
		q.mu.Unlock()
		return
	}
	c.mu.Lock()
	if c.draining {
		c.mu.Unlock()
		q.jobs = nil
		q.mu.Unlock()
		return
	}
	c.jobs.Add(1)
	c.mu.Unlock()
	q.running = true
	q.mu.Unlock()
	go func() {
		defer c.jobs.Done()
		for {
			q.mu.Lock()
			if len(q.jobs) == 0 {
				q.running = false
				q.jobs = nil
				q.mu.Unlock()
				return
			}
			j := q.jobs[0]
			q.jobs[0] = nil
			q.jobs = q.jobs[1:]
			q.mu.Unlock()
			c.safeCall(what, j)
		}
	}()
}

func (c *Client) safeCall(what string, fn func()) {
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("socketio: panic in client "+what, "panic", v)
		}
	}()
	fn()
}

// clientSession is one Engine.IO connection of a client.
type clientSession struct {
	c      *Client
	engine atomic.Pointer[engineio.Client]
	dec    PacketDecoder // used by onMessage and onClose only, which the engine serialises

	mu     sync.Mutex
	reason string // why we closed it, when we did
}

func (ses *clientSession) eng() *engineio.Client { return ses.engine.Load() }

// send queues frames as one unit.
func (ses *clientSession) send(frames []engineio.Packet) error {
	if err := ses.eng().SendPackets(frames); err != nil {
		if errors.Is(err, engineio.ErrClientClosed) {
			return ErrDisconnected
		}
		return fmt.Errorf("socketio: send: %w", err)
	}
	return nil
}

// close closes the connection; reason is what the sockets' disconnect
// handlers see.
func (ses *clientSession) close(reason string) {
	ses.mu.Lock()
	if ses.reason == "" {
		ses.reason = reason
	}
	ses.mu.Unlock()
	if e := ses.eng(); e != nil {
		_ = e.Close()
	}
}

// onMessage decodes and routes one message from the server.
func (ses *clientSession) onMessage(data []byte, binary bool) {
	c := ses.c
	p, err := ses.dec.Decode(data, binary)
	if err != nil {
		c.log.Warn("socketio: undecodable packet from the server", "err", err)
		ses.close(ReasonParseError)
		return
	}
	if p == nil {
		return
	}
	c.mu.Lock()
	s := c.sockets[p.Namespace]
	c.mu.Unlock()
	if s == nil {
		c.log.Debug("socketio: packet for an unknown namespace", "nsp", p.Namespace, "type", p.Type)
		return
	}
	switch p.Type {
	case parser.Connect:
		s.onConnect(ses, p.Data)
	case parser.ConnectError:
		s.onConnectError(ses, p.Data)
	case parser.Disconnect:
		s.onServerDisconnect(ses)
	case parser.Event, parser.BinaryEvent:
		if err := s.onEvent(ses, p); err != nil {
			c.log.Warn("socketio: bad event from the server", "nsp", p.Namespace, "err", err)
			ses.close(ReasonParseError)
		}
	case parser.Ack, parser.BinaryAck:
		s.onAck(p)
	}
}

// onClose disconnects the sockets that were on this connection.
func (ses *clientSession) onClose(reason string, err error) {
	ses.dec.Reset()
	ses.mu.Lock()
	if ses.reason != "" {
		reason = ses.reason
	}
	ses.mu.Unlock()
	c := ses.c
	c.log.Debug("socketio: connection closed", "reason", reason, "err", err)
	// With reconnection off, the end is known now: emits made from the
	// disconnect handlers on fail at once.
	c.mu.Lock()
	final := c.started && c.ses == ses && !*c.opts.Reconnection
	c.mu.Unlock()
	if final {
		c.endWith(fmt.Errorf("%w: connection lost (%s) and reconnection is off", ErrDisconnected, reason))
	}
	for _, s := range c.allSockets() {
		s.onLost(ses, reason)
	}
}
