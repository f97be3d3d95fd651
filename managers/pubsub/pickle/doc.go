// Package pickle reads and writes Python pickles of plain data: dict, list,
// tuple, str, bytes, int (of any size), float, bool and None. It is what a
// siokit server needs to share a pub/sub channel with python-socketio
// servers, whose managers publish pickle.dumps of a dict.
//
// [Unmarshal] is safe on hostile input. It runs no code: every opcode that
// would import a name or call one (GLOBAL, STACK_GLOBAL, REDUCE, BUILD,
// INST, OBJ, NEWOBJ, NEWOBJ_EX, EXT1, EXT2, EXT4), persistent ids (PERSID,
// BINPERSID) and out-of-band buffers (NEXT_BUFFER, READONLY_BUFFER) are
// refused with an error wrapping [ErrRefused]; sets (EMPTY_SET, ADDITEMS,
// FROZENSET) with one wrapping [ErrUnsupported]. Input size, nesting depth
// and the number of values are bounded ([Limits]); a memo reference that
// would make a value contain itself, or make a small input expand into a
// huge value, is refused. Errors are sentinels testable with [errors.Is].
//
// Decoded values are nil, bool, int64 (or *big.Int beyond int64), float64,
// string, []byte, []any for a list, [Tuple] for a tuple and map[string]any
// for a dict. Dict keys must be str, int, bool or None; the last three
// become the text Python's json module would write ("1", "true", "null").
//
// [Marshal] writes the same kinds of values (and Go's other integer and
// float types, json.Number and []string) as a protocol 4 pickle that
// Python 3's pickle.loads reads.
//
// The package follows the format described in Python's pickletools module
// (Lib/pickletools.py); it shares no code with it.
package pickle
