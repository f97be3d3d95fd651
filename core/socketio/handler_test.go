package socketio

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
)

func TestCompileHandler(t *testing.T) {
	type S struct{ A int }
	for _, tc := range []struct {
		name      string
		fn        any
		withEvent bool
		wantErr   bool
		socket    bool
		nParams   int
		ack       bool
		variadic  bool
		errResult bool
	}{
		{name: "no args", fn: func() {}},
		{name: "socket only", fn: func(*Socket) {}, socket: true},
		{name: "typed args", fn: func(*Socket, string, int, S, []byte) {}, socket: true, nParams: 4},
		{name: "no socket", fn: func(string, map[string]any) {}, nParams: 2},
		{name: "variadic", fn: func(*Socket, ...any) {}, socket: true, nParams: 1, variadic: true},
		{name: "ack last", fn: func(int, AckFunc) {}, nParams: 2, ack: true},
		{name: "ack only", fn: func(AckFunc) {}, nParams: 1, ack: true},
		{name: "ack before variadic", fn: func(*Socket, AckFunc, ...int) {}, socket: true, nParams: 2, ack: true, variadic: true},
		{name: "error result", fn: func() (int, error) { return 0, nil }, errResult: true},
		{name: "results", fn: func() (int, string) { return 0, "" }},
		{name: "catch-all", fn: func(*Socket, string, ...any) {}, withEvent: true, socket: true, nParams: 1, variadic: true},
		{name: "catch-all without socket", fn: func(string) {}, withEvent: true},
		{name: "catch-all without event", fn: func(*Socket) {}, withEvent: true, wantErr: true},
		{name: "catch-all event not string", fn: func(*Socket, int) {}, withEvent: true, wantErr: true},
		{name: "socket not first", fn: func(int, *Socket) {}, wantErr: true},
		{name: "two acks", fn: func(AckFunc, AckFunc) {}, wantErr: true},
		{name: "variadic acks", fn: func(...AckFunc) {}, wantErr: true},
		{name: "not a function", fn: 42, wantErr: true},
		{name: "nil function", fn: (func())(nil), wantErr: true},
		{name: "nil", fn: nil, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := compileHandler(tc.fn, tc.withEvent)
			if tc.wantErr {
				if !errors.Is(err, ErrBadHandler) {
					t.Fatalf("err = %v, want ErrBadHandler", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.socket != tc.socket || len(h.params) != tc.nParams || (h.ackAt >= 0) != tc.ack ||
				h.variadic != tc.variadic || h.errResult != tc.errResult || h.event != tc.withEvent {
				t.Errorf("plan %+v", h)
			}
		})
	}
}

func raws(ss ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(ss))
	for i, s := range ss {
		out[i] = json.RawMessage(s)
	}
	return out
}

func TestHandlerCall(t *testing.T) {
	type point struct {
		X, Y int
		Blob []byte
	}
	ph := `{"_placeholder":true,"num":0}`
	var gotAck []any
	ack := AckFunc(func(v ...any) error { gotAck = v; return nil })
	for _, tc := range []struct {
		name    string
		fn      any
		args    []json.RawMessage
		atts    [][]byte
		want    string // fmt of the results
		took    bool
		wantErr bool
	}{
		{name: "typed", fn: func(s string, n int, f float64, b bool) string { return fmt.Sprintf("%s %d %v %v", s, n, f, b) },
			args: raws(`"a"`, `2`, `1.5`, `true`), want: "[a 2 1.5 true]"},
		{name: "missing args are zero", fn: func(s string, n int, p *point) string { return fmt.Sprint(s == "", n, p) },
			args: raws(`"x"`), want: "[false 0 <nil>]"},
		{name: "extra args ignored", fn: func(n int) int { return n }, args: raws(`1`, `2`, `3`), want: "[1]"},
		{name: "struct with binary", fn: func(p point) string { return fmt.Sprintf("%d %d %d", p.X, p.Y, p.Blob) },
			args: raws(`{"X":1,"Y":2,"Blob":` + ph + `}`), atts: [][]byte{{7, 8}}, want: "[1 2 [7 8]]"},
		{name: "bytes", fn: func(b []byte) int { return len(b) }, args: raws(ph), atts: [][]byte{{1, 2, 3}}, want: "[3]"},
		{name: "map with nested binary", fn: func(m map[string]any) string {
			b, _ := m["k"].([]any)[0].([]byte)
			return fmt.Sprintf("%d", b)
		}, args: raws(`{"k":[` + ph + `]}`), atts: [][]byte{{5}}, want: "[[5]]"},
		{name: "raw message", fn: func(r json.RawMessage) string { return string(r) }, args: raws(`{"a":[1]}`), want: `[{"a":[1]}]`},
		{name: "variadic", fn: func(first string, rest ...int) string { return fmt.Sprint(first, rest) },
			args: raws(`"f"`, `1`, `2`), want: "[f[1 2]]"},
		{name: "variadic any", fn: func(rest ...any) int { return len(rest) }, args: raws(`1`, `"x"`, `null`), want: "[3]"},
		{name: "error nil", fn: func() (int, error) { return 4, nil }, want: "[4]"},
		{name: "error", fn: func() (int, error) { return 4, errors.New("nope") }, want: "[map[message:nope]]"},
		{name: "ack param", fn: func(n int, a AckFunc) { _ = a(n + 1) }, args: raws(`1`), took: true},
		{name: "ack param first", fn: func(a AckFunc, n int) { _ = a(n * 10) }, args: raws(`2`), took: true},
		{name: "bad type", fn: func(n int) {}, args: raws(`"x"`), wantErr: true},
		{name: "bad variadic", fn: func(ns ...int) {}, args: raws(`1`, `{}`), wantErr: true},
		{name: "bad placeholder", fn: func(b []byte) {}, args: raws(`{"_placeholder":true,"num":3}`), atts: [][]byte{{1}}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := compileHandler(tc.fn, false)
			if err != nil {
				t.Fatal(err)
			}
			gotAck = nil
			res, took, err := h.call(nil, "ev", tc.args, tc.atts, ack)
			if tc.wantErr {
				if !errors.Is(err, errBadArgs) {
					t.Fatalf("err = %v, want errBadArgs", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if took != tc.took {
				t.Errorf("took = %v", took)
			}
			if tc.took {
				if len(gotAck) != 1 {
					t.Errorf("ack called with %v", gotAck)
				}
				return
			}
			if got := fmt.Sprint(res); got != tc.want {
				t.Errorf("results %s, want %s", got, tc.want)
			}
		})
	}
}

func TestHandlerCallNilAck(t *testing.T) {
	// A handler with an AckFunc parameter gets a working no-op when the
	// client asked for no acknowledgement.
	h, err := compileHandler(func(a AckFunc) error { return a(1) }, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, took, err := h.call(nil, "ev", nil, nil, nil); err != nil || !took {
		t.Fatalf("call = %v, %v", took, err)
	}
}

type classNS struct {
	connects, disconnects int
}

func (c *classNS) OnConnect(*Socket) error           { c.connects++; return nil }
func (c *classNS) OnDisconnect(*Socket, string)      { c.disconnects++ }
func (c *classNS) OnAny(*Socket, string, ...any)     {}
func (c *classNS) OnChatMessage(s *Socket, m string) {}
func (c *classNS) OnX(int) int                       { return 0 }
func (c *classNS) OnÉté()                            {}
func (c *classNS) Online() bool                      { return true } // a helper, not a handler
func (c *classNS) On()                               {}              // no event name
func (c *classNS) Helper()                           {}

type renamedNS struct{}

func (renamedNS) OnChatMessage() {}
func (renamedNS) OnOther()       {}
func (renamedNS) EventName(method string) string {
	if method == "OnChatMessage" {
		return "chat message"
	}
	return ""
}

type badConnectNS struct{}

func (badConnectNS) OnConnect(*Socket) {}

type badDisconnectNS struct{}

func (badDisconnectNS) OnDisconnect(*Socket) {}

type badEventNS struct{}

func (badEventNS) OnThing(int, *Socket) {}

type emptyNS struct{}

func (emptyNS) Helper() {}

func events(n *Namespace) []string {
	var out []string
	for e := range n.h.routes.Load().events {
		out = append(out, e)
	}
	slices.Sort(out)
	return out
}

func TestRegister(t *testing.T) {
	srv := NewServer(nil)
	defer func() { _ = srv.Close() }()

	n := srv.Of("/class")
	c := &classNS{}
	if err := n.Register(c); err != nil {
		t.Fatal(err)
	}
	if got, want := events(n), []string{"chatMessage", "x", "été"}; !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
	if len(n.h.onConnect) != 1 || len(n.h.onDisconnect) != 1 || n.h.routes.Load().any == nil {
		t.Errorf("connect %d, disconnect %d, any %v", len(n.h.onConnect), len(n.h.onDisconnect), n.h.routes.Load().any != nil)
	}
	_ = n.h.onConnect[0](nil)
	n.h.onDisconnect[0](nil, "x")
	if c.connects != 1 || c.disconnects != 1 {
		t.Errorf("the registered methods are not bound to the value: %+v", c)
	}

	r := srv.Of("/renamed")
	if err := r.Register(renamedNS{}); err != nil {
		t.Fatal(err)
	}
	if got, want := events(r), []string{"chat message", "other"}; !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}

	for _, v := range []any{badConnectNS{}, badDisconnectNS{}, badEventNS{}, emptyNS{}} {
		if err := srv.Of(fmt.Sprintf("/bad%T", v)).Register(v); !errors.Is(err, ErrBadHandler) {
			t.Errorf("Register(%T) = %v, want ErrBadHandler", v, err)
		}
	}
	if err := srv.Of("/nil").Register(nil); !errors.Is(err, ErrBadHandler) {
		t.Errorf("Register(nil) = %v, want ErrBadHandler", err)
	}
	_ = reflect.TypeOf
}
