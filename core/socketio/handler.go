package socketio

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/siokit/siokit/core/parser"
)

// AckFunc acknowledges an event with the given values. A handler that takes
// an AckFunc parameter acknowledges when it wants to (at most once); its
// return values are then not sent.
type AckFunc func(args ...any) error

var (
	socketType       = reflect.TypeFor[*Socket]()
	clientSocketType = reflect.TypeFor[*ClientSocket]()
	ackFuncType      = reflect.TypeFor[AckFunc]()
	errorType        = reflect.TypeFor[error]()
	stringType       = reflect.TypeFor[string]()
	rawMessageType   = reflect.TypeFor[json.RawMessage]()
)

// handler is an event handler compiled once into a call plan.
type handler struct {
	fn        reflect.Value
	socket    bool           // first parameter is *Socket
	event     bool           // next parameter is the event name (catch-all)
	params    []reflect.Type // the remaining parameters, AckFunc included
	ackAt     int            // index in params of the AckFunc, or -1
	variadic  bool           // the last of params is the element type of ...T
	errResult bool           // last result is an error

	// direct calls the most common server handler signatures without
	// reflection (nil for the others); see directCall.
	direct func(s *Socket, args []json.RawMessage, ack AckFunc) bool
}

// compileHandler checks fn's signature: func([*Socket,] [event string,]
// params...) (results... [, error]), where at most one parameter is an
// AckFunc and the others are decoded from the event's arguments. withEvent
// requires the event name parameter of a catch-all handler.
func compileHandler(fn any, withEvent bool) (*handler, error) {
	return compileHandlerFor(fn, withEvent, socketType)
}

// compileHandlerFor is compileHandler with self, the type of the optional
// first parameter: *Socket on the server, *ClientSocket on the client.
func compileHandlerFor(fn any, withEvent bool, self reflect.Type) (*handler, error) {
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func || v.IsNil() {
		return nil, fmt.Errorf("%w: %T is not a function", ErrBadHandler, fn)
	}
	t := v.Type()
	h := &handler{fn: v, ackAt: -1, variadic: t.IsVariadic()}
	in := make([]reflect.Type, t.NumIn())
	for i := range in {
		in[i] = t.In(i)
	}
	if len(in) > 0 && in[0] == self {
		h.socket = true
		in = in[1:]
	}
	if withEvent {
		if len(in) == 0 || in[0] != stringType {
			return nil, fmt.Errorf("%w: catch-all %s must take the event name (string) after *Socket", ErrBadHandler, t)
		}
		h.event = true
		in = in[1:]
	}
	if h.variadic {
		in[len(in)-1] = in[len(in)-1].Elem()
	}
	for i, p := range in {
		variadicTail := h.variadic && i == len(in)-1
		switch {
		case p == ackFuncType && h.ackAt < 0 && !variadicTail:
			h.ackAt = i
		case p == socketType || p == clientSocketType || p == ackFuncType:
			return nil, fmt.Errorf("%w: %s: *Socket comes first, and one AckFunc at most, not variadic", ErrBadHandler, t)
		}
	}
	for i, p := range in {
		if i == h.ackAt {
			continue
		}
		if err := checkDecodable(p); err != nil {
			return nil, fmt.Errorf("%w: %s: parameter %d: %w", ErrBadHandler, t, i, err)
		}
	}
	h.params = in
	n := t.NumOut()
	if n > 0 && t.Out(n-1) == errorType {
		h.errResult = true
		n--
	}
	for i := range n {
		if err := checkEncodable(t.Out(i)); err != nil {
			return nil, fmt.Errorf("%w: %s: result %d: %w", ErrBadHandler, t, i, err)
		}
	}
	if self == socketType && !withEvent {
		h.direct = directCall(fn)
	}
	return h, nil
}

// noAck stands in for the AckFunc of an event the client sent without an id.
func noAck(...any) error { return nil }

// directCall returns a reflection-free caller for fn when its signature is
// one of the most common ones, all taking raw or untyped arguments; nil
// otherwise. The caller reports whether the handler took the AckFunc.
func directCall(fn any) func(s *Socket, args []json.RawMessage, ack AckFunc) bool {
	orNoop := func(ack AckFunc) AckFunc {
		if ack == nil {
			return noAck
		}
		return ack
	}
	switch f := fn.(type) {
	case func(*Socket):
		return func(s *Socket, _ []json.RawMessage, _ AckFunc) bool { f(s); return false }
	case func(*Socket, ...json.RawMessage):
		return func(s *Socket, args []json.RawMessage, _ AckFunc) bool { f(s, args...); return false }
	case func(*Socket, AckFunc, ...json.RawMessage):
		return func(s *Socket, args []json.RawMessage, ack AckFunc) bool { f(s, orNoop(ack), args...); return true }
	case func(*Socket, ...any):
		return func(s *Socket, args []json.RawMessage, _ AckFunc) bool { f(s, untyped(args)...); return false }
	case func(*Socket, AckFunc, ...any):
		return func(s *Socket, args []json.RawMessage, ack AckFunc) bool {
			f(s, orNoop(ack), untyped(args)...)
			return true
		}
	}
	return nil
}

// untyped decodes JSON arguments into any values, as a ...any parameter
// receives them. The arguments were validated when the packet was decoded.
func untyped(args []json.RawMessage) []any {
	out := make([]any, len(args))
	for i, a := range args {
		_ = json.Unmarshal(a, &out[i])
	}
	return out
}

// errBadArgs reports event arguments that do not decode into the handler's
// parameter types.
var errBadArgs = errors.New("socketio: event arguments do not match the handler")

