package siofiber

import (
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/siokit/siokit/core/app"
)

// The timeouts [Config] sets where the given config has none.
const (
	// DefaultReadTimeout bounds reading one request, headers and body: a
	// client that trickles its request (slowloris) or opens a connection and
	// sends nothing is closed after it. It does not apply to a long-poll's
	// wait nor to an upgraded WebSocket.
	DefaultReadTimeout = 10 * time.Second
	// DefaultWriteTimeout bounds writing one response, from the handler's
	// return; for a static file it bounds each chunk, so it ends a download
	// only when the client stops reading.
	DefaultWriteTimeout = 30 * time.Second
	// DefaultIdleTimeout closes a keep-alive connection that sends no new
	// request for this long.
	DefaultIdleTimeout = 60 * time.Second
)

// Config returns base with what siokit needs of a Fiber app:
// StreamRequestBody on, and ReadTimeout, WriteTimeout and IdleTimeout set to
// [DefaultReadTimeout], [DefaultWriteTimeout] and [DefaultIdleTimeout] where
// base leaves them zero. Every other field is kept as given; pass
// fiber.Config{} for Fiber's defaults:
//
//	a := fiber.New(siofiber.Config(fiber.Config{BodyLimit: 8 << 20}))
func Config(base fiber.Config) fiber.Config {
	base.StreamRequestBody = true
	if base.ReadTimeout <= 0 {
		base.ReadTimeout = DefaultReadTimeout
	}
	if base.WriteTimeout <= 0 {
		base.WriteTimeout = DefaultWriteTimeout
	}
	if base.IdleTimeout <= 0 {
		base.IdleTimeout = DefaultIdleTimeout
	}
	return base
}

// configProblems lists what cfg lacks of [Config], or nothing.
func configProblems(cfg fiber.Config) []string {
	var p []string
	if !cfg.StreamRequestBody {
		p = append(p, "StreamRequestBody is off: fasthttp allocates each request's declared body (up to BodyLimit) before siokit sees it")
	}
	if cfg.ReadTimeout <= 0 {
		p = append(p, "ReadTimeout is zero: a client that never finishes its request holds its connection and delays shutdown for ever")
	}
	return p
}

// warnConfig logs one warning, through slog.Default, if cfg lacks what
// [Config] sets.
func warnConfig(cfg fiber.Config) {
	if p := configProblems(cfg); len(p) > 0 {
		slog.Default().Warn("siofiber: the Fiber app is not configured for siokit; build it with fiber.New(siofiber.Config(...))",
			"problems", p)
	}
}

var _ app.StreamWriter = response{}

// WriteStream sends body as a stream: fasthttp copies it to the connection
// in chunks after the handler returns and closes it then, so a file is
// never held in memory whole. When the server has a write timeout, the
// write deadline moves forward before each chunk.
func (p response) WriteStream(body io.ReadCloser, size int64) {
	if p.writeTimeout > 0 {
		body = &deadlineStream{ReadCloser: body, conn: p.rc.Conn(), timeout: p.writeTimeout}
	}
	p.rc.Response.SetBodyStream(body, int(size))
}

// deadlineStream is a response body that gives the client timeout more to
// take each chunk: fasthttp sets its write deadline once per response, which
// would cut any download that lasts longer.
type deadlineStream struct {
	io.ReadCloser
	conn    net.Conn
	timeout time.Duration
}

// Read moves the connection's write deadline forward, then reads the next
// chunk, which fasthttp writes next.
func (s *deadlineStream) Read(b []byte) (int, error) {
	_ = s.conn.SetWriteDeadline(time.Now().Add(s.timeout))
	return s.ReadCloser.Read(b)
}
