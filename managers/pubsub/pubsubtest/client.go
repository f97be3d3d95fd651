package siopubsubtest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/parser"
)

// Event is an event a [Client] received.
type Event struct {
	Name        string
	Args        []json.RawMessage
	Attachments [][]byte
}

// Arg decodes argument i into v.
func (e *Event) Arg(i int, v any) error {
	if i >= len(e.Args) {
		return fmt.Errorf("event %q has %d arguments", e.Name, len(e.Args))
	}
	return parser.Unmarshal(e.Args[i], e.Attachments, v)
}

// Client is a minimal Socket.IO client over WebSocket for the default
// namespace: it records events, acknowledges every event that asks with
// its own sid, and notices the server's DISCONNECT.
type Client struct {
	eio          *engineio.Client
	sid          string
	events       chan Event
	acks         chan []json.RawMessage
	connected    chan string
	disconnected chan struct{}
	ackID        uint64
	countOnly    bool
	count        atomic.Int64
}

// Dial connects a client to the Socket.IO server at url (http://host:port).
func Dial(t testing.TB, url string) *Client {
	t.Helper()
	return dial(t, url, false, engineio.TransportWebSocket)
}

// DialPolling connects a client over HTTP long-polling only, for servers
// without WebSocket (python-socketio in threading mode without
// simple-websocket).
func DialPolling(t testing.TB, url string) *Client {
	t.Helper()
	return dial(t, url, false, engineio.TransportPolling)
}

// DialCounting connects a client that only counts the events it receives
// (see [Client.Count]), for benchmarks.
func DialCounting(t testing.TB, url string) *Client {
	t.Helper()
	return dial(t, url, true, engineio.TransportWebSocket)
}

func dial(t testing.TB, url string, countOnly bool, transport string) *Client {
	t.Helper()
	c := &Client{
		countOnly:    countOnly,
		events:       make(chan Event, 1024),
		acks:         make(chan []json.RawMessage, 16),
		connected:    make(chan string, 1),
		disconnected: make(chan struct{}),
	}
	var dec parser.Decoder
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	eio, err := engineio.Dial(ctx, url, &engineio.ClientOptions{
		Path:       "/socket.io/",
		Transports: []string{transport},
		OnMessage: func(data []byte, binary bool) {
			p, err := dec.Decode(slices.Clone(data), binary)
			if err != nil || p == nil {
				return
			}
			c.onPacket(p)
		},
	})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	c.eio = eio
	t.Cleanup(func() { _ = eio.Close(); <-eio.Done() })
	if err := eio.Send([]byte("0"), false); err != nil {
		t.Fatalf("connect: %v", err)
	}
	select {
	case c.sid = <-c.connected:
	case <-time.After(5 * time.Second):
		t.Fatalf("no CONNECT answer from %s", url)
	}
	return c
}

func (c *Client) onPacket(p *parser.Packet) {
	switch p.Type {
	case parser.Connect:
		var v struct {
			SID string `json:"sid"`
		}
		_ = json.Unmarshal(p.Data, &v)
		c.connected <- v.SID
	case parser.Disconnect:
		close(c.disconnected)
	case parser.Event, parser.BinaryEvent:
		if c.countOnly {
			c.count.Add(1)
			return
		}
		name, args, err := parser.ParseEvent(p.Data)
		if err != nil {
			return
		}
		if p.HasID {
			data, _, _ := parser.EncodeAck(nil, []any{c.sid})
			ack := &parser.Packet{Type: parser.Ack, ID: p.ID, HasID: true, Data: data}
			_ = c.eio.Send(ack.Append(nil), false)
		}
		c.events <- Event{Name: name, Args: args, Attachments: p.Attachments}
	case parser.Ack, parser.BinaryAck:
		args, _ := parser.SplitArray(p.Data)
		c.acks <- args
	}
}

// Count returns the number of events a counting client received.
func (c *Client) Count() int64 { return c.count.Load() }

// SID returns the socket id the server gave.
func (c *Client) SID() string { return c.sid }

// Emit sends an event without binary arguments.
func (c *Client) Emit(event string, args ...any) error {
	data, _, err := parser.EncodeEvent(nil, event, args)
	if err != nil {
		return err
	}
	p := &parser.Packet{Type: parser.Event, Data: data}
	return c.eio.Send(p.Append(nil), false)
}

// Call sends an event and waits for its acknowledgement.
func (c *Client) Call(t testing.TB, event string, args ...any) []json.RawMessage {
	t.Helper()
	data, _, err := parser.EncodeEvent(nil, event, args)
	if err != nil {
		t.Fatal(err)
	}
	c.ackID++
	p := &parser.Packet{Type: parser.Event, Data: data, ID: c.ackID, HasID: true}
	if err := c.eio.Send(p.Append(nil), false); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-c.acks:
		return a
	case <-time.After(5 * time.Second):
		t.Fatalf("no ack for %q", event)
		return nil
	}
}

// Next returns the next event, failing the test after 5 s.
func (c *Client) Next(t testing.TB) Event {
	t.Helper()
	select {
	case e := <-c.events:
		return e
	case <-time.After(5 * time.Second):
		t.Fatalf("client %s: no event within 5s", c.sid)
		return Event{}
	}
}

// Expect returns the next event and fails the test unless it is named name.
func (c *Client) Expect(t testing.TB, name string) Event {
	t.Helper()
	e := c.Next(t)
	if e.Name != name {
		t.Fatalf("client %s: got event %q %s, want %q", c.sid, e.Name, e.Args, name)
	}
	return e
}

// Events returns the channel of received events.
func (c *Client) Events() <-chan Event { return c.events }

// Disconnected is closed when the server disconnects the client's socket.
func (c *Client) Disconnected() <-chan struct{} { return c.disconnected }
