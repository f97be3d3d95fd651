package wsframe

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// clientFrame returns one masked client frame.
func clientFrame(fin, rsv1 bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= finBit
	}
	if rsv1 {
		b0 |= rsv1Bit
	}
	b := []byte{b0}
	switch n := len(payload); {
	case n <= 125:
		b = append(b, maskBit|byte(n))
	case n <= 0xFFFF:
		b = binary.BigEndian.AppendUint16(append(b, maskBit|126), uint16(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, maskBit|127), uint64(n))
	}
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	b = append(b, key[:]...)
	start := len(b)
	b = append(b, payload...)
	Mask(key, 0, b[start:])
	return b
}

func closePayload(code int, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...)
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    Header
		n       int
		errCode int
	}{
		{"short", []byte{0x81}, Header{}, 0, 0},
		{"7-bit", []byte{0x81, 0x05}, Header{Fin: true, Op: OpText, Length: 5}, 2, 0},
		{"16-bit", []byte{0x82, 126, 0x01, 0x00}, Header{Fin: true, Op: OpBinary, Length: 256}, 4, 0},
		{"16-bit cut", []byte{0x82, 126, 0x01}, Header{}, 0, 0},
		{"64-bit", []byte{0x02, 127, 0, 0, 0, 0, 0, 1, 0, 0}, Header{Op: OpBinary, Length: 65536}, 10, 0},
		{"masked", []byte{0x89, 0x80, 1, 2, 3, 4}, Header{Fin: true, Op: OpPing, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, 6, 0},
		{"mask cut", []byte{0x89, 0x80, 1, 2}, Header{}, 0, 0},
		{"non-minimal 16-bit", []byte{0x81, 126, 0, 125}, Header{}, 0, CloseProtocolError},
		{"non-minimal 64-bit", []byte{0x81, 127, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, Header{}, 0, CloseProtocolError},
		{"64-bit top bit", []byte{0x81, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, Header{}, 0, CloseProtocolError},
		{"rsv2", []byte{0xA1, 0x00}, Header{}, 2, CloseProtocolError},
		{"rsv3", []byte{0x91, 0x00}, Header{}, 2, CloseProtocolError},
		{"opcode 3", []byte{0x83, 0x00}, Header{}, 2, CloseProtocolError},
		{"opcode 0xB", []byte{0x8B, 0x00}, Header{}, 2, CloseProtocolError},
		{"fragmented ping", []byte{0x09, 0x00}, Header{}, 2, CloseProtocolError},
		{"long ping", []byte{0x89, 126, 0, 126}, Header{}, 4, CloseProtocolError},
		{"compressed ping", []byte{0xC9, 0x00}, Header{}, 2, CloseProtocolError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, n, err := ParseHeader(tt.in)
			if tt.errCode != 0 {
				if CloseCode(err) != tt.errCode {
					t.Fatalf("err = %v, want close code %d", err, tt.errCode)
				}
				return
			}
			if err != nil || n != tt.n || (n > 0 && h != tt.want) {
				t.Fatalf("ParseHeader = %+v, %d, %v; want %+v, %d", h, n, err, tt.want, tt.n)
			}
		})
	}
}

func TestAppendHeaderRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 1 << 20} {
		for _, rsv1 := range []bool{false, true} {
			b := AppendHeader(nil, OpBinary, rsv1, n)
			h, hn, err := ParseHeader(b)
			if err != nil || hn != len(b) || h.Length != int64(n) || !h.Fin || h.Rsv1 != rsv1 || h.Op != OpBinary || h.Masked {
				t.Fatalf("n=%d: header % x parsed as %+v, %d, %v", n, b, h, hn, err)
			}
			want := 2
			switch {
			case n > 0xFFFF:
				want = 10
			case n > 125:
				want = 4
			}
			if len(b) != want {
				t.Fatalf("n=%d: %d header bytes, want %d", n, len(b), want)
			}
		}
	}
}

