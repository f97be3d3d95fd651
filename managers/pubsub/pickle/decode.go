package pickle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Errors of [Unmarshal] and [Marshal]; each error returned wraps one of them.
var (
	// ErrRefused marks an opcode that imports, calls, looks up a persistent
	// id or an extension, or takes an out-of-band buffer.
	ErrRefused = errors.New("pickle: opcode refused")
	// ErrUnsupported marks data that is not plain: a set, a dict key that
	// is not str, int, bool or None, or (for Marshal) a Go type it does not
	// write.
	ErrUnsupported = errors.New("pickle: unsupported value")
	// ErrMalformed marks input that is not a well-formed pickle: an unknown
	// opcode, a truncated argument, a stack that does not fit the opcode,
	// trailing bytes after STOP.
	ErrMalformed = errors.New("pickle: malformed")
	// ErrTooLarge marks input beyond [Limits].MaxSize or decoding to more
	// than [Limits].MaxItems values.
	ErrTooLarge = errors.New("pickle: too large")
	// ErrTooDeep marks nesting beyond [Limits].MaxDepth, which includes a
	// value that contains itself.
	ErrTooDeep = errors.New("pickle: nested too deep")
)

// OpcodeError is an error at one opcode of the input.
type OpcodeError struct {
	Op     byte   // the opcode
	Offset int    // its offset in the input
	Err    error  // wraps one of the package's sentinels
	name   string // the opcode's name in pickletools
}

// Error implements error.
func (e *OpcodeError) Error() string {
	return fmt.Sprintf("%v: %s (0x%02x) at offset %d", e.Err, e.name, e.Op, e.Offset)
}

// Unwrap returns the cause.
func (e *OpcodeError) Unwrap() error { return e.Err }

// Tuple is a Python tuple; a Python list decodes to []any.
type Tuple []any

// Limits bounds [Limits.Unmarshal]. Zero fields take the default in their
// comment.
type Limits struct {
	// MaxSize bounds the input in bytes. Default 16 MiB.
	MaxSize int
	// MaxDepth bounds the nesting of containers (and of MARKs). Default 64.
	MaxDepth int
	// MaxItems bounds the values pushed while decoding and those of the
	// result, counted again for each memo reference. Default 1<<20.
	MaxItems int
}

// Defaults of [Limits].
const (
	DefaultMaxSize  = 16 << 20
	DefaultMaxDepth = 64
	DefaultMaxItems = 1 << 20
)

// maxIntDigits bounds the decimal digits of an int in text form, as
// CPython's int_max_str_digits does.
const maxIntDigits = 4300

func (l Limits) withDefaults() Limits {
	if l.MaxSize <= 0 {
		l.MaxSize = DefaultMaxSize
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxItems <= 0 {
		l.MaxItems = DefaultMaxItems
	}
	return l
}

// Unmarshal decodes a pickle of plain data within the default [Limits].
func Unmarshal(data []byte) (any, error) { return Limits{}.Unmarshal(data) }

// Unmarshal decodes a pickle of plain data within l.
func (l Limits) Unmarshal(data []byte) (any, error) {
	l = l.withDefaults()
	if len(data) > l.MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(data), l.MaxSize)
	}
	d := &decoder{data: data, lim: l, memo: make(map[uint64]any)}
	v, err := d.run()
	if err != nil {
		return nil, err
	}
	d.items = 0
	return d.export(v, 0)
}

