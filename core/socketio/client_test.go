package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/core/engineio"
)

func TestClientOptionsDefaults(t *testing.T) {
	tests := []struct {
		name  string
		in    *ClientOptions
		check func(o ClientOptions) bool
	}{
		{"nil", nil, func(o ClientOptions) bool {
			return o.Engine.Path == DefaultPath && *o.Reconnection && o.ReconnectionAttempts == 0 &&
				*o.ReconnectionDelay == time.Second && o.ReconnectionDelayMax == 5*time.Second &&
				*o.RandomizationFactor == 0.5 && o.Timeout == 20*time.Second && *o.BufferWhileDisconnected && o.Logger != nil
		}},
		{"disabled reconnection and buffering", &ClientOptions{Reconnection: new(false), BufferWhileDisconnected: new(false)},
			func(o ClientOptions) bool { return !*o.Reconnection && !*o.BufferWhileDisconnected }},
		{"max below delay", &ClientOptions{ReconnectionDelay: new(3 * time.Second), ReconnectionDelayMax: time.Second},
			func(o ClientOptions) bool { return o.ReconnectionDelayMax == 3*time.Second }},
		{"explicit zeros", &ClientOptions{ReconnectionDelay: new(time.Duration(0)), RandomizationFactor: new(0.0)},
			func(o ClientOptions) bool { return *o.ReconnectionDelay == 0 && *o.RandomizationFactor == 0 }},
		{"negatives are zero", &ClientOptions{ReconnectionDelay: new(-time.Second), RandomizationFactor: new(-1.0)},
			func(o ClientOptions) bool { return *o.ReconnectionDelay == 0 && *o.RandomizationFactor == 0 }},
		{"namespaces get a slash", &ClientOptions{Namespaces: []string{"chat", "/admin"}},
			func(o ClientOptions) bool { return o.Namespaces[0] == "/chat" && o.Namespaces[1] == "/admin" }},
		{"factor capped", &ClientOptions{RandomizationFactor: new(7.0)}, func(o ClientOptions) bool { return *o.RandomizationFactor == 1 }},
		{"custom path kept", &ClientOptions{Engine: engineio.ClientOptions{Path: "/io/"}}, func(o ClientOptions) bool { return o.Engine.Path == "/io/" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if o := tc.in.withDefaults(); !tc.check(o) {
				t.Errorf("withDefaults() = %+v", o)
			}
		})
	}
}

