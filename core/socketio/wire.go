package socketio

import (
	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/parser"
)

// Parser is a wire format for Socket.IO packets, set with [Options].Parser
// and [ClientOptions].Parser; nil is the protocol's default text format
// (the [parser] package). Both ends of a connection must speak the same
// one: siomsgpack (module github.com/siokit/siokit/parsers/msgpack) speaks
// the format of npm's socket.io-msgpack-parser and python-socketio's
// serializer='msgpack'.
//
// Whatever the wire format, the server and client work on packets in the
// [parser] package's form: a JSON payload in which each binary value is a
// placeholder naming one of the packet's attachments. A Parser translates
// between that form and its messages. A broadcast is encoded once, by one
// call of Encode, and the same messages go to every recipient.
type Parser interface {
	// Encode returns the Engine.IO messages that carry p. It must not
	// modify p, and the messages must not share memory that a later call
	// changes: they are queued to many connections.
	Encode(p *parser.Packet) ([]engineio.Packet, error)
	// NewDecoder returns the decoder of one connection.
	NewDecoder(limits DecoderLimits) PacketDecoder
}

// DecoderLimits are the bounds a [PacketDecoder] enforces; a packet past
// one is an error, which closes the connection.
type DecoderLimits struct {
	// MaxAttachments caps the binary values of one packet.
	MaxAttachments int
	// MaxNamespaceLen caps the length of a namespace name in bytes.
	MaxNamespaceLen int
}

// PacketDecoder turns one connection's Engine.IO messages, in order, into
// packets. [*parser.Decoder] is the default format's. A PacketDecoder is
// used by one goroutine at a time.
type PacketDecoder interface {
	// Decode takes the next message. It returns (nil, nil) while a packet
	// is incomplete; a packet it returns has passed [parser.Packet.Validate]
	// or the equivalent checks. Any error closes the connection.
	Decode(data []byte, binary bool) (*parser.Packet, error)
	// Reset drops any partial state.
	Reset()
}

// newDecoder returns pr's decoder, or the default format's when pr is nil.
func newDecoder(pr Parser, limits DecoderLimits) PacketDecoder {
	if pr == nil {
		return &parser.Decoder{MaxAttachments: limits.MaxAttachments, MaxNamespaceLen: limits.MaxNamespaceLen}
	}
	return pr.NewDecoder(limits)
}

// encodeWith encodes p in pr's format, or the default one when pr is nil.
// A packet that pr cannot encode is sent as nothing: every packet the
// server builds is valid, so this is a defect of pr, which log reports.
func encodeWith(pr Parser, p *parser.Packet, log func(msg string, args ...any)) []engineio.Packet {
	if pr == nil {
		return encodeFrames(p)
	}
	frames, err := pr.Encode(p)
	if err != nil {
		log("socketio: parser cannot encode packet", "type", p.Type, "nsp", p.Namespace, "err", err)
		return nil
	}
	return frames
}

// frames encodes p in the server's wire format.
func (s *Server) frames(p *parser.Packet) []engineio.Packet {
	return encodeWith(s.opts.Parser, p, s.log.Error)
}

// frames encodes p in the client's wire format.
func (c *Client) frames(p *parser.Packet) []engineio.Packet {
	return encodeWith(c.opts.Parser, p, c.log.Error)
}

// parserFrames builds p's payload in the default form with encode, sets
// p.Data and p.Attachments, and encodes p with pr.
func parserFrames(pr Parser, p *parser.Packet, encode func(dst []byte) ([]byte, [][]byte, error)) ([]engineio.Packet, error) {
	data, atts, err := encode(nil)
	if err != nil {
		return nil, err
	}
	p.Data, p.Attachments = data, atts
	return pr.Encode(p)
}
