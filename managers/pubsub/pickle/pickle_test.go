package pickle_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/siokit/siokit/managers/pubsub/pickle"
)

// python is Debian's interpreter, which `make test` provides (scripts/deps.sh).
const python = "/usr/bin/python3"

func bigInt(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return n
}

// roundTrips are values Python builds from expr and Go holds as want.
// Both directions are checked: pickle.dumps in Python, Unmarshal in Go;
// Marshal in Go, pickle.loads in Python (when goToPy).
var roundTrips = []struct {
	name    string
	expr    string
	want    any
	goToPy  bool
	minProt int // lowest protocol Unmarshal reads it from (bytes need 3)
}{
	{"none", "None", nil, true, 0},
	{"true", "True", true, true, 0},
	{"false", "False", false, true, 0},
	{"zero", "0", int64(0), true, 0},
	{"byte", "255", int64(255), true, 0},
	{"uint16", "65535", int64(65535), true, 0},
	{"int32", "-2147483648", int64(math.MinInt32), true, 0},
	{"int32 max+1", "2147483648", int64(1) << 31, true, 0},
	{"negative", "-129", int64(-129), true, 0},
	{"minus 128", "-128", int64(-128), true, 0},
	{"int64 max", "9223372036854775807", int64(math.MaxInt64), true, 0},
	{"int64 min", "-9223372036854775808", int64(math.MinInt64), true, 0},
	{"long", "2**64", bigInt("18446744073709551616"), true, 0},
	{"negative long", "-(2**100)+1", bigInt("-1267650600228229401496703205375"), true, 0},
	{"huge long", "7**1000", new(big.Int).Exp(big.NewInt(7), big.NewInt(1000), nil), true, 0},
	{"float", "1.5", 1.5, true, 0},
	{"float tiny", "5e-324", 5e-324, true, 0},
	{"float inf", "float('-inf')", math.Inf(-1), true, 0},
	{"str", "'héllo ✓ 😀'", "héllo ✓ 😀", true, 0},
	{"str escapes", "'a\\\\b\\nc\\u0000d\\\\u1234'", "a\\b\nc\x00d\\u1234", true, 0},
	{"empty str", "''", "", true, 0},
	{"long str", "'x'*70000", strings.Repeat("x", 70000), true, 0},
	{"bytes", "b'\\x00\\xffab'", []byte{0, 0xff, 'a', 'b'}, true, 3},
	{"long bytes", "b'z'*300", bytes.Repeat([]byte("z"), 300), true, 3},
	{"bytearray", "bytearray(b'ab')", []byte("ab"), false, 5},
	{"empty list", "[]", []any{}, true, 0},
	{"list", "[1, 'a', None, [2.5]]", []any{int64(1), "a", nil, []any{2.5}}, true, 0},
	{"long list", "list(range(2500))", longList(2500), true, 0},
	{"empty tuple", "()", pickle.Tuple{}, true, 0},
	{"tuple1", "(1,)", pickle.Tuple{int64(1)}, true, 0},
	{"tuple3", "(1, 'b', (None,))", pickle.Tuple{int64(1), "b", pickle.Tuple{nil}}, true, 0},
	{"tuple5", "(1, 2, 3, 4, [5])", pickle.Tuple{int64(1), int64(2), int64(3), int64(4), []any{int64(5)}}, true, 0},
	{"empty dict", "{}", map[string]any{}, true, 0},
	{"dict", "{'a': 1, 'b': [True, {'c': None}]}", map[string]any{"a": int64(1), "b": []any{true, map[string]any{"c": nil}}}, true, 0},
	{"big dict", "{str(i): i for i in range(1500)}", bigDict(1500), true, 0},
	{"dict keys", "{1: 'i', True: 'b', None: 'n', -5: 'm'}", map[string]any{"1": "b", "null": "n", "-5": "m"}, false, 0},
	{"shared", "(lambda l: [l, l, {'x': l}])([1, 2])",
		[]any{[]any{int64(1), int64(2)}, []any{int64(1), int64(2)}, map[string]any{"x": []any{int64(1), int64(2)}}}, false, 0},
	{"socketio emit", "{'method': 'emit', 'event': 'ev', 'data': ('a', b'\\x01', {'k': [1, 2.0]}), 'namespace': '/', " +
		"'room': None, 'skip_sid': None, 'callback': ('sid1', '/', 7), 'host_id': '0123abcd'}",
		map[string]any{
			"method": "emit", "event": "ev", "data": pickle.Tuple{"a", []byte{1}, map[string]any{"k": []any{int64(1), 2.0}}},
			"namespace": "/", "room": nil, "skip_sid": nil, "callback": pickle.Tuple{"sid1", "/", int64(7)}, "host_id": "0123abcd",
		}, true, 3},
}

