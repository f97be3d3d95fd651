package wsframe

import (
	"bytes"
	"compress/flate"
	"io"
	"strings"
	"sync"
)

// permessage-deflate (RFC 7692) without context takeover in either
// direction: every message is compressed and inflated on its own, by a
// compressor or decompressor taken from a pool for that message and given
// back after it, so an idle connection holds neither.

// ExtensionName is the extension token.
const ExtensionName = "permessage-deflate"

// ExtensionResponse is the Sec-WebSocket-Extensions value the server
// answers an accepted offer with.
const ExtensionResponse = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

// AcceptDeflate reports whether one of the offers in a
// Sec-WebSocket-Extensions header (which may be given several times,
// joined with commas) is a permessage-deflate offer the server can take:
// any offer whose parameters are known, well-formed, not repeated, and do
// not ask for a server window under 15 bits (Go's compressor always uses a
// 32 KiB window).
func AcceptDeflate(header string) bool {
	for offer := range strings.SplitSeq(header, ",") {
		params := strings.Split(offer, ";")
		if !strings.EqualFold(strings.TrimSpace(params[0]), ExtensionName) {
			continue
		}
		if acceptableOffer(params[1:]) {
			return true
		}
	}
	return false
}

func acceptableOffer(params []string) bool {
	seen := map[string]bool{}
	for _, p := range params {
		name, value, hasValue := strings.Cut(strings.TrimSpace(p), "=")
		name = strings.ToLower(strings.TrimSpace(name))
		value = strings.Trim(strings.TrimSpace(value), `"`)
		if seen[name] {
			return false
		}
		seen[name] = true
		switch name {
		case "server_no_context_takeover", "client_no_context_takeover":
			if hasValue {
				return false
			}
		case "server_max_window_bits":
			if value != "15" {
				return false
			}
		case "client_max_window_bits":
			if hasValue && !validWindowBits(value) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func validWindowBits(v string) bool {
	switch v {
	case "8", "9", "10", "11", "12", "13", "14", "15":
		return true
	}
	return false
}

// CompressLevel is the level of the pooled compressors: speed first, as a
// broadcast server compresses each message once per recipient.
const CompressLevel = flate.BestSpeed

var flateWriters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, CompressLevel)
	return w
}}

// appendWriter appends what is written to b.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// AppendDeflate appends the concatenation of parts compressed as one
// permessage-deflate message (a sync-flushed raw deflate stream without its
// final 0x00 0x00 0xff 0xff).
func AppendDeflate(dst []byte, parts ...[]byte) []byte {
	aw := appendWriter{b: dst}
	fw := flateWriters.Get().(*flate.Writer)
	fw.Reset(&aw)
	for _, p := range parts {
		_, _ = fw.Write(p)
	}
	_ = fw.Flush()
	fw.Reset(nil) // keep no reference to the output
	flateWriters.Put(fw)
	b := aw.b
	if n := len(b); n-len(dst) >= 4 && bytes.Equal(b[n-4:], syncTail) {
		b = b[:n-4]
	}
	return b
}

// syncTail ends a sync flush; finalBlock is an empty final stored block,
// so the decompressor ends with io.EOF.
var (
	syncTail   = []byte{0x00, 0x00, 0xff, 0xff}
	finalBlock = []byte{0x01, 0x00, 0x00, 0xff, 0xff}
)

var flateReaders sync.Pool

// inflateInput is the input of one inflation: the message, then the tail.
type inflateInput struct {
	msg, tail []byte
}

func (in *inflateInput) Read(p []byte) (int, error) {
	if len(in.msg) == 0 {
		in.msg, in.tail = in.tail, nil
		if len(in.msg) == 0 {
			return 0, io.EOF
		}
	}
	n := copy(p, in.msg)
	in.msg = in.msg[n:]
	return n, nil
}

// ReadByte makes flate read the input without a buffer of its own.
func (in *inflateInput) ReadByte() (byte, error) {
	var b [1]byte
	if _, err := in.Read(b[:]); err != nil {
		return 0, err
	}
	return b[0], nil
}

// Inflate decompresses one permessage-deflate message into a new slice. It
// stops, returning an error matching ErrTooBig, as soon as the output
// passes limit: a small frame that inflates without end costs no more than
// limit bytes, given back at once.
func Inflate(msg []byte, limit int64) ([]byte, error) {
	in := &inflateInput{msg: msg, tail: append(syncTail[:4:4], finalBlock...)}
	fr, _ := flateReaders.Get().(io.ReadCloser)
	if fr == nil {
		fr = flate.NewReader(in)
	} else if err := fr.(flate.Resetter).Reset(in, nil); err != nil {
		return nil, protocolError("bad compressed message")
	}
	defer func() {
		_ = fr.(flate.Resetter).Reset(emptyInput{}, nil) // drop the input
		flateReaders.Put(fr)
	}()
	out := make([]byte, 0, min(int64(len(msg))*4+64, limit+1))
	for {
		if int64(len(out)) > limit {
			return nil, ErrTooBig
		}
		if len(out) == cap(out) {
			out = append(out, 0)[:len(out)]
		}
		n, err := fr.Read(out[len(out):min(cap(out), int(limit)+1)])
		out = out[:len(out)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, protocolError("bad compressed message")
		}
	}
	if int64(len(out)) > limit {
		return nil, ErrTooBig
	}
	return out, nil
}

// emptyInput is an input at its end.
type emptyInput struct{}

func (emptyInput) Read([]byte) (int, error) { return 0, io.EOF }
func (emptyInput) ReadByte() (byte, error)  { return 0, io.EOF }
