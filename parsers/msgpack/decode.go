package siomsgpack

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"

	"github.com/siokit/siokit/core/parser"
	"github.com/siokit/siokit/core/socketio"
)

// maxDepth bounds the nesting of a decoded value, as the text format's
// decoder bounds JSON nesting.
const maxDepth = 10000

// decoder is the PacketDecoder of one connection.
type decoder struct {
	limits socketio.DecoderLimits
}

var _ socketio.PacketDecoder = (*decoder)(nil)

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: msgpack: "+format, append([]any{parser.ErrMalformed}, args...)...)
}

// Decode implements [socketio.PacketDecoder]: every packet is one binary
// message holding a map with the keys type, nsp, data and id.
func (d *decoder) Decode(data []byte, bin bool) (*parser.Packet, error) {
	if !bin {
		return nil, malformed("text message %.16q: the msgpack parser sends binary messages only", data)
	}
	t := transcoder{data: data, maxAtt: d.limits.MaxAttachments}
	t.r.Reset(data)
	t.dec = msgpack.GetDecoder()
	t.dec.Reset(&t.r)
	defer msgpack.PutDecoder(t.dec)
	p, err := t.packet()
	if err != nil {
		return nil, err
	}
	if t.r.Len() != 0 {
		return nil, malformed("%d bytes after the packet", t.r.Len())
	}
	if err := p.Validate(d.limits.MaxNamespaceLen); err != nil {
		return nil, err
	}
	return p, nil
}

// Reset implements [socketio.PacketDecoder]; a packet is one message, so
// there is never partial state.
func (d *decoder) Reset() {}

// transcoder reads one msgpack packet and writes its data as JSON, with
// each bin value replaced by a placeholder and kept as an attachment.
type transcoder struct {
	data   []byte
	r      bytes.Reader
	dec    *msgpack.Decoder
	maxAtt int
	out    []byte
	atts   [][]byte
}

func (t *transcoder) pos() int { return len(t.data) - t.r.Len() }

func (t *transcoder) packet() (*parser.Packet, error) {
	n, err := t.dec.DecodeMapLen()
	if err != nil || n < 0 {
		return nil, malformed("packet is not a map")
	}
	p := &parser.Packet{}
	var hasType, hasNsp, hasData bool
	for range n {
		key, err := t.str()
		if err != nil {
			return nil, malformed("packet key: %v", err)
		}
		switch key {
		case "type":
			v, err := t.dec.DecodeInt64()
			if err != nil || v < int64(parser.Connect) || v > int64(parser.ConnectError) {
				return nil, malformed("packet type is not an integer from 0 to 4")
			}
			p.Type, hasType = parser.Type(v), true
		case "nsp":
			if p.Namespace, err = t.str(); err != nil {
				return nil, malformed("nsp: %v", err)
			}
			hasNsp = true
		case "id":
			if t.absent() {
				continue
			}
			v, err := t.dec.DecodeUint64()
			if err != nil || v > parser.MaxAckID {
				return nil, malformed("id is not an integer from 0 to 2^53")
			}
			p.ID, p.HasID = v, true
		case "data":
			if hasData {
				return nil, malformed("two data keys")
			}
			hasData = true
			if t.absent() {
				p.Data = nil
				continue
			}
			t.out = t.out[:0]
			if err := t.value(0); err != nil {
				return nil, err
			}
			p.Data = t.out
			t.out = nil
		default:
			// Other keys are ignored, as socket.io-msgpack-parser does;
			// their values are still checked and bounded.
			save, saveAtts := t.out, t.atts
			t.out = nil
			err := t.value(0)
			t.out, t.atts = save, saveAtts
			if err != nil {
				return nil, err
			}
		}
	}
	if !hasType || !hasNsp {
		return nil, malformed("packet without type or nsp")
	}
	p.Attachments = t.atts
	if len(t.atts) > 0 {
		switch p.Type {
		case parser.Event:
			p.Type = parser.BinaryEvent
		case parser.Ack:
			p.Type = parser.BinaryAck
		}
	}
	return p, nil
}

