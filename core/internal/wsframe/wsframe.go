// Package wsframe is a small RFC 6455 codec for the server side of a
// WebSocket: frame headers appended to and parsed from caller-owned buffers,
// masking, the reassembly of fragmented messages with control frames between
// the fragments, UTF-8 validation of text messages, a size limit counted over
// the reassembled (and inflated) message, permessage-deflate without context
// takeover (RFC 7692) on pooled compressors, and the opening handshake's
// Sec-WebSocket-Accept.
//
// It owns no goroutine and no connection: the engine reads through a
// [Reader] and writes the frames it appends itself.
package wsframe

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Opcodes (RFC 6455 §5.2).
const (
	OpContinuation byte = 0x0
	OpText         byte = 0x1
	OpBinary       byte = 0x2
	OpClose        byte = 0x8
	OpPing         byte = 0x9
	OpPong         byte = 0xA
)

// Close codes (RFC 6455 §7.4.1) the server sends.
const (
	CloseNormal        = 1000
	CloseGoingAway     = 1001
	CloseProtocolError = 1002
	CloseNoStatus      = 1005 // never sent: a close frame without a code
	CloseInvalidData   = 1007
	ClosePolicy        = 1008
	CloseTooBig        = 1009
	CloseInternal      = 1011
)

// Header bits.
const (
	finBit  = 0x80
	rsv1Bit = 0x40
	rsvBits = 0x70
	maskBit = 0x80
)

// MaxHeader is the longest frame header: two bytes, a 64-bit length and a
// masking key.
const MaxHeader = 14

// MaxControlPayload is the largest payload of a control frame.
const MaxControlPayload = 125

// Header is a parsed frame header.
type Header struct {
	Fin    bool
	Rsv1   bool // permessage-deflate: the message is compressed (first frame only)
	Op     byte
	Masked bool
	Mask   [4]byte
	Length int64
}

// AppendHeader appends the header of a final, unmasked server frame with an
// n-byte payload; rsv1 marks a compressed message.
func AppendHeader(b []byte, op byte, rsv1 bool, n int) []byte {
	b0 := finBit | op
	if rsv1 {
		b0 |= rsv1Bit
	}
	b = append(b, b0)
	switch u := uint64(max(n, 0)); {
	case u <= 125:
		return append(b, byte(u))
	case u <= 0xFFFF:
		return binary.BigEndian.AppendUint16(append(b, 126), uint16(u))
	default:
		return binary.BigEndian.AppendUint64(append(b, 127), u)
	}
}

// AppendClose appends a close frame carrying code (none if code is
// CloseNoStatus) and a reason cut to fit a control frame.
func AppendClose(b []byte, code int, reason string) []byte {
	if code == CloseNoStatus || code <= 0 {
		return AppendHeader(b, OpClose, false, 0)
	}
	if len(reason) > MaxControlPayload-2 {
		reason = reason[:MaxControlPayload-2]
	}
	b = AppendHeader(b, OpClose, false, 2+len(reason))
	b = binary.BigEndian.AppendUint16(b, uint16(code))
	return append(b, reason...)
}

