// Package siomsgpack is the MessagePack wire format of Socket.IO packets,
// compatible with npm's socket.io-msgpack-parser 3.x and python-socketio's
// serializer='msgpack'. Set [Parser] on both ends:
//
//	srv := socketio.NewServer(&socketio.Options{Parser: siomsgpack.Parser{}})
//	cli, err := socketio.NewClient(url, &socketio.ClientOptions{Parser: siomsgpack.Parser{}})
//
// and, in JavaScript, io(url, { parser: require("socket.io-msgpack-parser") }).
//
// # Wire format
//
// Every packet is one binary Engine.IO message holding a map with the keys
// type (0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR), nsp,
// data (absent when the packet has no payload) and id (when it carries an
// ack id). Binary values travel inside the map as msgpack bin values, so
// there are no attachments and no BINARY_EVENT or BINARY_ACK types.
//
// # Values
//
// The server and client keep working on JSON payloads (handlers decode
// arguments as with the default format); this package translates:
// msgpack integers, floats, strings, booleans, nil, arrays and maps become
// their JSON counterparts, bin values become []byte arguments, integer map
// keys become their decimal strings (as a JavaScript object names them).
// The extensions JavaScript peers write are understood: notepack.io's type
// 0 (undefined becomes null, an ArrayBuffer a binary value, a Date the
// string Date.toJSON gives) and the timestamp type -1. Other extensions,
// NaN and infinities are refused. In the other direction a whole number is written
// as a msgpack integer, other numbers as float64.
//
// # Limits
//
// A message that is not one well-formed packet, holds bytes after it,
// declares lengths past its end, nests deeper than 10000 levels or holds
// more bin values than the server's MaxAttachments closes its connection,
// as a malformed text packet does; errors match [parser.ErrMalformed].
// Lengths are checked against the message before anything is allocated.
package siomsgpack
