package wsframe

import (
	"bufio"
	"io"
	"slices"
	"unicode/utf8"
)

// growStep bounds how much a message buffer grows ahead of the bytes that
// actually arrived: a header announcing a large payload costs memory only
// as the payload comes.
const growStep = 32 << 10

// Reader reads the messages of a client (masked frames) from a buffered
// connection. It is not safe for concurrent use.
type Reader struct {
	br *bufio.Reader

	// Limit is the largest message, reassembled and inflated, in bytes.
	Limit int64
	// Deflate is set when permessage-deflate was negotiated.
	Deflate bool
	// Control, if set, is called with each ping and pong read (the payload
	// is valid only during the call); a non-nil error ends ReadMessage
	// with it.
	Control func(op byte, payload []byte) error

	hdr [MaxHeader]byte
	ctl [MaxControlPayload]byte
}

// NewReader returns a Reader of br.
func NewReader(br *bufio.Reader, limit int64) *Reader {
	return &Reader{br: br, Limit: limit}
}

// readHeader reads one frame header.
func (r *Reader) readHeader() (Header, error) {
	// Two bytes first, then what they announce.
	b := r.hdr[:2]
	if _, err := io.ReadFull(r.br, b); err != nil {
		return Header{}, err
	}
	need := 2
	switch b[1] & 0x7F {
	case 126:
		need += 2
	case 127:
		need += 8
	}
	if b[1]&maskBit != 0 {
		need += 4
	}
	if _, err := io.ReadFull(r.br, r.hdr[2:need]); err != nil {
		return Header{}, unexpected(err)
	}
	h, _, err := ParseHeader(r.hdr[:need])
	return h, err
}

// unexpected turns the EOF inside a frame into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ReadMessage reads the next data message: its opcode (OpText or OpBinary)
// and its payload, a new slice the caller keeps. Pings and pongs met on the
// way go to Control. A close frame ends it with a *CloseError; a peer's
// violation with an *Error whose Code is the close code to answer with.
func (r *Reader) ReadMessage() (op byte, msg []byte, err error) {
	started, compressed := false, false
	for {
		h, err := r.readHeader()
		if err != nil {
			return 0, nil, err
		}
		if !h.Masked {
			return 0, nil, protocolError("unmasked client frame")
		}
		if h.Op >= OpClose {
			if err := r.control(h); err != nil {
				return 0, nil, err
			}
			continue
		}
		switch {
		case h.Op == OpContinuation && !started:
			return 0, nil, protocolError("continuation frame with no message")
		case h.Op == OpContinuation && h.Rsv1:
			return 0, nil, protocolError("reserved bit set on a continuation frame")
		case h.Op != OpContinuation && started:
			return 0, nil, protocolError("new message inside a fragmented one")
		case h.Op != OpContinuation:
			if h.Rsv1 && !r.Deflate {
				return 0, nil, protocolError("compressed message without permessage-deflate")
			}
			started, op, compressed = true, h.Op, h.Rsv1
		}
		if int64(len(msg))+h.Length > r.Limit {
			return 0, nil, ErrTooBig
		}
		if msg, err = r.readPayload(msg, h); err != nil {
			return 0, nil, err
		}
		if h.Fin {
			break
		}
	}
	if compressed {
		if msg, err = Inflate(msg, r.Limit); err != nil {
			return 0, nil, err
		}
	}
	if op == OpText && !utf8.Valid(msg) {
		return 0, nil, &Error{Code: CloseInvalidData, Msg: "invalid UTF-8 in a text message"}
	}
	if msg == nil {
		msg = []byte{}
	}
	return op, msg, nil
}

// readPayload appends the frame's unmasked payload to msg, growing it as
// the bytes arrive.
func (r *Reader) readPayload(msg []byte, h Header) ([]byte, error) {
	pos := 0
	for left := h.Length; left > 0; {
		n := int(min(left, growStep))
		msg = slices.Grow(msg, n)
		chunk := msg[len(msg) : len(msg)+n]
		if _, err := io.ReadFull(r.br, chunk); err != nil {
			return nil, unexpected(err)
		}
		pos = Mask(h.Mask, pos, chunk)
		msg = msg[:len(msg)+n]
		left -= int64(n)
	}
	return msg, nil
}

// control handles one control frame.
func (r *Reader) control(h Header) error {
	p := r.ctl[:h.Length]
	if _, err := io.ReadFull(r.br, p); err != nil {
		return unexpected(err)
	}
	Mask(h.Mask, 0, p)
	if h.Op == OpClose {
		return parseClose(p)
	}
	if r.Control != nil {
		return r.Control(h.Op, p)
	}
	return nil
}

// parseClose reads a close frame's payload.
func parseClose(p []byte) error {
	switch {
	case len(p) == 0:
		return &CloseError{Code: CloseNoStatus}
	case len(p) == 1:
		return protocolError("close frame with a one-byte payload")
	}
	code := int(p[0])<<8 | int(p[1])
	if !validCloseCode(code) {
		return protocolError("invalid close code")
	}
	if !utf8.Valid(p[2:]) {
		return &Error{Code: CloseInvalidData, Msg: "invalid UTF-8 in a close reason"}
	}
	return &CloseError{Code: code, Reason: string(p[2:])}
}
