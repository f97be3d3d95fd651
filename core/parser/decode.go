package parser

import (
	"encoding/json"
	"fmt"
	"math"
	"unicode/utf8"
)

// Defaults of the [Decoder] limits.
const (
	DefaultMaxAttachments  = 10
	DefaultMaxNamespaceLen = 512
)

// MaxAckID is the largest ack id accepted: 2^53, the largest integer a
// JavaScript peer represents exactly.
const MaxAckID = 1 << 53

// maxIDDigits is the number of digits of MaxAckID.
const maxIDDigits = 16

// Decoder turns Engine.IO messages into packets. Binary attachments are
// reassembled from the binary messages that follow a BINARY_EVENT or
// BINARY_ACK header. A Decoder is not safe for concurrent use: use one per
// connection. The zero value is ready to use.
type Decoder struct {
	// MaxAttachments caps the attachment count of one packet; 10 when zero.
	MaxAttachments int
	// MaxNamespaceLen caps the namespace length in bytes; 512 when zero.
	MaxNamespaceLen int

	pending *Packet // header waiting for attachments
	want    int     // attachments declared by pending
}

// Decode takes one message, in order. It returns (nil, nil) while
// attachments are still awaited and the packet once it is complete. The
// packet keeps references to data (and to the binary messages): the caller
// must not modify them afterwards. Any error means the connection must be
// closed; the Decoder then holds no partial state.
func (d *Decoder) Decode(data []byte, binary bool) (*Packet, error) {
	if binary {
		if d.pending == nil {
			return nil, fmt.Errorf("%w (%d bytes)", ErrUnexpectedBinary, len(data))
		}
		p := d.pending
		p.Attachments = append(p.Attachments, data)
		if len(p.Attachments) < d.want {
			return nil, nil
		}
		d.Reset()
		return p, nil
	}
	if d.pending != nil {
		want, got := d.want, len(d.pending.Attachments)
		d.Reset()
		return nil, fmt.Errorf("%w (%d of %d received)", ErrUnexpectedText, got, want)
	}
	p, n, err := d.decodeText(data)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		p.Attachments = make([][]byte, 0, n)
		d.pending, d.want = p, n
		return nil, nil
	}
	return p, nil
}

// Reset drops any partial state (call it on disconnect).
func (d *Decoder) Reset() {
	d.pending, d.want = nil, 0
}

// Pending reports how many attachments the decoder still awaits.
func (d *Decoder) Pending() int {
	if d.pending == nil {
		return 0
	}
	return d.want - len(d.pending.Attachments)
}

func (d *Decoder) maxAttachments() int {
	if d.MaxAttachments > 0 {
		return d.MaxAttachments
	}
	return DefaultMaxAttachments
}

