package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

type inner struct {
	Blob []byte `json:"blob"`
	N    int    `json:"n,omitempty"`
}

type Embedded struct {
	E1 string
	E2 []byte `json:"e2"`
}

type outer struct {
	Embedded
	Name    string            `json:"name"`
	Skip    []byte            `json:"-"`
	Ptr     *inner            `json:"ptr"`
	NilPtr  *inner            `json:"nilPtr,omitempty"`
	Parts   []inner           `json:"parts"`
	ByKey   map[string][]byte `json:"byKey"`
	Count   int               `json:"count,string"`
	Raw     json.RawMessage   `json:"raw"`
	When    time.Time         `json:"when"`
	Any     any               `json:"any"`
	private []byte
}

type marshalBytes []byte

func (m marshalBytes) MarshalJSON() ([]byte, error) { return []byte(`"custom"`), nil }

func TestEncodeEvent(t *testing.T) {
	t.Parallel()
	when := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		args []any
		want string
		att  [][]byte
	}{
		{"no args", nil, `["ev"]`, nil},
		{"scalars", []any{"a", 1, int64(-2), uint(3), 1.5, float32(0.25), true, nil}, `["ev","a",1,-2,3,1.5,0.25,true,null]`, nil},
		{"floats", []any{1e21, 1e-7, 100.0, math.Copysign(0, -1)}, `["ev",1e+21,1e-7,100,-0]`, nil},
		{"string escapes", []any{"<a&b>\"\\\n\x01\u2028é\xff"}, `["ev","<a&b>\"\\\n\u0001\u2028é\ufffd"]`, nil},
		{"map", []any{map[string]any{"b": 1, "a": []any{"x", false}}}, `["ev",{"a":["x",false],"b":1}]`, nil},
		{"struct plain", []any{struct {
			A int    `json:"a"`
			B string `json:"-"`
		}{A: 1, B: "x"}}, `["ev",{"a":1}]`, nil},
		{"binary top", []any{[]byte{1, 2}}, `["ev",{"_placeholder":true,"num":0}]`, [][]byte{{1, 2}}},
		{"binary nil", []any{[]byte(nil)}, `["ev",null]`, nil},
		{"binary empty", []any{[]byte{}}, `["ev",{"_placeholder":true,"num":0}]`, [][]byte{{}}},
		{"binary in map and slice", []any{map[string]any{"a": []any{[]byte("x"), map[string]any{"b": []byte("y")}}}, []byte("z")},
			`["ev",{"a":[{"_placeholder":true,"num":0},{"b":{"_placeholder":true,"num":1}}]},{"_placeholder":true,"num":2}]`,
			[][]byte{[]byte("x"), []byte("y"), []byte("z")}},
		{"slice of bytes", []any{[][]byte{[]byte("a"), nil}}, `["ev",[{"_placeholder":true,"num":0},null]]`, [][]byte{[]byte("a")}},
		{"map of bytes", []any{map[int][]byte{2: []byte("b"), 1: []byte("a")}}, `["ev",{"1":{"_placeholder":true,"num":0},"2":{"_placeholder":true,"num":1}}]`, [][]byte{[]byte("a"), []byte("b")}},
		{"pointer to bytes", []any{&[]byte{9}}, `["ev",{"_placeholder":true,"num":0}]`, [][]byte{{9}}},
		{"raw message", []any{json.RawMessage(`{"a":1}`)}, `["ev",{"a":1}]`, nil},
		{"marshaler bytes", []any{marshalBytes("q")}, `["ev","custom"]`, nil},
		{"struct with binary", []any{&outer{
			Embedded: Embedded{E1: "e", E2: []byte("E")},
			Name:     "n",
			Skip:     []byte("skip"),
			Ptr:      &inner{Blob: []byte("p"), N: 3},
			Parts:    []inner{{Blob: []byte("q")}},
			ByKey:    map[string][]byte{"k": []byte("v")},
			Count:    7,
			Raw:      json.RawMessage(`[1]`),
			When:     when,
			Any:      []byte("any"),
			private:  []byte("private"),
		}},
			`["ev",{"E1":"e","e2":{"_placeholder":true,"num":0},"name":"n","ptr":{"blob":{"_placeholder":true,"num":1},"n":3},` +
				`"parts":[{"blob":{"_placeholder":true,"num":2}}],"byKey":{"k":{"_placeholder":true,"num":3}},"count":"7","raw":[1],` +
				`"when":"2024-01-02T03:04:05Z","any":{"_placeholder":true,"num":4}}]`,
			[][]byte{[]byte("E"), []byte("p"), []byte("q"), []byte("v"), []byte("any")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data, att, err := EncodeEvent([]byte("x"), "ev", tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != "x"+tt.want {
				t.Fatalf("got  %s\nwant %s", data[1:], tt.want)
			}
			if !reflect.DeepEqual(att, tt.att) {
				t.Fatalf("attachments %q, want %q", att, tt.att)
			}
			// The payload is a valid event and its placeholders match.
			p := Packet{Type: Event, Data: data[1:], Attachments: att}
			got := decodeAll(t, encodeMessages(&p))
			if !bytes.Equal(got.Data, data[1:]) || len(got.Attachments) != len(att) {
				t.Fatalf("decoded %+v", got)
			}
			// Without binary the output is what encoding/json writes.
			if att == nil && len(tt.args) > 0 && tt.name != "string escapes" && tt.name != "floats" && tt.name != "binary nil" {
				want, _ := json.Marshal(append([]any{"ev"}, tt.args...))
				if !bytes.Equal(want, data[1:]) {
					t.Fatalf("encoding/json writes %s", want)
				}
			}
		})
	}
}