// Opcodes, named as in pickletools.
const (
	opMark           = '('
	opStop           = '.'
	opPop            = '0'
	opPopMark        = '1'
	opDup            = '2'
	opFloat          = 'F'
	opInt            = 'I'
	opBinInt         = 'J'
	opBinInt1        = 'K'
	opLong           = 'L'
	opBinInt2        = 'M'
	opNone           = 'N'
	opPersID         = 'P'
	opBinPersID      = 'Q'
	opReduce         = 'R'
	opString         = 'S'
	opBinString      = 'T'
	opShortBinString = 'U'
	opUnicode        = 'V'
	opBinUnicode     = 'X'
	opAppend         = 'a'
	opBuild          = 'b'
	opGlobal         = 'c'
	opDict           = 'd'
	opEmptyDict      = '}'
	opAppends        = 'e'
	opGet            = 'g'
	opBinGet         = 'h'
	opInst           = 'i'
	opLongBinGet     = 'j'
	opList           = 'l'
	opEmptyList      = ']'
	opObj            = 'o'
	opPut            = 'p'
	opBinPut         = 'q'
	opLongBinPut     = 'r'
	opSetItem        = 's'
	opTuple          = 't'
	opEmptyTuple     = ')'
	opSetItems       = 'u'
	opBinFloat       = 'G'
	opBinBytes       = 'B'
	opShortBinBytes  = 'C'

	opProto          = 0x80
	opNewObj         = 0x81
	opExt1           = 0x82
	opExt2           = 0x83
	opExt4           = 0x84
	opTuple1         = 0x85
	opTuple2         = 0x86
	opTuple3         = 0x87
	opNewTrue        = 0x88
	opNewFalse       = 0x89
	opLong1          = 0x8a
	opLong4          = 0x8b
	opShortBinUni    = 0x8c
	opBinUnicode8    = 0x8d
	opBinBytes8      = 0x8e
	opEmptySet       = 0x8f
	opAddItems       = 0x90
	opFrozenSet      = 0x91
	opNewObjEx       = 0x92
	opStackGlobal    = 0x93
	opMemoize        = 0x94
	opFrame          = 0x95
	opByteArray8     = 0x96
	opNextBuffer     = 0x97
	opReadonlyBuffer = 0x98
)

// refused names the opcodes Unmarshal never runs, with the sentinel each
// one's error wraps.
var refused = map[byte]struct {
	name string
	err  error
}{
	opGlobal:         {"GLOBAL", ErrRefused},
	opStackGlobal:    {"STACK_GLOBAL", ErrRefused},
	opReduce:         {"REDUCE", ErrRefused},
	opBuild:          {"BUILD", ErrRefused},
	opInst:           {"INST", ErrRefused},
	opObj:            {"OBJ", ErrRefused},
	opNewObj:         {"NEWOBJ", ErrRefused},
	opNewObjEx:       {"NEWOBJ_EX", ErrRefused},
	opExt1:           {"EXT1", ErrRefused},
	opExt2:           {"EXT2", ErrRefused},
	opExt4:           {"EXT4", ErrRefused},
	opPersID:         {"PERSID", ErrRefused},
	opBinPersID:      {"BINPERSID", ErrRefused},
	opNextBuffer:     {"NEXT_BUFFER", ErrRefused},
	opReadonlyBuffer: {"READONLY_BUFFER", ErrRefused},
	opEmptySet:       {"EMPTY_SET", ErrUnsupported},
	opAddItems:       {"ADDITEMS", ErrUnsupported},
	opFrozenSet:      {"FROZENSET", ErrUnsupported},
}

// list and dict are the mutable containers while decoding: APPEND and
// SETITEM change them after a memo may have kept them.
type list struct{ items []any }

type dict struct{ m map[string]any }

// decoder is the pickle machine: a stack, the stack positions of the open
// MARKs, and the memo.
type decoder struct {
	data  []byte
	pos   int
	lim   Limits
	stack []any
	marks []int
	memo  map[uint64]any
	items int // values pushed, then values exported
	op    byte
	at    int
}

func (d *decoder) fail(err error, format string, args ...any) error {
	name := fmt.Sprintf("opcode %q", d.op)
	if r, ok := refused[d.op]; ok {
		name = r.name
	}
	if format != "" {
		err = fmt.Errorf("%w: %s", err, fmt.Sprintf(format, args...))
	}
	return &OpcodeError{Op: d.op, Offset: d.at, Err: err, name: name}
}

func (d *decoder) read(n int) ([]byte, error) {
	if n < 0 || n > len(d.data)-d.pos {
		return nil, d.fail(ErrMalformed, "argument of %d bytes past the end", n)
	}
	b := d.data[d.pos : d.pos+n]
	d.pos += n
	return b, nil
}

