package parser

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// EncodeEvent appends the JSON array ["event", args...] to dst and returns
// it with the binary attachments. Every []byte value found in args (at the
// top level, inside map[string]any and []any, maps and slices, struct
// fields honouring json tags, and behind pointers) is replaced by
// {"_placeholder":true,"num":N} and returned as attachment N, without
// copying. Values of types that implement json.Marshaler or
// encoding.TextMarshaler (json.RawMessage among them) are written as JSON,
// never as binary, and a nil []byte is written as null. Other values are
// written as encoding/json writes them, except that HTML characters are not
// escaped. attachments is nil when there is no binary.
//
// Struct fields are resolved like encoding/json with two simplifications,
// for structs that contain binary only: fields promoted from unexported
// embedded structs are skipped, and among promoted fields of equal depth the
// first wins.
func EncodeEvent(dst []byte, event string, args []any) (data []byte, attachments [][]byte, err error) {
	dst = append(dst, '[')
	dst = appendString(dst, event)
	return encodeArgs(dst, args, true)
}

// EncodeAck appends the ack payload [args...] to dst, with binary values
// moved to attachments as [EncodeEvent] does.
func EncodeAck(dst []byte, args []any) (data []byte, attachments [][]byte, err error) {
	dst = append(dst, '[')
	return encodeArgs(dst, args, false)
}

func encodeArgs(dst []byte, args []any, comma bool) ([]byte, [][]byte, error) {
	e := encoder{}
	defer e.release()
	for i, a := range args {
		if comma || i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = e.any(dst, a, 0); err != nil {
			return nil, nil, fmt.Errorf("parser: encoding argument %d: %w", i, err)
		}
	}
	return append(dst, ']'), e.att, nil
}

// maxEncodeDepth guards the reflective walk against cyclic values.
const maxEncodeDepth = 1000

var errTooDeep = fmt.Errorf("value nested deeper than %d levels (cyclic?)", maxEncodeDepth)

// encoder extracts binary while writing JSON.
type encoder struct {
	att [][]byte
	js  *jsonState
}

// jsonState is a pooled encoding/json encoder writing into buf.
type jsonState struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var jsonPool = sync.Pool{New: func() any {
	s := &jsonState{}
	s.enc = json.NewEncoder(&s.buf)
	s.enc.SetEscapeHTML(false)
	return s
}}

func (e *encoder) release() {
	if e.js != nil {
		if e.js.buf.Cap() <= 64<<10 {
			e.js.buf.Reset()
			jsonPool.Put(e.js)
		}
		e.js = nil
	}
}

// json appends v as encoding/json writes it.
func (e *encoder) json(dst []byte, v any) ([]byte, error) {
	if out, ok, err := marshalCodec(dst, v); ok {
		return out, err
	}
	if e.js == nil {
		e.js = jsonPool.Get().(*jsonState)
	}
	e.js.buf.Reset()
	if err := e.js.enc.Encode(v); err != nil {
		return dst, err
	}
	b := e.js.buf.Bytes()
	return append(dst, b[:len(b)-1]...), nil // drop the newline
}

func (e *encoder) placeholder(dst []byte, b []byte) []byte {
	dst = append(dst, `{"_placeholder":true,"num":`...)
	dst = strconv.AppendInt(dst, int64(len(e.att)), 10)
	e.att = append(e.att, b)
	return append(dst, '}')
}