func TestClientBackoff(t *testing.T) {
	c := NewClient("http://127.0.0.1:1", &ClientOptions{RandomizationFactor: new(0.0)})
	defer func() { _ = c.Close() }()
	for n, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second} {
		if got := c.backoff(n); got != want {
			t.Errorf("backoff(%d) = %v, want %v", n, got, want)
		}
	}
	if got := c.backoff(1000); got != 5*time.Second {
		t.Errorf("backoff(1000) = %v", got)
	}
	j := NewClient("http://127.0.0.1:1", &ClientOptions{RandomizationFactor: new(0.5)})
	defer func() { _ = j.Close() }()
	seen := map[time.Duration]bool{}
	for range 200 {
		d := j.backoff(1) // 2s ± 1s
		if d < time.Second || d > 3*time.Second {
			t.Fatalf("jittered backoff(1) = %v, outside [1s, 3s]", d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Errorf("jitter produced %d distinct delays in 200 draws", len(seen))
	}
	z := NewClient("http://127.0.0.1:1", &ClientOptions{ReconnectionDelay: new(time.Duration(0)), RandomizationFactor: new(0.0)})
	defer func() { _ = z.Close() }()
	for n := range 5 {
		if got := z.backoff(n); got != 0 {
			t.Errorf("backoff(%d) with a zero delay = %v, want 0", n, got)
		}
	}
}

// TestClientOptionsCopied checks that NewClient keeps a copy of its
// options: what the caller changes afterwards does not reach the client.
func TestClientOptionsCopied(t *testing.T) {
	o := &ClientOptions{
		Reconnection: new(true), RandomizationFactor: new(0.25), ReconnectionDelay: new(time.Second),
		Engine: engineio.ClientOptions{Transports: []string{"websocket"}, Header: http.Header{"X-A": {"1"}},
			Query: url.Values{"q": {"1"}}},
		Namespaces: []string{"/a"},
	}
	c := NewClient("http://127.0.0.1:1", o)
	defer func() { _ = c.Close() }()
	*o.Reconnection, *o.RandomizationFactor, *o.ReconnectionDelay = false, 1, time.Hour
	o.Engine.Transports[0] = "polling"
	o.Engine.Header.Set("X-A", "2")
	o.Engine.Query.Set("q", "2")
	o.Namespaces[0] = "/b"
	o.AuthFunc = func(context.Context, string) (any, error) { return nil, nil }
	got := c.opts
	if !*got.Reconnection || *got.RandomizationFactor != 0.25 || *got.ReconnectionDelay != time.Second ||
		got.Engine.Transports[0] != "websocket" || got.Engine.Header.Get("X-A") != "1" ||
		got.Engine.Query.Get("q") != "1" || got.Namespaces[0] != "/a" || got.AuthFunc != nil {
		t.Errorf("the client's options changed with the caller's: %+v", got)
	}
}

func TestWithRecovery(t *testing.T) {
	tests := []struct {
		auth, pid, offset, want string
	}{
		{"", "p1", "", `{"pid":"p1"}`},
		{"", "p1", "o9", `{"offset":"o9","pid":"p1"}`},
		{`{"token":"x"}`, "p1", "o9", `{"offset":"o9","pid":"p1","token":"x"}`},
		{`{"pid":"mine"}`, "p1", "", `{"pid":"mine"}`}, // the auth's own fields win, as in the official client
	}
	for _, tc := range tests {
		if got := string(withRecovery(json.RawMessage(tc.auth), tc.pid, tc.offset)); got != tc.want {
			t.Errorf("withRecovery(%s, %s, %s) = %s, want %s", tc.auth, tc.pid, tc.offset, got, tc.want)
		}
	}
}

func TestParseRefusal(t *testing.T) {
	tests := []struct {
		data       string
		msg, extra string
		badNsp     bool
	}{
		{`{"message":"Invalid namespace"}`, "Invalid namespace", "", true},
		{`"Unable to connect"`, "Unable to connect", "", true},
		{`{"message":"unauthorized","data":{"reason":"bad token"}}`, "unauthorized", `{"reason":"bad token"}`, false},
		{`{"message":"no","data":null}`, "no", "", false},
	}
	for _, tc := range tests {
		e := parseRefusal("/x", []byte(tc.data))
		if e.Message != tc.msg || string(e.Data) != tc.extra || e.Namespace != "/x" {
			t.Errorf("parseRefusal(%s) = %+v", tc.data, e)
		}
		var err error = e
		if !errors.Is(err, ErrConnectionRefused) || errors.Is(err, ErrBadNamespace) != tc.badNsp || errors.Is(err, ErrTimeout) {
			t.Errorf("%s: errors.Is refused %v, bad namespace %v (want %v)", tc.data,
				errors.Is(err, ErrConnectionRefused), errors.Is(err, ErrBadNamespace), tc.badNsp)
		}
		if tc.extra == "" && e.DecodeData(new(any)) == nil {
			t.Errorf("%s: DecodeData without data succeeded", tc.data)
		}
	}
}

func TestAuthPayload(t *testing.T) {
	tests := []struct {
		auth    any
		fn      func(context.Context, string) (any, error)
		want    string
		wantErr string
	}{
		{auth: nil, want: ""},
		{auth: map[string]int{"a": 1}, want: `{"a":1}`},
		{auth: struct {
			Token string `json:"token"`
		}{"t"}, want: `{"token":"t"}`},
		{auth: "a string", wantErr: "JSON object"},
		{auth: []int{1}, wantErr: "JSON object"},
		{auth: func() {}, wantErr: "unsupported type"},
		{fn: func(_ context.Context, nsp string) (any, error) { return map[string]string{"nsp": nsp}, nil }, want: `{"nsp":"/n"}`},
		{fn: func(context.Context, string) (any, error) { return nil, errors.New("no token") }, wantErr: "no token"},
	}
	for i, tc := range tests {
		c := &Client{opts: (&ClientOptions{Auth: tc.auth, AuthFunc: tc.fn}).withDefaults()}
		got, err := c.authPayload(context.Background(), "/n")
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%d: err %v, want %q", i, err, tc.wantErr)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("%d: authPayload = %s, %v; want %s", i, got, err, tc.want)
		}
	}
}

type chatHandlers struct{ got chan string }