// call decodes the arguments and runs the handler. It returns the values to
// acknowledge with, and whether the handler took over acknowledging.
func (h *handler) call(s *Socket, event string, args []json.RawMessage, atts [][]byte, ack AckFunc) ([]any, bool, error) {
	if h.direct != nil && len(atts) == 0 {
		return nil, h.direct(s, args, ack), nil
	}
	return h.invoke(reflect.ValueOf(s), event, args, atts, ack)
}

// invoke is call with the first argument, when the handler takes one, given
// as a reflect.Value of the handler's self type.
func (h *handler) invoke(self reflect.Value, event string, args []json.RawMessage, atts [][]byte, ack AckFunc) ([]any, bool, error) {
	in := make([]reflect.Value, 0, 3+len(h.params)+len(args))
	if h.socket {
		in = append(in, self)
	}
	if h.event {
		in = append(in, reflect.ValueOf(event))
	}
	last := len(h.params)
	if h.variadic {
		last--
	}
	next := 0 // the next event argument to decode
	for i := 0; i < last; i++ {
		if i == h.ackAt {
			if ack == nil {
				ack = func(...any) error { return nil }
			}
			in = append(in, reflect.ValueOf(ack))
			continue
		}
		v, err := decodeArg(h.params[i], args, next, atts)
		if err != nil {
			return nil, false, err
		}
		in = append(in, v)
		next++
	}
	if h.variadic {
		for ; next < len(args); next++ {
			v, err := decodeArg(h.params[last], args, next, atts)
			if err != nil {
				return nil, false, err
			}
			in = append(in, v)
		}
	}
	out := h.fn.Call(in)
	if h.ackAt >= 0 {
		return nil, true, nil
	}
	if h.errResult {
		e := out[len(out)-1]
		out = out[:len(out)-1]
		if !e.IsNil() {
			err, _ := e.Interface().(error)
			return []any{map[string]string{"message": err.Error()}}, false, nil
		}
	}
	res := make([]any, len(out))
	for i, o := range out {
		res[i] = o.Interface()
	}
	return res, false, nil
}

// decodeArg decodes args[i] into a new value of type t, or the zero value
// when the client sent fewer arguments.
func decodeArg(t reflect.Type, args []json.RawMessage, i int, atts [][]byte) (reflect.Value, error) {
	if i >= len(args) {
		return reflect.Zero(t), nil
	}
	if t == rawMessageType && len(atts) == 0 {
		// Already validated JSON that the handler owns: no copy, no decode.
		return reflect.ValueOf(args[i]), nil
	}
	p := reflect.New(t)
	if err := parser.Unmarshal(args[i], atts, p.Interface()); err != nil {
		return reflect.Value{}, fmt.Errorf("%w: argument %d into %s: %w", errBadArgs, i, t, err)
	}
	return p.Elem(), nil
}

// Register installs the methods of a handler value on the namespace, as
// python-socketio's Namespace classes do:
//
//   - OnConnect(*Socket) error: the connect handler;
//   - OnDisconnect(*Socket, string): the disconnect handler;
//   - OnAny(*Socket, string, ...): the catch-all handler;
//   - every other method named On<Name> handles the event "<name>", the name
//     with its first letter in lower case ("OnChatMessage" handles
//     "chatMessage"). A method EventName(method string) string, when
//     present, overrides that mapping.
//
// Method signatures follow the rules of [Namespace.On].
func (n *Namespace) Register(v any) error {
	return registerMethods(v, n.On, n.OnAny, func(method string, fn any) (bool, error) {
		switch method {
		case "OnConnect":
			f, ok := fn.(func(*Socket) error)
			if !ok {
				return true, fmt.Errorf("%w: OnConnect must be func(*Socket) error", ErrBadHandler)
			}
			n.OnConnect(f)
		case "OnDisconnect":
			f, ok := fn.(func(*Socket, string))
			if !ok {
				return true, fmt.Errorf("%w: OnDisconnect must be func(*Socket, string)", ErrBadHandler)
			}
			n.OnDisconnect(f)
		default:
			return false, nil
		}
		return true, nil
	})
}

// registerMethods installs the On<Name> methods of v, for the server's and
// the client's Register: special handles the lifecycle methods (reporting
// whether it took the method), OnAny goes to onAny, every other method to on
// with its event name.
func registerMethods(v any, on func(string, any) error, onAny func(any) error, special func(string, any) (bool, error)) error {
	if v == nil {
		return fmt.Errorf("%w: Register(nil)", ErrBadHandler)
	}
	rv := reflect.ValueOf(v)
	rt := rv.Type()
	namer, _ := v.(interface{ EventName(method string) string })
	registered := 0
	for i := 0; i < rt.NumMethod(); i++ {
		m := rt.Method(i)
		name, ok := strings.CutPrefix(m.Name, "On")
		if r, _ := utf8.DecodeRuneInString(name); !ok || !unicode.IsUpper(r) {
			continue // not On<Name>: a helper such as Online or Once
		}
		fn := rv.Method(i).Interface()
		took, err := special(m.Name, fn)
		switch {
		case took:
		case m.Name == "OnAny":
			err = onAny(fn)
		default:
			event := lowerFirst(name)
			if namer != nil {
				if e := namer.EventName(m.Name); e != "" {
					event = e
				}
			}
			err = on(event, fn)
		}
		if err != nil {
			return fmt.Errorf("socketio: Register %s.%s: %w", rt, m.Name, err)
		}
		registered++
	}
	if registered == 0 {
		return fmt.Errorf("%w: %s has no On... methods", ErrBadHandler, rt)
	}
	return nil
}

func lowerFirst(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[size:]
}
