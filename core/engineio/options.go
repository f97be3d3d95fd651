package engineio

import (
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/siokit/siokit/core/internal/logx"
)

// Transport names, as they appear in the "transport" query parameter.
const (
	TransportPolling   = "polling"
	TransportWebSocket = "websocket"
)

// Options configures a [Server]. The zero value of every field selects the
// default named in its comment, which is the reference servers' default.
type Options struct {
	// Path is the URL path the engine answers on, with a trailing slash.
	// Default "/engine.io/"; the Socket.IO server sets "/socket.io/".
	Path string

	// PingInterval is how often the server pings. Default 25s.
	PingInterval time.Duration
	// PingTimeout is how long the server waits for the pong before it closes
	// the session with reason "ping timeout". Default 20s.
	PingTimeout time.Duration
	// UpgradeTimeout is how long an upgrade from polling to WebSocket may take
	// before the WebSocket is dropped and the session stays on polling.
	// Default 10s.
	UpgradeTimeout time.Duration
	// WriteTimeout bounds a stalled WebSocket write; a peer that does not
	// read is dropped with reason "transport error" when it expires. The
	// deadline is renewed once per half WriteTimeout, so a stalled write
	// fails after between half and all of it. Default 10s.
	WriteTimeout time.Duration

	// MaxHTTPBufferSize is the largest polling POST body and the largest
	// WebSocket message, in bytes (maxHttpBufferSize). A larger POST gets 413
	// and closes the session; a larger WebSocket message closes the connection
	// with status 1009. It is announced to clients as maxPayload.
	// Default 1,000,000.
	MaxHTTPBufferSize int64

	// Transports lists the allowed transports, of "polling" and "websocket".
	// Default both.
	Transports []string

	// AllowRequest, if set, is called for every handshake. A non-nil error
	// refuses it with status 403, code 4 and the error's text as the message;
	// no session is created.
	AllowRequest func(r Request) error

	// MaxConnections caps the number of open sessions; a handshake over the
	// cap is refused with status 403, code 4. Zero means no cap.
	MaxConnections int

	// MaxConnectionsPerAddress caps the open sessions of one remote address
	// (the host part of Request.RemoteAddr, or the client address that a
	// trusted proxy forwards, see TrustProxy), so that one host cannot take
	// every session. A handshake over the cap is refused with status 403,
	// code 4, message "Too many connections from this address", and logged
	// at Warn (rate-limited). Default [DefaultMaxConnectionsPerAddress];
	// negative means no cap. Behind a reverse proxy that is not trusted
	// every client shares the proxy's address: set TrustProxy, or raise or
	// disable the cap.
	MaxConnectionsPerAddress int

	// TrustProxy says that every request comes through a reverse proxy that
	// sets X-Forwarded-Host, X-Forwarded-Proto and X-Forwarded-For, and
	// that clients cannot set those headers themselves. The same-origin
	// check then compares the Origin with the forwarded host and scheme, and
	// the per-address cap counts the last address of X-Forwarded-For (the
	// one the proxy saw). Off by default: those headers are ignored, since a
	// client can send them.
	TrustProxy bool

	// HTTPCompression compresses long-polling responses (gzip or deflate,
	// as the client's Accept-Encoding allows), as the reference servers do.
	// The zero value compresses responses of 1 KiB and more; see
	// [CompressionOptions].
	HTTPCompression CompressionOptions

	// Cookie, if set, makes the handshake set a cookie holding the session id.
	// It is a template: Value becomes the session id, an empty Name becomes
	// "io", and every other attribute (Path, Secure, HttpOnly, SameSite, ...)
	// is sent as given. Off by default.
	Cookie *http.Cookie

	// CORS controls which origins may talk to the server. The zero value is
	// the same-origin policy, for long-polling and WebSocket alike: a
	// request's Origin must name the scheme and the host the request came to
	// (the scheme from [TLSRequest], the host from the Host header; the
	// X-Forwarded-Proto and X-Forwarded-Host headers stand for them only
	// with TrustProxy). A refused origin gets status 400, code 3, and is
	// logged at Warn with the accepted list.
	CORS CORSOptions

	// MaxQueuedPackets and MaxQueuedBytes bound each session's outgoing queue.
	// When a packet would overflow it, a volatile packet is dropped and any
	// other closes the session with reason "transport error", so a client that
	// stops reading never grows the server's memory. Defaults 4096 packets and
	// 16 MiB.
	MaxQueuedPackets int
	MaxQueuedBytes   int64

	// PerMessageDeflate negotiates the permessage-deflate WebSocket
	// extension (RFC 7692) with clients that offer it, without context
	// takeover either way: every message is compressed on its own by a
	// pooled compressor, so an idle connection holds none. Inflated
	// messages count against MaxHTTPBufferSize (a larger one closes with
	// 1009). Off by default, as in Node.
	PerMessageDeflate bool
	// PerMessageDeflateThreshold is the smallest message, in bytes, that is
	// compressed when PerMessageDeflate is on. Default 1024.
	PerMessageDeflateThreshold int

	// MaxControlFramesPerSecond caps the WebSocket control frames (pings and
	// pongs) a client may send each second; past it the connection closes
	// with status 1008 (policy violation), so a ping flood cannot make the
	// server write a pong for each. Engine.IO's own heartbeat uses no
	// control frames. Default 100; negative means no cap.
	MaxControlFramesPerSecond int

	// Logger receives the engine's logs. Default: a logger that writes Warn
	// and above to the handler of [slog.Default] (refused origins, requests
	// outside Path, unknown session ids, refused handshakes, panics in
	// callbacks; the records a peer can cause are rate-limited per address
	// and kind). slog.New(slog.DiscardHandler) silences it.
	Logger *slog.Logger
}