func (h *chatHandlers) OnConnect()                      { h.got <- "connect" }
func (h *chatHandlers) OnDisconnect(reason string)      { h.got <- reason }
func (h *chatHandlers) OnConnectError(err error)        { h.got <- err.Error() }
func (h *chatHandlers) OnChatMessage(text string) bool  { return text != "" }
func (h *chatHandlers) OnAny(event string, args ...any) {}

type badClientHandlers struct{}

func (badClientHandlers) OnConnect(s *Socket) error { return nil }

func TestClientHandlers(t *testing.T) {
	c := NewClient("http://127.0.0.1:1", nil)
	defer func() { _ = c.Close() }()
	s := c.Socket()
	if err := s.Register(&chatHandlers{}); err != nil {
		t.Fatalf("Register: %v", err)
	}
	if s.events["chatMessage"] == nil || s.anyHandler == nil || len(s.connectFns) != 1 || len(s.onDisconnect) != 1 || len(s.onConnectErr) != 1 {
		t.Errorf("Register installed events %v, catch-all %v", s.events, s.anyHandler != nil)
	}
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"server handlers", s.Register(badClientHandlers{})},
		{"nothing to register", s.Register(struct{}{})},
		{"not a function", s.On("x", 42)},
		{"server socket", s.On("x", func(*Socket) {})},
		{"socket not first", s.On("x", func(int, *ClientSocket) {})},
		{"catch-all without name", s.OnAny(func(args ...any) {})},
	} {
		if !errors.Is(tc.err, ErrBadHandler) {
			t.Errorf("%s: %v, want ErrBadHandler", tc.name, tc.err)
		}
	}
	if err := s.On("x", func(s *ClientSocket, n int, ack AckFunc) {}); err != nil {
		t.Errorf("client handler with socket and AckFunc: %v", err)
	}
}

// TestClientOffline covers what a client does with no server: emits before
// Connect are queued (or refused without buffering), volatile ones dropped,
// and a closed client refuses everything and finishes.
func TestClientOffline(t *testing.T) {
	c := NewClient("http://127.0.0.1:1", nil)
	if err := c.Emit("early", 1); err != nil {
		t.Errorf("Emit before Connect = %v, want queued", err)
	}
	if err := c.Socket().EmitVolatile("v"); err != nil {
		t.Errorf("EmitVolatile before Connect = %v, want dropped silently", err)
	}
	if err := c.Emit("disconnect"); !errors.Is(err, ErrReservedEvent) {
		t.Errorf("Emit(disconnect) = %v", err)
	}
	if err := c.Emit("bad", func() {}); err == nil {
		t.Error("Emit of a function succeeded")
	}
	if n := len(c.Socket().buf); n != 1 {
		t.Errorf("%d packets queued, want 1", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Connect(ctx); !errors.Is(err, ErrConnection) {
		t.Errorf("Connect to a closed port = %v, want ErrConnection", err)
	}
	acked := make(chan error, 1)
	go func() { _, err := c.EmitWithAck(context.Background(), "queued"); acked <- err }()
	time.Sleep(10 * time.Millisecond) // let it queue; Close must fail it either way
	_ = c.Close()
	select {
	case err := <-acked:
		if !errors.Is(err, ErrDisconnected) {
			t.Errorf("EmitWithAck queued at Close = %v, want ErrDisconnected", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a queued EmitWithAck outlived Close")
	}
	if err := c.Wait(ctx); err != nil {
		t.Fatalf("Wait after Close: %v", err)
	}
	if err := c.Emit("late"); !errors.Is(err, ErrDisconnected) {
		t.Errorf("Emit after Close = %v, want ErrDisconnected", err)
	}
	if err := c.Connect(ctx); !errors.Is(err, ErrClientClosed) {
		t.Errorf("Connect after Close = %v, want ErrClientClosed", err)
	}
	if err := c.Socket().Connect(ctx); !errors.Is(err, ErrClientClosed) {
		t.Errorf("ClientSocket.Connect after Close = %v, want ErrClientClosed", err)
	}

	nb := NewClient("http://127.0.0.1:1", &ClientOptions{BufferWhileDisconnected: new(false)})
	if err := nb.Emit("x"); !errors.Is(err, ErrDisconnected) {
		t.Errorf("Emit without buffering = %v, want ErrDisconnected", err)
	}
	if err := nb.Socket().Connect(ctx); !errors.Is(err, ErrDisconnected) {
		t.Errorf("ClientSocket.Connect before Client.Connect = %v, want ErrDisconnected", err)
	}
	_ = nb.Close()
	<-nb.Done()
}
