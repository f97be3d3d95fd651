// Package hooks is the instrumentation interface of siokit's Socket.IO
// server: a [Hooks] value, set as socketio.Options.Hooks, whose functions
// the server calls as connections open and close, packets pass, acks
// return, broadcasts fan out, errors happen and managers relay. Exporters
// such as siokit's metrics/prometheus and otel modules fill one in;
// [Merge] combines several.
//
// # Cost
//
// Every function may be nil, and so may the *Hooks: the server then only
// tests for nil, and builds no event value, measures no time and allocates
// nothing (socketio's BenchmarkHooks shows it). The functions run
// synchronously on the server's goroutines, some of them under a lock or
// on a connection's reader: they must be fast, must not block and must not
// call back into the server. They may be called concurrently.
package hooks

import (
	"errors"
	"time"
)

// Hooks holds the functions the server calls. Any of them may be nil.
type Hooks struct {
	// ConnOpened is called when an Engine.IO session opens, with its
	// transport ("polling" or "websocket").
	ConnOpened func(transport string)
	// ConnClosed is called when it closes, with its last transport and the
	// reason (such as "transport close", "ping timeout", "parse error").
	ConnClosed func(transport, reason string)
	// Upgraded is called when a session moves to another transport.
	Upgraded func(from, to string)

	// SocketConnected is called when a client joins a namespace.
	SocketConnected func(namespace, transport string)
	// SocketDisconnected is called when it leaves, with the transport it
	// was on and the reason.
	SocketDisconnected func(namespace, transport, reason string)

	// PacketIn is called for each packet a client sends, once decoded.
	PacketIn func(Packet)
	// PacketOut is called for each packet queued to a client: a broadcast
	// to n clients is n calls.
	PacketOut func(Packet)

	// EventStart is called before the handler of an event from a client
	// runs, EventEnd when it returns, with the time it took and, when the
	// arguments did not fit the handler, that error; what EventStart
	// returns is passed to EventEnd (to carry a span, say). Both are called
	// only when EventStart is set; EventEnd is not called when the handler
	// panics (Error reports the panic).
	EventStart func(Event) any
	EventEnd   func(e Event, state any, took time.Duration, err error)

	// ConnectStart is called before the middlewares and connect handlers
	// of a namespace connection run (Event.Name is ""), ConnectEnd after,
	// with [ErrConnectionRefused] when they refused it; what ConnectStart
	// returns is passed to ConnectEnd. Both are called only when
	// ConnectStart is set.
	ConnectStart func(Event) any
	ConnectEnd   func(e Event, state any, took time.Duration, err error)

	// AckLatency is called when a client acknowledges an event the server
	// sent with EmitWithAck, with the time from sending to the answer.
	AckLatency func(namespace string, latency time.Duration)

	// Broadcast is called once per broadcast this process delivers, with
	// the number of local recipients and the bytes of the encoded packet
	// (sent once to each).
	Broadcast func(namespace string, recipients, bytes int)

	// Error is called for each failure, with its kind (see the Err
	// constants) and the error.
	Error func(kind string, err error)

	// ManagerPublish is called when a pub/sub manager publishes a message
	// to other processes, ManagerReceive when it receives one; kind is the
	// operation ("broadcast", "fetch", ...).
	ManagerPublish func(namespace, kind string, bytes int)
	ManagerReceive func(namespace, kind string, bytes int)
}

// Packet describes one Socket.IO packet.
type Packet struct {
	Namespace string
	// Type is the packet type's protocol name, such as "EVENT" or "ACK".
	Type string
	// Event is the event name of an EVENT packet, else "".
	Event string
	// Bytes is the size of the packet's Engine.IO messages, attachments
	// included.
	Bytes int
	// Attachments is the number of binary values.
	Attachments int
}

// Event describes one event from a client, about to be handled.
type Event struct {
	Namespace string
	Name      string
	SocketID  string
	// TraceParent is the W3C traceparent the client sent, in the event's
	// last argument (an object with a "traceparent" string member) or, when
	// the event has none, in the handshake's auth or headers; "" without.
	TraceParent string
}

// ErrConnectionRefused is the error [Hooks].ConnectEnd reports for a
// connection that a middleware or connect handler refused.
var ErrConnectionRefused = errors.New("hooks: connection refused")

// The kinds of [Hooks].Error.
const (
	// ErrParse is a packet that could not be decoded; its connection closes.
	ErrParse = "parse"
	// ErrHandler is a panic in a user's handler, recovered.
	ErrHandler = "handler"
	// ErrConnectRefused is a namespace connection a middleware or connect
	// handler refused.
	ErrConnectRefused = "connect_refused"
	// ErrSend is a packet that could not be queued (the connection is
	// closing or its queue is full).
	ErrSend = "send"
)

