package parser

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// maxDepth bounds JSON nesting, as encoding/json does.
const maxDepth = 10000

// Kinds of object keys the scanner tracks for placeholder detection.
const (
	keyOther uint8 = iota
	keyPlaceholder
	keyNum
)

// frame is one open object or array while scanning.
type frame struct {
	start int   // offset of the opening bracket
	num   int64 // value of "num": -1 absent, -2 not a non-negative integer
	obj   bool  // object, else array
	key   uint8 // kind of the key whose value comes next
	ph    bool  // the last "_placeholder" key had the value true
}

// scanner validates one JSON value without recursion, checks binary
// placeholders against the number of attachments and, when the value is an
// array, reports the spans of its elements.
type scanner struct {
	nAttach      int               // placeholders must satisfy 0 <= num < nAttach
	collect      bool              // append root array elements to elems
	elems        []json.RawMessage // root array elements when collect
	nElems       int               // number of root array elements
	firstStart   int               // span of the first root array element
	firstEnd     int
	placeholders int    // number of placeholder objects seen
	rootNum      int64  // num of the root value when it is a placeholder, else -1
	recordSpans  bool   // append placeholder spans to spans
	spans        []span // placeholder objects in the order they close
}

// span is a placeholder object data[start:end] naming attachment num.
type span struct {
	start, end int
	num        int
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	return i
}

func syntaxError(what string, i int) error {
	return fmt.Errorf("%w: invalid JSON: %s at offset %d", ErrMalformed, what, i)
}

// scan validates data as exactly one JSON value, surrounded by optional
// whitespace.
func (s *scanner) scan(data []byte) error {
	var buf [16]frame
	stack := buf[:0]
	s.firstStart, s.firstEnd, s.nElems, s.placeholders, s.rootNum = -1, -1, 0, 0, -1
	i := skipSpace(data, 0)
	for {
		// A value starts at i.
		if i >= len(data) {
			return syntaxError("unexpected end", i)
		}
		start := i
		switch c := data[i]; c {
		case '{', '[':
			if len(stack) >= maxDepth {
				return syntaxError("nesting too deep", i)
			}
			closer := byte(']')
			if c == '{' {
				closer = '}'
			}
			j := skipSpace(data, i+1)
			if j < len(data) && data[j] == closer {
				i = j + 1
				break
			}
			stack = append(stack, frame{start: i, obj: c == '{', num: -1})
			i = j
			if c == '{' {
				var err error
				if i, err = scanKey(data, i, &stack[len(stack)-1]); err != nil {
					return err
				}
			}
			continue
		case '"':
			if i = scanString(data, i); i < 0 {
				return syntaxError("bad string", start)
			}
		case 't':
			if i = scanLiteral(data, i, "true"); i < 0 {
				return syntaxError("bad literal", start)
			}
		case 'f':
			if i = scanLiteral(data, i, "false"); i < 0 {
				return syntaxError("bad literal", start)
			}
		case 'n':
			if i = scanLiteral(data, i, "null"); i < 0 {
				return syntaxError("bad literal", start)
			}
		default:
			if i = scanNumber(data, i); i < 0 {
				return syntaxError("unexpected character", start)
			}
		}
		// The value data[start:i] is complete; climb out of finished containers.
		for {
			if len(stack) == 0 {
				if i = skipSpace(data, i); i != len(data) {
					return syntaxError("trailing data", i)
				}
				return nil
			}
			top := &stack[len(stack)-1]
			if top.obj {
				switch top.key {
				case keyPlaceholder:
					top.ph = string(data[start:i]) == "true"
				case keyNum:
					top.num = parseIndex(data[start:i])
				}
			} else if len(stack) == 1 {
				if s.nElems == 0 {
					s.firstStart, s.firstEnd = start, i
				}
				s.nElems++
				if s.collect {
					s.elems = append(s.elems, json.RawMessage(data[start:i:i]))
				}
			}
			if i = skipSpace(data, i); i >= len(data) {
				return syntaxError("unexpected end", i)
			}
			c := data[i]
			if c == ',' {
				i = skipSpace(data, i+1)
				if top.obj {
					var err error
					if i, err = scanKey(data, i, top); err != nil {
						return err
					}
				}
				break
			}
			if top.obj && c == '}' || !top.obj && c == ']' {
				i++
				if top.obj && top.ph {
					if top.num < 0 || top.num >= int64(s.nAttach) {
						return fmt.Errorf("%w: %s (%d attachments)", ErrBadPlaceholder, data[top.start:i], s.nAttach)
					}
					s.placeholders++
					if len(stack) == 1 {
						s.rootNum = top.num
					}
					if s.recordSpans {
						s.spans = append(s.spans, span{start: top.start, end: i, num: int(top.num)})
					}
				}
				start = top.start
				stack = stack[:len(stack)-1]
				continue
			}
			return syntaxError("unexpected character", i)
		}
	}
}