func (d *Decoder) maxNamespaceLen() int {
	if d.MaxNamespaceLen > 0 {
		return d.MaxNamespaceLen
	}
	return DefaultMaxNamespaceLen
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// decodeText parses a text message and validates its payload. It returns the
// packet and the number of attachments it declares.
func (d *Decoder) decodeText(data []byte) (*Packet, int, error) {
	if len(data) == 0 {
		return nil, 0, malformed("empty message")
	}
	c := data[0]
	if c < '0' || c > '6' {
		return nil, 0, malformed("unknown packet type %q", c)
	}
	t := Type(c - '0')
	i := 1
	n := 0
	if t.IsBinary() {
		limit := d.maxAttachments()
		start := i
		for i < len(data) && isDigit(data[i]) {
			n = n*10 + int(data[i]-'0')
			if n > limit {
				return nil, 0, fmt.Errorf("%w: more than %d", ErrTooManyAttachments, limit)
			}
			i++
		}
		if i == start || i >= len(data) || data[i] != '-' {
			return nil, 0, malformed("bad attachment count")
		}
		i++
	}
	// One allocation holds the packet and room for the elements of a short
	// array payload, which validation records.
	pa := &packetWithArgs{Packet: Packet{Type: t, Namespace: "/"}}
	p := &pa.Packet
	if i < len(data) && data[i] == '/' {
		start := i
		limit := d.maxNamespaceLen()
		for i < len(data) && data[i] != ',' {
			if c := data[i]; c < 0x20 || c == 0x7f {
				return nil, 0, malformed("control character in namespace")
			}
			i++
			if i-start > limit {
				return nil, 0, malformed("namespace longer than %d bytes", limit)
			}
		}
		nsp := data[start:i]
		if !utf8.Valid(nsp) {
			return nil, 0, malformed("namespace is not valid UTF-8")
		}
		if len(nsp) > 1 {
			p.Namespace = string(nsp)
		}
		if i < len(data) {
			i++ // the comma
		}
	}
	if i < len(data) && isDigit(data[i]) {
		start := i
		var id uint64
		for i < len(data) && isDigit(data[i]) {
			if i-start >= maxIDDigits {
				return nil, 0, malformed("ack id too long")
			}
			id = id*10 + uint64(data[i]-'0')
			i++
		}
		if id > MaxAckID {
			return nil, 0, malformed("ack id %d above 2^53", id)
		}
		switch t {
		case Connect, Disconnect, ConnectError:
			return nil, 0, malformed("ack id on a %v packet", t)
		}
		p.ID, p.HasID = id, true
	} else if t == Ack || t == BinaryAck {
		return nil, 0, fmt.Errorf("%w: %v without ack id", ErrInvalidPayload, t)
	}
	if i < len(data) {
		p.Data = data[i:len(data):len(data)]
	}
	args, err := validatePayload(t, p.Data, n, pa.room[:0])
	if err != nil {
		return nil, 0, err
	}
	if len(args) > 0 {
		p.args, p.argsBase, p.argsSize = args, &p.Data[0], len(p.Data)
	}
	return p, n, nil
}

// packetWithArgs is a Packet with room for the elements of a short array
// payload, allocated as one.
type packetWithArgs struct {
	Packet
	room [4]json.RawMessage
}

// validatePayload checks that payload is one JSON value of the shape the
// packet type allows, with no surrounding whitespace, and that its
// placeholders name one of the n attachments. For events and acks it
// returns the array's elements, appended to elems.
func validatePayload(t Type, payload []byte, n int, elems []json.RawMessage) ([]json.RawMessage, error) {
	if len(payload) == 0 {
		switch t {
		case Connect, Disconnect:
			return nil, nil
		}
		return nil, fmt.Errorf("%w: %v without payload", ErrInvalidPayload, t)
	}
	first, last := payload[0], payload[len(payload)-1]
	var ok bool
	switch t {
	case Connect:
		ok = first == '{' && last == '}'
	case Disconnect:
		ok = false
	case ConnectError:
		ok = first == '{' && last == '}' || first == '"' && last == '"'
	default: // events and acks
		ok = first == '[' && last == ']'
	}
	if !ok {
		// Tell syntax errors apart from shape errors.
		s := scanner{nAttach: math.MaxInt}
		if err := s.scan(payload); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v cannot carry %.32q", ErrInvalidPayload, t, payload)
	}
	s := scanner{nAttach: n}
	if first == '[' {
		s.collect, s.elems = true, elems
	}
	if err := s.scan(payload); err != nil {
		return nil, err
	}
	if t == Event || t == BinaryEvent {
		if err := checkEventName(payload, &s); err != nil {
			return nil, err
		}
	}
	return s.elems, nil
}

// reservedEvents are the event names a client may not emit.
var reservedEvents = [...]string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}

// IsReserved reports whether name is reserved by the protocol and cannot be
// the name of an event sent by a peer.
func IsReserved(name string) bool {
	for _, r := range reservedEvents {
		if name == r {
			return true
		}
	}
	return false
}

// checkEventName checks that the scanned array starts with a string that is
// not a reserved event name; it returns that name.
func checkEventName(payload []byte, s *scanner) error {
	if s.nElems == 0 || payload[s.firstStart] != '"' {
		return fmt.Errorf("%w: event name missing", ErrInvalidPayload)
	}
	raw := payload[s.firstStart:s.firstEnd]
	if inner := raw[1 : len(raw)-1]; !hasEscape(inner) {
		for _, r := range reservedEvents {
			if string(inner) == r {
				return fmt.Errorf("%w: reserved event name %q", ErrInvalidPayload, r)
			}
		}
		return nil
	}
	_, err := eventName(payload, s)
	return err
}

func eventName(payload []byte, s *scanner) (string, error) {
	if s.nElems == 0 || payload[s.firstStart] != '"' {
		return "", fmt.Errorf("%w: event name missing", ErrInvalidPayload)
	}
	name := unquote(payload[s.firstStart:s.firstEnd])
	if IsReserved(name) {
		return "", fmt.Errorf("%w: reserved event name %q", ErrInvalidPayload, name)
	}
	return name, nil
}
