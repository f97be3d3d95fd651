package siomsgpack

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"

	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/parser"
)

// container is one JSON object or array of a payload, found by the first
// pass of the transcoder.
type container struct {
	count int // elements, or members of an object
	num   int // attachment the object is a placeholder for, or -1
	end   int // offset after the closing bracket
	next  int // index of the first container after this one's subtree
}

// open is a container while the first pass is inside it.
type open struct {
	rec       int
	obj       bool
	expectKey bool
	nonEmpty  bool
	commas    int
	key       int8 // keyPlaceholder or keyNum: the member whose value comes next
	ph        bool // "_placeholder": true seen
	num       int  // value of "num", or -1
}

const (
	keyOther int8 = iota
	keyPlaceholder
	keyNum
)

// Encode implements [socketio.Parser]: p becomes one binary message, a
// map of type, data (absent when p has no payload), nsp and id (when p
// has one), with each placeholder of the payload replaced by its
// attachment as a bin value.
func (Parser) Encode(p *parser.Packet) ([]engineio.Packet, error) {
	buf := bytes.NewBuffer(make([]byte, 0, len(p.Data)+len(p.Namespace)+attachmentsSize(p.Attachments)+32))
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	enc.Reset(buf)
	t := p.Type
	switch t {
	case parser.BinaryEvent:
		t = parser.Event
	case parser.BinaryAck:
		t = parser.Ack
	}
	n := 2
	if p.Data != nil {
		n++
	}
	if p.HasID {
		n++
	}
	_ = enc.EncodeMapLen(n)
	_ = enc.EncodeString("type")
	_ = enc.EncodeInt(int64(t))
	if p.Data != nil {
		_ = enc.EncodeString("data")
		if err := encodeJSON(enc, buf, p.Data, p.Attachments); err != nil {
			return nil, err
		}
	}
	_ = enc.EncodeString("nsp")
	nsp := p.Namespace
	if nsp == "" {
		nsp = "/"
	}
	_ = enc.EncodeString(nsp)
	if p.HasID {
		_ = enc.EncodeString("id")
		_ = enc.EncodeUint(p.ID)
	}
	return []engineio.Packet{{Type: engineio.PacketMessage, Data: buf.Bytes(), Binary: true}}, nil
}

func attachmentsSize(atts [][]byte) int {
	n := 0
	for _, a := range atts {
		n += len(a) + 5
	}
	return n
}

// encodeJSON writes the JSON value data as msgpack, with placeholders
// replaced by their attachments. data must be valid JSON.
//
// buf is the writer of enc, which writes through without buffering: a
// string without escapes is copied from data into buf directly, which
// saves converting it to a Go string.
func encodeJSON(enc *msgpack.Encoder, buf *bytes.Buffer, data []byte, atts [][]byte) error {
	var stackBuf [16]open
	var recBuf [16]container
	recs, err := scanContainers(data, stackBuf[:0], recBuf[:0], len(atts))
	if err != nil {
		return err
	}
	ri := 0
	for i := 0; i < len(data); {
		switch c := data[i]; c {
		case ' ', '\t', '\n', '\r', ',', ':', '}', ']':
			i++
		case '{', '[':
			r := recs[ri]
			if r.num >= 0 {
				_ = enc.EncodeBytes(atts[r.num])
				i, ri = r.end, r.next
				continue
			}
			if c == '{' {
				_ = enc.EncodeMapLen(r.count)
			} else {
				_ = enc.EncodeArrayLen(r.count)
			}
			i++
			ri++
		case '"':
			j, esc := stringEnd(data, i)
			if j < 0 {
				return fmt.Errorf("siomsgpack: invalid JSON string at offset %d", i)
			}
			if !esc {
				writeStr(buf, data[i+1:j-1])
				i = j
				continue
			}
			s, err := unquote(data[i:j], esc)
			if err != nil {
				return err
			}
			_ = enc.EncodeString(s)
			i = j
		default:
			j := tokenEnd(data, i)
			if err := encodeScalar(enc, data[i:j]); err != nil {
				return err
			}
			i = j
		}
	}
	return nil
}

