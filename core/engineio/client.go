package engineio

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Sentinel errors of the [Client], testable with errors.Is.
var (
	// ErrClientClosed is returned by sends on a closed client.
	ErrClientClosed = errors.New("engineio: client closed")
	// ErrHandshake wraps every reason [Dial] fails: an HTTP status (with a
	// [*RequestError] when the server answered with Engine.IO's JSON error
	// body), a network or TLS error, or a malformed open packet.
	ErrHandshake = errors.New("engineio: handshake failed")
	// ErrMessageTooLarge is returned by a send whose packet, once encoded for
	// the current transport, exceeds the maxPayload the server announced.
	ErrMessageTooLarge = errors.New("engineio: message larger than the server's maxPayload")
)

// ClientOptions configures [Dial]. The zero value of every field selects the
// default named in its comment.
type ClientOptions struct {
	// Path is the engine's URL path, appended to the path of the URL given
	// to Dial (which is thus a prefix, as behind a reverse proxy).
	// Default "/engine.io/"; the Socket.IO client sets "/socket.io/".
	Path string
	// Transports lists the transports to use, of "polling" and "websocket".
	// The session opens over the first; with polling first it upgrades to
	// WebSocket when that is listed too and the server offers it. Default
	// {"polling", "websocket"}; {"websocket"} connects over WebSocket only.
	Transports []string
	// Upgrade allows the upgrade from polling to WebSocket. Default true.
	Upgrade *bool
	// Header holds extra headers for every request, the WebSocket handshake
	// included.
	Header http.Header
	// Query holds extra query parameters for every request.
	Query url.Values
	// TLSConfig configures TLS for https and wss URLs. Default nil: the
	// system's roots, with certificates verified.
	TLSConfig *tls.Config
	// HTTPClient sends the long-polling requests. Default: a client of the
	// session's own, with TLSConfig and a cookie jar (for sticky sessions)
	// shared with the WebSocket handshake; its connections are closed with
	// the session.
	HTTPClient *http.Client
	// WriteTimeout bounds one long-polling POST and one batch of WebSocket
	// writes; a server that does not take the data in time fails the session
	// with reason "transport error". Default 10s.
	WriteTimeout time.Duration
	// UpgradeTimeout bounds the WebSocket handshake and probe of an upgrade;
	// when it expires the session stays on polling. Default 10s.
	UpgradeTimeout time.Duration
	// MaxQueuedPackets and MaxQueuedBytes bound the outgoing queue; a send
	// that would overflow it returns [ErrQueueFull] and the session goes on.
	// Defaults 4096 packets and 16 MiB.
	MaxQueuedPackets int
	MaxQueuedBytes   int64

	// OnMessage is called for each message from the server, one at a time
	// and in order, on a goroutine of the client. data belongs to the
	// callback. Set here, it sees every message, the first included.
	OnMessage func(data []byte, binary bool)
	// OnUpgrade is called once the session has switched to WebSocket.
	OnUpgrade func()
	// OnClose is called once when the session ends, after the last
	// OnMessage has returned, with the reason ("forced close", "transport
	// close", "transport error" or "ping timeout") and the error behind it,
	// if any. [Client.Done] is closed after it returns.
	OnClose func(reason string, err error)

	// Logger receives the client's logs. Default: discarded.
	Logger *slog.Logger
}

// Client defaults.
const (
	DefaultClientWriteTimeout = 10 * time.Second
)