// any appends one value, with fast paths for the common dynamic types.
func (e *encoder) any(dst []byte, a any, depth int) ([]byte, error) {
	if depth > maxEncodeDepth {
		return dst, errTooDeep
	}
	switch x := a.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return appendString(dst, x), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case uint:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(dst, x, 10), nil
	case float64:
		return appendFloat(dst, x, 64)
	case float32:
		return appendFloat(dst, float64(x), 32)
	case []byte:
		if x == nil {
			return append(dst, "null"...), nil
		}
		return e.placeholder(dst, x), nil
	case json.RawMessage:
		if x == nil {
			return append(dst, "null"...), nil
		}
		var s scanner
		if err := s.scan(x); err != nil {
			return dst, fmt.Errorf("json.RawMessage: %w", err)
		}
		return append(dst, x...), nil
	case []any:
		if x == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		for i, v := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = e.any(dst, v, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case map[string]any:
		if x == nil {
			return append(dst, "null"...), nil
		}
		var buf [8]string
		keys := buf[:0]
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			var err error
			if dst, err = e.any(dst, x[k], depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	}
	if !canContainBinary(reflect.TypeOf(a)) {
		return e.json(dst, a)
	}
	return e.value(dst, reflect.ValueOf(a), depth)
}

// value appends v, whose type may contain binary, walking it reflectively.
func (e *encoder) value(dst []byte, v reflect.Value, depth int) ([]byte, error) {
	if depth > maxEncodeDepth {
		return dst, errTooDeep
	}
	if !v.IsValid() {
		return append(dst, "null"...), nil
	}
	t := v.Type()
	if !canContainBinary(t) {
		if !v.CanInterface() {
			return dst, fmt.Errorf("cannot encode unexported value of type %v", t)
		}
		if v.CanAddr() && implementsMarshaler(reflect.PointerTo(t)) {
			return e.json(dst, v.Addr().Interface())
		}
		return e.json(dst, v.Interface())
	}
	if v.CanAddr() && v.CanInterface() && implementsMarshaler(reflect.PointerTo(t)) {
		return e.json(dst, v.Addr().Interface())
	}
	switch t.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return append(dst, "null"...), nil
		}
		return e.any(dst, v.Elem().Interface(), depth+1)
	case reflect.Pointer:
		if v.IsNil() {
			return append(dst, "null"...), nil
		}
		return e.value(dst, v.Elem(), depth+1)
	case reflect.Slice:
		if v.IsNil() {
			return append(dst, "null"...), nil
		}
		if isByteSlice(t) {
			return e.placeholder(dst, v.Bytes()), nil
		}
		return e.elems(dst, v, depth)
	case reflect.Array:
		return e.elems(dst, v, depth)
	case reflect.Map:
		return e.mapValue(dst, v, depth)
	case reflect.Struct:
		return e.structValue(dst, v, depth)
	}
	return dst, fmt.Errorf("unsupported type %v", t)
}

func (e *encoder) elems(dst []byte, v reflect.Value, depth int) ([]byte, error) {
	dst = append(dst, '[')
	for i := range v.Len() {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = e.value(dst, v.Index(i), depth+1); err != nil {
			return dst, err
		}
	}
	return append(dst, ']'), nil
}

type mapEntry struct {
	key string
	val reflect.Value
}

func (e *encoder) mapValue(dst []byte, v reflect.Value, depth int) ([]byte, error) {
	if v.IsNil() {
		return append(dst, "null"...), nil
	}
	entries := make([]mapEntry, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		k, err := mapKey(it.Key())
		if err != nil {
			return dst, err
		}
		entries = append(entries, mapEntry{k, it.Value()})
	}
	slices.SortFunc(entries, func(a, b mapEntry) int { return strings.Compare(a.key, b.key) })
	dst = append(dst, '{')
	for i, en := range entries {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, en.key)
		dst = append(dst, ':')
		var err error
		if dst, err = e.value(dst, en.val, depth+1); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// mapKey resolves a map key as encoding/json does.
func mapKey(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if tm, ok := k.Interface().(encoding.TextMarshaler); ok {
		if k.Kind() == reflect.Pointer && k.IsNil() {
			return "", nil
		}
		b, err := tm.MarshalText()
		return string(b), err
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", fmt.Errorf("unsupported map key type %v", k.Type())
}

func (e *encoder) structValue(dst []byte, v reflect.Value, depth int) ([]byte, error) {
	dst = append(dst, '{')
	first := true
	fields := cachedFields(v.Type())
	for i := range fields {
		f := &fields[i]
		fv, ok := fieldByIndex(v, f.index)
		if !ok {
			continue
		}
		if f.omitEmpty && isEmptyValue(fv) || f.omitZero && isZeroValue(fv) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, f.nameJSON...)
		var err error
		if f.quoted {
			var tmp []byte
			if tmp, err = e.value(nil, fv, depth+1); err != nil {
				return dst, err
			}
			dst = appendString(dst, string(tmp))
			continue
		}
		if dst, err = e.value(dst, fv, depth+1); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// fieldByIndex follows index, reporting false at a nil embedded pointer.
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

func isZeroValue(v reflect.Value) bool {
	if z, ok := v.Interface().(interface{ IsZero() bool }); ok {
		if v.Kind() == reflect.Pointer && v.IsNil() {
			return true
		}
		return z.IsZero()
	}
	return v.IsZero()
}

// field is one JSON member of a struct.
type field struct {
	name      string
	nameJSON  []byte // "name":
	index     []int
	tagged    bool
	omitEmpty bool
	omitZero  bool
	quoted    bool
}

var fieldCache sync.Map // reflect.Type -> []field

func cachedFields(t reflect.Type) []field {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]field)
	}
	f, _ := fieldCache.LoadOrStore(t, typeFields(t))
	return f.([]field)
}

