package parser

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func TestParseEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		data string
		name string
		args []string
		err  error
	}{
		{`["x"]`, "x", []string{}, nil},
		{`["x",1,"a",{"b":[1,2]},null]`, "x", []string{`1`, `"a"`, `{"b":[1,2]}`, `null`}, nil},
		{`[ "x" , 1 ]`, "x", []string{`1`}, nil},
		{`["caf\u00e9",{"_placeholder":true,"num":3}]`, "café", []string{`{"_placeholder":true,"num":3}`}, nil},
		{`["error"]`, "error", []string{}, nil},
		{`[]`, "", nil, ErrInvalidPayload},
		{`[1]`, "", nil, ErrInvalidPayload},
		{`["connect"]`, "", nil, ErrInvalidPayload},
		{`{}`, "", nil, ErrInvalidPayload},
		{``, "", nil, ErrMalformed},
		{`["x",]`, "", nil, ErrMalformed},
		{`["x"]]`, "", nil, ErrMalformed},
		{`["x",{"_placeholder":true,"num":-1}]`, "", nil, ErrBadPlaceholder},
	}
	for _, tt := range tests {
		name, args, err := ParseEvent([]byte(tt.data))
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%s: error %v, want %v", tt.data, err, tt.err)
			}
			continue
		}
		if err != nil || name != tt.name || len(args) != len(tt.args) {
			t.Errorf("%s: got %q %q %v", tt.data, name, args, err)
			continue
		}
		for i := range args {
			if string(args[i]) != tt.args[i] {
				t.Errorf("%s: arg %d = %s, want %s", tt.data, i, args[i], tt.args[i])
			}
		}
	}
}