// absent reads a nil, or the undefined of notepack.io 2 (fixext 1 of type
// 0), and reports whether it found one; the key holding it is treated as
// missing.
func (t *transcoder) absent() bool {
	pos := t.pos()
	switch {
	case pos < len(t.data) && t.data[pos] == msgpcode.Nil:
		_, _ = t.r.Seek(1, io.SeekCurrent)
		return true
	case pos+2 < len(t.data) && t.data[pos] == msgpcode.FixExt1 && t.data[pos+1] == 0:
		_, _ = t.r.Seek(3, io.SeekCurrent)
		return true
	}
	return false
}

// span reads the header of a str or bin and returns its bytes, which alias
// the message, after checking that the message holds them.
func (t *transcoder) span() ([]byte, error) {
	n, err := t.dec.DecodeBytesLen()
	if err != nil {
		return nil, err
	}
	if n < 0 || n > t.r.Len() {
		return nil, errors.New("length past the end of the message")
	}
	start := t.pos()
	if _, err := t.r.Seek(int64(n), io.SeekCurrent); err != nil {
		return nil, err
	}
	return t.data[start : start+n : start+n], nil
}

// str reads a msgpack str.
func (t *transcoder) str() (string, error) {
	c, err := t.dec.PeekCode()
	if err != nil {
		return "", err
	}
	if !msgpcode.IsString(c) {
		return "", fmt.Errorf("code %#x is not a string", c)
	}
	b, err := t.span()
	return string(b), err
}

// value transcodes one msgpack value to JSON, appended to t.out.
func (t *transcoder) value(depth int) error {
	if depth > maxDepth {
		return malformed("value nested deeper than %d levels", maxDepth)
	}
	c, err := t.dec.PeekCode()
	if err != nil {
		return malformed("unexpected end")
	}
	switch {
	case c == msgpcode.Nil:
		_ = t.dec.DecodeNil()
		t.out = append(t.out, "null"...)
	case c == msgpcode.True || c == msgpcode.False:
		b, _ := t.dec.DecodeBool()
		t.out = strconv.AppendBool(t.out, b)
	case msgpcode.IsFixedNum(c) || c >= msgpcode.Int8 && c <= msgpcode.Int64:
		v, err := t.dec.DecodeInt64()
		if err != nil {
			return malformed("integer: %v", err)
		}
		t.out = strconv.AppendInt(t.out, v, 10)
	case c >= msgpcode.Uint8 && c <= msgpcode.Uint64:
		v, err := t.dec.DecodeUint64()
		if err != nil {
			return malformed("integer: %v", err)
		}
		t.out = strconv.AppendUint(t.out, v, 10)
	case c == msgpcode.Float || c == msgpcode.Double:
		f, err := t.dec.DecodeFloat64()
		if err != nil {
			return malformed("float: %v", err)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return malformed("float %v has no JSON form", f)
		}
		t.out = strconv.AppendFloat(t.out, f, 'g', -1, 64)
	case msgpcode.IsString(c):
		b, err := t.span()
		if err != nil {
			return malformed("str: %v", err)
		}
		t.out = appendJSONString(t.out, b)
	case msgpcode.IsBin(c):
		b, err := t.span()
		if err != nil {
			return malformed("bin: %v", err)
		}
		if err := t.binary(b); err != nil {
			return err
		}
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		n, err := t.dec.DecodeArrayLen()
		if err != nil || n > t.r.Len() {
			return malformed("array length past the end of the message")
		}
		t.out = append(t.out, '[')
		for i := range n {
			if i > 0 {
				t.out = append(t.out, ',')
			}
			if err := t.value(depth + 1); err != nil {
				return err
			}
		}
		t.out = append(t.out, ']')
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		n, err := t.dec.DecodeMapLen()
		if err != nil || n > t.r.Len() {
			return malformed("map length past the end of the message")
		}
		t.out = append(t.out, '{')
		for i := range n {
			if i > 0 {
				t.out = append(t.out, ',')
			}
			if err := t.key(); err != nil {
				return err
			}
			t.out = append(t.out, ':')
			if err := t.value(depth + 1); err != nil {
				return err
			}
		}
		t.out = append(t.out, '}')
	case msgpcode.IsExt(c):
		return t.ext()
	default:
		return malformed("unknown code %#x", c)
	}
	return nil
}

