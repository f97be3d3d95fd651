// Package parser is the Socket.IO v5 packet codec: it turns Engine.IO
// messages into [Packet] values and back, and splits, validates and decodes
// the JSON payloads that events and acknowledgements carry.
//
// A packet is written on the wire as
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//
// where the attachment count appears only for [BinaryEvent] and [BinaryAck].
// Binary values do not travel inside the JSON: each one is replaced by
// {"_placeholder":true,"num":N} and sent as the N-th binary Engine.IO message
// that follows the text header.
//
// # Encoding
//
// [EncodeEvent] and [EncodeAck] build a payload from Go values, moving every
// []byte into the attachments; [Packet.Append] writes the text header.
// Each attachment is then sent as its own binary message.
//
// # Decoding
//
// A [Decoder] (one per connection) takes the Engine.IO messages in order and
// returns complete packets; it validates strictly and any error means the
// connection must be closed. [ParseEvent] and [SplitArray] split a payload
// into raw arguments without copying, and [Unmarshal] and [DecodeArgs]
// decode those arguments, substituting the attachments for placeholders.
//
// # Limits
//
// The decoder refuses attachment counts above [Decoder.MaxAttachments]
// before buffering anything, namespaces longer than
// [Decoder.MaxNamespaceLen], ack ids above 2^53, JSON nested deeper than
// 10000 levels, and placeholders that do not name a declared attachment.
// All decode errors match [ErrMalformed] with errors.Is.
package parser
