package parser

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
)

// ParseEvent validates an EVENT payload and splits it: data must be a JSON
// array whose first element is a string event name that is not reserved
// (see [IsReserved]). args are the remaining elements as slices of data (no
// copying). Placeholders must be well formed; their nums are checked against
// the attachments by [Unmarshal].
func ParseEvent(data []byte) (name string, args []json.RawMessage, err error) {
	elems, s, err := split(data)
	if err != nil {
		return "", nil, err
	}
	if name, err = eventName(data, &s); err != nil {
		return "", nil, err
	}
	return name, elems[1:], nil
}

// SplitArray validates a JSON array (an ACK payload) and returns its
// elements as slices of data (no copying).
func SplitArray(data []byte) ([]json.RawMessage, error) {
	elems, _, err := split(data)
	return elems, err
}

func split(data []byte) ([]json.RawMessage, scanner, error) {
	s := scanner{nAttach: math.MaxInt, collect: true}
	if len(data) == 0 || data[0] != '[' || data[len(data)-1] != ']' {
		if err := s.scan(data); err != nil {
			return nil, s, err
		}
		return nil, s, fmt.Errorf("%w: not a JSON array", ErrInvalidPayload)
	}
	s.elems = make([]json.RawMessage, 0, 4)
	if err := s.scan(data); err != nil {
		return nil, s, err
	}
	return s.elems, s, nil
}

// Unmarshal decodes one raw argument into v (a non-nil pointer), resolving
// binary placeholders against attachments:
//
//   - a placeholder decodes into a *[]byte target directly;
//   - for *any, *map[string]any and *[]any targets each placeholder becomes
//     a []byte value, at any depth;
//   - for other targets (structs, typed maps and slices) the placeholders are
//     replaced before decoding, so that []byte fields and elements receive
//     the attachment. An any-typed field inside a struct receives the
//     attachment as a base64 string in that case; decode into any to get
//     []byte values.
//
// The attachments are not copied. Without attachments Unmarshal is
// json.Unmarshal (or the codec's, see [SetJSONCodec]). A placeholder that
// names no attachment is an [ErrBadPlaceholder] error.
func Unmarshal(raw []byte, attachments [][]byte, v any) error {
	if len(attachments) == 0 {
		return unmarshalJSON(raw, v)
	}
	if r, ok := v.(*json.RawMessage); ok && r != nil {
		*r = append((*r)[:0], raw...)
		return nil
	}
	s := scanner{nAttach: len(attachments)}
	if err := s.scan(raw); err != nil {
		return err
	}
	if s.placeholders == 0 {
		return unmarshalJSON(raw, v)
	}
	switch t := v.(type) {
	case *[]byte:
		if t != nil && s.rootNum >= 0 {
			*t = attachments[s.rootNum]
			return nil
		}
	case *any:
		if t == nil {
			break
		}
		if err := unmarshalJSON(raw, t); err != nil {
			return err
		}
		x, err := resolve(*t, attachments)
		if err == nil {
			*t = x
		}
		return err
	case *map[string]any:
		if t == nil {
			break
		}
		if err := unmarshalJSON(raw, t); err != nil {
			return err
		}
		_, err := resolve(*t, attachments)
		return err
	case *[]any:
		if t == nil {
			break
		}
		if err := unmarshalJSON(raw, t); err != nil {
			return err
		}
		_, err := resolve(*t, attachments)
		return err
	}
	return unmarshalJSON(substitute(raw, attachments), v)
}

// substitute returns raw with every outermost placeholder object replaced
// by the base64 JSON string of its attachment, which encoding/json decodes
// into []byte.
func substitute(raw []byte, attachments [][]byte) []byte {
	s := scanner{nAttach: len(attachments), recordSpans: true}
	if s.scan(raw) != nil {
		return raw
	}
	slices.SortFunc(s.spans, func(a, b span) int { return a.start - b.start })
	size := len(raw)
	for _, sp := range s.spans {
		size += base64.StdEncoding.EncodedLen(len(attachments[sp.num])) + 2
	}
	out := make([]byte, 0, size)
	pos := 0
	for _, sp := range s.spans {
		if sp.start < pos {
			continue // inside a placeholder already replaced
		}
		out = append(out, raw[pos:sp.start]...)
		out = append(out, '"')
		out = base64.StdEncoding.AppendEncode(out, attachments[sp.num])
		out = append(out, '"')
		pos = sp.end
	}
	return append(out, raw[pos:]...)
}

// resolve replaces placeholder objects in a generic JSON tree (as decoded
// by encoding/json) by their attachments, in place where it can.
func resolve(x any, attachments [][]byte) (any, error) {
	switch t := x.(type) {
	case map[string]any:
		if t["_placeholder"] == true {
			f, ok := t["num"].(float64)
			if !ok || f < 0 || f != math.Trunc(f) || f >= float64(len(attachments)) {
				return nil, fmt.Errorf("%w: num %v (%d attachments)", ErrBadPlaceholder, t["num"], len(attachments))
			}
			return attachments[int(f)], nil
		}
		for k, v := range t {
			r, err := resolve(v, attachments)
			if err != nil {
				return nil, err
			}
			t[k] = r
		}
	case []any:
		for i, v := range t {
			r, err := resolve(v, attachments)
			if err != nil {
				return nil, err
			}
			t[i] = r
		}
	}
	return x, nil
}

// DecodeArgs decodes raw arguments into generic values (as encoding/json
// decodes into any), with placeholders replaced by their attachments as
// []byte values. It serves catch-all handlers.
func DecodeArgs(args []json.RawMessage, attachments [][]byte) ([]any, error) {
	out := make([]any, len(args))
	for i, raw := range args {
		if err := Unmarshal(raw, attachments, &out[i]); err != nil {
			return nil, fmt.Errorf("argument %d: %w", i, err)
		}
	}
	return out, nil
}
