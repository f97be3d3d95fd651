package socketio

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/parser"
)

// conn is one Engine.IO session carrying a client's namespaces.
type conn struct {
	srv *Server
	es  *engineio.Session
	dec PacketDecoder // used only by onMessage and onClose, which the engine serialises

	mu           sync.Mutex
	sockets      map[string]*Socket // by namespace name
	everJoined   bool
	closeReason  string
	connectTimer *time.Timer

	guard guardState // see guard.go
}

func newConn(srv *Server, es *engineio.Session) *conn {
	c := &conn{
		srv:     srv,
		es:      es,
		dec:     newDecoder(srv.opts.Parser, DecoderLimits{MaxAttachments: srv.opts.MaxAttachments, MaxNamespaceLen: srv.opts.MaxNamespaceLen}),
		sockets: make(map[string]*Socket),
	}
	es.OnMessage(c.onMessage)
	es.OnClose(c.onClose)
	es.OnUpgrade(srv.hookUpgraded)
	srv.hookConnOpened(es.Transport())
	c.connectTimer = time.AfterFunc(srv.opts.ConnectTimeout, c.onConnectTimeout)
	return c
}

func (c *conn) onConnectTimeout() {
	c.mu.Lock()
	joined := c.everJoined
	c.mu.Unlock()
	if !joined {
		c.srv.log.Debug("socketio: no namespace joined in time", "eio", c.es.ID())
		c.fail(ReasonTransportClose, fmt.Errorf("connect timeout"))
	}
}

// connected notes that a namespace connection succeeded.
func (c *conn) connected() {
	c.mu.Lock()
	c.everJoined = true
	c.mu.Unlock()
	c.connectTimer.Stop()
}

func (c *conn) socket(nsp string) *Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sockets[nsp]
}

func (c *conn) forget(s *Socket) {
	c.mu.Lock()
	if c.sockets[s.nsp.name] == s {
		delete(c.sockets, s.nsp.name)
	}
	c.mu.Unlock()
}

// onMessage decodes one Engine.IO message and routes the packet. Any
// protocol violation closes the connection without calling a handler.
func (c *conn) onMessage(data []byte, binary bool) {
	if binary && !c.attachmentFits(len(data)) {
		c.dec.Reset()
		c.fail(ReasonAttachmentLimit, fmt.Errorf("binary attachments over %d bytes", c.srv.opts.MaxAttachmentBytes))
		return
	}
	p, err := c.dec.Decode(data, binary)
	if err != nil {
		c.fail(ReasonParseError, err)
		return
	}
	if p == nil {
		c.attachmentsPending()
		return
	}
	c.attachmentsDone()
	if p.Type != parser.Connect && p.Type != parser.Disconnect && !c.throttle(p) {
		c.srv.warnClose(c.es.ID(), ReasonRateLimitExceeded, fmt.Errorf("over %g packets/s or %d pending events for %s",
			c.srv.opts.EventRate, c.srv.opts.MaxPendingEvents, c.srv.opts.RateLimitWait))
		c.closeWith(ReasonRateLimitExceeded)
		return
	}
	c.srv.hookPacketIn(p)
	if err := c.route(p); err != nil {
		c.fail(ReasonParseError, err)
	}
}

func (c *conn) route(p *parser.Packet) error {
	if p.Type == parser.Connect {
		return c.connect(p)
	}
	s := c.socket(p.Namespace)
	switch p.Type {
	case parser.Disconnect:
		if s != nil {
			s.onDisconnect(ReasonClientNamespaceDisconnect)
		}
		return nil
	case parser.Event, parser.BinaryEvent:
		if s == nil {
			return fmt.Errorf("event for namespace %q not joined", p.Namespace)
		}
		return s.onEvent(p)
	case parser.Ack, parser.BinaryAck:
		if s == nil {
			return fmt.Errorf("ack for namespace %q not joined", p.Namespace)
		}
		return s.onAck(p)
	}
	return fmt.Errorf("unexpected %s packet from a client", p.Type)
}

