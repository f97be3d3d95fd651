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
	socketType  = reflect.TypeFor[*Socket]()
	ackFuncType = reflect.TypeFor[AckFunc]()
	errorType   = reflect.TypeFor[error]()
	stringType  = reflect.TypeFor[string]()
)

// handler is an event handler compiled once into a call plan.
type handler struct {
	fn        reflect.Value
	name      string
	socket    bool           // first parameter is *Socket
	event     bool           // next parameter is the event name (catch-all)
	params    []reflect.Type // decoded from the event's arguments
	variadic  bool           // the last of params is the element type of ...T
	ackParam  bool           // last parameter is an AckFunc
	errResult bool           // last result is an error
}

// compileHandler checks fn's signature: func([*Socket,] [event string,]
// args... [, AckFunc]) (results... [, error]). withEvent requires the event
// name parameter of a catch-all handler.
func compileHandler(fn any, withEvent bool) (*handler, error) {
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func || v.IsNil() {
		return nil, fmt.Errorf("%w: %T is not a function", ErrBadHandler, fn)
	}
	t := v.Type()
	h := &handler{fn: v, name: t.String()}
	in := make([]reflect.Type, t.NumIn())
	for i := range in {
		in[i] = t.In(i)
	}
	if len(in) > 0 && in[0] == socketType {
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
	if n := len(in); n > 0 && in[n-1] == ackFuncType {
		if t.IsVariadic() {
			return nil, fmt.Errorf("%w: %s: AckFunc cannot follow a variadic parameter", ErrBadHandler, t)
		}
		h.ackParam = true
		in = in[:n-1]
	}
	h.variadic = t.IsVariadic()
	if h.variadic {
		in[len(in)-1] = in[len(in)-1].Elem()
	}
	for _, p := range in {
		if p == socketType || p == ackFuncType {
			return nil, fmt.Errorf("%w: %s: *Socket comes first and AckFunc last", ErrBadHandler, t)
		}
	}
	h.params = in
	if n := t.NumOut(); n > 0 && t.Out(n-1) == errorType {
		h.errResult = true
	}
	return h, nil
}

// errBadArgs reports event arguments that do not decode into the handler's
// parameter types.
var errBadArgs = errors.New("socketio: event arguments do not match the handler")

// call decodes the arguments and runs the handler. It returns the values to
// acknowledge with, and whether the handler took over acknowledging.
func (h *handler) call(s *Socket, event string, args []json.RawMessage, atts [][]byte, ack AckFunc) ([]any, bool, error) {
	in := make([]reflect.Value, 0, 3+len(h.params))
	if h.socket {
		in = append(in, reflect.ValueOf(s))
	}
	if h.event {
		in = append(in, reflect.ValueOf(event))
	}
	fixed := len(h.params)
	if h.variadic {
		fixed--
	}
	for i := 0; i < fixed; i++ {
		v, err := decodeArg(h.params[i], args, i, atts)
		if err != nil {
			return nil, false, err
		}
		in = append(in, v)
	}
	if h.variadic {
		elem := h.params[fixed]
		for i := fixed; i < len(args); i++ {
			v, err := decodeArg(elem, args, i, atts)
			if err != nil {
				return nil, false, err
			}
			in = append(in, v)
		}
	}
	if h.ackParam {
		if ack == nil {
			ack = func(...any) error { return nil }
		}
		in = append(in, reflect.ValueOf(ack))
	}
	out := h.fn.Call(in)
	if h.ackParam {
		return nil, true, nil
	}
	if h.errResult {
		last := out[len(out)-1]
		out = out[:len(out)-1]
		if !last.IsNil() {
			err, _ := last.Interface().(error)
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
	rv := reflect.ValueOf(v)
	rt := rv.Type()
	namer, _ := v.(interface{ EventName(method string) string })
	registered := 0
	for i := 0; i < rt.NumMethod(); i++ {
		m := rt.Method(i)
		name, ok := strings.CutPrefix(m.Name, "On")
		if !ok || name == "" {
			continue
		}
		fn := rv.Method(i).Interface()
		var err error
		switch m.Name {
		case "OnConnect":
			f, ok := fn.(func(*Socket) error)
			if !ok {
				return fmt.Errorf("%w: OnConnect must be func(*Socket) error", ErrBadHandler)
			}
			n.OnConnect(f)
		case "OnDisconnect":
			f, ok := fn.(func(*Socket, string))
			if !ok {
				return fmt.Errorf("%w: OnDisconnect must be func(*Socket, string)", ErrBadHandler)
			}
			n.OnDisconnect(f)
		case "OnAny":
			err = n.OnAny(fn)
		default:
			event := lowerFirst(name)
			if namer != nil {
				if e := namer.EventName(m.Name); e != "" {
					event = e
				}
			}
			err = n.On(event, fn)
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