func longList(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = int64(i)
	}
	return out
}

func bigDict(n int) map[string]any {
	out := make(map[string]any, n)
	for i := range n {
		out[json.Number(big.NewInt(int64(i)).String()).String()] = int64(i)
	}
	return out
}

// runPython runs a Python program with input on stdin and returns its
// stdout.
func runPython(t *testing.T, program, input string) string {
	t.Helper()
	cmd := exec.Command(python, "-c", program)
	cmd.Stdin = strings.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s(run make deps)", python, err, stderr.String())
	}
	return string(out)
}

// TestUnmarshalPython decodes what Python's pickle.dumps writes, in every
// protocol.
func TestUnmarshalPython(t *testing.T) {
	var exprs []string
	for _, c := range roundTrips {
		exprs = append(exprs, c.expr)
	}
	in, _ := json.Marshal(exprs)
	out := runPython(t, `
import json, pickle, sys
for e in json.load(sys.stdin):
    v = eval(e)
    print(' '.join(pickle.dumps(v, protocol=p).hex() for p in range(6)))
`, string(in))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(roundTrips) {
		t.Fatalf("python printed %d lines for %d cases", len(lines), len(roundTrips))
	}
	for i, c := range roundTrips {
		for p, h := range strings.Fields(lines[i]) {
			data, err := hex.DecodeString(h)
			if err != nil {
				t.Fatal(err)
			}
			got, err := pickle.Unmarshal(data)
			if p < c.minProt {
				// Protocols 0-2 write bytes through codecs.encode (a GLOBAL
				// and a REDUCE); protocols below 5 bytearray likewise.
				if !errors.Is(err, pickle.ErrRefused) {
					t.Errorf("%s, protocol %d: err = %v, want ErrRefused", c.name, p, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s, protocol %d: %v", c.name, p, err)
				continue
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s, protocol %d:\n got %#v\nwant %#v", c.name, p, got, c.want)
			}
		}
	}
}

// TestMarshalPython has Python's pickle.loads read what Marshal writes and
// compare it, type by type, with the value Python builds itself.
func TestMarshalPython(t *testing.T) {
	type item struct {
		Expr   string `json:"expr"`
		Pickle string `json:"pickle"`
	}
	var items []item
	var names []string
	for _, c := range roundTrips {
		if !c.goToPy {
			continue
		}
		b, err := pickle.Marshal(c.want)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		items = append(items, item{c.expr, hex.EncodeToString(b)})
		names = append(names, c.name)
	}
	in, _ := json.Marshal(items)
	out := runPython(t, `
import json, pickle, sys, math
def same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b
for it in json.load(sys.stdin):
    try:
        v = pickle.loads(bytes.fromhex(it['pickle']))
        print('ok' if same(v, eval(it['expr'])) else 'differs: ' + repr(v)[:200])
    except Exception as e:
        print('error: ' + repr(e))
`, string(in))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(items) {
		t.Fatalf("python printed %d lines for %d cases", len(lines), len(items))
	}
	for i, l := range lines {
		if l != "ok" {
			t.Errorf("%s: %s", names[i], l)
		}
	}
}

func TestMarshalTypes(t *testing.T) {
	for _, c := range []struct {
		in   any
		want any
	}{
		{int8(-3), int64(-3)},
		{uint64(math.MaxUint64), new(big.Int).SetUint64(math.MaxUint64)},
		{uint(7), int64(7)},
		{float32(0.5), 0.5},
		{json.Number("12"), int64(12)},
		{json.Number("-1.25e3"), -1250.0},
		{json.Number("123456789012345678901234567890"), bigInt("123456789012345678901234567890")},
		{[]string{"a", "b"}, []any{"a", "b"}},
		{bigInt("-256"), int64(-256)},
		{bigInt("0"), int64(0)},
	} {
		b, err := pickle.Marshal(c.in)
		if err != nil {
			t.Fatalf("%#v: %v", c.in, err)
		}
		got, err := pickle.Unmarshal(b)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%#v: got %#v (%v), want %#v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []any{struct{}{}, map[int]any{}, []int{1}, "\xff", json.Number("x")} {
		if _, err := pickle.Marshal(bad); !errors.Is(err, pickle.ErrUnsupported) && !errors.Is(err, pickle.ErrMalformed) {
			t.Errorf("%#v: err = %v", bad, err)
		}
	}
	deep := []any{}
	for range pickle.DefaultMaxDepth + 1 {
		deep = []any{deep}
	}
	if _, err := pickle.Marshal(deep); !errors.Is(err, pickle.ErrTooDeep) {
		t.Errorf("deep: err = %v", err)
	}
}

// TestRefused runs every opcode that imports, calls or is not plain data,
// each in a pickle that would otherwise be well-formed as far as it goes,
// and checks it is refused at that opcode.
func TestRefused(t *testing.T) {
	proto := []byte{0x80, 4}
	str := func(s string) []byte { return append([]byte{0x8c, byte(len(s))}, s...) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for _, c := range []struct {
		name string
		op   byte
		data []byte
		err  error
	}{
		{"GLOBAL", 'c', cat(proto, []byte("cos\nsystem\n")), pickle.ErrRefused},
		{"STACK_GLOBAL", 0x93, cat(proto, str("os"), str("system"), []byte{0x93}), pickle.ErrRefused},
		{"REDUCE", 'R', cat(proto, []byte{'N', ')', 'R', '.'}), pickle.ErrRefused},
		{"BUILD", 'b', cat(proto, []byte{'}', '}', 'b', '.'}), pickle.ErrRefused},
		{"INST", 'i', cat(proto, []byte("(ios\nsystem\n.")), pickle.ErrRefused},
		{"OBJ", 'o', cat(proto, []byte{'(', 'N', 'o', '.'}), pickle.ErrRefused},
		{"NEWOBJ", 0x81, cat(proto, []byte{'N', ')', 0x81, '.'}), pickle.ErrRefused},
		{"NEWOBJ_EX", 0x92, cat(proto, []byte{'N', ')', '}', 0x92, '.'}), pickle.ErrRefused},
		{"EXT1", 0x82, cat(proto, []byte{0x82, 1, '.'}), pickle.ErrRefused},
		{"EXT2", 0x83, cat(proto, []byte{0x83, 1, 0, '.'}), pickle.ErrRefused},
		{"EXT4", 0x84, cat(proto, []byte{0x84, 1, 0, 0, 0, '.'}), pickle.ErrRefused},
		{"PERSID", 'P', cat(proto, []byte("P1\n.")), pickle.ErrRefused},
		{"BINPERSID", 'Q', cat(proto, []byte{'N', 'Q', '.'}), pickle.ErrRefused},
		{"NEXT_BUFFER", 0x97, cat([]byte{0x80, 5, 0x97, '.'}), pickle.ErrRefused},
		{"READONLY_BUFFER", 0x98, cat([]byte{0x80, 5, 'C', 1, 'x', 0x98, '.'}), pickle.ErrRefused},
		{"EMPTY_SET", 0x8f, cat(proto, []byte{0x8f, '.'}), pickle.ErrUnsupported},
		{"ADDITEMS", 0x90, cat(proto, []byte{']', '(', 'K', 1, 0x90, '.'}), pickle.ErrUnsupported},
		{"FROZENSET", 0x91, cat(proto, []byte{'(', 'K', 1, 0x91, '.'}), pickle.ErrUnsupported},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := pickle.Unmarshal(c.data)
			if !errors.Is(err, c.err) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
			var oe *pickle.OpcodeError
			if !errors.As(err, &oe) || oe.Op != c.op || oe.Offset != bytes.IndexByte(c.data[2:], c.op)+2 {
				t.Fatalf("err = %#v, want an OpcodeError at the %s opcode", err, c.name)
			}
			if !strings.Contains(err.Error(), c.name) {
				t.Errorf("error %q does not name %s", err, c.name)
			}
		})
	}
}

// TestRefusedFromPython checks that what Python writes for objects that
// are not plain data (a class instance, a set, a function) is refused.
func TestRefusedFromPython(t *testing.T) {
	out := runPython(t, `
import pickle, collections, datetime, decimal, fractions
class C:
    pass
for v in [C(), {1, 2}, frozenset([1]), print, datetime.date(2020, 1, 2), decimal.Decimal('1.5'),
          collections.OrderedDict(a=1), complex(1, 2), fractions.Fraction(1, 3), range(3)]:
    print(pickle.dumps(v, protocol=4).hex())
`, "")
	for _, h := range strings.Fields(out) {
		data, _ := hex.DecodeString(h)
		v, err := pickle.Unmarshal(data)
		if !errors.Is(err, pickle.ErrRefused) && !errors.Is(err, pickle.ErrUnsupported) {
			t.Errorf("%s: got %#v, %v; want a refusal", h, v, err)
		}
	}
}

func TestMalformedAndLimits(t *testing.T) {
	proto := []byte{0x80, 4}
	nested := func(n int) []byte {
		b := append([]byte{}, proto...)
		for range n {
			b = append(b, ']')
		}
		b = append(b, 'N')
		for range n {
			b = append(b, 'a')
		}
		return append(b, '.')
	}
	// A list holding itself: EMPTY_LIST, MEMOIZE, GET 0, APPEND.
	selfRef := append(append([]byte{}, proto...), ']', 0x94, 'h', 0, 'a', '.')
	// x = [x, x] forty times over: a few hundred bytes, 2^40 values.
	bomb := append([]byte{}, proto...)
	bomb = append(bomb, 'N', 0x94, '0')
	for i := range 40 {
		bomb = append(bomb, ']', '(', 'h', byte(i), 'h', byte(i), 'e', 0x94, '0')
	}
	bomb = append(bomb, 'h', 40, '.')
	for _, c := range []struct {
		name string
		data []byte
		lim  pickle.Limits
		err  error
	}{
		{"empty", nil, pickle.Limits{}, pickle.ErrMalformed},
		{"no stop", append(proto, 'N'), pickle.Limits{}, pickle.ErrMalformed},
		{"trailing", append(proto, 'N', '.', 'N'), pickle.Limits{}, pickle.ErrMalformed},
		{"two values", append(proto, 'N', 'N', '.'), pickle.Limits{}, pickle.ErrMalformed},
		{"open mark", append(proto, '(', 'N', '.'), pickle.Limits{}, pickle.ErrMalformed},
		{"empty stack", append(proto, '.'), pickle.Limits{}, pickle.ErrMalformed},
		{"unknown opcode", append(proto, 0xff, '.'), pickle.Limits{}, pickle.ErrMalformed},
		{"protocol 6", []byte{0x80, 6, 'N', '.'}, pickle.Limits{}, pickle.ErrMalformed},
		{"truncated str", append(proto, 'X', 0xff, 0xff, 0xff, 0x7f, 'a', '.'), pickle.Limits{}, pickle.ErrMalformed},
		{"huge bytes8", append(proto, 0x8e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '.'), pickle.Limits{}, pickle.ErrMalformed},
		{"negative long4", append(proto, 0x8b, 0xff, 0xff, 0xff, 0xff, '.'), pickle.Limits{}, pickle.ErrMalformed},
		{"bad utf-8", append(proto, 0x8c, 1, 0xff, '.'), pickle.Limits{}, pickle.ErrMalformed},
		{"non-ascii py2 str", append(proto, 'U', 1, 0xe9, '.'), pickle.Limits{}, pickle.ErrMalformed},
		{"append to int", append(proto, 'K', 1, 'N', 'a', '.'), pickle.Limits{}, pickle.ErrMalformed},
		{"setitem on list", append(proto, ']', 'N', 'N', 's', '.'), pickle.Limits{}, pickle.ErrMalformed},
		{"odd setitems", append(proto, '}', '(', 'N', 'u', '.'), pickle.Limits{}, pickle.ErrMalformed},
		{"unset memo", append(proto, 'h', 3, '.'), pickle.Limits{}, pickle.ErrMalformed},
		{"tuple key", append(proto, '}', ')', 'N', 's', '.'), pickle.Limits{}, pickle.ErrUnsupported},
		{"float key", append(proto, '}', 'G', 0, 0, 0, 0, 0, 0, 0, 0, 'N', 's', '.'), pickle.Limits{}, pickle.ErrUnsupported},
		{"bad text int", append(proto, []byte("I12a\n.")...), pickle.Limits{}, pickle.ErrMalformed},
		{"long text int", append(append(append(proto, 'L'), bytes.Repeat([]byte("9"), 5000)...), '\n', '.'), pickle.Limits{}, pickle.ErrTooLarge},
		{"bad string quote", append(proto, []byte("S'abc\n.")...), pickle.Limits{}, pickle.ErrMalformed},
		{"bad unicode escape", append(proto, []byte("V\\ud800\n.")...), pickle.Limits{}, pickle.ErrMalformed},
		{"size", append(proto, 'N', '.'), pickle.Limits{MaxSize: 3}, pickle.ErrTooLarge},
		{"depth", nested(65), pickle.Limits{}, pickle.ErrTooDeep},
		{"marks", append(bytes.Repeat([]byte{'('}, 65), '.'), pickle.Limits{}, pickle.ErrTooDeep},
		{"items", append(append(proto, bytes.Repeat([]byte{'N'}, 100)...), '.'), pickle.Limits{MaxItems: 50}, pickle.ErrTooLarge},
		{"self reference", selfRef, pickle.Limits{}, pickle.ErrTooDeep},
		{"memo bomb", bomb, pickle.Limits{}, pickle.ErrTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := c.lim.Unmarshal(c.data)
			if !errors.Is(err, c.err) {
				t.Fatalf("got %#v, %v; want %v", v, err, c.err)
			}
		})
	}
	if v, err := pickle.Unmarshal(nested(64)); err != nil {
		t.Errorf("64 levels: %v", err)
	} else if _, err := pickle.Marshal(v); err != nil {
		t.Errorf("64 levels, Marshal: %v", err)
	}
	// The protocol 0 forms that Python 2 wrote.
	for _, c := range []struct {
		in   string
		want any
	}{
		{"S'a\\'b\\x41\\101\\n'\np0\n.", "a'bAA\n"},
		{"I01\n.", true},
		{"L12L\n.", int64(12)},
		{"(lp0\nI1\naI2\na.", []any{int64(1), int64(2)}},
		{"(dp0\nS'k'\np1\nF2.5\ns.", map[string]any{"k": 2.5}},
		{"(I1\nI2\ntp0\n.", pickle.Tuple{int64(1), int64(2)}},
		{"I1\n(I2\n1.", int64(1)}, // POP_MARK drops the mark and what is above it
		{"I1\n(0.", int64(1)},     // POP with nothing above the mark drops the mark
	} {
		got, err := pickle.Unmarshal([]byte(c.in))
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %#v, %v; want %#v", c.in, got, err, c.want)
		}
	}
}

