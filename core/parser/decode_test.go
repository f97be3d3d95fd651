package parser

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// msg is one Engine.IO message fed to a Decoder.
type msg struct {
	data   string
	binary bool
}

func text(s string) msg { return msg{data: s} }
func bin(s string) msg  { return msg{data: s, binary: true} }

func TestDecodeValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []msg
		want Packet
	}{
		{"connect", []msg{text("0")}, Packet{Type: Connect, Namespace: "/"}},
		{"connect auth", []msg{text(`0{"token":"x"}`)}, Packet{Type: Connect, Namespace: "/", Data: []byte(`{"token":"x"}`)}},
		{"connect nsp", []msg{text("0/admin,")}, Packet{Type: Connect, Namespace: "/admin"}},
		{"connect nsp no comma", []msg{text("0/admin")}, Packet{Type: Connect, Namespace: "/admin"}},
		{"connect nsp auth", []msg{text(`0/admin,{"a":1}`)}, Packet{Type: Connect, Namespace: "/admin", Data: []byte(`{"a":1}`)}},
		{"root nsp spelled", []msg{text(`2/,["x"]`)}, Packet{Type: Event, Namespace: "/", Data: []byte(`["x"]`)}},
		{"disconnect", []msg{text("1")}, Packet{Type: Disconnect, Namespace: "/"}},
		{"disconnect nsp", []msg{text("1/admin,")}, Packet{Type: Disconnect, Namespace: "/admin"}},
		{"event", []msg{text(`2["hello",1]`)}, Packet{Type: Event, Namespace: "/", Data: []byte(`["hello",1]`)}},
		{"event name only", []msg{text(`2["x"]`)}, Packet{Type: Event, Namespace: "/", Data: []byte(`["x"]`)}},
		{"event error name", []msg{text(`2["error"]`)}, Packet{Type: Event, Namespace: "/", Data: []byte(`["error"]`)}},
		{"event id", []msg{text(`213["x",1]`)}, Packet{Type: Event, Namespace: "/", ID: 13, HasID: true, Data: []byte(`["x",1]`)}},
		{"event nsp id", []msg{text(`2/admin,13["x",1]`)}, Packet{Type: Event, Namespace: "/admin", ID: 13, HasID: true, Data: []byte(`["x",1]`)}},
		{"event max id", []msg{text(`29007199254740992["x"]`)}, Packet{Type: Event, Namespace: "/", ID: 1 << 53, HasID: true, Data: []byte(`["x"]`)}},
		{"event inner whitespace", []msg{text("2[ \"x\" , {\"a\" : [ 1 ] } ]")}, Packet{Type: Event, Namespace: "/", Data: []byte("[ \"x\" , {\"a\" : [ 1 ] } ]")}},
		{"event unicode nsp", []msg{text(`2/é,["x"]`)}, Packet{Type: Event, Namespace: "/é", Data: []byte(`["x"]`)}},
		{"placeholder-like object without true", []msg{text(`2["x",{"_placeholder":false,"num":9}]`)}, Packet{Type: Event, Namespace: "/", Data: []byte(`["x",{"_placeholder":false,"num":9}]`)}},
		{"ack", []msg{text(`31["ok"]`)}, Packet{Type: Ack, Namespace: "/", ID: 1, HasID: true, Data: []byte(`["ok"]`)}},
		{"ack empty", []msg{text(`3/admin,7[]`)}, Packet{Type: Ack, Namespace: "/admin", ID: 7, HasID: true, Data: []byte(`[]`)}},
		{"connect error object", []msg{text(`4{"message":"no"}`)}, Packet{Type: ConnectError, Namespace: "/", Data: []byte(`{"message":"no"}`)}},
		{"connect error string", []msg{text(`4/admin,"Unable to connect"`)}, Packet{Type: ConnectError, Namespace: "/admin", Data: []byte(`"Unable to connect"`)}},
		{"binary event", []msg{text(`51-["e",{"_placeholder":true,"num":0}]`), bin("\x01\x02")},
			Packet{Type: BinaryEvent, Namespace: "/", Data: []byte(`["e",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2}}}},
		{"binary event nsp id nested", []msg{text(`51-/admin,7["e",{"a":{"_placeholder":true,"num":0}}]`), bin("abc")},
			Packet{Type: BinaryEvent, Namespace: "/admin", ID: 7, HasID: true, Data: []byte(`["e",{"a":{"_placeholder":true,"num":0}}]`), Attachments: [][]byte{[]byte("abc")}}},
		{"binary event two", []msg{text(`52-["e",{"_placeholder":true,"num":1},[{"_placeholder":true,"num":0}]]`), bin("a"), bin("")},
			Packet{Type: BinaryEvent, Namespace: "/", Data: []byte(`["e",{"_placeholder":true,"num":1},[{"_placeholder":true,"num":0}]]`), Attachments: [][]byte{[]byte("a"), {}}}},
		{"binary event zero attachments", []msg{text(`50-["e"]`)}, Packet{Type: BinaryEvent, Namespace: "/", Data: []byte(`["e"]`)}},
		{"binary ack", []msg{text(`61-/admin,3[{"_placeholder":true,"num":0}]`), bin("z")},
			Packet{Type: BinaryAck, Namespace: "/admin", ID: 3, HasID: true, Data: []byte(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{[]byte("z")}}},
		{"escaped placeholder key", []msg{text(`51-["e",{"\u005fplaceholder":true,"num":0}]`), bin("q")},
			Packet{Type: BinaryEvent, Namespace: "/", Data: []byte(`["e",{"\u005fplaceholder":true,"num":0}]`), Attachments: [][]byte{[]byte("q")}}},
		{"placeholder last key wins", []msg{text(`50-["e",{"_placeholder":true,"_placeholder":false,"num":4}]`)},
			Packet{Type: BinaryEvent, Namespace: "/", Data: []byte(`["e",{"_placeholder":true,"_placeholder":false,"num":4}]`)}},
		{"deep nesting under limit", []msg{text(`2["x",` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "]")},
			Packet{Type: Event, Namespace: "/", Data: []byte(`["x",` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "]")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var d Decoder
			var got *Packet
			for i, m := range tt.in {
				p, err := d.Decode([]byte(m.data), m.binary)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if i < len(tt.in)-1 && p != nil {
					t.Fatalf("message %d: packet returned before the last attachment", i)
				}
				got = p
			}
			if got == nil {
				t.Fatal("no packet")
			}
			if !reflect.DeepEqual(wire(got), tt.want) {
				t.Fatalf("got %#v\nwant %#v", wire(got), tt.want)
			}
			checkCachedArgs(t, got)
			if d.Pending() != 0 {
				t.Fatalf("pending %d after complete packet", d.Pending())
			}
			// Re-encoding gives a packet that decodes the same.
			again := decodeAll(t, encodeMessages(got))
			if !reflect.DeepEqual(wire(again), wire(got)) {
				t.Fatalf("round trip: got %#v\nwant %#v", wire(again), wire(got))
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", 100000)
	long := "/" + strings.Repeat("a", 512)
	tests := []struct {
		name string
		in   []msg
		want error
	}{
		{"empty", []msg{text("")}, ErrMalformed},
		{"type 7", []msg{text(`7["x"]`)}, ErrMalformed},
		{"type letter", []msg{text(`a`)}, ErrMalformed},
		{"garbage after type", []msg{text(`42abc["x"]`)}, ErrMalformed},
		{"4abc", []msg{text(`4abc`)}, ErrMalformed},
		{"connect array", []msg{text(`0[]`)}, ErrInvalidPayload},
		{"connect string", []msg{text(`0"x"`)}, ErrInvalidPayload},
		{"disconnect payload", []msg{text(`1{}`)}, ErrInvalidPayload},
		{"event object", []msg{text(`2{}`)}, ErrInvalidPayload},
		{"event string", []msg{text(`2"x"`)}, ErrInvalidPayload},
		{"event empty", []msg{text(`2[]`)}, ErrInvalidPayload},
		{"event null name", []msg{text(`2[null]`)}, ErrInvalidPayload},
		{"event number name", []msg{text(`2[1]`)}, ErrInvalidPayload},
		{"event object name", []msg{text(`2[{"toString":1}]`)}, ErrInvalidPayload},
		{"event connect", []msg{text(`2["connect"]`)}, ErrInvalidPayload},
		{"event connect_error", []msg{text(`2["connect_error"]`)}, ErrInvalidPayload},
		{"event disconnecting", []msg{text(`2["disconnecting",1]`)}, ErrInvalidPayload},
		{"event newListener", []msg{text(`2["newListener"]`)}, ErrInvalidPayload},
		{"event removeListener escaped", []msg{text(`2["remove\u004cistener"]`)}, ErrInvalidPayload},
		{"event disconnect nsp", []msg{text(`2/admin,["disconnect"]`)}, ErrInvalidPayload},
		{"event no payload", []msg{text(`2`)}, ErrInvalidPayload},
		{"event trailing garbage", []msg{text(`2["x"]x`)}, ErrMalformed},
		{"event trailing array", []msg{text(`2["x"][]`)}, ErrMalformed},
		{"event trailing space", []msg{text(`2["x"] `)}, ErrMalformed},
		{"event leading space", []msg{text(`2 ["x"]`)}, ErrMalformed},
		{"event bad json", []msg{text(`2["x",]`)}, ErrMalformed},
		{"event unterminated", []msg{text(`2["x"`)}, ErrMalformed},
		{"event control char", []msg{text("2[\"x\n\"]")}, ErrMalformed},
		{"event bad escape", []msg{text(`2["\x"]`)}, ErrMalformed},
		{"event deep nesting", []msg{text(`2["x",` + deep)}, ErrMalformed},
		{"event deep nesting closed", []msg{text(`2` + deep + strings.Repeat("]", 100000))}, ErrMalformed},
		{"ack object", []msg{text(`31{}`)}, ErrInvalidPayload},
		{"ack no id", []msg{text(`3["x"]`)}, ErrInvalidPayload},
		{"ack no payload", []msg{text(`31`)}, ErrInvalidPayload},
		{"connect error array", []msg{text(`4[]`)}, ErrInvalidPayload},
		{"connect error number", []msg{text(`41`)}, ErrMalformed},
		{"connect error missing", []msg{text(`4`)}, ErrInvalidPayload},
		{"connect with id", []msg{text(`01{}`)}, ErrMalformed},
		{"ack id 17 digits", []msg{text(`212345678901234567["x"]`)}, ErrMalformed},
		{"ack id above 2^53", []msg{text(`29007199254740993["x"]`)}, ErrMalformed},
		{"ack id 21 digits", []msg{text(`3123456789012345678901[]`)}, ErrMalformed},
		{"nsp too long", []msg{text("0" + long + ",")}, ErrMalformed},
		{"nsp control char", []msg{text("0/a\x00b,")}, ErrMalformed},
		{"nsp del", []msg{text("0/a\x7fb,")}, ErrMalformed},
		{"nsp bad utf8", []msg{text("0/a\xffb,")}, ErrMalformed},
		{"nsp without slash", []msg{text(`0admin,`)}, ErrMalformed},
		{"binary count missing", []msg{text(`5-["e"]`)}, ErrMalformed},
		{"binary dash missing", []msg{text(`51["e"]`)}, ErrMalformed},
		{"binary count letter", []msg{text(`5a-["e"]`)}, ErrMalformed},
		{"binary 11 attachments", []msg{text(`511-["e"]`)}, ErrTooManyAttachments},
		{"binary huge count", []msg{text(`599999999999-["e"]`)}, ErrTooManyAttachments},
		{"binary overflow count", []msg{text(`5` + strings.Repeat("9", 40) + `-["e"]`)}, ErrTooManyAttachments},
		{"binary count on event", []msg{text(`21-["e"]`)}, ErrMalformed},
		{"placeholder splice", []msg{text(`51-["e",{"_placeholder":true,"num":"splice"}]`)}, ErrBadPlaceholder},
		{"placeholder negative", []msg{text(`51-["e",{"_placeholder":true,"num":-1}]`)}, ErrBadPlaceholder},
		{"placeholder fraction", []msg{text(`52-["e",{"_placeholder":true,"num":1.5}]`)}, ErrBadPlaceholder},
		{"placeholder exponent", []msg{text(`52-["e",{"_placeholder":true,"num":1e0}]`)}, ErrBadPlaceholder},
		{"placeholder out of range", []msg{text(`51-["e",{"_placeholder":true,"num":1}]`)}, ErrBadPlaceholder},
		{"placeholder huge", []msg{text(`51-["e",{"_placeholder":true,"num":99999999999999999999999}]`)}, ErrBadPlaceholder},
		{"placeholder no num", []msg{text(`51-["e",{"_placeholder":true}]`)}, ErrBadPlaceholder},
		{"placeholder num object", []msg{text(`51-["e",{"_placeholder":true,"num":{}}]`)}, ErrBadPlaceholder},
		{"placeholder escaped key", []msg{text(`51-["e",{"\u005fplaceholder":true,"n\u0075m":3}]`)}, ErrBadPlaceholder},
		{"placeholder in plain event", []msg{text(`2["e",{"_placeholder":true,"num":0}]`)}, ErrBadPlaceholder},
		{"placeholder as root ack", []msg{text(`61-1{"_placeholder":true,"num":0}`)}, ErrInvalidPayload},
		{"binary without header", []msg{bin("x")}, ErrUnexpectedBinary},
		{"binary after complete packet", []msg{text(`51-["e",{"_placeholder":true,"num":0}]`), bin("a"), bin("b")}, ErrUnexpectedBinary},
		{"text while pending", []msg{text(`52-["e",{"_placeholder":true,"num":0}]`), bin("a"), text(`2["x"]`)}, ErrUnexpectedText},
		{"binary event invalid name", []msg{text(`51-["connect",{"_placeholder":true,"num":0}]`)}, ErrInvalidPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var d Decoder
			var err error
			for _, m := range tt.in {
				var p *Packet
				p, err = d.Decode([]byte(m.data), m.binary)
				if err != nil {
					if p != nil {
						t.Fatal("packet returned with an error")
					}
					break
				}
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "parser: ") {
				t.Fatalf("error %q lacks the parser: prefix", err)
			}
			if d.Pending() != 0 || d.pending != nil {
				t.Fatal("partial state kept after an error")
			}
			// The decoder is usable again afterwards.
			if p, err := d.Decode([]byte(`2["ok"]`), false); err != nil || p == nil {
				t.Fatalf("after error: %v %v", p, err)
			}
		})
	}
}

func TestDecoderLimits(t *testing.T) {
	t.Parallel()
	d := Decoder{MaxAttachments: 2, MaxNamespaceLen: 4}
	if _, err := d.Decode([]byte(`53-["e"]`), false); !errors.Is(err, ErrTooManyAttachments) {
		t.Fatalf("3 > 2 attachments: %v", err)
	}
	if p, err := d.Decode([]byte(`52-["e"]`), false); err != nil || p != nil || d.Pending() != 2 {
		t.Fatalf("2 attachments: %v %v pending %d", p, err, d.Pending())
	}
	d.Reset()
	if d.Pending() != 0 {
		t.Fatal("Reset kept state")
	}
	if _, err := d.Decode([]byte("0/abcd,"), false); !errors.Is(err, ErrMalformed) {
		t.Fatalf("5-byte namespace: %v", err)
	}
	if p, err := d.Decode([]byte("0/abc,"), false); err != nil || p.Namespace != "/abc" {
		t.Fatalf("4-byte namespace: %v %v", p, err)
	}
	// Defaults: 512-byte namespace passes, 10 attachments pass.
	var def Decoder
	if _, err := def.Decode([]byte("0/"+strings.Repeat("a", 511)+","), false); err != nil {
		t.Fatalf("512-byte namespace: %v", err)
	}
	if _, err := def.Decode([]byte(`510-["e"]`), false); err != nil || def.Pending() != 10 {
		t.Fatalf("10 attachments: %v", err)
	}
}

func TestPacketAppend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p    Packet
		want string
	}{
		{Packet{Type: Connect}, "0"},
		{Packet{Type: Connect, Namespace: "/", Data: []byte(`{"sid":"a"}`)}, `0{"sid":"a"}`},
		{Packet{Type: Connect, Namespace: "/admin"}, "0/admin,"},
		{Packet{Type: Disconnect, Namespace: "/admin"}, "1/admin,"},
		{Packet{Type: Event, Namespace: "/admin", ID: 13, HasID: true, Data: []byte(`["x",1]`)}, `2/admin,13["x",1]`},
		{Packet{Type: Event, Data: []byte(`["x"]`), Attachments: [][]byte{{1}}}, `51-["x"]`},
		{Packet{Type: Ack, ID: 0, HasID: true, Data: []byte(`[1]`)}, `30[1]`},
		{Packet{Type: Ack, ID: 2, HasID: true, Data: []byte(`[]`), Attachments: [][]byte{{1}, {2}}}, `62-2[]`},
		{Packet{Type: BinaryEvent, Namespace: "/a", Data: []byte(`["x"]`)}, `50-/a,["x"]`},
		{Packet{Type: ConnectError, Namespace: "/a", Data: []byte(`{"message":"Invalid namespace"}`)}, `4/a,{"message":"Invalid namespace"}`},
		{Packet{Type: Event, Namespace: "/a", Data: []byte(`["x"]`), Attachments: make([][]byte, 12)}, `512-/a,["x"]`},
	}
	for _, tt := range tests {
		prefix := []byte("pre")
		got := tt.p.Append(prefix)
		if string(got) != "pre"+tt.want {
			t.Errorf("%+v: got %q, want %q", tt.p, got, tt.want)
		}
		if tt.p.String() != tt.want {
			t.Errorf("String: got %q", tt.p.String())
		}
	}
}

func TestTypeString(t *testing.T) {
	t.Parallel()
	want := []string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK", "Type(7)"}
	for i, w := range want {
		if got := Type(i).String(); got != w {
			t.Errorf("Type(%d) = %q, want %q", i, got, w)
		}
	}
}

// encodeMessages returns the messages that carry p.
func encodeMessages(p *Packet) []msg {
	out := []msg{text(string(p.Append(nil)))}
	for _, a := range p.Attachments {
		out = append(out, bin(string(a)))
	}
	return out
}

func decodeAll(t testing.TB, msgs []msg) *Packet {
	t.Helper()
	var d Decoder
	var p *Packet
	for i, m := range msgs {
		var err error
		if p, err = d.Decode([]byte(m.data), m.binary); err != nil {
			t.Fatalf("message %d %q: %v", i, m.data, err)
		}
	}
	if p == nil {
		t.Fatal("no packet")
	}
	// Normalize empty attachment slices for comparison.
	for i, a := range p.Attachments {
		if a == nil {
			p.Attachments[i] = []byte{}
		}
	}
	return p
}

var _ = bytes.Equal

// wire is p without what the decoder caches: the fields the peer sent.
func wire(p *Packet) Packet {
	q := *p
	q.args, q.argsBase, q.argsSize = nil, nil, 0
	return q
}

// checkCachedArgs checks that EventArgs and AckArgs, which reuse the
// decoder's scan, agree with ParseEvent and SplitArray, also once Data has
// been replaced.
func checkCachedArgs(t *testing.T, p *Packet) {
	t.Helper()
	switch p.Type {
	case Event, BinaryEvent:
		name, args, err := p.EventArgs()
		wantName, wantArgs, wantErr := ParseEvent(p.Data)
		if name != wantName || !reflect.DeepEqual(args, wantArgs) || (err == nil) != (wantErr == nil) {
			t.Fatalf("EventArgs = %q %q %v, ParseEvent = %q %q %v", name, args, err, wantName, wantArgs, wantErr)
		}
		q := *p
		q.Data = []byte(`["other",1]`)
		if name, args, err := q.EventArgs(); name != "other" || len(args) != 1 || err != nil {
			t.Fatalf("EventArgs after Data was replaced = %q %q %v", name, args, err)
		}
	case Ack, BinaryAck:
		args, err := p.AckArgs()
		wantArgs, wantErr := SplitArray(p.Data)
		if !reflect.DeepEqual(args, wantArgs) || (err == nil) != (wantErr == nil) {
			t.Fatalf("AckArgs = %q %v, SplitArray = %q %v", args, err, wantArgs, wantErr)
		}
	}
}