func (d *decoder) readUint(n int) (uint64, error) {
	b, err := d.read(n)
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

// readLen reads an n-byte little-endian length.
func (d *decoder) readLen(n int) (int, error) {
	v, err := d.readUint(n)
	if err != nil {
		return 0, err
	}
	if v > uint64(len(d.data)-d.pos) { //nolint:gosec // d.pos <= len(d.data)
		return 0, d.fail(ErrMalformed, "length %d past the end", v)
	}
	return int(v), nil //nolint:gosec // v <= len(d.data), checked above
}

func (d *decoder) readLine() (string, error) {
	i := bytes.IndexByte(d.data[d.pos:], '\n')
	if i < 0 {
		return "", d.fail(ErrMalformed, "line without newline")
	}
	s := string(d.data[d.pos : d.pos+i])
	d.pos += i + 1
	return s, nil
}

func (d *decoder) push(v any) error {
	d.items++
	if d.items > d.lim.MaxItems {
		return d.fail(ErrTooLarge, "more than %d values", d.lim.MaxItems)
	}
	d.stack = append(d.stack, v)
	return nil
}

// top returns the top of the stack, above the innermost mark.
func (d *decoder) top() (any, error) {
	base := 0
	if len(d.marks) > 0 {
		base = d.marks[len(d.marks)-1]
	}
	if len(d.stack) <= base {
		return nil, d.fail(ErrMalformed, "stack empty")
	}
	return d.stack[len(d.stack)-1], nil
}

func (d *decoder) pop() (any, error) {
	v, err := d.top()
	if err != nil {
		return nil, err
	}
	d.stack = d.stack[:len(d.stack)-1]
	return v, nil
}

// popMark returns the values above the innermost mark and removes them
// and the mark.
func (d *decoder) popMark() ([]any, error) {
	if len(d.marks) == 0 {
		return nil, d.fail(ErrMalformed, "no MARK")
	}
	m := d.marks[len(d.marks)-1]
	d.marks = d.marks[:len(d.marks)-1]
	vals := d.stack[m:]
	d.stack = d.stack[:m]
	return vals, nil
}

func (d *decoder) run() (any, error) {
	for {
		if d.pos >= len(d.data) {
			return nil, d.fail(ErrMalformed, "no STOP")
		}
		d.at = d.pos
		d.op = d.data[d.pos]
		d.pos++
		if r, ok := refused[d.op]; ok {
			return nil, d.fail(r.err, "")
		}
		if d.op == opStop {
			if len(d.marks) > 0 || len(d.stack) != 1 {
				return nil, d.fail(ErrMalformed, "%d values and %d marks left at STOP", len(d.stack), len(d.marks))
			}
			if d.pos != len(d.data) {
				return nil, d.fail(ErrMalformed, "%d bytes after STOP", len(d.data)-d.pos)
			}
			return d.stack[0], nil
		}
		if err := d.step(); err != nil {
			return nil, err
		}
	}
}

func (d *decoder) step() error {
	switch d.op {
	case opProto:
		v, err := d.readUint(1)
		if err != nil {
			return err
		}
		if v > 5 {
			return d.fail(ErrMalformed, "protocol %d", v)
		}
		return nil
	case opFrame:
		n, err := d.readUint(8)
		if err != nil {
			return err
		}
		if n > uint64(len(d.data)-d.pos) { //nolint:gosec // d.pos <= len(d.data)
			return d.fail(ErrMalformed, "frame of %d bytes past the end", n)
		}
		return nil
	case opMark:
		if len(d.marks) >= d.lim.MaxDepth {
			return d.fail(ErrTooDeep, "more than %d open marks", d.lim.MaxDepth)
		}
		d.marks = append(d.marks, len(d.stack))
		return nil
	case opPop:
		base := 0
		if len(d.marks) > 0 {
			base = d.marks[len(d.marks)-1]
		}
		if len(d.stack) > base {
			d.stack = d.stack[:len(d.stack)-1]
			return nil
		}
		_, err := d.popMark()
		return err
	case opPopMark:
		_, err := d.popMark()
		return err
	case opDup:
		v, err := d.top()
		if err != nil {
			return err
		}
		return d.push(v)
	case opNone:
		return d.push(nil)
	case opNewTrue:
		return d.push(true)
	case opNewFalse:
		return d.push(false)
	case opInt, opLong, opFloat, opString, opUnicode:
		return d.text()
	case opBinInt:
		v, err := d.readUint(4)
		if err != nil {
			return err
		}
		return d.push(int64(int32(uint32(v)))) //nolint:gosec // a 4-byte value read as int32, as the format says
	case opBinInt1:
		v, err := d.readUint(1)
		if err != nil {
			return err
		}
		return d.push(int64(v)) //nolint:gosec // one byte
	case opBinInt2:
		v, err := d.readUint(2)
		if err != nil {
			return err
		}
		return d.push(int64(v)) //nolint:gosec // two bytes
	case opLong1, opLong4:
		size := 1
		if d.op == opLong4 {
			size = 4
		}
		v, err := d.readUint(size)
		if err != nil {
			return err
		}
		if d.op == opLong4 && int32(uint32(v)) < 0 { //nolint:gosec // a 4-byte length, negative in the format when its top bit is set
			return d.fail(ErrMalformed, "negative length")
		}
		b, err := d.read(int(v)) //nolint:gosec // at most 0x7fffffff, and read checks it against the input
		if err != nil {
			return err
		}
		return d.push(fromTwosComplement(b))
	case opBinFloat:
		b, err := d.read(8)
		if err != nil {
			return err
		}
		return d.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
	case opShortBinUni, opBinUnicode, opBinUnicode8:
		n, err := d.readLen(argSize(d.op))
		if err != nil {
			return err
		}
		b, _ := d.read(n)
		if !utf8.Valid(b) {
			return d.fail(ErrMalformed, "str is not UTF-8")
		}
		return d.push(string(b))
	case opShortBinBytes, opBinBytes, opBinBytes8, opByteArray8:
		n, err := d.readLen(argSize(d.op))
		if err != nil {
			return err
		}
		b, _ := d.read(n)
		return d.push(bytes.Clone(b))
	case opShortBinString, opBinString:
		size := 1
		if d.op == opBinString {
			size = 4
		}
		n, err := d.readLen(size)
		if err != nil {
			return err
		}
		b, _ := d.read(n)
		return d.pushASCII(b)
	case opEmptyList:
		return d.push(&list{})
	case opEmptyDict:
		return d.push(&dict{m: map[string]any{}})
	case opEmptyTuple:
		return d.push(Tuple{})
	case opTuple1, opTuple2, opTuple3:
		n := int(d.op-opTuple1) + 1
		t := make(Tuple, n)
		for i := n - 1; i >= 0; i-- {
			v, err := d.pop()
			if err != nil {
				return err
			}
			t[i] = v
		}
		return d.push(t)
	case opTuple, opList:
		vals, err := d.popMark()
		if err != nil {
			return err
		}
		if d.op == opTuple {
			return d.push(Tuple(vals).clone())
		}
		return d.push(&list{items: Tuple(vals).clone()})
	case opDict:
		vals, err := d.popMark()
		if err != nil {
			return err
		}
		dt := &dict{m: make(map[string]any, len(vals)/2)}
		if err := d.setItems(dt, vals); err != nil {
			return err
		}
		return d.push(dt)
	case opAppend:
		v, err := d.pop()
		if err != nil {
			return err
		}
		l, err := d.listBelow()
		if err != nil {
			return err
		}
		l.items = append(l.items, v)
		return nil
	case opAppends:
		vals, err := d.popMark()
		if err != nil {
			return err
		}
		l, err := d.listBelow()
		if err != nil {
			return err
		}
		l.items = append(l.items, vals...)
		return nil
	case opSetItem:
		v, err := d.pop()
		if err != nil {
			return err
		}
		k, err := d.pop()
		if err != nil {
			return err
		}
		dt, err := d.dictBelow()
		if err != nil {
			return err
		}
		return d.setItems(dt, []any{k, v})
	case opSetItems:
		vals, err := d.popMark()
		if err != nil {
			return err
		}
		dt, err := d.dictBelow()
		if err != nil {
			return err
		}
		return d.setItems(dt, vals)
	case opPut:
		i, err := d.memoIndexLine()
		if err != nil {
			return err
		}
		return d.put(i)
	case opBinPut, opLongBinPut:
		i, err := d.readUint(argSize(d.op))
		if err != nil {
			return err
		}
		return d.put(i)
	case opMemoize:
		return d.put(uint64(len(d.memo)))
	case opGet:
		i, err := d.memoIndexLine()
		if err != nil {
			return err
		}
		return d.get(i)
	case opBinGet, opLongBinGet:
		i, err := d.readUint(argSize(d.op))
		if err != nil {
			return err
		}
		return d.get(i)
	}
	return d.fail(ErrMalformed, "unknown opcode")
}

// argSize is the size of the length or index argument of op.
func argSize(op byte) int {
	switch op {
	case opShortBinUni, opShortBinBytes, opShortBinString, opBinPut, opBinGet, opBinInt1, opLong1:
		return 1
	case opBinInt2:
		return 2
	case opBinUnicode8, opBinBytes8, opByteArray8, opFrame:
		return 8
	}
	return 4
}

func (t Tuple) clone() Tuple { return append(Tuple(nil), t...) }

func (d *decoder) put(i uint64) error {
	v, err := d.top()
	if err != nil {
		return err
	}
	if _, ok := d.memo[i]; !ok && len(d.memo) >= d.lim.MaxItems {
		return d.fail(ErrTooLarge, "more than %d memo entries", d.lim.MaxItems)
	}
	d.memo[i] = v
	return nil
}

func (d *decoder) get(i uint64) error {
	v, ok := d.memo[i]
	if !ok {
		return d.fail(ErrMalformed, "memo index %d not set", i)
	}
	return d.push(v)
}

func (d *decoder) listBelow() (*list, error) {
	v, err := d.top()
	if err != nil {
		return nil, err
	}
	l, ok := v.(*list)
	if !ok {
		return nil, d.fail(ErrMalformed, "appending to %s", typeName(v))
	}
	return l, nil
}

func (d *decoder) dictBelow() (*dict, error) {
	v, err := d.top()
	if err != nil {
		return nil, err
	}
	dt, ok := v.(*dict)
	if !ok {
		return nil, d.fail(ErrMalformed, "setting an item of %s", typeName(v))
	}
	return dt, nil
}

func (d *decoder) setItems(dt *dict, kv []any) error {
	if len(kv)%2 != 0 {
		return d.fail(ErrMalformed, "odd number of values for a dict")
	}
	for i := 0; i < len(kv); i += 2 {
		k, err := keyText(kv[i])
		if err != nil {
			return d.fail(err, "")
		}
		dt.m[k] = kv[i+1] //nolint:gosec // i+1 < len(kv): len(kv) is even
	}
	return nil
}

// keyText turns a dict key into the text Python's json module writes.
func keyText(k any) (string, error) {
	switch t := k.(type) {
	case string:
		return t, nil
	case int64:
		return strconv.FormatInt(t, 10), nil
	case *big.Int:
		return t.String(), nil
	case bool:
		return strconv.FormatBool(t), nil
	case nil:
		return "null", nil
	}
	return "", fmt.Errorf("%w: dict key of type %s", ErrUnsupported, typeName(k))
}

func (d *decoder) pushASCII(b []byte) error {
	for _, c := range b {
		if c >= 0x80 {
			return d.fail(ErrMalformed, "Python 2 str is not ASCII")
		}
	}
	return d.push(string(b))
}

// text runs the protocol 0 opcodes whose argument is a line of text.
func (d *decoder) text() error {
	line, err := d.readLine()
	if err != nil {
		return err
	}
	switch d.op {
	case opInt:
		switch line {
		case "00":
			return d.push(false)
		case "01":
			return d.push(true)
		}
		return d.pushInt(line)
	case opLong:
		return d.pushInt(strings.TrimSuffix(line, "L"))
	case opFloat:
		f, err := strconv.ParseFloat(line, 64)
		if err != nil {
			return d.fail(ErrMalformed, "float %q", line)
		}
		return d.push(f)
	case opString:
		b, err := unquote(line)
		if err != nil {
			return d.fail(ErrMalformed, "%v", err)
		}
		return d.pushASCII(b)
	default: // opUnicode
		s, err := rawUnicodeEscape(line)
		if err != nil {
			return d.fail(ErrMalformed, "%v", err)
		}
		return d.push(s)
	}
}

func (d *decoder) pushInt(s string) error {
	if len(s) > maxIntDigits+1 {
		return d.fail(ErrTooLarge, "int of %d digits", len(s))
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return d.push(v)
	}
	b, ok := new(big.Int).SetString(s, 10)
	if !ok || s == "" || s[0] == '+' || strings.Contains(s, "_") {
		return d.fail(ErrMalformed, "int %q", s)
	}
	return d.push(b)
}

// unquote reads the repr of a Python 2 str: quoted with ' or ", with
// backslash escapes.
func unquote(s string) ([]byte, error) {
	if len(s) < 2 || (s[0] != '\'' && s[0] != '"') || s[len(s)-1] != s[0] {
		return nil, errors.New("STRING argument is not quoted")
	}
	s = s[1 : len(s)-1]
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(s) {
			return nil, errors.New("STRING ends with a backslash")
		}
		switch c = s[i]; c {
		case '\\', '\'', '"':
			out = append(out, c)
		case 'a':
			out = append(out, 7)
		case 'b':
			out = append(out, 8)
		case 'f':
			out = append(out, 12)
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, 11)
		case 'x':
			if i+3 > len(s) {
				return nil, errors.New("truncated \\x escape")
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return nil, errors.New("bad \\x escape")
			}
			out = append(out, byte(v))
			i += 2
		default:
			if c >= '0' && c <= '7' {
				v := 0
				n := 0
				for n < 3 && i < len(s) && s[i] >= '0' && s[i] <= '7' {
					v = v*8 + int(s[i]-'0')
					i++
					n++
				}
				i--
				out = append(out, byte(v))
				continue
			}
			out = append(out, '\\', c)
		}
	}
	return out, nil
}

