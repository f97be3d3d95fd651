package engineio

import (
	"bytes"
	"testing"
)

// benchPackets is a typical polling payload: ten 64-byte messages.
func benchPackets(binary bool) []Packet {
	ps := make([]Packet, 10)
	for i := range ps {
		ps[i] = Packet{Type: PacketMessage, Data: bytes.Repeat([]byte{'a' + byte(i)}, 64), Binary: binary}
	}
	return ps
}

func BenchmarkAppendPayload(b *testing.B) {
	for _, c := range []struct {
		name   string
		binary bool
	}{{"text", false}, {"binary", true}} {
		b.Run(c.name, func(b *testing.B) {
			ps := benchPackets(c.binary)
			buf := make([]byte, 0, 2048)
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendPayload(buf[:0], ps)
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

func BenchmarkDecodePayload(b *testing.B) {
	for _, c := range []struct {
		name   string
		binary bool
	}{{"text", false}, {"binary", true}} {
		b.Run(c.name, func(b *testing.B) {
			wire := AppendPayload(nil, benchPackets(c.binary))
			buf := make([]byte, len(wire))
			n := 0
			fn := func(p Packet) error { n += len(p.Data); return nil }
			b.SetBytes(int64(len(wire)))
			b.ReportAllocs()
			for b.Loop() {
				copy(buf, wire) // DecodePayload decodes base64 in place
				if err := DecodePayload(buf, fn); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
