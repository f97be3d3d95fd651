package siomsgpack

import "github.com/siokit/siokit/core/socketio"

// Parser is the msgpack wire format. Its zero value is ready to use and
// safe for concurrent use; set it as [socketio.Options].Parser on a server
// and [socketio.ClientOptions].Parser on a client.
type Parser struct{}

var _ socketio.Parser = Parser{}

// NewDecoder implements [socketio.Parser].
func (Parser) NewDecoder(limits socketio.DecoderLimits) socketio.PacketDecoder {
	return &decoder{limits: limits}
}
