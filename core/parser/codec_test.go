package parser

import (
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
)

// countingCodec is encoding/json that counts its calls and can be told to
// write something else.
type countingCodec struct {
	marshals, unmarshals atomic.Int64
	write                []byte
}

func (c *countingCodec) Marshal(v any) ([]byte, error) {
	c.marshals.Add(1)
	if c.write != nil {
		return c.write, nil
	}
	return json.Marshal(v)
}

func (c *countingCodec) Unmarshal(data []byte, v any) error {
	c.unmarshals.Add(1)
	return json.Unmarshal(data, v)
}

func TestSetJSONCodec(t *testing.T) {
	c := &countingCodec{}
	SetJSONCodec(c)
	t.Cleanup(func() { SetJSONCodec(nil) })

	type msg struct {
		Text string `json:"text"`
	}
	data, _, err := EncodeEvent(nil, "m", []any{msg{"hi"}, "plain", 1})
	if err != nil || string(data) != `["m",{"text":"hi"},"plain",1]` {
		t.Fatalf("EncodeEvent = %s, %v", data, err)
	}
	if n := c.marshals.Load(); n != 1 {
		t.Fatalf("codec Marshal called %d times, want 1 (the struct)", n)
	}
	var m msg
	if err := Unmarshal([]byte(`{"text":"yo"}`), nil, &m); err != nil || m.Text != "yo" {
		t.Fatalf("Unmarshal = %+v, %v", m, err)
	}
	var b struct{ B []byte }
	if err := Unmarshal([]byte(`{"B":{"_placeholder":true,"num":0}}`), [][]byte{{7}}, &b); err != nil || string(b.B) != "\x07" {
		t.Fatalf("Unmarshal with attachment = %+v, %v", b, err)
	}
	if n := c.unmarshals.Load(); n != 2 {
		t.Fatalf("codec Unmarshal called %d times, want 2", n)
	}

	c.write = []byte(`{"text":`)
	if _, _, err := EncodeEvent(nil, "m", []any{msg{"hi"}}); err == nil || !strings.Contains(err.Error(), "invalid JSON") {
		t.Fatalf("invalid codec output: err = %v", err)
	}

	SetJSONCodec(nil)
	before := c.marshals.Load()
	if _, _, err := EncodeEvent(nil, "m", []any{msg{"hi"}}); err != nil || c.marshals.Load() != before {
		t.Fatalf("after SetJSONCodec(nil) the codec is still used (err %v)", err)
	}
}