// FuzzUnmarshal checks that Unmarshal never panics and that what it
// returns, Marshal writes and Unmarshal reads back the same.
func FuzzUnmarshal(f *testing.F) {
	for _, c := range roundTrips {
		if c.goToPy {
			b, err := pickle.Marshal(c.want)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte("(lp0\nI1\naI2\na."))
	f.Add([]byte("(dp0\nS'k'\np1\nF2.5\ns."))
	f.Add([]byte{0x80, 4, ']', 0x94, 'h', 0, 'a', '.'})
	f.Add([]byte{0x80, 4, 0x95, 3, 0, 0, 0, 0, 0, 0, 0, 'N', 0x94, '.'})
	lim := pickle.Limits{MaxSize: 1 << 16, MaxItems: 1 << 14}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := lim.Unmarshal(data)
		if err != nil {
			return
		}
		b, err := pickle.Marshal(v)
		if err != nil {
			t.Fatalf("Marshal of a decoded %#v: %v", v, err)
		}
		v2, err := pickle.Unmarshal(b)
		if err != nil {
			t.Fatalf("Unmarshal of Marshal's %x: %v", b, err)
		}
		b2, err := pickle.Marshal(v2)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("round trip differs: %x then %x (%v)", b, b2, err)
		}
	})
}

// benchMessage is a python-socketio emit message of a typical size.
var benchMessage = map[string]any{
	"method": "emit", "event": "chat message",
	"data":      pickle.Tuple{map[string]any{"user": "alice", "text": strings.Repeat("hello ", 20), "n": int64(42)}, []byte("\x00\x01\x02")},
	"namespace": "/", "room": "lobby", "skip_sid": "AbCdEfGhIjKlMnOp", "callback": nil, "host_id": "0123456789abcdef0123456789abcdef",
}

func BenchmarkMarshal(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pickle.Marshal(benchMessage); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	data, err := pickle.Marshal(benchMessage)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pickle.Unmarshal(data); err != nil {
			b.Fatal(err)
		}
	}
}
