package engineio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// dialWebSocket opens a WebSocket to the engine; when the server refuses
// the handshake, the error carries its answer.
func (c *Client) dialWebSocket(ctx context.Context) (*websocket.Conn, error) {
	h := http.Header{}
	c.applyHeader(h)
	ws, resp, err := c.dialer.DialContext(ctx, c.wsURL, h)
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			defer resp.Body.Close()
			return nil, fmt.Errorf("websocket handshake: %w", responseError(resp))
		}
		return nil, err
	}
	return ws, nil
}

// readWithContext reads one packet, giving up when ctx ends.
func readWithContext(ctx context.Context, ws *websocket.Conn) (Packet, error) {
	if d, ok := ctx.Deadline(); ok {
		_ = ws.SetReadDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { _ = ws.SetReadDeadline(time.Unix(1, 0)) })
	p, err := readPacket(ws)
	if !stop() {
		// ctx ended: whatever the read returned, it was cut short.
		return Packet{}, errors.Join(ctx.Err(), err)
	}
	_ = ws.SetReadDeadline(time.Time{})
	return p, err
}

// handshakeWebSocket opens the session over WebSocket directly.
func (c *Client) handshakeWebSocket(ctx context.Context) error {
	c.transport = TransportWebSocket
	ws, err := c.dialWebSocket(ctx)
	if err != nil {
		return err
	}
	p, err := readWithContext(ctx, ws)
	if err == nil && p.Type != PacketOpen {
		err = fmt.Errorf("%w: expected an open packet, got %s", ErrBadPacket, p.Type)
	}
	if err == nil {
		err = c.applyOpen(p.Data)
	}
	if err != nil {
		ws.Close()
		return err
	}
	c.ws = ws
	return nil
}

// wsReader reads packets until the connection ends.
func (c *Client) wsReader(ws *websocket.Conn) {
	defer c.wg.Done()
	c.readWebSocket(ws)
}

func (c *Client) readWebSocket(ws *websocket.Conn) {
	for {
		p, err := readPacket(ws)
		if err != nil {
			reason := ReasonTransportError
			var ce *websocket.CloseError
			if errors.As(err, &ce) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				reason = ReasonTransportClose
			}
			if websocket.IsCloseError(err, websocket.CloseNormalClosure) {
				// The server closed the session (a close frame with no
				// close packet, as Node's does): a clean close.
				err = nil
			}
			c.fail(reason, err) // no-op once the session is closed
			ws.Close()
			return
		}
		if !c.handle(p) {
			ws.Close()
			return
		}
	}
}

// wsWriter writes the queue onto ws until the session closes.
func (c *Client) wsWriter(ws *websocket.Conn) {
	defer c.wg.Done()
	var batch []Packet
	for {
		c.mu.Lock()
		if batch != nil {
			// Hand the written batch's array back for the next sends.
			clear(batch)
			c.spare = batch[:0]
		}
		for len(c.queue) == 0 && !c.closed {
			c.mu.Unlock()
			<-c.notify
			c.mu.Lock()
		}
		if len(c.queue) == 0 {
			c.mu.Unlock()
			ws.Close()
			return
		}
		batch = c.takeQueueLocked()
		c.mu.Unlock()
		_ = ws.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout))
		for _, p := range batch {
			if err := writePacket(ws, p); err != nil {
				c.fail(ReasonTransportError, err)
				ws.Close()
				return
			}
			if p.Type == PacketClose {
				_ = ws.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
					time.Now().Add(time.Second))
				ws.Close()
				return
			}
		}
	}
}

