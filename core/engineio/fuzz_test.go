package engineio

import (
	"bytes"
	"encoding/base64"
	"errors"
	"slices"
	"testing"
)

var payloadSeeds = []string{
	"4hello", "4a\x1e2\x1e4€", "bAQIDBA==", "4x\x1eb/w==\x1eb\x1e6", "4\x1e4", "",
	"abc", "9", "4ok\x1e", "\x1e", "bnot base64!", "bAQI", "b====", "b\x1e4", "b", "1", "2probe",
}

// referenceDecodePayload is the straightforward decoder: split on the record
// separator, decode each record out of place.
func referenceDecodePayload(payload []byte) ([]Packet, error) {
	if len(payload) == 0 {
		return nil, ErrBadPacket
	}
	var out []Packet
	for _, rec := range bytes.Split(payload, []byte{recordSeparator}) {
		if len(rec) == 0 {
			return out, ErrBadPacket
		}
		if rec[0] == 'b' {
			data, err := base64.StdEncoding.DecodeString(string(rec[1:]))
			if err != nil {
				return out, ErrBadPacket
			}
			out = append(out, Packet{Type: PacketMessage, Data: data, Binary: true})
			continue
		}
		if rec[0] < '0' || rec[0] > '6' {
			return out, ErrBadPacket
		}
		out = append(out, Packet{Type: PacketType(rec[0] - '0'), Data: slices.Clone(rec[1:])})
	}
	return out, nil
}

// FuzzDecodePayload checks DecodePayload, which decodes base64 in place,
// against the out-of-place reference decoder, and that what it decodes
// encodes back to an equivalent payload.
func FuzzDecodePayload(f *testing.F) {
	for _, s := range payloadSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		want, wantErr := referenceDecodePayload(payload)
		var got []Packet
		err := DecodePayload(slices.Clone(payload), func(p Packet) error {
			p.Data = slices.Clone(p.Data)
			got = append(got, p)
			return nil
		})
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("DecodePayload(%q) err = %v, reference err = %v", payload, err, wantErr)
		}
		if err != nil && !errors.Is(err, ErrBadPacket) {
			t.Fatalf("DecodePayload(%q) err = %v, not ErrBadPacket", payload, err)
		}
		if !packetsEqual(got, want) {
			t.Fatalf("DecodePayload(%q) = %+v, reference %+v", payload, got, want)
		}
		if err != nil {
			return
		}
		// Round trip: the re-encoding decodes to the same packets.
		var again []Packet
		if err := DecodePayload(AppendPayload(nil, got), func(p Packet) error {
			p.Data = slices.Clone(p.Data)
			again = append(again, p)
			return nil
		}); err != nil || !packetsEqual(again, got) {
			t.Fatalf("round trip of %q: %+v, %v", payload, again, err)
		}
	})
}

// FuzzDecodePacket checks DecodePacket on text and binary frames and that
// a decoded packet encodes back to the same bytes.
func FuzzDecodePacket(f *testing.F) {
	for _, s := range []string{"4hello", "4", "2probe", "3", "5", "6", "0{}", "", "7", "abc", "\x00\xff"} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, binary bool) {
		p, err := DecodePacket(data, binary)
		if err != nil {
			if !errors.Is(err, ErrBadPacket) || binary {
				t.Fatalf("DecodePacket(%q, %v) err = %v", data, binary, err)
			}
			return
		}
		if p.Type > PacketNoop || p.Binary != binary {
			t.Fatalf("DecodePacket(%q, %v) = %+v", data, binary, p)
		}
		if enc := AppendPacket(nil, p); !bytes.Equal(enc, data) {
			t.Fatalf("re-encoding %q gave %q", data, enc)
		}
	})
}

// FuzzAppendFrames frames batches of packets shaped by the input (kind and
// length of each) and checks that a plain frame parser reads back the same
// messages, in order, whether buf holds them all or the large payloads are
// parts of their own.
func FuzzAppendFrames(f *testing.F) {
	f.Add([]byte{0, 5, 0, 1, 200, 0, 2, 0, 1})
	f.Add([]byte{1, 0xff, 0x40, 2, 0, 0, 0, 125, 0, 0, 126, 0})
	f.Add([]byte{2, 0x01, 0x41, 0, 0, 0, 0x81, 0, 1})
	f.Fuzz(func(t *testing.T, shape []byte) {
		var batch []Packet
		var want [][]byte
		for len(shape) >= 3 && len(batch) < 64 {
			kind, n := shape[0]%3, int(shape[1])<<8|int(shape[2])
			if shape[0]&0x80 != 0 {
				n += 1 << 16 // a 64-bit length
			}
			shape = shape[3:]
			data := bytes.Repeat([]byte{byte('a' + len(batch)%26)}, n)
			switch kind {
			case 0: // text
				batch = append(batch, Packet{Type: PacketMessage, Data: data})
				want = append(want, append([]byte{'4'}, data...))
			case 1: // binary
				batch = append(batch, Packet{Type: PacketMessage, Data: data, Binary: true})
				want = append(want, data)
			default: // a message framed once for many sessions
				p := MessageFrame(append([]byte{0}, data...))
				batch = append(batch, p)
				want = append(want, p.frame)
			}
		}
		if len(batch) == 0 {
			return
		}
		buf, parts := (*wsConn)(nil).appendFrames(nil, batch)
		wire := buf
		if parts != nil {
			wire = bytes.Join(parts, nil)
		}
		got, err := parseFrames(wire)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d frames for %d packets", len(got), len(want))
		}
		for i := range got {
			if op := got[i].op; op != opText && op != opBinary || (op == opBinary) != batch[i].Binary {
				t.Fatalf("frame %d has opcode %d for %+v", i, op, batch[i])
			}
			if !bytes.Equal(got[i].payload, want[i]) {
				t.Fatalf("frame %d carries %d bytes, want %d", i, len(got[i].payload), len(want[i]))
			}
		}
	})
}

// wireFrame is one frame read back by parseFrames.
type wireFrame struct {
	op      byte
	payload []byte
}

// parseFrames reads final, unmasked server frames, each length in the
// shortest encoding (RFC 6455 §5.2), until b ends.
func parseFrames(b []byte) ([]wireFrame, error) {
	var out []wireFrame
	for len(b) > 0 {
		if len(b) < 2 || b[0]&0xF0 != 0x80 || b[1]&0x80 != 0 {
			return nil, errors.New("not a final unmasked frame")
		}
		n, h := uint64(b[1]), 2
		switch {
		case n == 126 && len(b) >= 4:
			n, h = uint64(b[2])<<8|uint64(b[3]), 4
			if n <= 125 {
				return nil, errors.New("16-bit length for a short payload")
			}
		case n == 127 && len(b) >= 10:
			n, h = 0, 10
			for _, c := range b[2:10] {
				n = n<<8 | uint64(c)
			}
			if n <= 0xFFFF {
				return nil, errors.New("64-bit length for a short payload")
			}
		case n >= 126:
			return nil, errors.New("length cut short")
		}
		if uint64(len(b)-h) < n {
			return nil, errors.New("payload cut short")
		}
		out = append(out, wireFrame{b[0] & 0x0F, b[h : h+int(n)]})
		b = b[h+int(n):]
	}
	return out, nil
}