// scanContainers is the first pass: the element count of every object and
// array in order of their opening brackets, and which objects are
// placeholders naming one of n attachments.
func scanContainers(data []byte, stack []open, recs []container, n int) ([]container, error) {
	begin := func() {
		if len(stack) > 0 {
			stack[len(stack)-1].nonEmpty = true
		}
	}
	for i := 0; i < len(data); {
		switch c := data[i]; c {
		case ' ', '\t', '\n', '\r', ':':
			i++
		case ',':
			if len(stack) == 0 {
				return nil, fmt.Errorf("siomsgpack: invalid JSON: ',' at offset %d", i)
			}
			top := &stack[len(stack)-1]
			top.commas++
			top.expectKey = top.obj
			i++
		case '{', '[':
			begin()
			stack = append(stack, open{rec: len(recs), obj: c == '{', expectKey: c == '{', num: -1})
			recs = append(recs, container{num: -1})
			i++
		case '}', ']':
			if len(stack) == 0 {
				return nil, fmt.Errorf("siomsgpack: invalid JSON: %q at offset %d", c, i)
			}
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			r := &recs[top.rec]
			r.count = top.commas
			if top.nonEmpty {
				r.count++
			}
			i++
			r.end, r.next = i, len(recs)
			if top.obj && top.ph {
				if top.num < 0 || top.num >= n {
					return nil, fmt.Errorf("%w: num %d of %d attachments", parser.ErrBadPlaceholder, top.num, n)
				}
				r.num = top.num
			}
		case '"':
			begin()
			j, esc := stringEnd(data, i)
			if j < 0 {
				return nil, fmt.Errorf("siomsgpack: invalid JSON string at offset %d", i)
			}
			if len(stack) > 0 {
				top := &stack[len(stack)-1]
				if top.obj && top.expectKey {
					top.expectKey = false
					top.key = keyOther
					if k, err := unquote(data[i:j], esc); err == nil {
						switch k {
						case "_placeholder":
							top.key = keyPlaceholder
						case "num":
							top.key = keyNum
						}
					}
				} else {
					top.key = keyOther
				}
			}
			i = j
		default:
			begin()
			j := tokenEnd(data, i)
			if len(stack) > 0 {
				top := &stack[len(stack)-1]
				tok := data[i:j]
				switch top.key {
				case keyPlaceholder:
					top.ph = string(tok) == "true"
				case keyNum:
					if v, err := strconv.ParseUint(string(tok), 10, 31); err == nil {
						top.num = int(v)
					}
				}
				top.key = keyOther
			}
			if j == i {
				return nil, fmt.Errorf("siomsgpack: invalid JSON at offset %d", i)
			}
			i = j
		}
	}
	if len(stack) > 0 {
		return nil, fmt.Errorf("siomsgpack: invalid JSON: unclosed container")
	}
	return recs, nil
}

// stringEnd returns the offset after the JSON string starting at data[i]
// and whether it holds escapes; -1 when it does not end.
func stringEnd(data []byte, i int) (int, bool) {
	esc := false
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			esc = true
			j++
		case '"':
			return j + 1, esc
		}
	}
	return -1, esc
}

// tokenEnd returns the offset after the number or literal at data[i].
func tokenEnd(data []byte, i int) int {
	j := i
	for j < len(data) {
		switch data[j] {
		case ',', ']', '}', ':', ' ', '\t', '\n', '\r':
			return j
		}
		j++
	}
	return j
}

func unquote(raw []byte, esc bool) (string, error) {
	if !esc {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("siomsgpack: invalid JSON string: %w", err)
	}
	return s, nil
}

// encodeScalar writes a JSON number or literal. Integers stay integers;
// a number with a fraction or exponent is a float64 unless its value is a
// whole number, which is written as an integer, as socket.io-msgpack-parser
// writes a JavaScript number.
func encodeScalar(enc *msgpack.Encoder, tok []byte) error {
	switch string(tok) {
	case "true":
		return enc.EncodeBool(true)
	case "false":
		return enc.EncodeBool(false)
	case "null":
		return enc.EncodeNil()
	}
	if bytes.ContainsAny(tok, ".eE") {
		f, err := strconv.ParseFloat(string(tok), 64)
		if err != nil {
			return fmt.Errorf("siomsgpack: invalid JSON number %q", tok)
		}
		if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			return enc.EncodeInt(int64(f))
		}
		return enc.EncodeFloat64(f)
	}
	if v, err := strconv.ParseInt(string(tok), 10, 64); err == nil {
		return enc.EncodeInt(v)
	}
	if v, err := strconv.ParseUint(string(tok), 10, 64); err == nil {
		return enc.EncodeUint(v)
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil {
		return fmt.Errorf("siomsgpack: invalid JSON number %q", tok)
	}
	return enc.EncodeFloat64(f)
}

// writeStr writes b as a msgpack str, with the smallest header. b comes
// from one Engine.IO message, far below 4 GiB.
func writeStr(buf *bytes.Buffer, b []byte) {
	n := uint32(min(len(b), math.MaxUint32))
	switch {
	case n < 32:
		buf.WriteByte(msgpcode.FixedStrLow | byte(n))
	case n <= math.MaxUint8:
		buf.Write([]byte{msgpcode.Str8, byte(n)})
	case n <= math.MaxUint16:
		buf.Write(binary.BigEndian.AppendUint16([]byte{msgpcode.Str16}, uint16(n)))
	default:
		buf.Write(binary.BigEndian.AppendUint32([]byte{msgpcode.Str32}, n))
	}
	buf.Write(b[:n])
}
