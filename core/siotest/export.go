package siotest

import (
	"slices"
	"testing"
	"time"

	"github.com/siokit/siokit/core/eiotest"
	"github.com/siokit/siokit/core/socketio"
)

// RunRawScenario runs the one scenario of [RunRaw] with the given name (such
// as "MalformedPackets") against mount, so that a test outside this package
// — the reliability battery — can name the scenario that covers an item. An
// unknown name fails t.
func RunRawScenario(t *testing.T, mount eiotest.Mount, name string) {
	t.Helper()
	for _, sc := range rawScenarios {
		if sc.name == name {
			sc.run(t, mount)
			return
		}
	}
	t.Fatalf("siotest: no raw scenario named %q", name)
}

// Env is a mounted Socket.IO server driven in raw frames, the environment of
// the [RunRaw] scenarios, for tests outside this package. Its cleanups (run
// by t) close its connections, then the server, then check for leaked
// goroutines.
type Env struct{ e *rawEnv }

// Start builds a server with opts (a 300 ms ping interval unless set),
// registers an "echo" handler on "/" that acknowledges its argument (which
// [Conn.RoundTrip] and [Env.Healthy] rely on), lets setup register more,
// and mounts it.
func Start(t *testing.T, mount eiotest.Mount, opts socketio.Options, setup func(srv *socketio.Server)) *Env {
	t.Helper()
	return &Env{startRaw(t, mount, opts, func(srv *socketio.Server) {
		registerEcho(srv)
		if setup != nil {
			setup(srv)
		}
	})}
}

// Server returns the server under test.
func (e *Env) Server() *socketio.Server { return e.e.srv }

// URL returns the engine's URL with the given query ("EIO=4&transport=polling").
func (e *Env) URL(query string) string { return e.e.pollURL(query) }

// Logs returns what the server has logged so far.
func (e *Env) Logs() string { return e.e.logs.String() }

// HTTP sends one request to the engine's path with query and body (sent as
// text/plain when not empty) and returns the status and body.
func (e *Env) HTTP(method, query, body string) (status int, respBody string, err error) {
	return e.e.httpDo(method, query, body)
}

// CloseIdle closes the env's idle keep-alive HTTP connections.
func (e *Env) CloseIdle() { e.e.tr.CloseIdleConnections() }

// Healthy dials a new client, joins "/" and makes a round trip through the
// echo handler, failing the test if the server does not answer.
func (e *Env) Healthy() { e.e.t.Helper(); e.e.healthy() }

// Dial opens a WebSocket-only session and reads its open packet. A reader
// goroutine answers pings and queues messages.
func (e *Env) Dial() *Conn {
	e.e.t.Helper()
	return &Conn{e.e.dial(), e.e}
}

// DialErr is Dial returning the error instead of failing the test.
func (e *Env) DialErr() (*Conn, error) {
	c, err := e.e.dialErr()
	if err != nil {
		return nil, err
	}
	return &Conn{c, e.e}, nil
}

// Conn is a raw WebSocket Engine.IO session of an [Env].
type Conn struct {
	c *rawConn
	e *rawEnv
}

// SetT makes the connection report failures to t (a subtest's).
func (c *Conn) SetT(t testing.TB) *Conn { c.c.t = t; return c }

// SID returns the Engine.IO session id.
func (c *Conn) SID() string { return c.c.sid }

// Send writes one Socket.IO packet ("2[\"x\"]") as an Engine.IO message.
func (c *Conn) Send(packet string) { c.c.send(packet) }

// SendBinary writes one binary attachment.
func (c *Conn) SendBinary(b []byte) { c.c.sendBinary(b) }

// WriteFrame writes one raw WebSocket message of type typ.
func (c *Conn) WriteFrame(typ int, data []byte) error { return c.c.writeFrame(typ, data) }

// Connect joins nsp with an optional auth object and returns the socket id.
func (c *Conn) Connect(nsp, auth string) string { c.c.t.Helper(); return c.c.connect(nsp, auth) }

// RoundTrip sends an acknowledged "echo" event on nsp and waits for its ack.
func (c *Conn) RoundTrip(nsp string, id int) { c.c.t.Helper(); c.c.roundTrip(nsp, id) }

// Expect reads the next Socket.IO packet and compares it with want.
func (c *Conn) Expect(want string) { c.c.t.Helper(); c.c.expect(want) }

// ExpectPrefix reads the next packet, checks its prefix and returns the rest.
func (c *Conn) ExpectPrefix(prefix string) string { c.c.t.Helper(); return c.c.expectPrefix(prefix) }

// ExpectClosed waits until the server closes the connection; a message
// packet on the way fails the test.
func (c *Conn) ExpectClosed() { c.c.t.Helper(); c.c.expectClosed() }

// ExpectSilence checks that nothing arrives for a short while.
func (c *Conn) ExpectSilence() { c.c.t.Helper(); c.c.expectSilence() }

// NextText returns the next packet, which must be a text packet.
func (c *Conn) NextText() string { c.c.t.Helper(); return c.c.nextText() }

// StopPongs makes the reader ignore pings from now on.
func (c *Conn) StopPongs() { c.c.stopPongs() }

// Close closes the TCP connection abruptly, waits for the reader to end and
// lets the env forget the connection, so that a test making thousands of
// them holds none.
func (c *Conn) Close() {
	c.c.close()
	c.c.wait()
	c.e.mu.Lock()
	c.e.conns = slices.DeleteFunc(c.e.conns, func(x *rawConn) bool { return x == c.c })
	c.e.mu.Unlock()
}

// WaitClosed discards incoming messages until the server closes the
// connection, and reports whether it did within d.
func (c *Conn) WaitClosed(d time.Duration) bool {
	deadline := time.After(d)
	for {
		select {
		case _, ok := <-c.c.in:
			if !ok {
				return true
			}
		case <-deadline:
			return false
		}
	}
}
