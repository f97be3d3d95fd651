package parser

import (
	"strings"
	"testing"
)

// Decoding event arguments into any, as a handler taking ...any receives
// them: ParseEvent splits the packet's array, Unmarshal decodes each
// argument (issue 17's "before" figures of the decoding path).

func benchUnmarshalAny(b *testing.B, data []byte, atts [][]byte) {
	b.Helper()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		_, args, err := ParseEvent(data)
		if err != nil {
			b.Fatal(err)
		}
		for _, a := range args {
			var v any
			if err := Unmarshal(a, atts, &v); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkUnmarshalAny(b *testing.B) {
	benchUnmarshalAny(b, []byte(`["message","hello world",42,{"ok":true,"user":"ann","n":12345,"text":"hello, world"}]`), nil)
}

func BenchmarkUnmarshalAny16K(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`["page",{"items":[`)
	for i := 0; sb.Len() < 16<<10; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"id":1,"user":"user","ok":true,"text":"` + strings.Repeat("x", 48) + `"}`)
	}
	sb.WriteString(`]}]`)
	benchUnmarshalAny(b, []byte(sb.String()), nil)
}

func BenchmarkUnmarshalAnyBinary(b *testing.B) {
	benchUnmarshalAny(b, []byte(`["upload","a.bin",{"_placeholder":true,"num":0}]`), [][]byte{make([]byte, 4<<10)})
}

// BenchmarkUnmarshalRaw is the json.RawMessage handler's path, for
// comparison: the arguments are slices of the packet, nothing is decoded.
func BenchmarkUnmarshalRaw(b *testing.B) {
	data := []byte(`["message","hello world",42,{"ok":true,"user":"ann","n":12345,"text":"hello, world"}]`)
	b.ReportAllocs()
	for b.Loop() {
		_, args, err := ParseEvent(data)
		if err != nil || len(args) != 3 {
			b.Fatal(err)
		}
	}
}