// CompressionOptions configures the compression of long-polling responses
// (Node's httpCompression option).
type CompressionOptions struct {
	// Disable turns compression off.
	Disable bool
	// Threshold is the smallest response, in bytes, that is compressed.
	// Default 1024, as in Node.
	Threshold int
}

// CORSOptions selects the origins allowed to make cross-origin requests.
type CORSOptions struct {
	// AllowedOrigins lists origins ("https://example.com") allowed besides the
	// server's own; "*" allows every origin. Empty means same origin only.
	AllowedOrigins []string
	// AllowCredentials sends Access-Control-Allow-Credentials: true.
	// Default true when the list is empty or names origins, as the reference
	// servers echo the origin; it is never sent with "*" unless set.
	AllowCredentials *bool
}

// Default values of [Options].
const (
	DefaultPath              = "/engine.io/"
	DefaultPingInterval      = 25 * time.Second
	DefaultPingTimeout       = 20 * time.Second
	DefaultUpgradeTimeout    = 10 * time.Second
	DefaultWriteTimeout      = 10 * time.Second
	DefaultMaxHTTPBufferSize = 1_000_000
	DefaultMaxQueuedPackets  = 4096
	DefaultMaxQueuedBytes    = 16 << 20
	// DefaultMaxConnectionsPerAddress is generous: it is meant to stop one
	// host from taking every session, not to limit offices behind a NAT.
	DefaultMaxConnectionsPerAddress = 1000
	DefaultCompressionThreshold     = 1024

	DefaultPerMessageDeflateThreshold = 1024
	DefaultMaxControlFramesPerSecond  = 100
)

// withDefaults returns a copy of o with every zero field set to its default.
func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.Path[len(c.Path)-1] != '/' {
		c.Path += "/"
	}
	if c.PingInterval <= 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = DefaultPingTimeout
	}
	if c.UpgradeTimeout <= 0 {
		c.UpgradeTimeout = DefaultUpgradeTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.MaxHTTPBufferSize <= 0 {
		c.MaxHTTPBufferSize = DefaultMaxHTTPBufferSize
	}
	if len(c.Transports) == 0 {
		c.Transports = []string{TransportPolling, TransportWebSocket}
	} else {
		c.Transports = slices.Clone(c.Transports)
	}
	if c.MaxQueuedPackets <= 0 {
		c.MaxQueuedPackets = DefaultMaxQueuedPackets
	}
	if c.MaxQueuedBytes <= 0 {
		c.MaxQueuedBytes = DefaultMaxQueuedBytes
	}
	c.Logger = logx.Default(c.Logger)
	if c.MaxConnectionsPerAddress == 0 {
		c.MaxConnectionsPerAddress = DefaultMaxConnectionsPerAddress
	}
	if c.HTTPCompression.Threshold <= 0 {
		c.HTTPCompression.Threshold = DefaultCompressionThreshold
	}
	if c.PerMessageDeflateThreshold <= 0 {
		c.PerMessageDeflateThreshold = DefaultPerMessageDeflateThreshold
	}
	if c.MaxControlFramesPerSecond == 0 {
		c.MaxControlFramesPerSecond = DefaultMaxControlFramesPerSecond
	}
	c.CORS.AllowedOrigins = slices.Clone(c.CORS.AllowedOrigins)
	return c
}

func (o *Options) allows(transport string) bool {
	return slices.Contains(o.Transports, transport)
}