// scanKey reads an object key and the colon after it, records its kind in f
// and returns the offset of the value.
func scanKey(data []byte, i int, f *frame) (int, error) {
	if i >= len(data) || data[i] != '"' {
		return 0, syntaxError("expected object key", i)
	}
	end := scanString(data, i)
	if end < 0 {
		return 0, syntaxError("bad string", i)
	}
	f.key = keyKind(data[i:end])
	i = skipSpace(data, end)
	if i >= len(data) || data[i] != ':' {
		return 0, syntaxError("expected colon", i)
	}
	return skipSpace(data, i+1), nil
}

func keyKind(raw []byte) uint8 {
	switch string(raw) {
	case `"_placeholder"`:
		return keyPlaceholder
	case `"num"`:
		return keyNum
	}
	if len(raw) > 14 && hasEscape(raw) {
		// An escaped spelling such as "\u005fplaceholder" names the same key.
		switch unquote(raw) {
		case "_placeholder":
			return keyPlaceholder
		case "num":
			return keyNum
		}
	} else if len(raw) > 5 && hasEscape(raw) {
		if unquote(raw) == "num" {
			return keyNum
		}
	}
	return keyOther
}

func hasEscape(raw []byte) bool {
	for _, c := range raw {
		if c == '\\' {
			return true
		}
	}
	return false
}

// unquote decodes a JSON string the scanner has validated, exactly as
// encoding/json does (invalid UTF-8 and lone surrogates become U+FFFD).
// Only event names reach it unescaped (keyKind unquotes escaped keys alone),
// so such a string comes from the names table.
func unquote(raw []byte) string {
	inner := raw[1 : len(raw)-1]
	if !hasEscape(inner) && utf8.Valid(inner) {
		return internName(inner)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return ""
	}
	return s
}

// parseIndex parses a placeholder num: a JSON integer without sign, fraction
// or exponent; -2 otherwise.
func parseIndex(tok []byte) int64 {
	if len(tok) == 0 || len(tok) > 18 {
		return -2
	}
	var n int64
	for _, c := range tok {
		if c < '0' || c > '9' {
			return -2
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

func scanLiteral(data []byte, i int, lit string) int {
	if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// scanString returns the offset after the string starting at data[i], or -1.
func scanString(data []byte, i int) int {
	for j := i + 1; j < len(data); {
		c := data[j]
		switch {
		case c == '"':
			return j + 1
		case c < 0x20:
			return -1
		case c == '\\':
			if j+1 >= len(data) {
				return -1
			}
			switch data[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(data) {
					return -1
				}
				for _, h := range data[j+2 : j+6] {
					if !isHex(h) {
						return -1
					}
				}
				j += 6
			default:
				return -1
			}
		default:
			j++
		}
	}
	return -1
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// scanNumber returns the offset after the number starting at data[i], or -1.
func scanNumber(data []byte, i int) int {
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i >= len(data):
		return -1
	case data[i] == '0':
		i++
	case data[i] >= '1' && data[i] <= '9':
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	default:
		return -1
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || !isDigit(data[i]) {
			return -1
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !isDigit(data[i]) {
			return -1
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	return i
}
