package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// badClient loops over episodes of one misbehaviour until ctx ends.
func (r *run) badClient(ctx context.Context, k Kind, idx uint64) {
	var seq uint64
	for ctx.Err() == nil {
		var err error
		switch k {
		case Slow:
			err = r.slowEpisode(ctx)
		case Abrupt:
			err = r.abruptEpisode(ctx, idx, &seq)
		case Malformed:
			err = r.malformedEpisode(ctx)
		case NoPong:
			err = r.noPongEpisode(ctx)
		case DoublePoll:
			err = r.doublePollEpisode(ctx)
		case Flooder:
			err = r.floodEpisode(ctx)
		}
		switch {
		case ctx.Err() != nil:
			return // cut short: no verdict
		case errors.Is(err, errSetup):
			// The connection could not be opened: retry later.
		case err != nil:
			r.violate("%s: %v", k, err)
		}
		if !sleep(ctx, jitter(time.Second)) {
			return
		}
	}
}

// errSetup marks a failure to set an episode up, which is not a verdict on
// the server.
var errSetup = errors.New("setup")

// rawWS is a Socket.IO connection spoken in raw WebSocket frames.
type rawWS struct {
	ws   *websocket.Conn
	stop func() bool
	wmu  sync.Mutex // the flooder writes while another goroutine answers pings
}

var wsDialer = websocket.Dialer{HandshakeTimeout: 10 * time.Second}

// dialRaw opens a WebSocket session and joins namespace "/". The
// connection is dropped when ctx ends.
func (r *run) dialRaw(ctx context.Context) (*rawWS, error) {
	release, err := r.dialSlot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	u := "ws" + strings.TrimPrefix(r.url, "http") + "/socket.io/?EIO=4&transport=websocket"
	ws, resp, err := wsDialer.DialContext(ctx, u, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: dial: %w", errSetup, err)
	}
	c := &rawWS{ws: ws}
	c.stop = context.AfterFunc(ctx, func() { _ = ws.Close() })
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if msg, err := c.read(true); err != nil || len(msg) == 0 || msg[0] != '0' {
		c.close()
		return nil, fmt.Errorf("%w: open packet %q: %w", errSetup, msg, err)
	}
	if err := c.send("40"); err != nil {
		c.close()
		return nil, fmt.Errorf("%w: %w", errSetup, err)
	}
	for {
		msg, err := c.read(true)
		if err != nil {
			c.close()
			return nil, fmt.Errorf("%w: namespace connect: %w", errSetup, err)
		}
		if bytes.HasPrefix(msg, []byte("40")) {
			break
		}
	}
	_ = ws.SetReadDeadline(time.Time{})
	r.c.connections.Add(1)
	return c, nil
}

func (c *rawWS) send(s string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.WriteMessage(websocket.TextMessage, []byte(s))
}

// read returns the next message; pings are answered when pong is set.
func (c *rawWS) read(pong bool) ([]byte, error) {
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			return nil, err
		}
		if pong && string(msg) == "2" {
			if err := c.send("3"); err != nil {
				return nil, err
			}
			continue
		}
		return msg, nil
	}
}

// close drops the TCP connection without a closing handshake.
func (c *rawWS) close() {
	c.stop()
	_ = c.ws.Close()
}

// waitClosed reads (answering pings when pong is set) until the server
// closes the connection, or fails after d.
func (c *rawWS) waitClosed(d time.Duration, pong bool) error {
	_ = c.ws.SetReadDeadline(time.Now().Add(d))
	for {
		if _, err := c.read(pong); err != nil {
			if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
				return fmt.Errorf("the server kept the connection open for %s", d)
			}
			return nil
		}
	}
}