func TestEncodeAck(t *testing.T) {
	t.Parallel()
	data, att, err := EncodeAck(nil, []any{"ok", []byte("b")})
	if err != nil || string(data) != `["ok",{"_placeholder":true,"num":0}]` || len(att) != 1 {
		t.Fatalf("%s %q %v", data, att, err)
	}
	data, att, err = EncodeAck(nil, nil)
	if err != nil || string(data) != `[]` || att != nil {
		t.Fatalf("%s %q %v", data, att, err)
	}
}

func TestEncodeErrors(t *testing.T) {
	t.Parallel()
	type cyc struct {
		Next *cyc
		B    []byte
	}
	c := &cyc{}
	c.Next = c
	loop := map[string]any{}
	loop["self"] = loop
	tests := []struct {
		name string
		arg  any
	}{
		{"nan", math.NaN()},
		{"inf", math.Inf(1)},
		{"nan in map", map[string]any{"a": math.NaN()}},
		{"bad raw", json.RawMessage(`{`)},
		{"channel", make(chan int)},
		{"func in binary struct", struct {
			B []byte
			F func()
		}{}},
		{"cyclic struct", c},
		{"cyclic map", loop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, _, err := EncodeEvent(nil, "e", []any{tt.arg}); err == nil || !strings.HasPrefix(err.Error(), "parser: ") {
				t.Fatalf("error %v", err)
			}
		})
	}
}

func TestAppendStringMatchesJSON(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", "\x00\x1f\x7f", "\b\f\n\r\t", `"\/`, "<>&", "\u2028\u2029", "é😀", "\xff\xfe", "a\xc3", "\xed\xa0\x80"} {
		checkAppendString(t, s)
	}
}

func checkAppendString(t *testing.T, s string) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSuffix(buf.String(), "\n")
	if got := string(appendString(nil, s)); got != want {
		t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("a\x00\u2028\xff")
	f.Fuzz(func(t *testing.T, s string) { checkAppendString(t, s) })
}

// FuzzScan checks the scanner against json.Valid.
func FuzzScan(f *testing.F) {
	for _, s := range []string{`[1,2]`, `{"a":[true,false,null]}`, `"\u00e9"`, `-0.5e+3`, `[`, `01`, ` {} `, `{"a" 1}`, "[\"\x01\"]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := scanner{nAttach: math.MaxInt}
		err := s.scan(data)
		if valid := json.Valid(data); valid != (err == nil) {
			if !valid || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "too deep") {
				t.Fatalf("scan(%q) = %v, json.Valid = %v", data, err, valid)
			}
		}
	})
}