// Merge returns Hooks that call each of hs in turn; nil entries are
// skipped, and a function none of them sets stays nil (so it costs
// nothing). With one non-nil entry it is returned as is.
func Merge(hs ...*Hooks) *Hooks {
	var live []*Hooks
	for _, h := range hs {
		if h != nil {
			live = append(live, h)
		}
	}
	switch len(live) {
	case 0:
		return nil
	case 1:
		return live[0]
	}
	m := &Hooks{}
	m.ConnOpened = merge1(live, func(h *Hooks) func(string) { return h.ConnOpened })
	m.ConnClosed = merge2(live, func(h *Hooks) func(string, string) { return h.ConnClosed })
	m.Upgraded = merge2(live, func(h *Hooks) func(string, string) { return h.Upgraded })
	m.SocketConnected = merge2(live, func(h *Hooks) func(string, string) { return h.SocketConnected })
	m.SocketDisconnected = merge3(live, func(h *Hooks) func(string, string, string) { return h.SocketDisconnected })
	m.PacketIn = merge1(live, func(h *Hooks) func(Packet) { return h.PacketIn })
	m.PacketOut = merge1(live, func(h *Hooks) func(Packet) { return h.PacketOut })
	m.AckLatency = merge2(live, func(h *Hooks) func(string, time.Duration) { return h.AckLatency })
	m.Broadcast = merge3(live, func(h *Hooks) func(string, int, int) { return h.Broadcast })
	m.Error = merge2(live, func(h *Hooks) func(string, error) { return h.Error })
	m.ManagerPublish = merge3(live, func(h *Hooks) func(string, string, int) { return h.ManagerPublish })
	m.ManagerReceive = merge3(live, func(h *Hooks) func(string, string, int) { return h.ManagerReceive })
	m.EventStart, m.EventEnd = mergePairs(live, func(h *Hooks) (func(Event) any, func(Event, any, time.Duration, error)) {
		return h.EventStart, h.EventEnd
	})
	m.ConnectStart, m.ConnectEnd = mergePairs(live, func(h *Hooks) (func(Event) any, func(Event, any, time.Duration, error)) {
		return h.ConnectStart, h.ConnectEnd
	})
	return m
}

func collect[F any](hs []*Hooks, get func(*Hooks) F, isNil func(F) bool) []F {
	var fs []F
	for _, h := range hs {
		if f := get(h); !isNil(f) {
			fs = append(fs, f)
		}
	}
	return fs
}

func merge1[A any](hs []*Hooks, get func(*Hooks) func(A)) func(A) {
	fs := collect(hs, get, func(f func(A)) bool { return f == nil })
	if len(fs) == 0 {
		return nil
	}
	return func(a A) {
		for _, f := range fs {
			f(a)
		}
	}
}

func merge2[A, B any](hs []*Hooks, get func(*Hooks) func(A, B)) func(A, B) {
	fs := collect(hs, get, func(f func(A, B)) bool { return f == nil })
	if len(fs) == 0 {
		return nil
	}
	return func(a A, b B) {
		for _, f := range fs {
			f(a, b)
		}
	}
}

func merge3[A, B, C any](hs []*Hooks, get func(*Hooks) func(A, B, C)) func(A, B, C) {
	fs := collect(hs, get, func(f func(A, B, C)) bool { return f == nil })
	if len(fs) == 0 {
		return nil
	}
	return func(a A, b B, c C) {
		for _, f := range fs {
			f(a, b, c)
		}
	}
}

// mergePairs merges Start/End pairs: the state passed to each End is what
// its own Start returned.
func mergePairs(hs []*Hooks, get func(*Hooks) (func(Event) any, func(Event, any, time.Duration, error))) (func(Event) any, func(Event, any, time.Duration, error)) {
	type pair struct {
		start func(Event) any
		end   func(Event, any, time.Duration, error)
	}
	var pairs []pair
	for _, h := range hs {
		if start, end := get(h); start != nil {
			pairs = append(pairs, pair{start, end})
		}
	}
	if len(pairs) == 0 {
		return nil, nil
	}
	start := func(e Event) any {
		states := make([]any, len(pairs))
		for i, p := range pairs {
			states[i] = p.start(e)
		}
		return states
	}
	end := func(e Event, state any, took time.Duration, err error) {
		states, _ := state.([]any)
		for i, p := range pairs {
			if p.end != nil && i < len(states) {
				p.end(e, states[i], took, err)
			}
		}
	}
	return start, end
}
