package parser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync/atomic"
)

// JSONCodec is a JSON implementation the default format can use in place
// of encoding/json, such as a faster or more lenient library. Both methods
// must be safe for concurrent use and behave as encoding/json's functions
// of the same names do.
type JSONCodec interface {
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

var jsonCodec atomic.Pointer[JSONCodec]

// SetJSONCodec makes c the JSON implementation of this package, for the
// whole process; nil restores encoding/json. Set it before any server or
// client starts. c then writes the values [EncodeEvent] and [EncodeAck] do
// not write themselves (structs and other types that hold no binary; the
// common dynamic types — strings, numbers, booleans, []any,
// map[string]any — keep the package's own writer, which matches
// encoding/json), and [Unmarshal], [DecodeArgs] and so every typed handler
// argument and acknowledgement decode with it. What c writes is checked to
// be one JSON value before it goes on the wire.
func SetJSONCodec(c JSONCodec) {
	if c == nil {
		jsonCodec.Store(nil)
		return
	}
	jsonCodec.Store(&c)
}

// unmarshalJSON is json.Unmarshal, or the codec's.
func unmarshalJSON(data []byte, v any) error {
	if c := jsonCodec.Load(); c != nil {
		return (*c).Unmarshal(data, v)
	}
	return json.Unmarshal(data, v)
}

// marshalCodec appends v as the codec writes it; ok is false when no codec
// is set.
func marshalCodec(dst []byte, v any) (out []byte, ok bool, err error) {
	c := jsonCodec.Load()
	if c == nil {
		return dst, false, nil
	}
	b, err := (*c).Marshal(v)
	if err != nil {
		return dst, true, err
	}
	b = bytes.TrimSpace(b)
	var s scanner
	if err := s.scan(b); err != nil {
		return dst, true, fmt.Errorf("JSON codec wrote invalid JSON: %w", err)
	}
	return append(dst, b...), true, nil
}