// upgrade moves a polling session to WebSocket: probe, pause polling, send
// the upgrade packet, then flush the queue over WebSocket and read from it.
// If the probe fails the session stays on polling.
func (c *Client) upgrade() {
	defer c.wg.Done()
	ws, err := c.probeWebSocket()
	if err != nil {
		c.mu.Lock()
		c.probe = nil
		c.mu.Unlock()
		if ws != nil {
			ws.Close()
		}
		c.log.Debug("engineio: client upgrade failed, staying on polling", "sid", c.id, "err", err)
		return
	}

	// Pause polling: the pending GET returns (the server answers it with a
	// noop once probed) and the POST in flight completes.
	c.mu.Lock()
	c.paused = true
	c.wakeLocked()
	c.mu.Unlock()
	<-c.pollDone
	<-c.postDone

	c.mu.Lock()
	c.probe = nil
	if c.closed {
		c.mu.Unlock()
		ws.Close()
		// Closed by Close while paused: nobody else posts what is queued and
		// the close packet (after any other close, the queue is empty).
		for {
			c.mu.Lock()
			if len(c.queue) == 0 {
				c.mu.Unlock()
				return
			}
			batch := c.takeBatchLocked()
			c.mu.Unlock()
			if c.post(c.writeCtx, batch) != nil {
				return
			}
		}
	}
	_ = ws.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout))
	if err := ws.WriteMessage(websocket.TextMessage, []byte{'0' + byte(PacketUpgrade)}); err != nil {
		c.mu.Unlock()
		ws.Close()
		c.fail(ReasonTransportError, err)
		return
	}
	c.transport = TransportWebSocket
	c.ws = ws
	c.paused = false
	c.wg.Add(1)
	go c.wsWriter(ws)
	c.wakeLocked() // what was queued meanwhile goes out once, in order
	c.mu.Unlock()
	c.log.Debug("engineio: client upgraded", "sid", c.id)
	if c.opts.OnUpgrade != nil {
		func() {
			defer c.recoverCallback("upgrade")
			c.opts.OnUpgrade()
		}()
	}
	c.readWebSocket(ws)
}

// probeWebSocket opens the WebSocket for the upgrade and runs the probe.
func (c *Client) probeWebSocket() (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(c.ctx, c.opts.UpgradeTimeout)
	defer cancel()
	ws, err := c.dialWebSocket(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ws, ErrClientClosed
	}
	c.probe = ws // closed by shutdown
	c.mu.Unlock()
	_ = ws.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout))
	if err := ws.WriteMessage(websocket.TextMessage, []byte("2probe")); err != nil {
		return ws, err
	}
	p, err := readWithContext(ctx, ws)
	if err != nil {
		return ws, err
	}
	if p.Type != PacketPong || string(p.Data) != "probe" {
		return ws, fmt.Errorf("%w: unexpected probe answer %s %q", ErrBadPacket, p.Type, p.Data)
	}
	return ws, nil
}

// readBuffers hold messages while they are read; the packet gets an exact
// copy, so a message costs one allocation of its own size.
var readBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readPacket reads one WebSocket message as a packet; its data is fresh.
func readPacket(ws *websocket.Conn) (Packet, error) {
	typ, r, err := ws.NextReader()
	if err != nil {
		return Packet{}, err
	}
	buf := readBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	_, err = buf.ReadFrom(r)
	data := bytes.Clone(buf.Bytes())
	if buf.Cap() <= 64<<10 {
		readBuffers.Put(buf) // large ones go, so the pool holds no peak
	}
	if err != nil {
		return Packet{}, err
	}
	return DecodePacket(data, typ == websocket.BinaryMessage)
}

// messageWriter is the writing side of a client WebSocket.
type messageWriter interface {
	WriteMessage(messageType int, data []byte) error
	NextWriter(messageType int) (io.WriteCloser, error)
}

// writePacket writes p as one WebSocket message without copying its data.
func writePacket(ws messageWriter, p Packet) error {
	switch {
	case p.Binary:
		return ws.WriteMessage(websocket.BinaryMessage, p.Data)
	case p.frame != nil:
		return ws.WriteMessage(websocket.TextMessage, p.frame)
	}
	w, err := ws.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	if _, err := w.Write(digits[p.Type : p.Type+1]); err != nil {
		return err
	}
	if _, err := w.Write(p.Data); err != nil {
		return err
	}
	return w.Close()
}