func TestMask(t *testing.T) {
	key := [4]byte{0xde, 0xad, 0xbe, 0xef}
	for n := range 40 {
		for pos := range 4 {
			src := make([]byte, n)
			for i := range src {
				src[i] = byte(i * 7)
			}
			got := bytes.Clone(src)
			end := Mask(key, pos, got)
			for i := range src {
				if got[i] != src[i]^key[(pos+i)&3] {
					t.Fatalf("n=%d pos=%d: byte %d wrong", n, pos, i)
				}
			}
			if end != (pos+n)&3 {
				t.Fatalf("n=%d pos=%d: end %d", n, pos, end)
			}
		}
	}
}

func TestAcceptKey(t *testing.T) {
	// The example of RFC 6455 §1.3.
	if got := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("AcceptKey = %q", got)
	}
	for key, want := range map[string]bool{"dGhlIHNhbXBsZSBub25jZQ==": true, "": false, "dGhlIHNhbXBsZQ==": false, "!!!!!!!!!!!!!!!!!!!!!!!!": false} {
		if ValidKey(key) != want {
			t.Errorf("ValidKey(%q) = %v", key, !want)
		}
	}
	if !HeaderHas("keep-alive, Upgrade", "upgrade") || HeaderHas("keep-alive", "upgrade") {
		t.Error("HeaderHas")
	}
}

type readResult struct {
	op      byte
	msg     string
	errCode int // the close code of the error: the one to send, or the peer's
}

