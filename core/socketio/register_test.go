package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"unsafe"
)

func quietServer(t *testing.T) *Server {
	t.Helper()
	srv := NewServer(&Options{Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func TestOnRefusesReservedNames(t *testing.T) {
	for _, tc := range []struct{ event, names string }{
		{"connect", "OnConnect"},
		{"disconnect", "OnDisconnect"},
		{"disconnecting", "OnDisconnect"},
		{"connect_error", "OnConnect"},
		{"newListener", "reserved"},
		{"removeListener", "reserved"},
	} {
		t.Run(tc.event, func(t *testing.T) {
			srv := quietServer(t)
			for _, on := range []func(string, any) error{srv.On, srv.Of("/chat").On} {
				err := on(tc.event, func(*Socket) {})
				if !errors.Is(err, ErrReservedEvent) || !strings.Contains(err.Error(), tc.names) {
					t.Errorf("On(%q) = %v, want ErrReservedEvent naming %s", tc.event, err, tc.names)
				}
			}
		})
	}
	if err := quietServer(t).On("connection", func() {}); err != nil {
		t.Errorf("On(\"connection\") = %v: only the protocol's names are reserved", err)
	}
}

func TestOnRefusesTypesJSONCannotHandle(t *testing.T) {
	type withChan struct{ C chan int } // fields are not inspected
	for _, tc := range []struct {
		name string
		fn   any
		ok   bool
	}{
		{"context", func(context.Context) {}, false},
		{"socket then context", func(*Socket, context.Context, string) {}, false},
		{"channel", func(chan int) {}, false},
		{"func", func(func()) {}, false},
		{"unsafe pointer", func(unsafe.Pointer) {}, false},
		{"complex", func(complex128) {}, false},
		{"error interface", func(error) {}, false},
		{"slice of channels", func([]chan int) {}, false},
		{"pointer to func", func(*func()) {}, false},
		{"map with struct keys", func(map[struct{ A int }]int) {}, false},
		{"variadic complex", func(...complex64) {}, false},
		{"func result", func() func() { return nil }, false},
		{"complex result before error", func() (complex64, error) { return 0, nil }, false},
		{"any", func(any, ...any) {}, true},
		{"struct with a chan field", func(withChan) {}, true},
		{"bytes and maps", func([]byte, map[string]any, map[int]string, *int) {}, true},
		{"raw", func(...json.RawMessage) {}, true},
		{"ack", func(AckFunc) {}, true},
		{"results", func() (map[string]int, []byte, error) { return nil, nil, nil }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := quietServer(t).On("ev", tc.fn)
			if tc.ok && err != nil {
				t.Errorf("On = %v, want nil", err)
			}
			if !tc.ok && !errors.Is(err, ErrBadHandler) {
				t.Errorf("On = %v, want ErrBadHandler", err)
			}
		})
	}
}

func TestRegistrationRefusalIsLogged(t *testing.T) {
	logs := &capture{}
	srv := NewServer(&Options{Logger: slog.New(logs)})
	t.Cleanup(func() { _ = srv.Close() })
	_ = srv.On("connect", func() {}) // unchecked, as careless code does
	rs := logs.records()
	if len(rs) != 1 || rs[0].Level != slog.LevelError || !strings.Contains(rs[0].Message, "refused") {
		t.Fatalf("records %v, want one Error", rs)
	}
}

func TestMust(t *testing.T) {
	Must(nil)
	defer func() {
		if v := recover(); v == nil {
			t.Error("Must(err) did not panic")
		}
	}()
	Must(quietServer(t).On("connect", func() {}))
}

func TestOperationsAfterCloseReturnErrServerClosed(t *testing.T) {
	srv := newTestServer(t)
	c := dialMem(t, srv)
	s := c.connect(srv)
	nsp := srv.Of("/")
	parent := srv.OfFunc(func(string, json.RawMessage) bool { return true })
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		op   func() error
	}{
		{"Server.On", func() error { return srv.On("e", func() {}) }},
		{"Server.OnAny", func() error { return srv.OnAny(func(string) {}) }},
		{"Server.Emit", func() error { return srv.Emit("e") }},
		{"Server.Send", func() error { return srv.Send(1) }},
		{"Server.To.Emit", func() error { return srv.To("r").Emit("e") }},
		{"Server.Except.Emit", func() error { return srv.Except("r").Emit("e") }},
		{"Server.Timeout.EmitWithAck", func() error {
			_, err := srv.Timeout(1).EmitWithAck(ctx, "e")
			return err
		}},
		{"Server.FetchSockets", func() error { _, err := srv.FetchSockets(ctx); return err }},
		{"Namespace.On", func() error { return nsp.On("e", func() {}) }},
		{"Namespace.OnServerSideEmit", func() error { return nsp.OnServerSideEmit("e", func() {}) }},
		{"Namespace.Emit", func() error { return nsp.Emit("e") }},
		{"Namespace.Volatile.Emit", func() error { return nsp.Volatile().Emit("e") }},
		{"Namespace.Local.Emit", func() error { return nsp.Local().Emit("e") }},
		{"Namespace.EmitWithAck", func() error { _, err := nsp.EmitWithAck(ctx, "e"); return err }},
		{"Namespace.ServerSideEmit", func() error { return nsp.ServerSideEmit("e") }},
		{"Namespace.ServerSideEmitWithAck", func() error { _, err := nsp.ServerSideEmitWithAck(ctx, "e"); return err }},
		{"ParentNamespace.Emit", func() error { return parent.Emit("e") }},
		{"ParentNamespace.On", func() error { return parent.On("e", func() {}) }},
		{"Socket.Emit", func() error { return s.Emit("e") }},
		{"Socket.EmitVolatile", func() error { return s.EmitVolatile("e") }},
		{"Socket.EmitWithAck", func() error { _, err := s.EmitWithAck(ctx, "e"); return err }},
		{"Socket.To.Emit", func() error { return s.To("r").Emit("e") }},
		{"Socket.Broadcast.Emit", func() error { return s.Broadcast().Emit("e") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.op(); !errors.Is(err, ErrServerClosed) {
				t.Errorf("err = %v, want ErrServerClosed", err)
			}
		})
	}
	if err := s.Emit("e"); !errors.Is(err, ErrDisconnected) {
		t.Errorf("Socket.Emit after Close = %v, want it to match ErrDisconnected too", err)
	}
}