func (o *ClientOptions) withDefaults() (ClientOptions, error) {
	var c ClientOptions
	if o != nil {
		c = *o
	}
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if len(c.Transports) == 0 {
		c.Transports = []string{TransportPolling, TransportWebSocket}
	} else {
		c.Transports = slices.Clone(c.Transports)
	}
	for _, t := range c.Transports {
		if t != TransportPolling && t != TransportWebSocket {
			return c, fmt.Errorf("engineio: unknown transport %q", t)
		}
	}
	if c.Upgrade == nil {
		t := true
		c.Upgrade = &t
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultClientWriteTimeout
	}
	if c.UpgradeTimeout <= 0 {
		c.UpgradeTimeout = DefaultUpgradeTimeout
	}
	if c.MaxQueuedPackets <= 0 {
		c.MaxQueuedPackets = DefaultMaxQueuedPackets
	}
	if c.MaxQueuedBytes <= 0 {
		c.MaxQueuedBytes = DefaultMaxQueuedBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Client is an Engine.IO v4 client session, opened by [Dial]. Its methods
// are safe for concurrent use.
//
// A client owns a reader goroutine and at most one writer goroutine per
// transport (plus one during an upgrade); all of them have returned when
// [Client.Done] is closed.
type Client struct {
	opts ClientOptions
	log  *slog.Logger

	httpc     *http.Client
	ownHTTP   *http.Transport // closed at the end; nil when the caller gave a client
	dialer    *websocket.Dialer
	header    http.Header
	pollURL   string // polling URL with every parameter but t
	wsURL     string // WebSocket URL with every parameter
	cacheBust atomic.Uint64

	id           string
	upgrades     []string
	pingInterval time.Duration
	pingTimeout  time.Duration
	maxPayload   int64

	ctx         context.Context // cancelled at close: pending poll, dials
	cancel      context.CancelFunc
	writeCtx    context.Context // cancelled at close unless a close packet is to be sent
	writeCancel context.CancelFunc
	wg          sync.WaitGroup
	done        chan struct{}
	pollDone    chan struct{} // closed when the poll loop returns
	postDone    chan struct{} // closed when the polling writer returns

	mu          sync.Mutex
	transport   string
	queue       []Packet
	spare       []Packet // an empty array to queue into, recycled by the WebSocket writer
	queuedBytes int64
	notify      chan struct{} // wakes the writer of the current transport
	paused      bool          // polling paused for the upgrade
	ws          *websocket.Conn
	probe       *websocket.Conn
	closed      bool
	reason      string
	cause       error
	pingTimer   *time.Timer
}

// openPacket is the JSON body of the open packet.
type openPacket struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	MaxPayload   int64    `json:"maxPayload"`
}

// Dial opens an Engine.IO session at rawURL (http, https, ws or wss; its path
// is a prefix to opts.Path) and returns once the server's open packet has
// arrived. ctx bounds the handshake only; the session then lives until
// [Client.Close], the server or the network ends it. Every error wraps
// [ErrHandshake].
func Dial(ctx context.Context, rawURL string, opts *ClientOptions) (*Client, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	c := &Client{
		opts:   o,
		log:    o.Logger,
		header: o.Header.Clone(),
		done:   make(chan struct{}),
		notify: make(chan struct{}, 1),
	}
	if c.header == nil {
		c.header = http.Header{}
	}
	if err := c.setURLs(rawURL); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	c.setupHTTP()
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.writeCtx, c.writeCancel = context.WithCancel(context.Background())

	var rest []Packet
	if o.Transports[0] == TransportWebSocket {
		err = c.handshakeWebSocket(ctx)
	} else {
		rest, err = c.handshakePolling(ctx)
	}
	if err != nil {
		c.cancel()
		c.writeCancel()
		if c.ownHTTP != nil {
			c.ownHTTP.CloseIdleConnections()
		}
		return nil, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	c.log.Debug("engineio: client connected", "sid", c.id, "transport", c.transport)

	c.mu.Lock()
	c.pingTimer = time.AfterFunc(c.pingInterval+c.pingTimeout, c.onPingTimeout)
	if c.transport == TransportWebSocket {
		c.wg.Add(2)
		go c.wsWriter(c.ws)
		go c.wsReader(c.ws)
	} else {
		c.pollDone = make(chan struct{})
		c.postDone = make(chan struct{})
		c.wg.Add(2)
		go c.pollLoop(rest)
		go c.pollWriter()
		if *o.Upgrade && slices.Contains(o.Transports, TransportWebSocket) &&
			slices.Contains(c.upgrades, TransportWebSocket) {
			c.wg.Add(1)
			go c.upgrade()
		}
	}
	c.mu.Unlock()
	return c, nil
}

// setURLs derives the polling and WebSocket URLs from rawURL.
func (c *Client) setURLs(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	var httpScheme, wsScheme string
	switch strings.ToLower(u.Scheme) {
	case "http", "ws":
		httpScheme, wsScheme = "http", "ws"
	case "https", "wss":
		httpScheme, wsScheme = "https", "wss"
	default:
		return fmt.Errorf("unsupported URL scheme %q", u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("URL %q has no host", rawURL)
	}
	q := u.Query()
	for k, vs := range c.opts.Query {
		q[k] = slices.Clone(vs)
	}
	q.Set("EIO", "4")
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + strings.Trim(c.opts.Path, "/") + "/"
	u.RawPath = ""
	u.Fragment = ""
	u.Scheme = httpScheme
	q.Set("transport", TransportPolling)
	u.RawQuery = q.Encode()
	c.pollURL = u.String()
	u.Scheme = wsScheme
	q.Set("transport", TransportWebSocket)
	u.RawQuery = q.Encode()
	c.wsURL = u.String()
	return nil
}

// setupHTTP prepares the polling client and the WebSocket dialer.
func (c *Client) setupHTTP() {
	var jar http.CookieJar
	if c.opts.HTTPClient != nil {
		c.httpc = c.opts.HTTPClient
		jar = c.httpc.Jar
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = c.opts.TLSConfig.Clone()
		jar, _ = cookiejar.New(nil) // never fails without options
		c.ownHTTP = tr
		c.httpc = &http.Client{Transport: tr, Jar: jar}
	}
	c.dialer = &websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		TLSClientConfig:  c.opts.TLSConfig.Clone(),
		HandshakeTimeout: 45 * time.Second,
		Jar:              jar,
	}
}

// applyOpen reads the open packet's JSON.
func (c *Client) applyOpen(data []byte) error {
	var op openPacket
	if err := json.Unmarshal(data, &op); err != nil {
		return fmt.Errorf("bad open packet: %w", err)
	}
	if op.SID == "" {
		return errors.New("open packet without sid")
	}
	c.id = op.SID
	c.upgrades = op.Upgrades
	c.pingInterval = time.Duration(op.PingInterval) * time.Millisecond
	c.pingTimeout = time.Duration(op.PingTimeout) * time.Millisecond
	if c.pingInterval <= 0 {
		c.pingInterval = DefaultPingInterval
	}
	if c.pingTimeout <= 0 {
		c.pingTimeout = DefaultPingTimeout
	}
	c.maxPayload = op.MaxPayload
	q := url.Values{"sid": {op.SID}}.Encode()
	c.pollURL += "&" + q
	c.wsURL += "&" + q
	return nil
}

// ID returns the session id the server assigned.
func (c *Client) ID() string { return c.id }

// Transport returns the current transport: "polling" or "websocket".
func (c *Client) Transport() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.transport
}

// MaxPayload returns the largest payload the server accepts, as announced
// in its open packet; 0 means no limit was announced.
func (c *Client) MaxPayload() int64 { return c.maxPayload }

// Done returns a channel closed once the session has ended: every goroutine
// of the client has returned and OnClose has run.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns the close reason and the error behind it once the session has
// ended; "" and nil before.
func (c *Client) Err() (reason string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reason, c.cause
}

// Send queues one message; binary selects a binary message. The client keeps
// data until it is written, so the caller must not modify it afterwards.
// Errors: [ErrClientClosed], [ErrMessageTooLarge], [ErrQueueFull].
func (c *Client) Send(data []byte, binary bool) error {
	p := Packet{Type: PacketMessage, Data: data, Binary: binary}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.enqueueLocked(p)
}

// SendPackets queues packets as one unit: all or none of them are queued,
// and they are written in order with no other packet between them (a
// polling unit may span several POSTs to honour maxPayload).
func (c *Client) SendPackets(ps []Packet) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.enqueueLocked(ps...)
}

