package parser

import "testing"

func BenchmarkEncodeEvent(b *testing.B) {
	b.ReportAllocs()
	args := []any{"hello world", 42, map[string]any{"user": "ann", "ok": true}}
	buf := make([]byte, 0, 256)
	for b.Loop() {
		data, att, err := EncodeEvent(buf[:0], "message", args)
		if err != nil || att != nil || len(data) == 0 {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeEventBinary(b *testing.B) {
	b.ReportAllocs()
	args := []any{"file", map[string]any{"name": "a.bin", "data": make([]byte, 1024)}}
	buf := make([]byte, 0, 256)
	for b.Loop() {
		data, att, err := EncodeEvent(buf[:0], "upload", args)
		if err != nil || len(att) != 1 || len(data) == 0 {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	b.ReportAllocs()
	msg := []byte(`2/chat,12["message","hello world",42,{"ok":true,"user":"ann"}]`)
	var d Decoder
	for b.Loop() {
		p, err := d.Decode(msg, false)
		if err != nil || p == nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBinary(b *testing.B) {
	b.ReportAllocs()
	head := []byte(`51-["upload","file",{"data":{"_placeholder":true,"num":0},"name":"a.bin"}]`)
	att := make([]byte, 1024)
	var d Decoder
	for b.Loop() {
		if p, err := d.Decode(head, false); err != nil || p != nil {
			b.Fatal(err)
		}
		if p, err := d.Decode(att, true); err != nil || p == nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseEvent(b *testing.B) {
	b.ReportAllocs()
	data := []byte(`["message","hello world",42,{"ok":true,"user":"ann"}]`)
	for b.Loop() {
		name, args, err := ParseEvent(data)
		if err != nil || name != "message" || len(args) != 3 {
			b.Fatal(err)
		}
	}
}
