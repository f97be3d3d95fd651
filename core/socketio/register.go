package socketio

import (
	"context"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
)

// Must panics if err is not nil; it wraps a registration made at startup,
// where a bad handler is a programming error. See "Registering handlers" in
// the package doc for why [Namespace.On] returns an error instead.
func Must(err error) {
	if err != nil {
		panic(err)
	}
}

// registrationError logs a refused registration at Error and returns it.
func (s *Server) registrationError(err error) error {
	s.log.Error("socketio: handler refused", "err", err)
	return err
}

// reservedHandlerName refuses an event name the protocol reserves, naming
// what to call instead.
func reservedHandlerName(event string) error {
	var use string
	switch event {
	case "connect":
		use = "use OnConnect (or Use for a middleware)"
	case "disconnect":
		use = "use OnDisconnect"
	case "disconnecting":
		use = "use OnDisconnect: it runs as the socket leaves, its rooms still readable through Rooms until it returns"
	case "connect_error":
		use = "connect_error is the client's event: refuse a connection by returning an error (a *ConnectError) from OnConnect or Use"
	case "newListener", "removeListener":
		use = "the name is reserved by the protocol and never reaches a handler"
	default:
		return nil
	}
	return fmt.Errorf("%w: %q: %s", ErrReservedEvent, event, use)
}

var (
	contextType         = reflect.TypeFor[context.Context]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	jsonMarshalerType   = reflect.TypeFor[json.Marshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
)

// checkDecodable refuses a parameter type that JSON can never decode into:
// channels, functions, unsafe pointers, complex numbers and interfaces other
// than any (context.Context among them: no handler is given one), in the
// type itself or in the elements of its pointers, slices, arrays and maps,
// and map keys that are not strings, integers or text unmarshalers. Struct
// fields are not inspected: decoding fails only when the client sends them.
func checkDecodable(t reflect.Type) error {
	if t == contextType {
		return fmt.Errorf("%s: a handler is given no context; JSON cannot decode into one", t)
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshalerType) || t.Implements(jsonUnmarshalerType) {
		return nil
	}
	switch t.Kind() {
	case reflect.Chan, reflect.Func, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128:
		return fmt.Errorf("%s: JSON cannot decode into a %s", t, t.Kind())
	case reflect.Interface:
		if t.NumMethod() > 0 {
			return fmt.Errorf("%s: JSON can decode only into the empty interface (any)", t)
		}
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return checkDecodable(t.Elem())
	case reflect.Map:
		k := t.Key()
		switch {
		case k.Kind() == reflect.String, k.Kind() >= reflect.Int && k.Kind() <= reflect.Uintptr,
			reflect.PointerTo(k).Implements(textUnmarshalerType):
		default:
			return fmt.Errorf("%s: JSON object keys cannot decode into %s", t, k)
		}
		return checkDecodable(t.Elem())
	}
	return nil
}

// checkEncodable refuses a result type that JSON can never encode.
func checkEncodable(t reflect.Type) error {
	if t.Implements(jsonMarshalerType) || t.Implements(textMarshalerType) {
		return nil
	}
	switch t.Kind() {
	case reflect.Chan, reflect.Func, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128:
		return fmt.Errorf("%s: JSON cannot encode a %s", t, t.Kind())
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return checkEncodable(t.Elem())
	case reflect.Map:
		if err := checkEncodable(t.Elem()); err != nil {
			return err
		}
	}
	return nil
}