// typeFields lists the JSON members of struct type t: exported fields named
// by their json tag, with untagged embedded structs flattened. Among fields
// of one name the shallowest wins, then a tagged one, then the first.
func typeFields(t reflect.Type) []field {
	var all []field
	var walk func(t reflect.Type, prefix []int, seen map[reflect.Type]bool)
	walk = func(t reflect.Type, prefix []int, seen map[reflect.Type]bool) {
		if seen[t] {
			return
		}
		seen[t] = true
		defer delete(seen, t)
		for i := range t.NumField() {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			index := append(slices.Clip(prefix), i)
			if sf.Anonymous && name == "" {
				ft := sf.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					if sf.IsExported() {
						walk(ft, index, seen)
					}
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			f := field{name: name, index: index, tagged: name != ""}
			if name == "" {
				f.name = sf.Name
			}
			for o := range strings.SplitSeq(opts, ",") {
				switch o {
				case "omitempty":
					f.omitEmpty = true
				case "omitzero":
					f.omitZero = true
				case "string":
					switch sf.Type.Kind() {
					case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
						reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
						reflect.Float32, reflect.Float64, reflect.String:
						f.quoted = true
					}
				}
			}
			f.nameJSON = append(appendString(nil, f.name), ':')
			all = append(all, f)
		}
	}
	walk(t, nil, map[reflect.Type]bool{})
	best := map[string]int{}
	keep := make([]bool, len(all))
	for i, f := range all {
		j, ok := best[f.name]
		if !ok {
			best[f.name] = i
			keep[i] = true
			continue
		}
		g := all[j]
		if len(f.index) < len(g.index) || len(f.index) == len(g.index) && f.tagged && !g.tagged {
			keep[j], keep[i] = false, true
			best[f.name] = i
		}
	}
	out := make([]field, 0, len(all))
	for i, f := range all {
		if keep[i] {
			out = append(out, f)
		}
	}
	return out
}

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

func implementsMarshaler(t reflect.Type) bool {
	return t.Implements(marshalerType) || t.Implements(textMarshalerType)
}

func isByteSlice(t reflect.Type) bool {
	if t.Kind() != reflect.Slice || t.Elem().Kind() != reflect.Uint8 {
		return false
	}
	el := t.Elem()
	return !implementsMarshaler(el) && !implementsMarshaler(reflect.PointerTo(el))
}

var binaryCache sync.Map // reflect.Type -> bool

// canContainBinary reports whether a value of type t may hold a []byte that
// EncodeEvent turns into an attachment. Interfaces count as yes.
func canContainBinary(t reflect.Type) bool {
	if t == nil {
		return false
	}
	if v, ok := binaryCache.Load(t); ok {
		return v.(bool)
	}
	v := reachesBinary(t, map[reflect.Type]bool{})
	binaryCache.Store(t, v)
	return v
}

func reachesBinary(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	if implementsMarshaler(t) {
		return false
	}
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Slice:
		if isByteSlice(t) {
			return true
		}
		return reachesBinary(t.Elem(), seen)
	case reflect.Pointer, reflect.Array, reflect.Map:
		return reachesBinary(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			sf := t.Field(i)
			if sf.IsExported() && sf.Tag.Get("json") != "-" && reachesBinary(sf.Type, seen) {
				return true
			}
		}
	}
	return false
}

// appendFloat writes f as encoding/json does.
func appendFloat(dst []byte, f float64, bits int) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, fmt.Errorf("unsupported value %v", f)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string, as encoding/json does without
// HTML escaping: invalid UTF-8 becomes U+FFFD and U+2028/U+2029 are escaped.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
