package socketio

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/siokit/siokit/core/hooks"
	"github.com/siokit/siokit/core/parser"
)

// The server's calls of [Options].Hooks. Each is one line at its call site
// and tests for nil first, so that without a listener nothing is built,
// measured or allocated.

// Hooks returns the server's instrumentation hooks (nil when none), for
// managers to report their traffic.
func (s *Server) Hooks() *hooks.Hooks { return s.opts.Hooks }

func (s *Server) hookConnOpened(transport string) {
	if h := s.opts.Hooks; h != nil && h.ConnOpened != nil {
		h.ConnOpened(transport)
	}
}

func (s *Server) hookConnClosed(transport, reason string) {
	if h := s.opts.Hooks; h != nil && h.ConnClosed != nil {
		h.ConnClosed(transport, reason)
	}
}

func (s *Server) hookUpgraded(from, to string) {
	if h := s.opts.Hooks; h != nil && h.Upgraded != nil {
		h.Upgraded(from, to)
	}
}

func (s *Server) hookError(kind string, err error) {
	if h := s.opts.Hooks; h != nil && h.Error != nil {
		h.Error(kind, err)
	}
}

// hookPacket reports p to fn (PacketIn or PacketOut).
func hookPacket(fn func(hooks.Packet), p *parser.Packet) {
	size := len(p.Data)
	for _, a := range p.Attachments {
		size += len(a)
	}
	hp := hooks.Packet{Namespace: p.Namespace, Type: p.Type.String(), Bytes: size, Attachments: len(p.Attachments)}
	if hp.Namespace == "" {
		hp.Namespace = "/"
	}
	if p.Type == parser.Event || p.Type == parser.BinaryEvent {
		hp.Event = eventName(p.Data)
	}
	fn(hp)
}

// eventName returns the event name that leads an EVENT payload, reading
// only as far as the name.
func eventName(data []byte) string {
	if len(data) < 3 || data[0] != '[' || data[1] != '"' {
		return ""
	}
	for i := 2; i < len(data); i++ {
		switch data[i] {
		case '\\':
			if name, _, err := parser.ParseEvent(data); err == nil {
				return name
			}
			return ""
		case '"':
			return string(data[2:i])
		}
	}
	return ""
}

func (s *Server) hookPacketIn(p *parser.Packet) {
	if h := s.opts.Hooks; h != nil && h.PacketIn != nil {
		hookPacket(h.PacketIn, p)
	}
}

func (s *Server) hookPacketOut(p *parser.Packet) {
	if h := s.opts.Hooks; h != nil && h.PacketOut != nil {
		hookPacket(h.PacketOut, p)
	}
}

func (s *Server) hookBroadcast(p *parser.Packet, recipients int) {
	if h := s.opts.Hooks; h != nil && h.Broadcast != nil {
		size := len(p.Data)
		for _, a := range p.Attachments {
			size += len(a)
		}
		nsp := p.Namespace
		if nsp == "" {
			nsp = "/"
		}
		h.Broadcast(nsp, recipients, size)
	}
}

// hookClock returns the time now when someone listens for ack latencies,
// else the zero time.
func (s *Server) hookClock() time.Time {
	if h := s.opts.Hooks; h != nil && h.AckLatency != nil {
		return time.Now()
	}
	return time.Time{}
}

func (s *Server) hookAck(nsp string, start time.Time) {
	if h := s.opts.Hooks; h != nil && h.AckLatency != nil && !start.IsZero() {
		h.AckLatency(nsp, time.Since(start))
	}
}

func (s *Socket) hookConnected() {
	if h := s.nsp.server.opts.Hooks; h != nil && h.SocketConnected != nil {
		h.SocketConnected(s.nsp.name, s.conn.es.Transport())
	}
}

func (s *Socket) hookDisconnected(reason string) {
	if h := s.nsp.server.opts.Hooks; h != nil && h.SocketDisconnected != nil {
		h.SocketDisconnected(s.nsp.name, s.conn.es.Transport(), reason)
	}
}

// eventSpan is an event handler run that EventStart saw.
type eventSpan struct {
	s     *Socket
	ev    hooks.Event
	state any
	start time.Time
}

// hookEventStart calls EventStart for an event about to be handled; its
// result goes to hookEventEnd, deferred.
func (s *Socket) hookEventStart(name string, args []json.RawMessage) eventSpan {
	h := s.nsp.server.opts.Hooks
	if h == nil || h.EventStart == nil {
		return eventSpan{}
	}
	ev := hooks.Event{Namespace: s.nsp.name, Name: name, SocketID: s.id, TraceParent: s.traceParent(args)}
	return eventSpan{s: s, ev: ev, state: h.EventStart(ev), start: time.Now()}
}

func (sp eventSpan) end(err error) {
	if sp.s == nil {
		return
	}
	if h := sp.s.nsp.server.opts.Hooks; h.EventEnd != nil {
		h.EventEnd(sp.ev, sp.state, time.Since(sp.start), err)
	}
}

// traceParent finds the W3C trace context a client sent: in the event's
// last argument when it is an object with a "traceparent" string, else in
// the handshake's auth object or its traceparent header.
func (s *Socket) traceParent(args []json.RawMessage) string {
	var carrier struct {
		TraceParent string `json:"traceparent"`
	}
	if n := len(args); n > 0 && len(args[n-1]) > 0 && args[n-1][0] == '{' {
		if json.Unmarshal(args[n-1], &carrier) == nil && carrier.TraceParent != "" {
			return carrier.TraceParent
		}
	}
	hs := s.Handshake()
	if len(hs.Auth) > 0 && hs.Auth[0] == '{' {
		if json.Unmarshal(hs.Auth, &carrier) == nil && carrier.TraceParent != "" {
			return carrier.TraceParent
		}
	}
	return hs.Headers.Get("traceparent")
}

// hookFail reports a connection closed for a protocol violation.
func (s *Server) hookFail(reason string, err error) {
	if reason == ReasonParseError {
		s.hookError(hooks.ErrParse, err)
	}
}

// Error kinds, for the call sites in files that do not import hooks.
const (
	errKindSend          = hooks.ErrSend
	errKindConnectRefuse = hooks.ErrConnectRefused
)

func (s *Server) hookPanic(what string, v any) {
	if h := s.opts.Hooks; h != nil && h.Error != nil {
		h.Error(hooks.ErrHandler, fmt.Errorf("socketio: panic in %s: %v", what, v))
	}
}

// connectJob returns the job that runs a namespace connection's
// middlewares and connect handlers: runConnect itself, or wrapped in
// ConnectStart and ConnectEnd when they are set.
func (s *Socket) connectJob() func() {
	h := s.nsp.server.opts.Hooks
	if h == nil || h.ConnectStart == nil {
		return s.runConnect
	}
	return func() {
		ev := hooks.Event{Namespace: s.nsp.name, SocketID: s.id, TraceParent: s.traceParent(nil)}
		state, start := h.ConnectStart(ev), time.Now()
		s.runConnect()
		if h.ConnectEnd != nil {
			var err error
			if !s.accepted.Load() {
				err = hooks.ErrConnectionRefused
			}
			h.ConnectEnd(ev, state, time.Since(start), err)
		}
	}
}