// rawUnicodeEscape decodes Python's raw-unicode-escape codec: \uXXXX and
// \UXXXXXXXX escapes; every other byte is a Latin-1 code point.
func rawUnicodeEscape(s string) (string, error) {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') {
			n := 4
			if s[i+1] == 'U' {
				n = 8
			}
			if i+2+n > len(s) {
				return "", errors.New("truncated \\u escape")
			}
			v, err := strconv.ParseUint(s[i+2:i+2+n], 16, 32)
			if err != nil || v > utf8.MaxRune || (v >= 0xD800 && v <= 0xDFFF) {
				return "", errors.New("bad \\u escape")
			}
			sb.WriteRune(rune(v))
			i += 1 + n
			continue
		}
		sb.WriteRune(rune(c))
	}
	return sb.String(), nil
}

// fromTwosComplement reads a little-endian two's complement integer.
func fromTwosComplement(b []byte) any {
	if len(b) == 0 {
		return int64(0)
	}
	if len(b) <= 8 {
		var v uint64
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		shift := uint(64 - 8*len(b))
		return int64(v<<shift) >> shift //nolint:gosec // two's complement, by design
	}
	be := make([]byte, len(b))
	for i, c := range b {
		be[len(b)-1-i] = c
	}
	n := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	if n.IsInt64() {
		return n.Int64()
	}
	return n
}

