package siomsgpack_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/siokit/siokit/core/parser"
	"github.com/siokit/siokit/core/socketio"
	siomsgpack "github.com/siokit/siokit/parsers/msgpack"
)

var limits = socketio.DecoderLimits{MaxAttachments: 10, MaxNamespaceLen: 512}

func decode(t testing.TB, msg []byte) (*parser.Packet, error) {
	t.Helper()
	return siomsgpack.Parser{}.NewDecoder(limits).Decode(msg, true)
}

func marshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := msgpack.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		p    parser.Packet
	}{
		{"event", parser.Packet{Type: parser.Event, Namespace: "/", Data: []byte(`["hi",1,-2,1.5,true,false,null,{"a":[]},"\"q\"é"]`)}},
		{"binary event with id", parser.Packet{Type: parser.BinaryEvent, Namespace: "/chat", ID: 7, HasID: true,
			Data: []byte(`["up",{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1}}]`), Attachments: [][]byte{{1, 2}, {}}}},
		{"long strings", parser.Packet{Type: parser.Event, Namespace: "/", Data: []byte(`["` + strings.Repeat("s", 31) + `","` +
			strings.Repeat("m", 32) + `","` + strings.Repeat("l", 300) + `","` + strings.Repeat("x", 70000) + `"]`)}},
		{"ack", parser.Packet{Type: parser.Ack, Namespace: "/", ID: 1 << 53, HasID: true, Data: []byte(`[18446744073709551615,-9223372036854775808]`)}},
		{"connect", parser.Packet{Type: parser.Connect, Namespace: "/", Data: []byte(`{"sid":"abc"}`)}},
		{"connect without auth", parser.Packet{Type: parser.Connect, Namespace: "/"}},
		{"connect error", parser.Packet{Type: parser.ConnectError, Namespace: "/", Data: []byte(`{"message":"no","data":{"n":1}}`)}},
		{"disconnect", parser.Packet{Type: parser.Disconnect, Namespace: "/x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frames, err := siomsgpack.Parser{}.Encode(&tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if len(frames) != 1 || !frames[0].Binary {
				t.Fatalf("frames = %+v, want one binary message", frames)
			}
			got, err := decode(t, frames[0].Data)
			if err != nil {
				t.Fatal(err)
			}
			if got.Type != tt.p.Type || got.Namespace != tt.p.Namespace || got.ID != tt.p.ID || got.HasID != tt.p.HasID {
				t.Fatalf("header = %v %q %d %v", got.Type, got.Namespace, got.ID, got.HasID)
			}
			if string(got.Data) != string(tt.p.Data) {
				t.Fatalf("data = %s, want %s", got.Data, tt.p.Data)
			}
			if len(got.Attachments) != len(tt.p.Attachments) {
				t.Fatalf("attachments = %q", got.Attachments)
			}
			for i := range got.Attachments {
				if string(got.Attachments[i]) != string(tt.p.Attachments[i]) {
					t.Fatalf("attachment %d = %q", i, got.Attachments[i])
				}
			}
		})
	}
}

// TestDecodePeerValues decodes packets as python-socketio writes them
// (msgpack.dumps of a dict, data None on DISCONNECT).
func TestDecodePeerValues(t *testing.T) {
	p, err := decode(t, marshal(t, map[string]any{"type": 2, "nsp": "/", "id": 3,
		"data": []any{"ev", []byte{1}, map[int]any{5: "five"}, float32(0.5), nil}}))
	if err != nil {
		t.Fatal(err)
	}
	name, args, err := p.EventArgs()
	if err != nil || name != "ev" {
		t.Fatalf("EventArgs = %q, %v", name, err)
	}
	vals, err := parser.DecodeArgs(args, p.Attachments)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{[]byte{1}, map[string]any{"5": "five"}, 0.5, nil}
	if p.Type != parser.BinaryEvent || !p.HasID || p.ID != 3 || !reflect.DeepEqual(vals, want) {
		t.Fatalf("packet %v id %d, values %#v", p.Type, p.ID, vals)
	}
	if p, err = decode(t, marshal(t, map[string]any{"type": 1, "nsp": "/", "data": nil})); err != nil || p.Data != nil {
		t.Fatalf("disconnect with data None: %v, %v", p, err)
	}
	// notepack.io 2 (socket.io-msgpack-parser 3): undefined, a Date.
	msg := []byte{0x83, 0xa4, 't', 'y', 'p', 'e', 0x02, 0xa3, 'n', 's', 'p', 0xa1, '/', 0xa4, 'd', 'a', 't', 'a',
		0x93, 0xa1, 'd', 0xd4, 0x00, 0x00, 0xd7, 0x00, 0, 0, 0, 0, 0, 0, 0x03, 0xe8}
	if p, err = decode(t, msg); err != nil || string(p.Data) != `["d",null,"1970-01-01T00:00:01.000Z"]` {
		t.Fatalf("notepack values: %v, %v", p, err)
	}
}

