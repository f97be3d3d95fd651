package engineio

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/siokit/siokit/core/internal/wsframe"
)

// isWebSocketHandshake reports whether r is a valid RFC 6455 opening
// handshake: a GET asking to upgrade to websocket, version 13, with a key.
func isWebSocketHandshake(r Request) bool {
	return r.Method() == http.MethodGet &&
		wsframe.HeaderHas(r.Header("Upgrade"), "websocket") &&
		wsframe.HeaderHas(r.Header("Connection"), "upgrade") &&
		r.Header("Sec-WebSocket-Version") == "13" &&
		wsframe.ValidKey(r.Header("Sec-WebSocket-Key"))
}

// acceptWebSocket checks the WebSocket handshake of r, takes the connection
// over through the adapter, answers the handshake itself (with cookie, a
// Set-Cookie value, if not empty) and runs serve on the connection; the
// connection is closed when serve returns. A request that is not a valid
// handshake, or whose adapter cannot hand the connection over, gets 400
// code 3 (the returned error); nothing is written otherwise.
func (s *Server) acceptWebSocket(w ResponseWriter, r Request, cookie string, serve func(*wsConn)) *RequestError {
	h, ok := r.(Hijacker)
	if !ok || !isWebSocketHandshake(r) {
		return badRequest(CodeBadRequest)
	}
	set := wsSettings{
		limit:    s.opts.MaxHTTPBufferSize,
		timeout:  s.opts.WriteTimeout,
		minZip:   s.opts.PerMessageDeflateThreshold,
		ctlLimit: max(s.opts.MaxControlFramesPerSecond, 0),
	}
	if s.opts.PerMessageDeflate {
		set.deflate = wsframe.AcceptDeflate(strings.Join(r.Headers().Values("Sec-WebSocket-Extensions"), ","))
	}
	resp := make([]byte, 0, 256)
	resp = append(resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	resp = append(resp, wsframe.AcceptKey(r.Header("Sec-WebSocket-Key"))...)
	if set.deflate {
		resp = append(resp, "\r\nSec-WebSocket-Extensions: "+wsframe.ExtensionResponse...)
	}
	if cookie != "" {
		resp = append(resp, "\r\nSet-Cookie: "...)
		resp = append(resp, cookie...)
	}
	resp = append(resp, "\r\n\r\n"...)
	err := h.Hijack(func(conn net.Conn, buffered []byte) {
		defer func() { _ = conn.Close() }()
		// An http.Server's ReadTimeout and WriteTimeout must not end a
		// WebSocket: the engine sets its own deadlines.
		_ = conn.SetDeadline(time.Time{})
		ws := newWSConn(conn, buffered, set)
		if ws.writeRaw(resp) != nil {
			return
		}
		serve(ws)
	})
	if err != nil {
		s.log.Debug("engineio: websocket hijack failed", "err", err)
		if errors.Is(err, ErrUpgradeNotSupported) {
			return badRequest(CodeBadRequest)
		}
	}
	return nil
}
