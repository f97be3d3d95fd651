package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// splitMessages turns fuzz input into messages: parts separated by 0x1e, a
// part starting with 'b' is a binary message holding the rest.
func splitMessages(data []byte) []msg {
	var out []msg
	for part := range bytes.SplitSeq(data, []byte{0x1e}) {
		if len(part) > 0 && part[0] == 'b' {
			out = append(out, bin(string(part[1:])))
		} else {
			out = append(out, text(string(part)))
		}
	}
	return out
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`0`, `0{"token":"x"}`, `0/admin,{"a":1}`, `1/admin,`, `2["x",1]`, `2/admin,13["x",1]`, `31["ok"]`,
		`4{"message":"no"}`, `4"x"`, `50-["e"]`,
		"51-[\"e\",{\"_placeholder\":true,\"num\":0}]\x1eb\x01\x02",
		"51-/admin,7[\"e\",{\"a\":{\"_placeholder\":true,\"num\":0}}]\x1ebabc",
		"62-/a,3[{\"_placeholder\":true,\"num\":1},{\"_placeholder\":true,\"num\":0}]\x1eb1\x1eb2\x1e2[\"next\"]",
		`51-["e",{"_placeholder":true,"num":"splice"}]`, `599999999999-["e"]`, `42abc["x"]`, `2["connect"]`,
		"bxyz", `2["x",1e999]`, "52-[\"e\",{\"_placeholder\":true,\"num\":1}]\x1eba\x1e2[\"x\"]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Decoder
		for _, m := range splitMessages(data) {
			p, err := d.Decode([]byte(m.data), m.binary)
			if err != nil {
				if !errors.Is(err, ErrMalformed) || d.Pending() != 0 {
					t.Fatalf("error %v, pending %d", err, d.Pending())
				}
				continue
			}
			if p == nil {
				if d.Pending() == 0 {
					t.Fatal("nil packet with nothing pending")
				}
				continue
			}
			checkDecoded(t, p)
		}
	})
}

// checkDecoded re-encodes p and decodes it again, and splits and decodes
// its arguments.
func checkDecoded(t *testing.T, p *Packet) {
	t.Helper()
	var d Decoder
	var again *Packet
	for _, m := range encodeMessages(p) {
		var err error
		if again, err = d.Decode([]byte(m.data), m.binary); err != nil {
			t.Fatalf("re-decoding %q: %v", p.Append(nil), err)
		}
	}
	if again == nil || !samePacket(p, again) {
		t.Fatalf("round trip of %q: got %+v, want %+v", p.Append(nil), again, p)
	}
	switch p.Type {
	case Event, BinaryEvent:
		_, args, err := ParseEvent(p.Data)
		if err != nil {
			t.Fatalf("ParseEvent(%s): %v", p.Data, err)
		}
		checkArgs(t, p, args)
	case Ack, BinaryAck:
		args, err := SplitArray(p.Data)
		if err != nil {
			t.Fatalf("SplitArray(%s): %v", p.Data, err)
		}
		checkArgs(t, p, args)
	}
}

// checkArgs decodes validated arguments; only numbers beyond float64 may fail.
func checkArgs(t *testing.T, p *Packet, args []json.RawMessage) {
	t.Helper()
	var typeErr *json.UnmarshalTypeError
	if _, err := DecodeArgs(args, p.Attachments); err != nil && !errors.As(err, &typeErr) {
		t.Fatalf("DecodeArgs(%s): %v", p.Data, err)
	}
}

func samePacket(a, b *Packet) bool {
	if a.Type != b.Type || a.Namespace != b.Namespace || a.ID != b.ID || a.HasID != b.HasID ||
		!bytes.Equal(a.Data, b.Data) || (a.Data == nil) != (b.Data == nil) || len(a.Attachments) != len(b.Attachments) {
		return false
	}
	for i := range a.Attachments {
		if !bytes.Equal(a.Attachments[i], b.Attachments[i]) {
			return false
		}
	}
	return true
}

func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{
		`{"_placeholder":true,"num":0}`, `[{"_placeholder":true,"num":1},2]`, `{"name":"n","blob":{"_placeholder":true,"num":0}}`,
		`{"a":{"\u005fplaceholder":true,"num":0}}`, `{"_placeholder":true,"num":-1}`, `{"_placeholder":true,"num":1.5}`,
		`{"_placeholder":true,"_placeholder":false}`, `"text"`, `[1e999,{"_placeholder":true,"num":0}]`, `[1,`, `{"List":[{"_placeholder":true,"num":0}]}`,
	} {
		f.Add([]byte(s), uint8(2))
	}
	f.Fuzz(func(t *testing.T, raw []byte, n uint8) {
		att := make([][]byte, n%4)
		for i := range att {
			att[i] = []byte{byte(i), 'x'}
		}
		s := scanner{nAttach: len(att)}
		valid := s.scan(raw) == nil
		var a any
		err := Unmarshal(raw, att, &a)
		var typeErr *json.UnmarshalTypeError
		if valid && err != nil && len(att) > 0 && !errors.As(err, &typeErr) {
			t.Fatalf("scanner accepts %q but Unmarshal into any fails: %v", raw, err)
		}
		if err == nil && len(att) > 0 && s.placeholders > 0 {
			// Every placeholder was resolved.
			if hasPlaceholderMap(a) {
				t.Fatalf("placeholder left in %#v", a)
			}
		}
		var b []byte
		_ = Unmarshal(raw, att, &b)
		var w withBlob
		_ = Unmarshal(raw, att, &w)
		var m map[string]any
		_ = Unmarshal(raw, att, &m)
	})
}

func hasPlaceholderMap(x any) bool {
	switch t := x.(type) {
	case map[string]any:
		if t["_placeholder"] == true {
			return true
		}
		for _, v := range t {
			if hasPlaceholderMap(v) {
				return true
			}
		}
	case []any:
		for _, v := range t {
			if hasPlaceholderMap(v) {
				return true
			}
		}
	}
	return false
}

var _ = reflect.DeepEqual