// slowEpisode joins a room, asks for a flood twice the queue bound, then
// stops reading. The server must drop the connection (queue overflow,
// write timeout or ping timeout) by the time it has missed a heartbeat.
func (r *run) slowEpisode(ctx context.Context) error {
	c, err := r.dialRaw(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	r.c.episodes[Slow].Add(1)
	if err := errors.Join(c.send(`42["join","`+r.room()+`"]`), c.send(`42["flood"]`)); err != nil {
		return nil // the server may close it at once: fine
	}
	if !sleep(ctx, r.cfg.PingInterval+r.cfg.PingTimeout+2*time.Second) {
		return nil
	}
	if err := c.waitClosed(5*time.Second, false); err != nil {
		return err
	}
	r.c.reaped[Slow].Add(1)
	return nil
}

// abruptEpisode emits acknowledged messages, then drops its TCP connection
// in the middle of another emit: after a complete frame, or within a
// fragmented one.
func (r *run) abruptEpisode(ctx context.Context, idx uint64, seq *uint64) error {
	c, err := r.dialRaw(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	r.c.episodes[Abrupt].Add(1)
	room := r.room()
	if err := c.send(`42["join","` + room + `"]`); err != nil {
		return nil
	}
	for ackID := range 1 + randN(3) {
		*seq++
		id := idx<<32 | *seq
		r.c.sent.Add(1)
		if err := c.send(fmt.Sprintf(`42%d["msg",%d,%q]`, ackID, id, room)); err != nil {
			r.c.ackErrs.Add(1)
			return nil
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(callTimeout))
		prefix := fmt.Appendf(nil, "43%d[", ackID)
		for {
			msg, err := c.read(true)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("no ack for message %d: %w", id, err)
			}
			if bytes.HasPrefix(msg, prefix) {
				var got []uint64
				if err := json.Unmarshal(msg[len(prefix)-1:], &got); err != nil || len(got) != 1 || got[0] != id {
					return fmt.Errorf("message %d acknowledged with %q", id, msg)
				}
				r.ledger.acked(id)
				r.c.acked.Add(1)
				break
			}
		}
	}
	*seq++
	frame := fmt.Sprintf(`423["msg",%d,%q]`, idx<<32|*seq, room)
	if randN(2) == 0 {
		_ = c.send(frame)
	} else {
		// The writer flushes full fragments: the server gets part of a message.
		if w, err := c.ws.NextWriter(websocket.TextMessage); err == nil {
			_, _ = io.WriteString(w, frame[:len(frame)-1]+`,"`+strings.Repeat("p", 8<<10))
		}
	}
	r.c.reaped[Abrupt].Add(1)
	return nil
}

// malformedPackets each close the connection that sends them (battery
// items 13, 27, 28, 31-33).
var malformedPackets = []string{
	`9`, `abc`,
	`42{}`, `42"x"`, `42[]`, `42[null]`, `42[{"toString":1}]`, `42["connect"]`, `42abc["x"]`, `4abc`, `40[]`,
	`42/nope,["x"]`,
	`451-["e",{"_placeholder":true,"num":"splice"}]`,
	`451-["e",{"_placeholder":true,"num":-1}]`,
	`4599999999999-["e"]`,
	"\x00binary", // a binary frame with no attachment pending
}

// malformedEpisode sends one malformed packet: the server must close the
// connection.
func (r *run) malformedEpisode(ctx context.Context) error {
	c, err := r.dialRaw(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	r.c.episodes[Malformed].Add(1)
	p := malformedPackets[randN(len(malformedPackets))]
	if p[0] == 0 {
		err = c.ws.WriteMessage(websocket.BinaryMessage, []byte(p[1:]))
	} else {
		err = c.send(p)
	}
	if err != nil {
		return nil
	}
	if err := c.waitClosed(5*time.Second, true); err != nil {
		return fmt.Errorf("packet %q: %w", p, err)
	}
	r.c.reaped[Malformed].Add(1)
	return nil
}

// noPongEpisode joins a room and reads everything but never answers a
// ping: the server must close it after pingInterval + pingTimeout.
func (r *run) noPongEpisode(ctx context.Context) error {
	c, err := r.dialRaw(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	r.c.episodes[NoPong].Add(1)
	if err := c.send(`42["join","` + r.room() + `"]`); err != nil {
		return nil
	}
	if err := c.waitClosed(r.cfg.PingInterval+r.cfg.PingTimeout+5*time.Second, false); err != nil {
		return err
	}
	r.c.reaped[NoPong].Add(1)
	return nil
}

// doublePollEpisode opens a long-polling session and sends a second GET
// while the first is pending: the second gets 400, the session closes,
// the pending poll returns and the next GET gets 400 (battery item 10).
func (r *run) doublePollEpisode(ctx context.Context) error {
	release, err := r.dialSlot(ctx)
	if err != nil {
		return err
	}
	base := r.url + "/socket.io/?EIO=4&transport=polling"
	_, body, err := r.poll(http.MethodGet, base, "")
	release()
	if err != nil || len(body) < 2 || body[0] != '0' {
		return fmt.Errorf("%w: handshake %q: %w", errSetup, body, err)
	}
	var open struct{ SID string }
	if err := json.Unmarshal(body[1:], &open); err != nil {
		return fmt.Errorf("handshake %q: %w", body, err)
	}
	u := base + "&sid=" + open.SID
	if _, _, err := r.poll(http.MethodPost, u, "40"); err != nil {
		return fmt.Errorf("%w: %w", errSetup, err)
	}
	if _, body, err := r.poll(http.MethodGet, u, ""); err != nil || !bytes.HasPrefix(body, []byte("40")) {
		return fmt.Errorf("namespace connect over polling: %q %w", body, err)
	}
	r.c.connections.Add(1)
	r.c.episodes[DoublePoll].Add(1)
	type result struct {
		status int
		body   []byte
		err    error
	}
	for range 3 {
		first := make(chan result, 1)
		go func() {
			st, b, err := r.poll(http.MethodGet, u, "")
			first <- result{st, b, err}
		}()
		if !sleep(ctx, 100*time.Millisecond) {
			<-first
			return nil
		}
		select {
		case res := <-first: // answered at once (a ping): not concurrent, try again
			if bytes.Contains(res.body, []byte("2")) {
				_, _, _ = r.poll(http.MethodPost, u, "3")
			}
			continue
		default:
		}
		st2, _, err := r.poll(http.MethodGet, u, "")
		if err != nil {
			<-first
			return fmt.Errorf("second GET: %w", err)
		}
		var res result
		select {
		case res = <-first:
		case <-time.After(10 * time.Second):
			res = <-first
			return fmt.Errorf("the pending GET was not released when the session closed (status %d)", res.status)
		}
		st3, _, err := r.poll(http.MethodGet, u, "")
		if err != nil {
			return fmt.Errorf("third GET: %w", err)
		}
		if st2 != http.StatusBadRequest || st3 != http.StatusBadRequest {
			return fmt.Errorf("concurrent GET got %d, pending GET %d %q, next GET %d; want 400, -, 400", st2, res.status, res.body, st3)
		}
		r.c.reaped[DoublePoll].Add(1)
		return nil
	}
	return nil // never got two GETs to overlap: no verdict
}

// poll sends one long-polling request and returns the status and body.
func (r *run) poll(method, u, body string) (int, []byte, error) {
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