// connect handles a CONNECT packet: the namespace is looked up (or created
// by a dynamic parent), state is recovered when the client asks and the
// server can, and the middlewares and connect handlers are queued.
func (c *conn) connect(p *parser.Packet) error {
	auth := json.RawMessage(p.Data)
	nsp := c.srv.lookup(p.Namespace, auth)
	if nsp == nil {
		refusal := &parser.Packet{Type: parser.ConnectError, Namespace: p.Namespace, Data: []byte(`{"message":"Invalid namespace"}`)}
		_ = c.es.SendPackets(c.srv.frames(refusal), false)
		return nil
	}
	var restored *PersistedSession
	if c.srv.opts.Recovery != nil && len(auth) > 0 {
		var r struct {
			PID    string `json:"pid"`
			Offset string `json:"offset"`
		}
		if json.Unmarshal(auth, &r) == nil && r.PID != "" && r.Offset != "" {
			restored, _ = nsp.manager.RestoreSession(r.PID, r.Offset)
		}
	}
	s := newSocket(nsp, c, auth, restored)
	c.mu.Lock()
	if c.sockets[p.Namespace] != nil {
		c.mu.Unlock()
		return fmt.Errorf("duplicate CONNECT for namespace %q", p.Namespace)
	}
	c.sockets[p.Namespace] = s
	c.mu.Unlock()
	nsp.h.mu.RLock()
	plain := len(nsp.h.middlewares) == 0 && len(nsp.h.onConnect) == 0
	nsp.h.mu.RUnlock()
	if !plain {
		s.enqueueFromReader(job{fn: s.connectJob()}, s.startJobs)
		return nil
	}
	// Nothing can refuse or delay it: confirm at once, with no goroutine —
	// on a WebSocket reader as its continuation, so that the reader writes
	// the answer itself; otherwise right here.
	s.enqueueFromReader(job{fn: s.connectJob()}, s.drainJobs)
	return nil
}

// fail closes the connection after a protocol violation or a timeout. A
// routine close (the transport's) logs at Debug; the others at Warn,
// rate-limited per reason.
func (c *conn) fail(reason string, err error) {
	if reason == ReasonTransportClose {
		c.srv.log.Debug("socketio: closing connection", "eio", c.es.ID(), "reason", reason, "err", err)
	} else {
		c.srv.warnClose(c.es.ID(), reason, err)
	}
	c.srv.hookFail(reason, err)
	c.mu.Lock()
	if c.closeReason == "" {
		c.closeReason = reason
	}
	c.mu.Unlock()
	_ = c.es.Close()
}

// closeWith closes the connection from the server side, as the official
// server's disconnect(true) does: every connected socket is told with a
// DISCONNECT packet (so the client sees "io server disconnect" and does not
// reconnect) and leaves with reason, which is not a recoverable one.
func (c *conn) closeWith(reason string) {
	c.mu.Lock()
	if c.closeReason == "" {
		c.closeReason = reason
	}
	sockets := make([]*Socket, 0, len(c.sockets))
	for _, x := range c.sockets {
		sockets = append(sockets, x)
	}
	c.mu.Unlock()
	for _, x := range sockets {
		if x.Connected() {
			p := &parser.Packet{Type: parser.Disconnect, Namespace: x.nsp.name}
			_ = c.es.SendPackets(c.srv.frames(p), false)
		}
		x.onDisconnect(reason)
	}
	_ = c.es.Close()
}

// onClose disconnects every socket of the closed Engine.IO session.
func (c *conn) onClose(engineReason string) {
	c.connectTimer.Stop()
	c.attachmentsDone()
	c.dec.Reset()
	c.mu.Lock()
	reason := c.closeReason
	if reason == "" {
		reason = engineReason
	}
	sockets := make([]*Socket, 0, len(c.sockets))
	for _, s := range c.sockets {
		sockets = append(sockets, s)
	}
	c.mu.Unlock()
	for _, s := range sockets {
		s.onDisconnect(reason)
	}
	c.srv.hookConnClosed(c.es.Transport(), reason)
}
