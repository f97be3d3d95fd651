package engineio

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
)

// PacketType is the kind of an Engine.IO packet.
type PacketType byte

// The Engine.IO v4 packet types.
const (
	PacketOpen    PacketType = 0
	PacketClose   PacketType = 1
	PacketPing    PacketType = 2
	PacketPong    PacketType = 3
	PacketMessage PacketType = 4
	PacketUpgrade PacketType = 5
	PacketNoop    PacketType = 6
)

var packetTypeNames = [...]string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}

// String returns the protocol's name of the packet type.
func (t PacketType) String() string {
	if int(t) < len(packetTypeNames) {
		return packetTypeNames[t]
	}
	return fmt.Sprintf("PacketType(%d)", byte(t))
}

// Packet is one Engine.IO packet. Binary is set only on message packets whose
// data is binary; such a packet has no type prefix on WebSocket and is encoded
// as 'b' followed by base64 in a polling payload.
type Packet struct {
	Type   PacketType
	Data   []byte
	Binary bool
	// NoCompress keeps a WebSocket message uncompressed when
	// permessage-deflate is on (Options.PerMessageDeflate).
	NoCompress bool

	// frame, when set, is the packet's whole WebSocket message: the type
	// digit, then Data (see MessageFrame).
	frame []byte
}

// MessageFrame returns a text message packet whose Data is frame[1:]: the
// caller builds the message with one byte of room in front, which
// MessageFrame fills with the packet type, so that the WebSocket transport
// writes frame as one message, as it is. frame must not change afterwards;
// it may be sent to many sessions.
func MessageFrame(frame []byte) Packet {
	frame[0] = '0' + byte(PacketMessage)
	return Packet{Type: PacketMessage, Data: frame[1:], frame: frame}
}

// recordSeparator joins packets in a long-polling payload.
const recordSeparator = 0x1e

// ErrBadPacket reports bytes that are not a valid Engine.IO packet or payload.
var ErrBadPacket = errors.New("engineio: malformed packet")

// AppendPacket appends the WebSocket encoding of p to dst: for a text packet
// the type digit and the data, for a binary message the raw data.
func AppendPacket(dst []byte, p Packet) []byte {
	if p.Binary {
		return append(dst, p.Data...)
	}
	dst = append(dst, '0'+byte(p.Type))
	return append(dst, p.Data...)
}

// DecodePacket decodes one WebSocket message. binary tells whether it arrived
// in a binary frame, which always carries a message packet. The returned
// packet's Data aliases data.
func DecodePacket(data []byte, binary bool) (Packet, error) {
	if binary {
		return Packet{Type: PacketMessage, Data: data, Binary: true}, nil
	}
	if len(data) == 0 || data[0] < '0' || data[0] > '6' {
		return Packet{}, ErrBadPacket
	}
	return Packet{Type: PacketType(data[0] - '0'), Data: data[1:]}, nil
}

// AppendPayload appends the long-polling encoding of packets to dst: each
// packet encoded as text (binary data as 'b' + base64), joined by the record
// separator 0x1e.
func AppendPayload(dst []byte, packets []Packet) []byte {
	for i, p := range packets {
		if i > 0 {
			dst = append(dst, recordSeparator)
		}
		dst = appendPayloadPacket(dst, p)
	}
	return dst
}

func appendPayloadPacket(dst []byte, p Packet) []byte {
	if !p.Binary {
		dst = append(dst, '0'+byte(p.Type))
		return append(dst, p.Data...)
	}
	dst = append(dst, 'b')
	return base64.StdEncoding.AppendEncode(dst, p.Data)
}

// DecodePayload decodes a long-polling payload, calling fn for each packet in
// order. It decodes base64 in place, so it modifies payload, and the packets'
// Data alias it: fn must copy what it keeps. Decoding stops at the first error
// from fn or at the first malformed packet; packets before it have been
// delivered.
func DecodePayload(payload []byte, fn func(Packet) error) error {
	if len(payload) == 0 {
		return ErrBadPacket
	}
	for {
		end := bytes.IndexByte(payload, recordSeparator)
		rec := payload
		if end >= 0 {
			rec = payload[:end]
		}
		p, err := decodePayloadPacket(rec)
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		if end < 0 {
			return nil
		}
		payload = payload[end+1:]
	}
}

func decodePayloadPacket(rec []byte) (Packet, error) {
	if len(rec) == 0 {
		return Packet{}, ErrBadPacket
	}
	if rec[0] != 'b' {
		return DecodePacket(rec, false)
	}
	n, err := base64.StdEncoding.Decode(rec, rec[1:])
	if err != nil {
		return Packet{}, fmt.Errorf("%w: bad base64: %w", ErrBadPacket, err)
	}
	return Packet{Type: PacketMessage, Data: rec[:n], Binary: true}, nil
}