func TestReader(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n/2) + strings.Repeat("x", n%2) }
	deflated := func(s string) []byte { return AppendDeflate(nil, []byte(s)) }
	bomb := AppendDeflate(nil, make([]byte, 200<<10))
	cat := func(fs ...[]byte) []byte { return bytes.Join(fs, nil) }
	tests := []struct {
		name    string
		in      []byte
		limit   int64
		deflate bool
		want    []readResult
		pings   int
	}{
		{name: "text", in: clientFrame(true, false, OpText, []byte("hello")), want: []readResult{{OpText, "hello", 0}}},
		{name: "empty binary", in: clientFrame(true, false, OpBinary, nil), want: []readResult{{OpBinary, "", 0}}},
		{
			name: "lengths 125 126 65535 65536",
			in: cat(clientFrame(true, false, OpText, []byte(long(125))), clientFrame(true, false, OpText, []byte(long(126))),
				clientFrame(true, false, OpBinary, []byte(long(65535))), clientFrame(true, false, OpText, []byte(long(65536)))),
			want: []readResult{{OpText, long(125), 0}, {OpText, long(126), 0}, {OpBinary, long(65535), 0}, {OpText, long(65536), 0}},
		},
		{
			name: "fragments with control frames between them",
			in: cat(clientFrame(false, false, OpText, []byte("he")), clientFrame(true, false, OpPing, []byte("p1")),
				clientFrame(false, false, OpContinuation, []byte("l")), clientFrame(true, false, OpPong, nil),
				clientFrame(true, false, OpContinuation, []byte("lo")), clientFrame(true, false, OpBinary, []byte{0xff})),
			want:  []readResult{{OpText, "hello", 0}, {OpBinary, "\xff", 0}},
			pings: 2,
		},
		{
			name: "UTF-8 split across fragments",
			in:   cat(clientFrame(false, false, OpText, []byte("\xc3")), clientFrame(true, false, OpContinuation, []byte("\xa9"))),
			want: []readResult{{OpText, "é", 0}},
		},
		{name: "invalid UTF-8", in: clientFrame(true, false, OpText, []byte("a\xff")), want: []readResult{{0, "", CloseInvalidData}}},
		{name: "invalid UTF-8 in binary is fine", in: clientFrame(true, false, OpBinary, []byte("a\xff")), want: []readResult{{OpBinary, "a\xff", 0}}},
		{name: "unmasked", in: []byte{0x81, 0x01, 'a'}, want: []readResult{{0, "", CloseProtocolError}}},
		{name: "continuation first", in: clientFrame(true, false, OpContinuation, []byte("a")), want: []readResult{{0, "", CloseProtocolError}}},
		{
			name: "new message inside a fragmented one",
			in:   cat(clientFrame(false, false, OpText, []byte("a")), clientFrame(true, false, OpText, []byte("b"))),
			want: []readResult{{0, "", CloseProtocolError}},
		},
		{name: "too big", in: clientFrame(true, false, OpBinary, make([]byte, 101)), limit: 100, want: []readResult{{0, "", CloseTooBig}}},
		{name: "at the limit", in: clientFrame(true, false, OpBinary, make([]byte, 100)), limit: 100, want: []readResult{{OpBinary, string(make([]byte, 100)), 0}}},
		{
			name:  "too big over fragments",
			in:    cat(clientFrame(false, false, OpBinary, make([]byte, 60)), clientFrame(true, false, OpContinuation, make([]byte, 41))),
			limit: 100, want: []readResult{{0, "", CloseTooBig}},
		},
		{name: "close with a code", in: clientFrame(true, false, OpClose, closePayload(1001, "bye")), want: []readResult{{0, "", 1001}}},
		{name: "close without a code", in: clientFrame(true, false, OpClose, nil), want: []readResult{{0, "", CloseNoStatus}}},
		{name: "close of one byte", in: clientFrame(true, false, OpClose, []byte{3}), want: []readResult{{0, "", CloseProtocolError}}},
		{name: "close with code 1005", in: clientFrame(true, false, OpClose, closePayload(1005, "")), want: []readResult{{0, "", CloseProtocolError}}},
		{name: "close with code 999", in: clientFrame(true, false, OpClose, closePayload(999, "")), want: []readResult{{0, "", CloseProtocolError}}},
		{name: "close with code 4000", in: clientFrame(true, false, OpClose, closePayload(4000, "")), want: []readResult{{0, "", 4000}}},
		{name: "close with a bad reason", in: clientFrame(true, false, OpClose, closePayload(1000, "\xff")), want: []readResult{{0, "", CloseInvalidData}}},
		{name: "compressed without deflate", in: clientFrame(true, true, OpText, deflated("hi")), want: []readResult{{0, "", CloseProtocolError}}},
		{
			name: "compressed", deflate: true,
			in:   cat(clientFrame(true, true, OpText, deflated(long(3000))), clientFrame(true, false, OpText, []byte("plain"))),
			want: []readResult{{OpText, long(3000), 0}, {OpText, "plain", 0}},
		},
		{
			name: "compressed in fragments", deflate: true,
			in: func() []byte {
				z := deflated(long(5000))
				return cat(clientFrame(false, true, OpBinary, z[:10]), clientFrame(true, false, OpPing, nil), clientFrame(true, false, OpContinuation, z[10:]))
			}(),
			want: []readResult{{OpBinary, long(5000), 0}}, pings: 1,
		},
		{
			name: "rsv1 on a continuation", deflate: true,
			in:   cat(clientFrame(false, true, OpText, deflated("a")), clientFrame(true, true, OpContinuation, nil)),
			want: []readResult{{0, "", CloseProtocolError}},
		},
		{name: "bomb", deflate: true, in: clientFrame(true, true, OpBinary, bomb), limit: 100 << 10, want: []readResult{{0, "", CloseTooBig}}},
		{name: "bad deflate data", deflate: true, in: clientFrame(true, true, OpBinary, []byte{0xff, 0xff, 0xff}), want: []readResult{{0, "", CloseProtocolError}}},
		{name: "cut inside a frame", in: clientFrame(true, false, OpText, []byte("hello"))[:5], want: []readResult{{0, "", -1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limit := tt.limit
			if limit == 0 {
				limit = 1 << 20
			}
			r := NewReader(bufio.NewReaderSize(bytes.NewReader(tt.in), 64), limit)
			r.Deflate = tt.deflate
			pings := 0
			r.Control = func(byte, []byte) error { pings++; return nil }
			for i, w := range tt.want {
				op, msg, err := r.ReadMessage()
				switch {
				case w.errCode == -1:
					if !errors.Is(err, io.ErrUnexpectedEOF) {
						t.Fatalf("message %d: err = %v, want io.ErrUnexpectedEOF", i, err)
					}
				case w.errCode != 0:
					if CloseCode(err) != w.errCode {
						t.Fatalf("message %d: err = %v, want close code %d", i, err, w.errCode)
					}
				case err != nil || op != w.op || string(msg) != w.msg:
					t.Fatalf("message %d: %d, %.20q (%d bytes), %v; want %d, %.20q (%d bytes)", i, op, msg, len(msg), err, w.op, w.msg, len(w.msg))
				}
			}
			if pings != tt.pings {
				t.Fatalf("%d control frames seen, want %d", pings, tt.pings)
			}
		})
	}
}

