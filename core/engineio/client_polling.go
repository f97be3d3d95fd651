package engineio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// errStopReading ends the decoding of a payload after a close packet.
var errStopReading = errors.New("engineio: stop reading")

// handshakePolling opens the session with a polling GET. It returns the
// packets that followed the open packet in the same payload.
func (c *Client) handshakePolling(ctx context.Context) ([]Packet, error) {
	c.transport = TransportPolling
	body, err := c.get(ctx)
	if err != nil {
		return nil, err
	}
	var packets []Packet
	if err := DecodePayload(body, func(p Packet) error {
		packets = append(packets, p)
		return nil
	}); err != nil {
		return nil, err
	}
	if packets[0].Type != PacketOpen {
		return nil, fmt.Errorf("%w: expected an open packet, got %s", ErrBadPacket, packets[0].Type)
	}
	if err := c.applyOpen(packets[0].Data); err != nil {
		return nil, err
	}
	return packets[1:], nil
}

// get sends one polling GET and returns its body.
func (c *Client) get(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.pollURL+"&t="+c.cacheBuster(), nil)
	if err != nil {
		return nil, err
	}
	c.applyHeader(req.Header)
	resp, err := c.httpc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, responseError(resp)
	}
	return io.ReadAll(resp.Body)
}

// post sends packets in one polling POST.
func (c *Client) post(ctx context.Context, packets []Packet) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.WriteTimeout)
	defer cancel()
	bp := payloadPool.Get().(*[]byte)
	buf := AppendPayload((*bp)[:0], packets)
	defer func() {
		*bp = buf
		payloadPool.Put(bp)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.pollURL+"&t="+c.cacheBuster(), bytes.NewReader(buf))
	if err != nil {
		return err
	}
	c.applyHeader(req.Header)
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	resp, err := c.httpc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return responseError(resp)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	return nil
}

// pollLoop sends one GET at a time and handles what comes back, until the
// session closes or polling pauses for the upgrade.
func (c *Client) pollLoop(first []Packet) {
	defer c.wg.Done()
	defer close(c.pollDone)
	for _, p := range first {
		if !c.handle(p) {
			return
		}
	}
	for {
		c.mu.Lock()
		stop := c.closed || c.paused
		c.mu.Unlock()
		if stop {
			return
		}
		body, err := c.get(c.ctx)
		if err != nil {
			c.fail(ReasonTransportError, err)
			return
		}
		err = DecodePayload(body, func(p Packet) error {
			if !c.handle(p) {
				return errStopReading
			}
			return nil
		})
		if errors.Is(err, errStopReading) {
			return
		}
		if err != nil {
			c.fail(ReasonTransportError, err)
			return
		}
	}
}

// pollWriter posts the queue, in batches no larger than maxPayload, until
// the session closes or polling pauses for the upgrade.
func (c *Client) pollWriter() {
	defer c.wg.Done()
	defer close(c.postDone)
	defer func() {
		c.mu.Lock()
		if c.closed {
			c.cancel() // the pending poll, left running to flush the close packet
		}
		c.mu.Unlock()
	}()
	for {
		c.mu.Lock()
		for len(c.queue) == 0 && !c.closed && !c.paused {
			c.mu.Unlock()
			<-c.notify
			c.mu.Lock()
		}
		if c.paused || len(c.queue) == 0 {
			// Paused: the upgrade sends the queue over WebSocket (or, if the
			// session closes meanwhile, posts it). Empty: closed.
			c.mu.Unlock()
			return
		}
		batch := c.takeBatchLocked()
		c.mu.Unlock()
		if err := c.post(c.writeCtx, batch); err != nil {
			c.fail(ReasonTransportError, err)
			return
		}
		if batch[len(batch)-1].Type == PacketClose {
			return
		}
	}
}

// takeBatchLocked removes from the queue the longest prefix whose payload
// fits in maxPayload, one packet at least. Caller holds c.mu.
func (c *Client) takeBatchLocked() []Packet {
	n, size := 0, int64(0)
	for _, p := range c.queue {
		s := encodedSize(p, TransportPolling)
		if n > 0 {
			s++ // record separator
		}
		if n > 0 && c.maxPayload > 0 && size+s > c.maxPayload {
			break
		}
		size += s
		n++
	}
	if n == len(c.queue) {
		return c.takeQueueLocked()
	}
	batch := c.queue[:n:n]
	for _, p := range batch {
		c.queuedBytes -= int64(len(p.Data))
	}
	c.queue = c.queue[n:]
	return batch
}