func TestSplitArray(t *testing.T) {
	t.Parallel()
	elems, err := SplitArray([]byte(`[1,[2,3],"x"]`))
	if err != nil || len(elems) != 3 || string(elems[1]) != `[2,3]` {
		t.Fatalf("%q %v", elems, err)
	}
	// Elements alias the input and cannot grow into it.
	if cap(elems[0]) != 1 {
		t.Fatalf("cap %d", cap(elems[0]))
	}
	if elems, err := SplitArray([]byte(`[]`)); err != nil || len(elems) != 0 {
		t.Fatalf("%q %v", elems, err)
	}
	for _, bad := range []string{`{}`, `"x"`, `[1`, `[1]x`, ``} {
		if _, err := SplitArray([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

type withBlob struct {
	Name string `json:"name"`
	Blob []byte `json:"blob"`
	List [][]byte
}

func TestUnmarshal(t *testing.T) {
	t.Parallel()
	att := [][]byte{[]byte("zero"), []byte("one")}
	ph0, ph1 := `{"_placeholder":true,"num":0}`, `{"_placeholder":true,"num":1}`

	var b []byte
	if err := Unmarshal([]byte(ph1), att, &b); err != nil || string(b) != "one" {
		t.Fatalf("[]byte: %q %v", b, err)
	}
	var a any
	if err := Unmarshal([]byte(`{"x":[`+ph0+`,2],"y":`+ph1+`}`), att, &a); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"x": []any{[]byte("zero"), 2.0}, "y": []byte("one")}
	if !reflect.DeepEqual(a, want) {
		t.Fatalf("any: %#v", a)
	}
	a = nil
	if err := Unmarshal([]byte(ph0), att, &a); err != nil || !reflect.DeepEqual(a, []byte("zero")) {
		t.Fatalf("root any: %#v %v", a, err)
	}
	var m map[string]any
	if err := Unmarshal([]byte(`{"k":`+ph1+`}`), att, &m); err != nil || !reflect.DeepEqual(m, map[string]any{"k": []byte("one")}) {
		t.Fatalf("map: %#v %v", m, err)
	}
	var l []any
	if err := Unmarshal([]byte(`[`+ph1+`,"s"]`), att, &l); err != nil || !reflect.DeepEqual(l, []any{[]byte("one"), "s"}) {
		t.Fatalf("slice: %#v %v", l, err)
	}
	var s withBlob
	if err := Unmarshal([]byte(`{"name":"n","blob":`+ph1+`,"List":[`+ph0+`,`+ph1+`]}`), att, &s); err != nil {
		t.Fatal(err)
	}
	if s.Name != "n" || string(s.Blob) != "one" || len(s.List) != 2 || string(s.List[0]) != "zero" || string(s.List[1]) != "one" {
		t.Fatalf("struct: %+v", s)
	}
	var mb map[string][]byte
	if err := Unmarshal([]byte(`{"a":`+ph0+`}`), att, &mb); err != nil || string(mb["a"]) != "zero" {
		t.Fatalf("map of bytes: %q %v", mb, err)
	}
	var raw json.RawMessage
	if err := Unmarshal([]byte(ph0), att, &raw); err != nil || string(raw) != ph0 {
		t.Fatalf("raw: %s %v", raw, err)
	}
	// Without placeholders or attachments it is json.Unmarshal.
	var n int
	if err := Unmarshal([]byte(`42`), att, &n); err != nil || n != 42 {
		t.Fatalf("int: %d %v", n, err)
	}
	a = nil
	if err := Unmarshal([]byte(ph0), nil, &a); err != nil || !reflect.DeepEqual(a, map[string]any{"_placeholder": true, "num": 0.0}) {
		t.Fatalf("no attachments: %#v %v", a, err)
	}

	for _, bad := range []string{
		`{"_placeholder":true,"num":2}`,
		`[{"_placeholder":true,"num":-1}]`,
		`{"a":{"_placeholder":true,"num":"0"}}`,
		`{"_placeholder":true,"num":0.5}`,
	} {
		var x any
		if err := Unmarshal([]byte(bad), att, &x); !errors.Is(err, ErrBadPlaceholder) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	var x any
	if err := Unmarshal([]byte(`[1,`), att, &x); !errors.Is(err, ErrMalformed) {
		t.Errorf("bad json: %v", err)
	}
}

func TestDecodeArgs(t *testing.T) {
	t.Parallel()
	data, att, err := EncodeEvent(nil, "ev", []any{"s", []byte("b"), map[string]any{"n": []any{[]byte("c"), 1}}})
	if err != nil {
		t.Fatal(err)
	}
	name, args, err := ParseEvent(data)
	if err != nil || name != "ev" {
		t.Fatal(name, err)
	}
	got, err := DecodeArgs(args, att)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"s", []byte("b"), map[string]any{"n": []any{[]byte("c"), 1.0}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v", got)
	}
	if _, err := DecodeArgs([]json.RawMessage{json.RawMessage(`{"_placeholder":true,"num":5}`)}, att); !errors.Is(err, ErrBadPlaceholder) {
		t.Fatalf("bad placeholder: %v", err)
	}
}

// TestRoundTripNestedBinary encodes values, sends them through Append and a
// Decoder and decodes the arguments again.
func TestRoundTripNestedBinary(t *testing.T) {
	t.Parallel()
	args := []any{
		map[string]any{"a": map[string]any{"b": []any{[]byte{0, 1, 2}, "t"}}},
		withBlob{Name: "w", Blob: []byte("blob"), List: [][]byte{[]byte("l0")}},
		[]byte{},
	}
	data, att, err := EncodeEvent(nil, "up", args)
	if err != nil {
		t.Fatal(err)
	}
	p := &Packet{Type: Event, Namespace: "/admin", ID: 9, HasID: true, Data: data, Attachments: att}
	got := decodeAll(t, encodeMessages(p))
	if got.Type != BinaryEvent || got.Namespace != "/admin" || got.ID != 9 || len(got.Attachments) != 4 {
		t.Fatalf("packet %+v", got)
	}
	name, raw, err := ParseEvent(got.Data)
	if err != nil || name != "up" || len(raw) != 3 {
		t.Fatal(name, raw, err)
	}
	var m map[string]any
	if err := Unmarshal(raw[0], got.Attachments, &m); err != nil {
		t.Fatal(err)
	}
	if b := m["a"].(map[string]any)["b"].([]any)[0]; !reflect.DeepEqual(b, []byte{0, 1, 2}) {
		t.Fatalf("nested binary %#v", b)
	}
	var w withBlob
	if err := Unmarshal(raw[1], got.Attachments, &w); err != nil || !reflect.DeepEqual(w, args[1]) {
		t.Fatalf("struct %+v %v", w, err)
	}
	var e []byte
	if err := Unmarshal(raw[2], got.Attachments, &e); err != nil || e == nil || len(e) != 0 {
		t.Fatalf("empty %#v %v", e, err)
	}
}
