package siopubsub

import (
	"encoding/binary"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
)

// maxDepth bounds the nesting of a MessagePack message.
const maxDepth = 64

// checkMsgpack validates the structure of a MessagePack message before it
// is decoded: every length must fit in the bytes that remain (a declared
// array of 2^32 elements in a 5-byte message must not allocate memory for
// them), nesting is bounded and there is nothing after the value.
func checkMsgpack(b []byte) error {
	n, err := skipValue(b, 0, 0)
	if err != nil {
		return err
	}
	if n != len(b) {
		return fmt.Errorf("%w: %d bytes after the value", errMalformed, len(b)-n)
	}
	return nil
}

// skipValue returns the offset after the value that starts at i.
func skipValue(b []byte, i, depth int) (int, error) {
	if depth > maxDepth {
		return 0, fmt.Errorf("%w: nested deeper than %d", errMalformed, maxDepth)
	}
	if i >= len(b) {
		return 0, fmt.Errorf("%w: truncated", errMalformed)
	}
	c := b[i]
	i++
	var items, size int // elements to skip, raw bytes to skip
	switch {
	case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		return i, nil
	case c&0xf0 == 0x80:
		items = 2 * int(c&0x0f)
	case c&0xf0 == 0x90:
		items = int(c & 0x0f)
	case c&0xe0 == 0xa0:
		size = int(c & 0x1f)
	default:
		var err error
		var n int
		switch c {
		case 0xcc, 0xd0:
			size = 1
		case 0xcd, 0xd1:
			size = 2
		case 0xca, 0xce, 0xd2:
			size = 4
		case 0xcb, 0xcf, 0xd3:
			size = 8
		case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
			size = 1 + 1<<(c-0xd4)
		case 0xc4, 0xd9:
			n, i, err = readLen(b, i, 1)
			size = n
		case 0xc5, 0xda:
			n, i, err = readLen(b, i, 2)
			size = n
		case 0xc6, 0xdb:
			n, i, err = readLen(b, i, 4)
			size = n
		case 0xc7:
			n, i, err = readLen(b, i, 1)
			size = n + 1
		case 0xc8:
			n, i, err = readLen(b, i, 2)
			size = n + 1
		case 0xc9:
			n, i, err = readLen(b, i, 4)
			size = n + 1
		case 0xdc:
			n, i, err = readLen(b, i, 2)
			items = n
		case 0xdd:
			n, i, err = readLen(b, i, 4)
			items = n
		case 0xde:
			n, i, err = readLen(b, i, 2)
			items = 2 * n
		case 0xdf:
			n, i, err = readLen(b, i, 4)
			items = 2 * n
		default:
			return 0, fmt.Errorf("%w: byte 0x%02x", errMalformed, c)
		}
		if err != nil {
			return 0, err
		}
	}
	if size > len(b)-i || items > len(b)-i {
		return 0, fmt.Errorf("%w: length beyond the message", errMalformed)
	}
	i += size
	for range items {
		var err error
		if i, err = skipValue(b, i, depth+1); err != nil {
			return 0, err
		}
	}
	return i, nil
}

// readLen reads the n-byte big-endian length at i and returns it with the
// offset after it. A length beyond the bytes that remain after it is
// malformed, so the result always fits in an int.
func readLen(b []byte, i, n int) (int, int, error) {
	if len(b)-i < n {
		return 0, 0, fmt.Errorf("%w: truncated", errMalformed)
	}
	var v uint32
	switch n {
	case 1:
		v = uint32(b[i])
	case 2:
		v = uint32(binary.BigEndian.Uint16(b[i:]))
	default:
		v = binary.BigEndian.Uint32(b[i:])
	}
	i += n
	if int64(v) > int64(len(b)-i) {
		return 0, 0, fmt.Errorf("%w: length beyond the message", errMalformed)
	}
	return int(v), i, nil
}

// unmarshalMsgpack checks msg, then decodes it into v.
func unmarshalMsgpack(msg []byte, v any) error {
	if err := checkMsgpack(msg); err != nil {
		return err
	}
	if err := msgpack.Unmarshal(msg, v); err != nil {
		return fmt.Errorf("%w: %w", errMalformed, err)
	}
	return nil
}
