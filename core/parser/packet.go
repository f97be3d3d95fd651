package parser

import (
	"encoding/json"
	"strconv"
)

// Type is a Socket.IO packet type.
type Type byte

// The Socket.IO v5 packet types.
const (
	Connect      Type = 0
	Disconnect   Type = 1
	Event        Type = 2
	Ack          Type = 3
	ConnectError Type = 4
	BinaryEvent  Type = 5
	BinaryAck    Type = 6
)

var typeNames = [...]string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"}

// String returns the protocol's name of the type, such as "BINARY_EVENT".
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// IsBinary reports whether the type carries binary attachments.
func (t Type) IsBinary() bool { return t == BinaryEvent || t == BinaryAck }

// Packet is one Socket.IO packet.
//
// A decoded packet keeps its wire type: an event with attachments arrives as
// [BinaryEvent]. Its Data and Attachments alias the messages given to
// [Decoder.Decode].
type Packet struct {
	Type        Type
	Namespace   string   // "/" when absent on the wire
	ID          uint64   // ack id, meaningful when HasID
	HasID       bool     // the packet carries an ack id
	Data        []byte   // raw JSON payload, nil when absent; binary placeholders stay in it
	Attachments [][]byte // binary attachments in order

	// args are the elements of Data's array, found while the decoder
	// validated it, so that EventArgs and AckArgs need not scan it again;
	// they hold while Data is the slice they were found in (base, size).
	args     []json.RawMessage
	argsBase *byte
	argsSize int
}

// EventArgs returns the event name and the arguments of an EVENT packet's
// payload, as [ParseEvent] does; a packet from a [Decoder] reuses what its
// validation found.
func (p *Packet) EventArgs() (name string, args []json.RawMessage, err error) {
	if !p.scanned() {
		return ParseEvent(p.Data)
	}
	return unquote(p.args[0]), p.args[1:], nil
}

// AckArgs returns the arguments of an ACK packet's payload, as
// [SplitArray] does; a packet from a [Decoder] reuses what its validation
// found.
func (p *Packet) AckArgs() ([]json.RawMessage, error) {
	if !p.scanned() {
		return SplitArray(p.Data)
	}
	return p.args, nil
}

// scanned reports whether p.args describe the current Data.
func (p *Packet) scanned() bool {
	return len(p.args) > 0 && len(p.Data) == p.argsSize && &p.Data[0] == p.argsBase
}

// Append appends the text encoding "<type>[<n>-][<nsp>,][<id>][<json>]" to
// dst and returns the extended slice. Event and Ack packets with attachments
// are written as BinaryEvent and BinaryAck; the namespace is omitted when it
// is "/" or empty. The attachments themselves are not written: send each as
// a binary message after the text. Append does not validate the packet: the
// namespace must not contain ',' and Data must be the JSON the type allows.
func (p *Packet) Append(dst []byte) []byte {
	t := p.Type
	n := len(p.Attachments)
	if n > 0 {
		switch t {
		case Event:
			t = BinaryEvent
		case Ack:
			t = BinaryAck
		}
	}
	dst = append(dst, '0'+byte(t))
	if t.IsBinary() {
		dst = strconv.AppendUint(dst, uint64(n), 10)
		dst = append(dst, '-')
	}
	if p.Namespace != "" && p.Namespace != "/" {
		dst = append(dst, p.Namespace...)
		dst = append(dst, ',')
	}
	if p.HasID {
		dst = strconv.AppendUint(dst, p.ID, 10)
	}
	return append(dst, p.Data...)
}

// String returns the text encoding of the packet, for logs and tests.
func (p *Packet) String() string { return string(p.Append(nil)) }