// export turns the decoder's containers into plain Go values.
func (d *decoder) export(v any, depth int) (any, error) {
	if depth > d.lim.MaxDepth {
		return nil, fmt.Errorf("%w: more than %d levels (or a value that contains itself)", ErrTooDeep, d.lim.MaxDepth)
	}
	d.items++
	if d.items > d.lim.MaxItems {
		return nil, fmt.Errorf("%w: more than %d values", ErrTooLarge, d.lim.MaxItems)
	}
	var err error
	switch t := v.(type) {
	case *list:
		out := make([]any, len(t.items))
		for i, e := range t.items {
			if out[i], err = d.export(e, depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	case Tuple:
		out := make(Tuple, len(t))
		for i, e := range t {
			if out[i], err = d.export(e, depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	case *dict:
		out := make(map[string]any, len(t.m))
		for k, e := range t.m {
			if out[k], err = d.export(e, depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return v, nil
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case *list:
		return "list"
	case *dict:
		return "dict"
	case Tuple:
		return "tuple"
	}
	return fmt.Sprintf("%T", v)
}

// memoIndexLine reads the decimal memo index of a text-protocol PUT or GET.
func (d *decoder) memoIndexLine() (uint64, error) {
	line, err := d.readLine()
	if err != nil {
		return 0, err
	}
	i, err := strconv.ParseUint(line, 10, 64)
	if err != nil {
		return 0, d.fail(ErrMalformed, "memo index %q", line)
	}
	return i, nil
}