func TestAcceptDeflate(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{"permessage-deflate", true},
		{"permessage-deflate; client_max_window_bits", true},
		{"permessage-deflate; client_max_window_bits=10; server_no_context_takeover", true},
		{"permessage-deflate; server_max_window_bits=10", false},
		{"permessage-deflate; server_max_window_bits=10, permessage-deflate", true},
		{"permessage-deflate; server_max_window_bits=15", true},
		{"permessage-deflate; client_no_context_takeover; client_no_context_takeover", false},
		{"permessage-deflate; unknown", false},
		{"x-webkit-deflate-frame", false},
		{"permessage-deflate; client_max_window_bits=16", false},
	}
	for _, tt := range tests {
		if got := AcceptDeflate(tt.header); got != tt.want {
			t.Errorf("AcceptDeflate(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestDeflateRoundTrip(t *testing.T) {
	for _, s := range []string{"", "a", strings.Repeat("abc", 10000), string(bytes.Repeat([]byte{0, 1, 2, 250}, 5000))} {
		z := AppendDeflate([]byte("prefix"), []byte(s[:len(s)/2]), []byte(s[len(s)/2:]))
		if !bytes.HasPrefix(z, []byte("prefix")) {
			t.Fatal("AppendDeflate lost dst")
		}
		out, err := Inflate(z[len("prefix"):], int64(len(s)))
		if err != nil || string(out) != s {
			t.Fatalf("round trip of %d bytes: %d bytes, %v", len(s), len(out), err)
		}
		if len(s) > 0 {
			if _, err := Inflate(z[len("prefix"):], int64(len(s)-1)); !errors.Is(err, ErrTooBig) {
				t.Fatalf("limit one under: %v", err)
			}
		}
	}
}

func TestAppendClose(t *testing.T) {
	b := AppendClose(nil, CloseTooBig, strings.Repeat("r", 200))
	h, n, err := ParseHeader(b)
	if err != nil || h.Op != OpClose || int(h.Length) != len(b)-n || h.Length > MaxControlPayload {
		t.Fatalf("close frame % x: %+v %v", b[:4], h, err)
	}
	if code := binary.BigEndian.Uint16(b[n:]); code != CloseTooBig {
		t.Fatalf("code %d", code)
	}
	if b := AppendClose(nil, CloseNoStatus, "x"); !bytes.Equal(b, []byte{0x88, 0}) {
		t.Fatalf("close without a code: % x", b)
	}
}

// FuzzReader feeds arbitrary bytes to a Reader: it must not panic, and what
// it returns must respect the limit and, for text, be valid UTF-8.
func FuzzReader(f *testing.F) {
	f.Add(clientFrame(true, false, OpText, []byte("hello")), false)
	f.Add(append(clientFrame(false, false, OpText, []byte("he")), clientFrame(true, false, OpContinuation, []byte("llo"))...), false)
	f.Add(clientFrame(true, true, OpBinary, AppendDeflate(nil, []byte("zzzzzzzzzzzz"))), true)
	f.Add(clientFrame(true, false, OpClose, closePayload(1000, "x")), false)
	f.Add(clientFrame(true, false, OpPing, []byte("p")), false)
	f.Fuzz(func(t *testing.T, in []byte, deflate bool) {
		const limit = 4096
		r := NewReader(bufio.NewReaderSize(bytes.NewReader(in), 16), limit)
		r.Deflate = deflate
		r.Control = func(op byte, p []byte) error {
			if (op != OpPing && op != OpPong) || len(p) > MaxControlPayload {
				t.Fatalf("control %d with %d bytes", op, len(p))
			}
			return nil
		}
		for range 100 {
			op, msg, err := r.ReadMessage()
			if err != nil {
				return
			}
			if len(msg) > limit {
				t.Fatalf("%d-byte message over the limit", len(msg))
			}
			if op != OpText && op != OpBinary {
				t.Fatalf("opcode %d", op)
			}
			if op == OpText && !utf8.Valid(msg) {
				t.Fatal("invalid UTF-8 in a text message")
			}
		}
	})
}