func TestDecodeRefuses(t *testing.T) {
	ok := map[string]any{"type": 2, "nsp": "/", "data": []any{"e"}}
	with := func(k string, v any) []byte {
		m := map[string]any{}
		for k, v := range ok {
			m[k] = v
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return marshal(t, m)
	}
	many := make([]any, 12)
	many[0] = "e"
	for i := 1; i < len(many); i++ {
		many[i] = []byte{1}
	}
	deep := any("e")
	for range 10001 {
		deep = []any{deep}
	}
	tests := []struct {
		name string
		msg  []byte
	}{
		{"empty", nil},
		{"not a map", marshal(t, []any{1})},
		{"no type", with("type", nil)},
		{"no nsp", with("nsp", nil)},
		{"type 5", with("type", 5)},
		{"type string", with("type", "2")},
		{"nsp number", with("nsp", 1)},
		{"relative nsp", with("nsp", "chat")},
		{"negative id", with("id", -1)},
		{"id above 2^53", with("id", uint64(1)<<53+1)},
		{"event without name", with("data", []any{})},
		{"reserved event", with("data", []any{"connect"})},
		{"event data not an array", with("data", map[string]any{})},
		{"too many binaries", with("data", many)},
		{"too deep", with("data", []any{"e", deep})},
		{"NaN", with("data", []any{"e", nan()})},
		{"unknown extension", append(with("data", nil)[:0:0], 0x83, 0xa4, 't', 'y', 'p', 'e', 0x02, 0xa3, 'n', 's', 'p', 0xa1, '/', 0xa4, 'd', 'a', 't', 'a', 0x92, 0xa1, 'e', 0xd4, 0x05, 0x00)},
		{"bin length past the end", []byte{0x83, 0xa4, 't', 'y', 'p', 'e', 0x02, 0xa3, 'n', 's', 'p', 0xa1, '/', 0xa4, 'd', 'a', 't', 'a', 0x92, 0xa1, 'e', 0xc6, 0xff, 0xff, 0xff, 0xff}},
		{"array length past the end", []byte{0x83, 0xa4, 't', 'y', 'p', 'e', 0x02, 0xa3, 'n', 's', 'p', 0xa1, '/', 0xa4, 'd', 'a', 't', 'a', 0xdd, 0xff, 0xff, 0xff, 0xff}},
		{"trailing bytes", append(marshal(t, ok), 0xc0)},
		{"placeholder past the binaries", with("data", []any{"e", map[string]any{"_placeholder": true, "num": 0}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := decode(t, tt.msg)
			if err == nil {
				t.Fatalf("decoded %+v", p)
			}
			if !errors.Is(err, parser.ErrMalformed) {
				t.Fatalf("error %v does not match parser.ErrMalformed", err)
			}
		})
	}
	if _, err := (siomsgpack.Parser{}).NewDecoder(limits).Decode([]byte(`2["e"]`), false); !errors.Is(err, parser.ErrMalformed) {
		t.Fatalf("text message: %v", err)
	}
}

func nan() float64 { z := 0.0; return z / z }

// typicalEvent is a chat message with a small object, the event a
// benchmark of a real application sends most.
var typicalEvent = parser.Packet{
	Type: parser.Event, Namespace: "/chat",
	Data: []byte(`["message",{"room":"lobby","user":"ada","text":"hello, world","ts":1733300000000,"tags":["a","b"]}]`),
}

func BenchmarkEncode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (siomsgpack.Parser{}).Encode(&typicalEvent); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	frames, err := siomsgpack.Parser{}.Encode(&typicalEvent)
	if err != nil {
		b.Fatal(err)
	}
	dec := siomsgpack.Parser{}.NewDecoder(limits)
	b.ReportAllocs()
	b.SetBytes(int64(len(frames[0].Data)))
	for b.Loop() {
		if _, err := dec.Decode(frames[0].Data, true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDefaultDecode is the text format's decoder on the same event,
// for comparison.
func BenchmarkDefaultDecode(b *testing.B) {
	msg := typicalEvent.Append(nil)
	var dec parser.Decoder
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := dec.Decode(msg, false); err != nil {
			b.Fatal(err)
		}
	}
}
