package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// wsConn is a Socket.IO connection over WebSocket, speaking the frames
// directly. It is used by one goroutine at a time.
type wsConn struct {
	ws *websocket.Conn
	// The heartbeat the server announced in its open packet.
	pingInterval, pingTimeout time.Duration
}

var dialer = websocket.Dialer{HandshakeTimeout: 10 * time.Second, WriteBufferPool: nil}

// dialWS opens an Engine.IO WebSocket session and connects to namespace "/".
func dialWS(base string) (*wsConn, error) { return dialWSWith(&dialer, base) }

// dialWSWith is dialWS through d.
func dialWSWith(d *websocket.Dialer, base string) (*wsConn, error) {
	u := strings.Replace(base, "http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
	ws, _, err := d.Dial(u, nil) //nolint:bodyclose // gorilla/websocket: the handshake response body "does not need to be closed by the application"
	if err != nil {
		return nil, err
	}
	c := &wsConn{ws: ws}
	open, err := c.next()
	if err == nil && !bytes.HasPrefix(open, []byte("0{")) {
		err = fmt.Errorf("open packet %q", open)
	}
	if err != nil {
		ws.Close()
		return nil, err
	}
	c.pingInterval, c.pingTimeout = openTimes(open)
	if err := c.send([]byte("40")); err != nil {
		ws.Close()
		return nil, err
	}
	msg, err := c.next()
	if err == nil && !bytes.HasPrefix(msg, []byte("40")) {
		err = fmt.Errorf("unexpected %q", msg)
	}
	if err != nil {
		ws.Close()
		return nil, fmt.Errorf("namespace connect: %w", err)
	}
	return c, nil
}

func (c *wsConn) send(b []byte) error { return c.ws.WriteMessage(websocket.TextMessage, b) }

func (c *wsConn) sendBinary(b []byte) error { return c.ws.WriteMessage(websocket.BinaryMessage, b) }

// next returns the next message (text or binary) that is not a ping;
// pings are answered.
func (c *wsConn) next() ([]byte, error) {
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			return nil, err
		}
		if len(msg) == 1 && msg[0] == '2' {
			if err := c.send([]byte("3")); err != nil {
				return nil, err
			}
			continue
		}
		return msg, nil
	}
}

func (c *wsConn) close() { _ = c.ws.Close() }

// pollConn is a Socket.IO connection over long-polling only, on one
// keep-alive HTTP connection (requests are sequential).
type pollConn struct {
	target string // path and query
	sid    string
	hc     *httpConn
	buf    [][]byte // packets received but not consumed
}

func dialPolling(base string) (*pollConn, error) {
	hc, err := newHTTPConn(base)
	if err != nil {
		return nil, err
	}
	c := &pollConn{target: "/socket.io/?EIO=4&transport=polling", hc: hc}
	body, err := c.get()
	if err != nil {
		return nil, err
	}
	if len(body) == 0 || body[0] != '0' {
		return nil, fmt.Errorf("bad open packet %q", body)
	}
	i := bytes.Index(body, []byte(`"sid":"`))
	if i < 0 {
		return nil, fmt.Errorf("no sid in %q", body)
	}
	rest := body[i+7:]
	c.sid = string(rest[:bytes.IndexByte(rest, '"')])
	c.target += "&sid=" + url.QueryEscape(c.sid)
	if err := c.post([]byte("40")); err != nil {
		return nil, err
	}
	msg, err := c.next()
	if err == nil && !bytes.HasPrefix(msg, []byte("40")) {
		err = fmt.Errorf("unexpected %q", msg)
	}
	if err != nil {
		return nil, fmt.Errorf("namespace connect: %w", err)
	}
	return c, nil
}

func (c *pollConn) get() ([]byte, error) { return c.hc.do("GET", c.target, nil) }

func (c *pollConn) post(payload []byte) error {
	_, err := c.hc.do("POST", c.target, payload)
	return err
}

// next returns the next Engine.IO message packet ("4" and the Socket.IO
// packet, as on WebSocket), answering pings and skipping noops.
func (c *pollConn) next() ([]byte, error) {
	for {
		if len(c.buf) > 0 {
			p := c.buf[0]
			c.buf = c.buf[1:]
			switch {
			case len(p) == 1 && p[0] == '2':
				if err := c.post([]byte("3")); err != nil {
					return nil, err
				}
			case len(p) > 0 && p[0] == '4':
				return p, nil
			case len(p) > 0 && p[0] == '1':
				return nil, errors.New("session closed by the server")
			}
			continue
		}
		body, err := c.get()
		if err != nil {
			return nil, err
		}
		c.buf = bytes.Split(body, []byte{0x1e})
	}
}