// key transcodes a map key: a string, or an integer written as its
// decimal string (the name a JavaScript object gives it).
func (t *transcoder) key() error {
	c, err := t.dec.PeekCode()
	if err != nil {
		return malformed("unexpected end")
	}
	switch {
	case msgpcode.IsString(c):
		b, err := t.span()
		if err != nil {
			return malformed("key: %v", err)
		}
		t.out = appendJSONString(t.out, b)
	case msgpcode.IsFixedNum(c) || c >= msgpcode.Int8 && c <= msgpcode.Int64 || c >= msgpcode.Uint8 && c <= msgpcode.Uint64:
		t.out = append(t.out, '"')
		if err := t.value(0); err != nil {
			return err
		}
		t.out = append(t.out, '"')
	default:
		return malformed("map key of code %#x is neither a string nor an integer", c)
	}
	return nil
}

// ext transcodes the extensions JavaScript peers write: the timestamp
// (type -1) of notepack.io 3, and notepack.io 2's own type 0, which
// socket.io-msgpack-parser 3 uses: undefined (1 byte), a Date (8 bytes of
// milliseconds) or an ArrayBuffer (other lengths). A date becomes the
// string Date.toJSON gives, undefined becomes null (as JSON.stringify
// writes it in an array) and an ArrayBuffer a binary value. Other
// extensions are refused.
func (t *transcoder) ext() error {
	id, n, err := t.dec.DecodeExtHeader()
	if err != nil || n < 0 || n > t.r.Len() {
		return malformed("ext length past the end of the message")
	}
	start := t.pos()
	b := t.data[start : start+n : start+n]
	_, _ = t.r.Seek(int64(n), io.SeekCurrent)
	var ts time.Time
	switch {
	case id == 0 && n == 1:
		t.out = append(t.out, "null"...)
		return nil
	case id == 0 && n == 8:
		ts = time.UnixMilli(int64(binary.BigEndian.Uint64(b))) //nolint:gosec // G115: a signed 64-bit big-endian count of milliseconds; reading its bits as int64 is the decoding
	case id == 0:
		return t.binary(b)
	case id == -1 && n == 4:
		ts = time.Unix(int64(binary.BigEndian.Uint32(b)), 0)
	case id == -1 && n == 8:
		v := binary.BigEndian.Uint64(b)
		ts = time.Unix(int64(v&(1<<34-1)), int64(v>>34))
	case id == -1 && n == 12:
		ts = time.Unix(int64(binary.BigEndian.Uint64(b[4:])), int64(binary.BigEndian.Uint32(b))) //nolint:gosec // G115: timestamp 96 holds signed 64-bit seconds; reading its bits as int64 is the decoding
	default:
		return malformed("unsupported extension type %d of %d bytes", id, n)
	}
	t.out = append(t.out, '"')
	t.out = ts.UTC().AppendFormat(t.out, "2006-01-02T15:04:05.000Z07:00")
	t.out = append(t.out, '"')
	return nil
}

// binary writes a placeholder for b and keeps b as an attachment.
func (t *transcoder) binary(b []byte) error {
	if t.maxAtt > 0 && len(t.atts) >= t.maxAtt {
		return fmt.Errorf("%w: msgpack: more than %d binary values", parser.ErrTooManyAttachments, t.maxAtt)
	}
	t.out = append(t.out, `{"_placeholder":true,"num":`...)
	t.out = strconv.AppendInt(t.out, int64(len(t.atts)), 10)
	t.out = append(t.out, '}')
	t.atts = append(t.atts, b)
	return nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string; invalid UTF-8 becomes
// U+FFFD, as encoding/json writes it.
func appendJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
