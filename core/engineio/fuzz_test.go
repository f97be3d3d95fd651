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