// enqueueLocked checks and queues one unit. Caller holds c.mu.
func (c *Client) enqueueLocked(ps ...Packet) error {
	if c.closed {
		return ErrClientClosed
	}
	var size int64
	for _, p := range ps {
		if c.maxPayload > 0 {
			if n := encodedSize(p, c.transport); n > c.maxPayload {
				return fmt.Errorf("%w: %d bytes over %s, maxPayload %d", ErrMessageTooLarge, n, c.transport, c.maxPayload)
			}
		}
		size += int64(len(p.Data))
	}
	if len(c.queue)+len(ps) > c.opts.MaxQueuedPackets || c.queuedBytes+size > c.opts.MaxQueuedBytes {
		return ErrQueueFull
	}
	c.queue = append(c.queue, ps...)
	c.queuedBytes += size
	c.wakeLocked()
	return nil
}

// encodedSize is the size of p on the given transport.
func encodedSize(p Packet, transport string) int64 {
	switch {
	case !p.Binary:
		return 1 + int64(len(p.Data))
	case transport == TransportWebSocket:
		return int64(len(p.Data))
	default:
		return 1 + int64(base64.StdEncoding.EncodedLen(len(p.Data)))
	}
}

// wakeLocked wakes the writer. Caller holds c.mu.
func (c *Client) wakeLocked() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// takeQueueLocked removes and returns the queue. Caller holds c.mu.
func (c *Client) takeQueueLocked() []Packet {
	q := c.queue
	c.queue = c.spare
	c.spare = nil
	c.queuedBytes = 0
	return q
}

