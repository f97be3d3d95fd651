package siopubsub

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/siokit/siokit/core/parser"
	"github.com/siokit/siokit/managers/pubsub/pickle"
)

// FuzzPythonMessage feeds the Python channel's reading path (decodePython,
// then what onPython does with an emit before delivering it) with arbitrary
// input: it must return errors, never panic, and an emit it accepts must
// encode as a Socket.IO event whose arguments read back.
func FuzzPythonMessage(f *testing.F) {
	seeds := []map[string]any{
		{"method": "emit", "event": "ev", "data": pickle.Tuple{"a", []byte{1}, map[string]any{"k": []any{int64(1), 2.5}}},
			"namespace": "/", "room": "r", "skip_sid": []any{"s1", int64(2)}, "callback": pickle.Tuple{"sid", "/", int64(3)}, "host_id": "h"},
		{"method": "emit", "event": "ev", "data": nil, "room": pickle.Tuple{"a", "b"}},
		{"method": "callback", "host_id": "h", "sid": "s", "namespace": "/", "id": int64(1), "args": pickle.Tuple{"x"}},
		{"method": "disconnect", "sid": "s", "namespace": "/"},
		{"method": "close_room", "room": "r", "namespace": "/"},
	}
	for _, s := range seeds {
		b, err := pickle.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		j, _ := json.Marshal(s)
		f.Add(j)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		msg, err := decodePython(raw)
		if err != nil {
			return
		}
		_ = pyRooms(msg["room"])
		_ = pyRooms(msg["skip_sid"])
		_, _ = toInt(msg["id"])
		_ = pyArgs(msg["args"], true)
		name, ok := msg["event"].(string)
		if !ok {
			return
		}
		args := pyArgs(msg["data"], false)
		enc, atts, err := parser.EncodeEvent(nil, name, args)
		if err != nil {
			return // NaN, infinities, strings that are not UTF-8 ...
		}
		p := &parser.Packet{Type: parser.Event, Data: enc, Attachments: atts}
		got, back, err := packetArgs(p)
		if err != nil || got != name || len(back) != len(args) {
			t.Fatalf("event %q with %d arguments read back as %q with %d (%v)", name, len(args), got, len(back), err)
		}
		// What a siokit server would publish for it pickles.
		if _, err := pickle.Marshal(map[string]any{"event": got, "data": pickle.Tuple(back)}); err != nil {
			t.Fatalf("re-encoding for Python: %v", err)
		}
	})
}

func TestPyRooms(t *testing.T) {
	for _, c := range []struct {
		in   any
		want []string
	}{
		{nil, nil},
		{"r", []string{"r"}},
		{[]any{"a", int64(2)}, []string{"a", "2"}},
		{pickle.Tuple{"a"}, []string{"a"}},
		{int64(7), []string{"7"}},
		{math.Inf(1), []string{"+Inf"}},
		{map[string]any{}, nil},
	} {
		got := pyRooms(c.in)
		if len(got) != len(c.want) {
			t.Errorf("%#v: %q, want %q", c.in, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%#v: %q, want %q", c.in, got, c.want)
			}
		}
	}
}
