package pickle

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"unicode/utf8"
)

// batch is how many items one APPENDS or SETITEMS carries, as CPython's
// pickler batches them.
const batch = 1000

// Marshal writes v as a protocol 4 pickle. v may be nil, bool, any Go
// integer type, *big.Int, float32, float64, json.Number, string, []byte,
// []any, []string, [Tuple] or map[string]any, nested at most
// [DefaultMaxDepth] levels. Any other type gives an error wrapping
// [ErrUnsupported]; a string that is not UTF-8 one wrapping [ErrMalformed].
func Marshal(v any) ([]byte, error) {
	b := []byte{opProto, 4}
	b, err := appendValue(b, v, 0)
	if err != nil {
		return nil, err
	}
	return append(b, opStop), nil
}

func appendValue(b []byte, v any, depth int) ([]byte, error) {
	if depth > DefaultMaxDepth {
		return nil, fmt.Errorf("%w: more than %d levels", ErrTooDeep, DefaultMaxDepth)
	}
	switch t := v.(type) {
	case nil:
		return append(b, opNone), nil
	case bool:
		if t {
			return append(b, opNewTrue), nil
		}
		return append(b, opNewFalse), nil
	case int:
		return appendInt(b, int64(t)), nil
	case int8:
		return appendInt(b, int64(t)), nil
	case int16:
		return appendInt(b, int64(t)), nil
	case int32:
		return appendInt(b, int64(t)), nil
	case int64:
		return appendInt(b, t), nil
	case uint:
		return appendUint(b, uint64(t)), nil
	case uint8:
		return appendInt(b, int64(t)), nil
	case uint16:
		return appendInt(b, int64(t)), nil
	case uint32:
		return appendInt(b, int64(t)), nil
	case uint64:
		return appendUint(b, t), nil
	case *big.Int:
		if t == nil {
			return append(b, opNone), nil
		}
		return appendBig(b, t), nil
	case float32:
		return appendFloat(b, float64(t)), nil
	case float64:
		return appendFloat(b, t), nil
	case json.Number:
		return appendNumber(b, t)
	case string:
		return appendString(b, t)
	case []byte:
		return appendBytes(b, t), nil
	case []string:
		b = append(b, opEmptyList)
		return appendItems(b, len(t), opAppends, func(b []byte, i int) ([]byte, error) { return appendString(b, t[i]) })
	case []any:
		b = append(b, opEmptyList)
		return appendItems(b, len(t), opAppends, func(b []byte, i int) ([]byte, error) { return appendValue(b, t[i], depth+1) })
	case Tuple:
		return appendTuple(b, t, depth)
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, opEmptyDict)
		return appendItems(b, len(keys), opSetItems, func(b []byte, i int) ([]byte, error) {
			b, err := appendString(b, keys[i])
			if err != nil {
				return nil, err
			}
			return appendValue(b, t[keys[i]], depth+1)
		})
	}
	return nil, fmt.Errorf("%w: Go type %T", ErrUnsupported, v)
}

// appendItems writes n items after an empty list or dict, in MARK ... op
// batches.
func appendItems(b []byte, n int, op byte, item func([]byte, int) ([]byte, error)) ([]byte, error) {
	var err error
	for start := 0; start < n; start += batch {
		end := min(start+batch, n)
		if end-start == 1 && op == opAppends {
			if b, err = item(b, start); err != nil {
				return nil, err
			}
			b = append(b, opAppend)
			continue
		}
		b = append(b, opMark)
		for i := start; i < end; i++ {
			if b, err = item(b, i); err != nil {
				return nil, err
			}
		}
		b = append(b, op)
	}
	return b, nil
}

func appendTuple(b []byte, t Tuple, depth int) ([]byte, error) {
	if len(t) == 0 {
		return append(b, opEmptyTuple), nil
	}
	if len(t) > 3 {
		b = append(b, opMark)
	}
	var err error
	for _, e := range t {
		if b, err = appendValue(b, e, depth+1); err != nil {
			return nil, err
		}
	}
	if len(t) > 3 {
		return append(b, opTuple), nil
	}
	return append(b, opTuple1+byte(len(t)-1)), nil //nolint:gosec // 1 <= len(t) <= 3
}

func appendInt(b []byte, v int64) []byte {
	switch {
	case v >= 0 && v <= 0xff:
		return append(b, opBinInt1, byte(v))
	case v >= 0 && v <= 0xffff:
		return append(b, opBinInt2, byte(v), byte(v>>8)) //nolint:gosec // 0 <= v <= 0xffff: the low and high bytes
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return binary.LittleEndian.AppendUint32(append(b, opBinInt), uint32(int32(v))) //nolint:gosec // v is in the int32 range
	}
	return appendBig(b, big.NewInt(v))
}

func appendUint(b []byte, v uint64) []byte {
	if v <= math.MaxInt64 {
		return appendInt(b, int64(v))
	}
	return appendBig(b, new(big.Int).SetUint64(v))
}

// appendBig writes LONG1 or LONG4 with the shortest little-endian two's
// complement form of n.
func appendBig(b []byte, n *big.Int) []byte {
	if n.Sign() == 0 {
		return append(b, opLong1, 0)
	}
	// The shortest length whose two's complement range holds n.
	size := n.BitLen()/8 + 1
	v := new(big.Int).Set(n)
	if n.Sign() < 0 {
		v.Add(v, new(big.Int).Lsh(big.NewInt(1), uint(8*size)))
	}
	be := v.FillBytes(make([]byte, size))
	if n.Sign() < 0 && size > 1 && be[0] == 0xff && be[1]&0x80 != 0 {
		be = be[1:] // e.g. -128 fits one byte
	}
	if n.Sign() > 0 && size > 1 && be[0] == 0 && be[1]&0x80 == 0 {
		be = be[1:]
	}
	if len(be) < 256 {
		b = append(b, opLong1, byte(len(be))) //nolint:gosec // len(be) < 256
	} else {
		b = binary.LittleEndian.AppendUint32(append(b, opLong4), uint32(len(be))) //nolint:gosec // the length of a huge int's bytes, far below 2^32
	}
	for i := len(be) - 1; i >= 0; i-- {
		b = append(b, be[i])
	}
	return b
}

func appendFloat(b []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(b, opBinFloat), math.Float64bits(f))
}

// appendNumber writes a JSON number as an int when it is one, else as a
// float.
func appendNumber(b []byte, n json.Number) ([]byte, error) {
	s := string(n)
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return appendInt(b, v), nil
	}
	if len(s) <= maxIntDigits {
		if v, ok := new(big.Int).SetString(s, 10); ok {
			return appendBig(b, v), nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: number %q", ErrMalformed, s)
	}
	return appendFloat(b, f), nil
}

func appendString(b []byte, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("%w: string is not UTF-8", ErrMalformed)
	}
	switch n := uint64(len(s)); {
	case n < 256:
		b = append(b, opShortBinUni, byte(n))
	case n <= math.MaxUint32:
		b = binary.LittleEndian.AppendUint32(append(b, opBinUnicode), uint32(n))
	default:
		b = binary.LittleEndian.AppendUint64(append(b, opBinUnicode8), n)
	}
	return append(b, s...), nil
}

func appendBytes(b []byte, p []byte) []byte {
	switch n := uint64(len(p)); {
	case n < 256:
		b = append(b, opShortBinBytes, byte(n))
	case n <= math.MaxUint32:
		b = binary.LittleEndian.AppendUint32(append(b, opBinBytes), uint32(n))
	default:
		b = binary.LittleEndian.AppendUint64(append(b, opBinBytes8), n)
	}
	return append(b, p...)
}