// Close ends the session: what is queued is sent, then a close packet, and
// OnClose runs with reason "forced close". It returns at once; wait on
// [Client.Done] for the client's goroutines to finish (not from a callback
// of the client, which would deadlock). Closing a closed client does nothing.
func (c *Client) Close() error {
	c.shutdown(ReasonForcedClose, nil, true)
	return nil
}

// fail ends the session because of the transport or the server.
func (c *Client) fail(reason string, err error) {
	c.shutdown(reason, err, false)
}

// shutdown closes the session once. tell sends the server a close packet
// after what is queued.
func (c *Client) shutdown(reason string, cause error, tell bool) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.reason = reason
	c.cause = cause
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	if tell {
		c.queue = append(c.queue, Packet{Type: PacketClose})
	} else {
		c.takeQueueLocked()
		c.writeCancel()
		if c.ws != nil {
			c.ws.Close()
		}
	}
	if c.probe != nil {
		c.probe.Close()
	}
	if !tell || c.transport != TransportPolling || c.paused {
		c.cancel() // the pending poll and any dial
	}
	// Else the polling writer cancels them once the close packet is posted,
	// so that the aborted poll cannot end the session on the server before
	// the last messages are read.
	c.wakeLocked()
	c.mu.Unlock()
	c.log.Debug("engineio: client closing", "sid", c.id, "reason", reason, "err", cause)
	go c.finish()
}

// finish waits for the client's goroutines, then runs OnClose.
func (c *Client) finish() {
	c.wg.Wait()
	c.writeCancel()
	if c.ownHTTP != nil {
		c.ownHTTP.CloseIdleConnections()
	}
	if c.opts.OnClose != nil {
		func() {
			defer c.recoverCallback("close")
			c.opts.OnClose(c.reason, c.cause)
		}()
	}
	close(c.done)
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// onPingTimeout fires when no ping came within pingInterval+pingTimeout.
func (c *Client) onPingTimeout() {
	c.fail(ReasonPingTimeout, nil)
}

// handle processes one packet from the server. It returns false when the
// reader must stop.
func (c *Client) handle(p Packet) bool {
	switch p.Type {
	case PacketMessage:
		if c.opts.OnMessage != nil && !c.isClosed() {
			c.deliver(p)
		}
	case PacketPing:
		c.mu.Lock()
		if !c.closed {
			c.pingTimer.Reset(c.pingInterval + c.pingTimeout)
			c.queue = append(c.queue, Packet{Type: PacketPong})
			c.wakeLocked()
		}
		c.mu.Unlock()
	case PacketClose:
		c.fail(ReasonTransportClose, nil)
		return false
	case PacketNoop:
	default:
		c.log.Debug("engineio: client ignores unexpected packet", "sid", c.id, "type", p.Type)
	}
	return true
}

func (c *Client) deliver(p Packet) {
	defer c.recoverCallback("message")
	c.opts.OnMessage(p.Data, p.Binary)
}

// recoverCallback logs a panic of a user callback instead of crashing.
func (c *Client) recoverCallback(what string) {
	if v := recover(); v != nil {
		c.log.Error("engineio: panic in client "+what+" callback", "sid", c.id, "panic", v)
	}
}

// applyHeader sets the configured headers on h.
func (c *Client) applyHeader(h http.Header) {
	for k, vs := range c.header {
		h[k] = slices.Clone(vs)
	}
}

// responseError turns a refused request into an error, with a
// [*RequestError] when the body is Engine.IO's JSON error.
func responseError(resp *http.Response) error {
	var body []byte
	if resp.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(resp.Body, 4096))
	}
	var e struct {
		Code    *int   `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil && e.Code != nil {
		return &RequestError{Status: resp.StatusCode, Code: Code(*e.Code), Message: e.Message}
	}
	return fmt.Errorf("HTTP status %d: %q", resp.StatusCode, body)
}

// cacheBuster returns a fresh value for the t query parameter.
func (c *Client) cacheBuster() string {
	return strconv.FormatUint(uint64(time.Now().UnixMilli())<<16+c.cacheBust.Add(1), 36)
}