// ParseHeader parses the frame header at the start of b. It returns the
// header and its length, or n == 0 when b holds only part of it. It checks
// only what the header alone shows: a non-minimal or 64-bit length with the
// top bit set, and a control frame that is fragmented or too long.
func ParseHeader(b []byte) (h Header, n int, err error) {
	if len(b) < 2 {
		return h, 0, nil
	}
	h.Fin = b[0]&finBit != 0
	h.Rsv1 = b[0]&rsv1Bit != 0
	h.Op = b[0] & 0x0F
	h.Masked = b[1]&maskBit != 0
	n = 2
	switch l := b[1] & 0x7F; l {
	case 126:
		if len(b) < 4 {
			return h, 0, nil
		}
		h.Length = int64(binary.BigEndian.Uint16(b[2:]))
		if h.Length < 126 {
			return h, 0, protocolError("non-minimal frame length")
		}
		n = 4
	case 127:
		if len(b) < 10 {
			return h, 0, nil
		}
		u := binary.BigEndian.Uint64(b[2:])
		if u>>63 != 0 {
			return h, 0, protocolError("frame length with the top bit set")
		}
		if u <= 0xFFFF {
			return h, 0, protocolError("non-minimal frame length")
		}
		h.Length = int64(u)
		n = 10
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		if len(b) < n+4 {
			return h, 0, nil
		}
		copy(h.Mask[:], b[n:n+4])
		n += 4
	}
	if b[0]&(rsvBits&^rsv1Bit) != 0 {
		return h, n, protocolError("reserved bits set")
	}
	if h.Op >= 0x8 {
		if h.Op > OpPong {
			return h, n, protocolError("unknown opcode")
		}
		if !h.Fin {
			return h, n, protocolError("fragmented control frame")
		}
		if h.Length > MaxControlPayload {
			return h, n, protocolError("control frame too long")
		}
		if h.Rsv1 {
			return h, n, protocolError("reserved bit set on a control frame")
		}
	} else if h.Op > OpBinary {
		return h, n, protocolError("unknown opcode")
	}
	return h, n, nil
}

// Mask XORs b with key, starting at byte pos of the key's cycle, and
// returns the position after b. Masking twice unmasks.
func Mask(key [4]byte, pos int, b []byte) int {
	pos &= 3
	// Byte by byte up to a key boundary, then eight bytes at a time.
	for len(b) > 0 && pos != 0 {
		b[0] ^= key[pos]
		b = b[1:]
		pos = (pos + 1) & 3
	}
	k32 := binary.LittleEndian.Uint32(key[:])
	k64 := uint64(k32) | uint64(k32)<<32
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k64)
		b = b[8:]
	}
	for i := range b {
		b[i] ^= key[pos]
		pos = (pos + 1) & 3
	}
	return pos
}

// Error is a failure of the peer that ends the connection with a close
// code: 1002 for a protocol error, 1007 for invalid UTF-8, 1008 for a
// policy violation, 1009 for a message over the limit.
type Error struct {
	Code int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("wsframe: %s (close %d)", e.Msg, e.Code) }

func protocolError(msg string) error { return &Error{Code: CloseProtocolError, Msg: msg} }

// ErrTooBig is matched (errors.Is) by the error of a message over the limit.
var ErrTooBig = &Error{Code: CloseTooBig, Msg: "message too big"}

// Is makes errors with the same code match.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// CloseError is returned by [Reader.ReadMessage] when the peer sent a close
// frame: its code (CloseNoStatus when it had none) and reason.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string { return fmt.Sprintf("wsframe: peer closed (%d)", e.Code) }

// CloseCode returns the close code err carries: the peer's own for a
// *CloseError, the one to send for an *Error, or 0.
func CloseCode(err error) int {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	return 0
}

// validCloseCode reports whether a peer may send code (RFC 6455 §7.4).
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1011:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// acceptGUID is the RFC 6455 §1.3 magic string.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey returns Sec-WebSocket-Accept for a client's Sec-WebSocket-Key.
func AcceptKey(key string) string {
	h := sha1.New()
	h.Write([]byte(key))
	h.Write([]byte(acceptGUID))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// ValidKey reports whether key is a Sec-WebSocket-Key: 16 bytes in base64.
func ValidKey(key string) bool {
	if len(key) != 24 {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(key)
	return err == nil && len(b) == 16
}

// HeaderHas reports whether a comma-separated header value lists token,
// case-insensitively ("Connection: keep-alive, Upgrade").
func HeaderHas(value, token string) bool {
	for v := range strings.SplitSeq(value, ",") {
		if strings.EqualFold(strings.TrimSpace(v), token) {
			return true
		}
	}
	return false
}
