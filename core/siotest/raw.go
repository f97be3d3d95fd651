package siotest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/siokit/siokit/core/eiotest"
	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/parser"
	"github.com/siokit/siokit/core/socketio"
	"github.com/siokit/siokit/core/socketio/manager"
)

// rawScenario is one end-to-end behaviour of the Socket.IO server, driven in
// raw frames through a mount.
type rawScenario struct {
	name string
	run  func(t *testing.T, mount eiotest.Mount)
}

var rawScenarios = []rawScenario{
	{"ConnectNamespaces", rawConnectNamespaces},
	{"ConnectPolling", rawConnectPolling},
	{"UnknownNamespace", rawUnknownNamespace},
	{"DuplicateConnectAndNotJoined", rawProtocolViolations},
	{"MalformedPackets", rawMalformed},
	{"ErrorEventIsUserEvent", rawErrorEvent},
	{"AckIgnoredWhenUnknownOrRepeated", rawAckOnce},
	{"BadPlaceholders", rawBadPlaceholders},
	{"TooManyAttachments", rawTooManyAttachments},
	{"BinaryState", rawBinaryState},
	{"Limits", rawLimits},
	{"DeepNesting", rawDeepNesting},
	{"HandlerPanic", rawHandlerPanic},
	{"ConnectTimeout", rawConnectTimeout},
	{"BinaryEvents", rawBinaryEvents},
	{"BinaryAck", rawBinaryAck},
	{"AckTimeoutAndDisconnect", rawAckTimeout},
	{"Sessions", rawSessions},
	{"Rooms", rawRooms},
	{"ServerUtilities", rawServerUtilities},
	{"DynamicNamespaces", rawDynamicNamespaces},
	{"Middleware", rawMiddleware},
	{"PacketMiddleware", rawPacketMiddleware},
	{"OutgoingAndVolatile", rawOutgoingVolatile},
	{"ServerDisconnect", rawServerDisconnect},
	{"DisconnectReasons", rawDisconnectReasons},
	{"ServerCloseUnderTraffic", rawServerClose},
	{"Recovery", rawRecovery},
}

// RunRaw runs the Socket.IO scenario table as subtests, each against fresh
// servers mounted with mount, speaking raw Engine.IO and Socket.IO frames.
func RunRaw(t *testing.T, mount eiotest.Mount) {
	t.Helper()
	for _, sc := range rawScenarios {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, mount) })
	}
}

// sockets collects the sockets of a namespace as they connect.
type sockets struct {
	ch chan *socketio.Socket
}

func newSockets() *sockets { return &sockets{ch: make(chan *socketio.Socket, 64)} }

func (s *sockets) onConnect(so *socketio.Socket) error {
	s.ch <- so
	return nil
}

func (s *sockets) next(t testing.TB) *socketio.Socket {
	t.Helper()
	return recvChan(t, s.ch, "a socket to connect")
}

// reasons collects disconnect reasons.
type reasons struct{ ch chan string }

func newReasons() *reasons { return &reasons{ch: make(chan string, 64)} }

func (r *reasons) onDisconnect(s *socketio.Socket, reason string) { r.ch <- reason }

func (r *reasons) expect(t testing.TB, want string) {
	t.Helper()
	if got := recvChan(t, r.ch, "a disconnect"); got != want {
		t.Errorf("disconnect reason %q, want %q", got, want)
	}
}

// counter counts handler calls.
type counter struct{ n atomic.Int64 }

func (c *counter) handler(...any) { c.n.Add(1) }

func (c *counter) anyHandler(s *socketio.Socket, event string, args ...any) { c.n.Add(1) }

// decodeArray decodes the JSON array of a packet after prefix.
func decodeArray(t testing.TB, packet, prefix string) []any {
	t.Helper()
	rest, ok := strings.CutPrefix(packet, prefix)
	if !ok {
		t.Fatalf("packet %q does not start with %q", packet, prefix)
	}
	var out []any
	if err := json.Unmarshal([]byte(rest), &out); err != nil {
		t.Fatalf("packet %q: %v", packet, err)
	}
	return out
}

// ackID reads the ack id at the start of s and returns it with the rest.
func ackID(t testing.TB, s string) (string, string) {
	t.Helper()
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		t.Fatalf("no ack id in %q", s)
	}
	return s[:i], s[i:]
}

func rawConnectNamespaces(t *testing.T, mount eiotest.Mount) {
	auths := make(chan string, 4)
	e := startRaw(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		registerEcho(srv)
		admin := srv.Of("admin")
		registerEcho(admin)
		admin.OnConnect(func(s *socketio.Socket) error {
			var a struct{ Token string }
			if err := s.Handshake().DecodeAuth(&a); err != nil {
				return err
			}
			auths <- a.Token
			return nil
		})
	})
	c := e.dial()
	root := c.connect("/", "")
	admin := c.connect("/admin", `{"token":"t1"}`)
	if root == admin {
		t.Errorf("the two namespaces share the socket id %q", root)
	}
	if got := recvChan(t, auths, "the admin auth"); got != "t1" {
		t.Errorf("auth token %q, want t1", got)
	}
	c.roundTrip("/", 1)
	c.roundTrip("/admin", 2)
	c.expectSilence()
	e.healthy()
}

func rawConnectPolling(t *testing.T, mount eiotest.Mount) {
	e := startRaw(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		registerEcho(srv)
		registerEcho(srv.Of("/admin"))
	})
	p := e.openPolling()
	p.post("0", "0/admin,")
	got := p.poll(2)
	slices.Sort(got)
	if !strings.HasPrefix(got[0], `0/admin,{"sid":"`) || !strings.HasPrefix(got[1], `0{"sid":"`) {
		t.Fatalf("CONNECT answers %q", got)
	}
	p.post(`21["echo","a"]`, `2/admin,2["echo","b"]`)
	got = p.poll(2)
	slices.Sort(got)
	if want := []string{`3/admin,2["b"]`, `31["a"]`}; !slices.Equal(got, want) {
		t.Errorf("acks %q, want %q", got, want)
	}
	p.closeSession()
	e.healthy()
}

func rawUnknownNamespace(t *testing.T, mount eiotest.Mount) {
	e := startRaw(t, mount, socketio.Options{}, func(srv *socketio.Server) { registerEcho(srv) })
	c := e.dial()
	c.send("0/unknown,")
	c.expect(`4/unknown,{"message":"Invalid namespace"}`)
	c.connect("/", "")
	c.roundTrip("/", 1)
	c.send(`0/other,{"x":1}`)
	c.expect(`4/other,{"message":"Invalid namespace"}`)
	c.roundTrip("/", 2)
}

func rawProtocolViolations(t *testing.T, mount eiotest.Mount) {
	var calls counter
	e := startRaw(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		registerEcho(srv)
		_ = srv.Of("/admin").On("echo", calls.handler)
		_ = srv.Of("/admin").OnAny(calls.anyHandler)
	})
	for _, tc := range []struct{ name, packet string }{
		{"duplicate CONNECT", "0"},
		{"EVENT for a namespace not joined", `2/admin,["echo",1]`},
		{"ACK for a namespace not joined", `3/admin,1[1]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.dial()
			c.t = t
			c.connect("/", "")
			c.send(tc.packet)
			c.expectClosed()
		})
	}
	if n := calls.n.Load(); n != 0 {
		t.Errorf("%d handler calls, want 0", n)
	}
	e.healthy()
}

func rawMalformed(t *testing.T, mount eiotest.Mount) {
	var calls counter
	e := startRaw(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		registerEcho(srv)
		for _, ev := range []string{"x", "connect", "toString", "e"} {
			_ = srv.On(ev, calls.handler)
		}
		_ = srv.OnAny(calls.anyHandler)
	})
	for _, packet := range []string{
		`2{}`, `2"x"`, `2[]`, `2[null]`, `2[{"toString":1}]`, `2["connect"]`, `2["disconnect"]`,
		`2abc["x"]`, `abc`, `4abc`, `4{"message":"x"}`, `0[]`, `0"x"`, `2`, `2["x"`, `2["x"]]`,
		`2 ["x"]`, `2["x"] `, `7["x"]`, `1{}`, `3[1]`, `2/,["x"]x`, "2\x00[\"x\"]",
	} {
		t.Run(packet, func(t *testing.T) {
			c := e.dial()
			c.t = t
			c.connect("/", "")
			c.send(packet)
			c.expectClosed()
		})
	}
	t.Run("engine open from client", func(t *testing.T) {
		c := e.dial()
		c.t = t
		c.connect("/", "")
		_ = c.writeFrame(1, []byte("0[]"))
		c.expectClosed()
	})
	if n := calls.n.Load(); n != 0 {
		t.Errorf("%d handler calls, want 0", n)
	}
	e.healthy()
}

func rawErrorEvent(t *testing.T, mount eiotest.Mount) {
	var anyCalls counter
	e := startRaw(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		registerEcho(srv)
		_ = srv.On("error", func(msg string) string { return "got " + msg })
		_ = srv.OnAny(anyCalls.anyHandler)
	})
	c := e.dial()
	c.connect("/", "")
	c.send(`21["error","boom"]`)
	c.expect(`31["got boom"]`)
	c.roundTrip("/", 2)
	if n := anyCalls.n.Load(); n != 0 {
		t.Errorf("catch-all called %d times for an event with a handler", n)
	}
}

func rawAckOnce(t *testing.T, mount eiotest.Mount) {
	socks := newSockets()
	e := startRaw(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		registerEcho(srv)
		srv.OnConnect(socks.onConnect)
	})
	a, b := e.dial(), e.dial()
	sidA := a.connect("/", "")
	sa := socks.next(t)
	b.connect("/", "")
	socks.next(t)

	// One socket: unknown ids and a second ack are ignored.
	type result struct {
		r   *socketio.Response
		err error
	}
	one := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), rawWait)
		defer cancel()
		r, err := sa.EmitWithAck(ctx, "q", 1)
		one <- result{r, err}
	}()
	id, rest := ackID(t, a.expectPrefix("2"))
	if rest != `["q",1]` {
		t.Fatalf("event %q", rest)
	}
	a.send(`3999999["unknown"]`)
	a.send("3" + id + `["first"]`)
	a.send("3" + id + `["second"]`)
	res := recvChan(t, one, "the ack")
	var got string
	if res.err != nil || res.r.Decode(&got) != nil || got != "first" {
		t.Fatalf("EmitWithAck = %v, %v (%q), want first", res.r, res.err, got)
	}
	a.roundTrip("/", 5)

	// A broadcast: a second ack from one socket is not counted as another
	// socket's answer.
	many := make(chan []*socketio.Response, 1)
	go func() {
		rs, err := e.srv.Timeout(rawWait).EmitWithAck(context.Background(), "all")
		if err != nil {
			t.Errorf("broadcast EmitWithAck: %v", err)
		}
		many <- rs
	}()
	idA, _ := ackID(t, a.expectPrefix("2"))
	idB, _ := ackID(t, b.expectPrefix("2"))
	a.send("3" + idA + `["a1"]`)
	a.send("3" + idA + `["a2"]`)
	a.roundTrip("/", 6) // both acks of a were handled
	select {
	case rs := <-many:
		t.Fatalf("broadcast finished with %d responses before b answered", len(rs))
	case <-time.After(rawQuiet):
	}
	b.send("3" + idB + `["b"]`)
	rs := recvChan(t, many, "the broadcast acks")
	var sids []string
	for _, r := range rs {
		sids = append(sids, r.SID)
	}
	if len(rs) != 2 || !slices.Contains(sids, sidA) || sids[0] == sids[1] {
		t.Errorf("responses from %q, want one from each socket", sids)
	}
}

func rawBadPlaceholders(t *testing.T, mount eiotest.Mount) {
	var calls counter
	e := startRaw(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		registerEcho(srv)
		_ = srv.On("e", calls.handler)
		_ = srv.OnAny(calls.anyHandler)
	})
	for _, num := range []string{`"splice"`, `-1`, `1.5`, `1`, `"0"`, `null`, `1e0`, `99999999999999999999`} {
		t.Run(num, func(t *testing.T) {
			c := e.dial()
			c.t = t
			c.connect("/", "")
			c.send(`51-["e",{"_placeholder":true,"num":` + num + `}]`)
			c.sendBinary([]byte{1})
			c.expectClosed()
		})
	}
	if n := calls.n.Load(); n != 0 {
		t.Errorf("%d handler calls, want 0", n)
	}
	e.healthy()
}

func rawTooManyAttachments(t *testing.T, mount eiotest.Mount) {
	var calls counter
	got := make(chan int, 1)
	e := startRaw(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		registerEcho(srv)
		_ = srv.On("e", calls.handler)
		_ = srv.On("ten", func(bs ...[]byte) int {
			total := 0
			for i, b := range bs {
				if len(b) == 1 && int(b[0]) == i {
					total++
				}
			}
			got <- total
			return total
		})
	})
	for _, header := range []string{`511-["e"]`, `599999999999-["e"]`, `5-["e"]`, `5x-["e"]`} {
		t.Run(header, func(t *testing.T) {
			c := e.dial()
			c.t = t
			c.connect("/", "")
			c.send(header) // closed before any attachment is sent
			c.expectClosed()
		})
	}
	t.Run("ten", func(t *testing.T) {
		c := e.dial()
		c.t = t
		c.connect("/", "")
		var args []string
		for i := range 10 {
			args = append(args, fmt.Sprintf(`{"_placeholder":true,"num":%d}`, i))
		}
		c.send(`510-1["ten",` + strings.Join(args, ",") + `]`)
		for i := range 10 {
			c.sendBinary([]byte{byte(i)})
		}
		c.expect(`31[10]`)
		if n := recvChan(t, got, "the ten attachments"); n != 10 {
			t.Errorf("%d of 10 attachments arrived in order", n)
		}
	})
	if n := calls.n.Load(); n != 0 {
		t.Errorf("%d handler calls, want 0", n)
	}
	e.healthy()
}

func rawBinaryState(t *testing.T, mount eiotest.Mount) {
	var calls counter
	e := startRaw(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		registerEcho(srv)
		_ = srv.On("e", calls.handler)
		_ = srv.Of("/admin").On("e", calls.handler)
	})
	const header = `52-["e",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`
	for _, tc := range []struct {
		name string
		run  func(c *rawConn)
	}{
		{"text while attachments pending", func(c *rawConn) {
			c.send(header)
			c.sendBinary([]byte{1})
			c.send(`2["e"]`)
		}},
		{"binary with none pending", func(c *rawConn) { c.sendBinary([]byte{1}) }},
		{"binary after the last attachment", func(c *rawConn) {
			c.send(`51-["x",{"_placeholder":true,"num":0}]`)
			c.sendBinary([]byte{1})
			c.sendBinary([]byte{2})
		}},
		{"BINARY_EVENT for a namespace not joined", func(c *rawConn) {
			c.send(`51-/admin,["e",{"_placeholder":true,"num":0}]`)
			c.sendBinary([]byte{1})
		}},
		{"BINARY_ACK for a namespace not joined", func(c *rawConn) {
			c.send(`61-/admin,1[{"_placeholder":true,"num":0}]`)
			c.sendBinary([]byte{1})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.dial()
			c.t = t
			c.connect("/", "")
			tc.run(c)
			c.expectClosed()
		})
	}
	if n := calls.n.Load(); n != 0 {
		t.Errorf("%d handler calls, want 0", n)
	}
	e.healthy()
}

func rawLimits(t *testing.T, mount eiotest.Mount) {
	names := make(chan int, 1)
	e := startRaw(t, mount, socketio.Options{MaxNamespaceLen: 64}, func(srv *socketio.Server) {
		registerEcho(srv)
		_ = srv.OnAny(func(s *socketio.Socket, event string) { names <- len(event) })
	})
	for _, tc := range []struct{ name, packet string }{
		{"ack id 2^53+1", `29007199254740993["echo",1]`},
		{"ack id of 21 digits", `2123456789012345678901["echo",1]`},
		{"ack id of 17 digits with zeros", `200000000000000001["echo",1]`},
		{"namespace over the cap", "0/" + strings.Repeat("a", 80) + ","},
		{"event for a namespace over the cap", "2/" + strings.Repeat("a", 80) + `,["echo",1]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.dial()
			c.t = t
			c.connect("/", "")
			c.send(tc.packet)
			c.expectClosed()
		})
	}
	t.Run("ack id 2^53", func(t *testing.T) {
		c := e.dial()
		c.t = t
		c.connect("/", "")
		c.send(`29007199254740992["echo",1]`)
		c.expect(`39007199254740992[1]`)
	})
	t.Run("namespace at the cap", func(t *testing.T) {
		c := e.dial()
		c.t = t
		nsp := "/" + strings.Repeat("a", 63)
		c.send("0" + nsp + ",")
		c.expect("4" + nsp + `,{"message":"Invalid namespace"}`)
	})
	t.Run("long event name", func(t *testing.T) {
		c := e.dial()
		c.t = t
		c.connect("/", "")
		name := strings.Repeat("n", 500_000)
		c.send(`2["` + name + `"]`)
		if n := recvChan(t, names, "the long event"); n != len(name) {
			t.Errorf("event name of %d bytes, want %d", n, len(name))
		}
		c.roundTrip("/", 3)
	})
	e.healthy()
}

func rawDeepNesting(t *testing.T, mount eiotest.Mount) {
	var calls counter
	e := startRaw(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		registerEcho(srv)
		_ = srv.On("x", calls.handler)
	})
	for _, tc := range []struct{ name, packet string }{
		{"arrays", `2["x",` + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + `]`},
		{"objects", `2["x",` + strings.Repeat(`{"a":`, 100_000) + "1" + strings.Repeat("}", 100_000) + `]`},
		{"unclosed", `2["x",` + strings.Repeat("[", 100_000)},
		{"ack", `31` + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.dial()
			c.t = t
			c.connect("/", "")
			c.send(tc.packet)
			c.expectClosed()
		})
	}
	if n := calls.n.Load(); n != 0 {
		t.Errorf("%d handler calls, want 0", n)
	}
	e.healthy()
}

func rawHandlerPanic(t *testing.T, mount eiotest.Mount) {
	e := startRaw(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		registerEcho(srv)
		_ = srv.On("boom", func() { panic("kaboom-event") })
		_ = srv.On("boomack", func() int { panic("kaboom-ack") })
		srv.OnDisconnect(func(*socketio.Socket, string) { panic("kaboom-disconnect") })
		srv.Of("/p").OnConnect(func(*socketio.Socket) error { panic("kaboom-connect") })
	})
	c := e.dial()
	c.connect("/", "")
	c.send(`2["boom"]`)
	c.send(`21["boomack"]`)
	c.roundTrip("/", 2) // no ack for 1: the next packet is the echo's
	c.send(`0/p,`)
	c.expect(`4/p,{"message":"Internal server error"}`)
	c.roundTrip("/", 3)
	c.close()
	e.healthy()
	waitFor(t, "the panics to be logged", func() bool {
		logs := e.logs.String()
		return strings.Contains(logs, "kaboom-event") && strings.Contains(logs, "kaboom-ack") &&
			strings.Contains(logs, "kaboom-connect") && strings.Contains(logs, "kaboom-disconnect")
	})
}

func rawConnectTimeout(t *testing.T, mount eiotest.Mount) {
	e := startRaw(t, mount, socketio.Options{ConnectTimeout: 300 * time.Millisecond}, func(srv *socketio.Server) {
		registerEcho(srv)
	})
	idle := e.dial()
	good := e.dial()
	good.connect("/", "")
	start := time.Now()
	idle.expectClosed()
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("closed after %v, before the connect timeout", d)
	}
	// A client that leaves its only namespace is not closed by the timer.
	time.Sleep(400 * time.Millisecond)
	good.roundTrip("/", 1)
	good.send("1")
	good.connect("/", "")
	good.roundTrip("/", 2)

	// A refused CONNECT does not count as joining.
	e2 := startRaw(t, mount, socketio.Options{ConnectTimeout: 300 * time.Millisecond}, func(srv *socketio.Server) {
		srv.Use(func(*socketio.Socket) error { return errors.New("no") })
	})
	c := e2.dial()
	c.send("0")
	c.expect(`4{"message":"no"}`)
	c.expectClosed()
}

func rawBinaryEvents(t *testing.T, mount eiotest.Mount) {
	socks := newSockets()
	type got struct {
		flat   []byte
		nested []byte
		typed  []byte
	}
	gotCh := make(chan got, 1)
	e := startRaw(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		registerEcho(srv)
		srv.OnConnect(socks.onConnect)
		_ = srv.On("bin", func(flat []byte, m map[string]any, st struct {
			Deep []struct{ B []byte }
		}) ([]byte, map[string]any) {
			var g got
			g.flat = flat
			if deep, ok := m["deep"].([]any); ok && len(deep) == 1 {
				if o, ok := deep[0].(map[string]any); ok {
					g.nested, _ = o["b"].([]byte)
				}
			}
			if len(st.Deep) == 1 {
				g.typed = st.Deep[0].B
			}
			gotCh <- g
			return []byte{9, 9}, map[string]any{"x": []byte{7}}
		})
	})
	c := e.dial()
	c.connect("/", "")
	s := socks.next(t)
	nested := `{"deep":[{"b":{"_placeholder":true,"num":1}}]}`
	c.send(`53-4["bin",{"_placeholder":true,"num":0},` + nested + `,` + strings.ReplaceAll(nested, `"num":1`, `"num":2`) + `]`)
	c.sendBinary([]byte{1, 2})
	c.sendBinary([]byte{3})
	c.sendBinary([]byte{4, 5, 6})
	g := recvChan(t, gotCh, "the binary event")
	if string(g.flat) != "\x01\x02" || string(g.nested) != "\x03" || string(g.typed) != "\x04\x05\x06" {
		t.Errorf("handler got %x, %x, %x", g.flat, g.nested, g.typed)
	}
	// The ack carries binary too: a BINARY_ACK and its attachments.
	arr := decodeArray(t, c.nextText(), "62-4")
	att := [][]byte{c.next().binary, c.next().binary}
	checkPlaceholders(t, arr, att, []any{[]byte{9, 9}, map[string]any{"x": []byte{7}}})

	// Server to client: a BINARY_EVENT with nested binary.
	if err := s.Emit("bin", []byte{1}, map[string]any{"n": []any{[]byte{2, 3}}}, "text"); err != nil {
		t.Fatal(err)
	}
	arr = decodeArray(t, c.nextText(), "52-")
	att = [][]byte{c.next().binary, c.next().binary}
	checkPlaceholders(t, arr, att, []any{"bin", []byte{1}, map[string]any{"n": []any{[]byte{2, 3}}}, "text"})
	c.roundTrip("/", 5)
}

// checkPlaceholders resolves the placeholders of a decoded packet against
// attachments and compares the result with want.
func checkPlaceholders(t testing.TB, arr []any, atts [][]byte, want []any) {
	t.Helper()
	var resolve func(v any) any
	resolve = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			if x["_placeholder"] == true {
				if n, ok := x["num"].(float64); ok && int(n) >= 0 && int(n) < len(atts) && float64(int(n)) == n {
					return atts[int(n)]
				}
				t.Errorf("bad placeholder %v", x)
				return nil
			}
			out := map[string]any{}
			for k, e := range x {
				out[k] = resolve(e)
			}
			return out
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = resolve(e)
			}
			return out
		}
		return v
	}
	got := resolve(arr)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("packet resolves to %v, want %v", got, want)
	}
}

func rawBinaryAck(t *testing.T, mount eiotest.Mount) {
	socks := newSockets()
	e := startRaw(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		registerEcho(srv)
		srv.OnConnect(socks.onConnect)
	})
	c := e.dial()
	c.connect("/", "")
	s := socks.next(t)
	type result struct {
		b   []byte
		m   map[string]any
		err error
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), rawWait)
		defer cancel()
		r, err := s.EmitWithAck(ctx, "need", []byte{1})
		var res result
		res.err = err
		if err == nil {
			res.err = r.Decode(&res.b, &res.m)
		}
		done <- res
	}()
	id, rest := ackID(t, c.expectPrefix("51-"))
	checkPlaceholders(t, decodeArray(t, rest, ""), [][]byte{c.next().binary}, []any{"need", []byte{1}})
	c.send("62-" + id + `[{"_placeholder":true,"num":0},{"k":{"_placeholder":true,"num":1}}]`)
	c.sendBinary([]byte{0xde, 0xad})
	c.sendBinary([]byte{0xbe})
	r := recvChan(t, done, "the binary ack")
	if r.err != nil {
		t.Fatal(r.err)
	}
	if k, _ := r.m["k"].([]byte); string(r.b) != "\xde\xad" || string(k) != "\xbe" {
		t.Errorf("ack decoded to %x, %v", r.b, r.m)
	}
	c.roundTrip("/", 1)
}

func rawAckTimeout(t *testing.T, mount eiotest.Mount) {
	socks := newSockets()
	e := startRaw(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		registerEcho(srv)
		srv.OnConnect(socks.onConnect)
	})
	c := e.dial()
	c.connect("/", "")
	s := socks.next(t)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_, err := s.EmitWithAck(ctx, "q")
	cancel()
	if !errors.Is(err, socketio.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("EmitWithAck error %v, want ErrTimeout", err)
	}
	id, _ := ackID(t, c.expectPrefix("2"))
	c.send("3" + id + `["late"]`) // nobody waits any more: ignored
	c.roundTrip("/", 1)

	// A cancelled context is not a timeout.
	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	if _, err := s.EmitWithAck(ctx, "q"); !errors.Is(err, context.Canceled) || errors.Is(err, socketio.ErrTimeout) {
		t.Errorf("EmitWithAck error %v after cancel, want context.Canceled", err)
	}
	c.expectPrefix("2")

	// A broadcast: one answer, one silent socket.
	c2 := e.dial()
	c2.connect("/", "")
	socks.next(t)
	type bres struct {
		rs  []*socketio.Response
		err error
	}
	bdone := make(chan bres, 1)
	go func() {
		rs, err := e.srv.Timeout(300*time.Millisecond).EmitWithAck(context.Background(), "all")
		bdone <- bres{rs, err}
	}()
	id1, _ := ackID(t, c.expectPrefix("2"))
	c2.expectPrefix("2")
	c.send("3" + id1 + `["one"]`)
	br := recvChan(t, bdone, "the broadcast")
	if !errors.Is(br.err, socketio.ErrTimeout) || len(br.rs) != 1 {
		t.Errorf("broadcast EmitWithAck = %d responses, %v; want 1 and ErrTimeout", len(br.rs), br.err)
	}

	// Pending acks fail with ErrDisconnected when the client goes away.
	pending := make(chan error, 2)
	for range 2 {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), rawWait)
			defer cancel()
			_, err := s.EmitWithAck(ctx, "never")
			pending <- err
		}()
	}
	c.expectPrefix("2")
	c.expectPrefix("2")
	c.close()
	for range 2 {
		if err := recvChan(t, pending, "a pending ack"); !errors.Is(err, socketio.ErrDisconnected) {
			t.Errorf("pending EmitWithAck error %v, want ErrDisconnected", err)
		}
	}
	if _, err := s.EmitWithAck(context.Background(), "after"); !errors.Is(err, socketio.ErrDisconnected) {
		t.Errorf("EmitWithAck after disconnect: %v, want ErrDisconnected", err)
	}
	if err := s.Emit("after"); !errors.Is(err, socketio.ErrDisconnected) {
		t.Errorf("Emit after disconnect: %v, want ErrDisconnected", err)
	}
	c2.roundTrip("/", 2)
}

func rawSessions(t *testing.T, mount eiotest.Mount) {
	socks := newSockets()
	gone := newReasons()
	e := startRaw(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		registerEcho(srv)
		srv.OnConnect(func(s *socketio.Socket) error {
			s.SaveSession(map[string]any{"user": "ann"})
			return socks.onConnect(s)
		})
		srv.OnDisconnect(gone.onDisconnect)
		_ = srv.On("inc", func(s *socketio.Socket) int {
			var n int
			s.UpdateSession(func(m map[string]any) {
				n, _ = m["n"].(int)
				n++
				m["n"] = n
			})
			return n
		})
		_ = srv.On("get", func(s *socketio.Socket) map[string]any {
			m := s.Session()
			m["scribble"] = true // a copy: the session does not change
			delete(m, "scribble")
			return m
		})
	})
	c := e.dial()
	sid := c.connect("/", "")
	s := socks.next(t)
	for i := 1; i <= 3; i++ {
		c.send(fmt.Sprintf(`2%d["inc"]`, i))
		c.expect(fmt.Sprintf(`3%d[%d]`, i, i))
	}
	c.send(`29["get"]`)
	c.expect(`39[{"n":3,"user":"ann"}]`)
	copyOf := s.Session()
	copyOf["user"] = "bob"
	if s.Session()["user"] != "ann" {
		t.Error("Session() returned the live map, not a copy")
	}
	rs, err := e.srv.FetchSockets(context.Background())
	if err != nil || len(rs) != 1 || rs[0].ID != sid || rs[0].Data["n"] != 3 {
		t.Errorf("FetchSockets = %+v, %v", rs, err)
	}
	c.send("1")
	gone.expect(t, socketio.ReasonClientNamespaceDisconnect)
	if rs, _ := e.srv.FetchSockets(context.Background()); len(rs) != 0 {
		t.Errorf("FetchSockets after disconnect = %d sockets", len(rs))
	}
	if e.srv.Of("/").Socket(sid) != nil {
		t.Error("the socket is still in its namespace")
	}
	// A new connection starts a new session.
	sid2 := c.connect("/", "")
	socks.next(t)
	if sid2 == sid {
		t.Error("socket id reused")
	}
	c.send(`210["get"]`)
	c.expect(`310[{"user":"ann"}]`)
}

// countingManager wraps the in-memory manager and counts broadcasts.
type countingManager struct {
	*manager.InMemory
	broadcasts *atomic.Int64
}

func (m countingManager) Broadcast(p *parser.Packet, opts *socketio.BroadcastOptions) {
	m.broadcasts.Add(1)
	m.InMemory.Broadcast(p, opts)
}

// collect reads the event packets a client received up to the sync marker n
// (sent by sync) and returns them.
func collect(t testing.TB, c *rawConn, n int) []string {
	t.Helper()
	marker := fmt.Sprintf(`2["sync",%d]`, n)
	var out []string
	for {
		p := c.nextText()
		if p == marker {
			return out
		}
		out = append(out, p)
	}
}

func rawRooms(t *testing.T, mount eiotest.Mount) {
	socks := newSockets()
	var broadcasts atomic.Int64
	e := startRaw(t, mount, socketio.Options{
		NewManager: func(nsp *socketio.Namespace) socketio.Manager {
			return countingManager{manager.NewInMemory(nsp), &broadcasts}
		},
	}, func(srv *socketio.Server) {
		registerEcho(srv)
		srv.OnConnect(socks.onConnect)
	})
	conns := []*rawConn{e.dial(), e.dial(), e.dial()}
	var ss []*socketio.Socket
	var sids []string
	for _, c := range conns {
		sids = append(sids, c.connect("/", ""))
		ss = append(ss, socks.next(t))
	}
	a, b, _ := ss[0], ss[1], ss[2]
	a.Join("r1", "r2")
	b.Join("r1")
	if got, want := a.Rooms(), sortedOf(sids[0], "r1", "r2"); !slices.Equal(got, want) {
		t.Errorf("Rooms() = %q, want %q", got, want)
	}
	step := 0
	check := func(what string, emit func() error, want ...[]string) {
		t.Helper()
		before := broadcasts.Load()
		if err := emit(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if n := broadcasts.Load() - before; n != 1 {
			t.Errorf("%s: %d manager broadcasts, want 1", what, n)
		}
		step++
		if err := e.srv.Emit("sync", step); err != nil {
			t.Fatal(err)
		}
		for i, c := range conns {
			if got := collect(t, c, step); !slices.Equal(got, want[i]) {
				t.Errorf("%s: client %d got %q, want %q", what, i, got, want[i])
			}
		}
	}
	m := []string{`2["m"]`}
	none := []string(nil)
	check("To(r1)", func() error { return e.srv.To("r1").Emit("m") }, m, m, none)
	check("To(r1, r2)", func() error { return e.srv.To("r1", "r2").Emit("m") }, m, m, none)
	check("Except(r2)", func() error { return e.srv.Except("r2").Emit("m") }, none, m, m)
	check("To(r1).Except(sid b)", func() error { return e.srv.To("r1").Except(sids[1]).Emit("m") }, m, none, none)
	check("personal room", func() error { return e.srv.To(sids[2]).Emit("m") }, none, none, m)
	check("socket To(r1)", func() error { return a.To("r1").Emit("m") }, none, m, none)
	check("socket Broadcast", func() error { return a.Broadcast().Emit("m") }, none, m, m)
	check("Send", func() error { return e.srv.Send("hi") }, []string{`2["message","hi"]`}, []string{`2["message","hi"]`}, []string{`2["message","hi"]`})
	a.Leave("r1")
	if got, want := a.Rooms(), sortedOf(sids[0], "r2"); !slices.Equal(got, want) {
		t.Errorf("Rooms() after Leave = %q, want %q", got, want)
	}
	check("To(r1) after Leave", func() error { return e.srv.To("r1").Emit("m") }, none, m, none)
	check("unknown room", func() error { return e.srv.To("nobody").Emit("m") }, none, none, none)

	mgr := e.srv.Of("/").Manager().(countingManager)
	conns[1].close()
	waitFor(t, "b to leave its rooms", func() bool { return len(b.Rooms()) == 0 })
	if got, want := mgr.Rooms(), sortedOf(sids[0], sids[2], "r2"); !slices.Equal(got, want) {
		t.Errorf("manager rooms after b left = %q, want %q", got, want)
	}
	if err := e.srv.Emit("reserved"); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Emit("disconnect"); !errors.Is(err, socketio.ErrReservedEvent) {
		t.Errorf("Emit(disconnect) = %v, want ErrReservedEvent", err)
	}
}

// engineioOptions returns engine options with the given heartbeat.
func engineioOptions(interval, timeout time.Duration) engineio.Options {
	return engineio.Options{PingInterval: interval, PingTimeout: timeout}
}

func sortedOf(s ...string) []string {
	slices.Sort(s)
	return s
}

func rawServerUtilities(t *testing.T, mount eiotest.Mount) {
	socks := newSockets()
	gone := newReasons()
	e := startRaw(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		registerEcho(srv)
		srv.OnConnect(func(s *socketio.Socket) error {
			s.SaveSession(map[string]any{"name": s.Handshake().Auth})
			return socks.onConnect(s)
		})
		srv.OnDisconnect(gone.onDisconnect)
	})
	a, b := e.dial(), e.dial()
	sidA := a.connect("/", `{"n":"a"}`)
	sa := socks.next(t)
	sidB := b.connect("/", `{"n":"b"}`)
	socks.next(t)
	sa.Join("red")

	rs, err := e.srv.In("red").FetchSockets(context.Background())
	if err != nil || len(rs) != 1 || rs[0].ID != sidA || !slices.Equal(rs[0].Rooms, sortedOf(sidA, "red")) ||
		rs[0].Handshake == nil || string(rs[0].Handshake.Auth) != `{"n":"a"}` || rs[0].Namespace != "/" {
		t.Fatalf("FetchSockets(red) = %+v, %v", rs, err)
	}
	if err := rs[0].Emit("direct", 1); err != nil {
		t.Fatal(err)
	}
	a.expect(`2["direct",1]`)

	e.srv.In(sidB).SocketsJoin("blue", "green")
	rs, _ = e.srv.In("blue").FetchSockets(context.Background())
	if len(rs) != 1 || rs[0].ID != sidB {
		t.Fatalf("FetchSockets(blue) after SocketsJoin = %+v", rs)
	}
	e.srv.Of("/").SocketsLeave("green")
	if rs, _ = e.srv.In("green").FetchSockets(context.Background()); len(rs) != 0 {
		t.Errorf("FetchSockets(green) after SocketsLeave = %d sockets", len(rs))
	}
	rs, _ = e.srv.FetchSockets(context.Background())
	if len(rs) != 2 {
		t.Errorf("FetchSockets() = %d sockets, want 2", len(rs))
	}
	rs[0].Join("all")
	rs[1].Join("all")
	if rs, _ := e.srv.In("all").FetchSockets(context.Background()); len(rs) != 2 {
		t.Errorf("RemoteSocket.Join: %d sockets in all", len(rs))
	}

	// DisconnectSockets(false) tells the client and keeps the connection.
	e.srv.In("red").DisconnectSockets(false)
	a.expect("1")
	gone.expect(t, socketio.ReasonServerNamespaceDisconnect)
	a.connect("/", "")
	socks.next(t)
	a.roundTrip("/", 1)
	// DisconnectSockets(true) tells the client, then closes it.
	e.srv.In(sidB).DisconnectSockets(true)
	b.expect("1")
	b.expectClosed()
	gone.expect(t, socketio.ReasonServerNamespaceDisconnect)
	a.roundTrip("/", 2)
}

func rawDynamicNamespaces(t *testing.T, mount eiotest.Mount) {
	socks := newSockets()
	var reParent, fnParent *socketio.ParentNamespace
	e := startRaw(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		registerEcho(srv)
		reParent = srv.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`))
		registerEcho(reParent)
		reParent.OnConnect(socks.onConnect)
		fnParent = srv.OfFunc(func(name string, auth json.RawMessage) bool {
			var a struct{ OK bool }
			_ = json.Unmarshal(auth, &a)
			return strings.HasPrefix(name, "/f-") && a.OK
		})
		registerEcho(fnParent)
	})
	c1, c2 := e.dial(), e.dial()
	c1.connect("/dyn-1", "")
	s1 := socks.next(t)
	c2.connect("/dyn-2", "")
	socks.next(t)
	if s1.Namespace().Name() != "/dyn-1" {
		t.Errorf("child namespace %q", s1.Namespace().Name())
	}
	c1.roundTrip("/dyn-1", 1)
	c1.send("0/dyn-x,")
	c1.expect(`4/dyn-x,{"message":"Invalid namespace"}`)
	if n := len(reParent.Children()); n != 2 {
		t.Errorf("%d children, want 2", n)
	}
	if err := reParent.Emit("hi", 1); err != nil {
		t.Fatal(err)
	}
	c1.expect(`2/dyn-1,["hi",1]`)
	c2.expect(`2/dyn-2,["hi",1]`)
	s1.Join("room")
	if err := reParent.To("room").Emit("hi", 2); err != nil {
		t.Fatal(err)
	}
	c1.expect(`2/dyn-1,["hi",2]`)
	if err := reParent.Except("room").Emit("hi", 3); err != nil {
		t.Fatal(err)
	}
	c2.expect(`2/dyn-2,["hi",3]`)
	c1.expectSilence()

	c1.connect("/f-a", `{"ok":true}`)
	c1.roundTrip("/f-a", 2)
	c2.send(`0/f-b,{"ok":false}`)
	c2.expect(`4/f-b,{"message":"Invalid namespace"}`)
	if err := fnParent.Emit("fn"); err != nil {
		t.Fatal(err)
	}
	c1.expect(`2/f-a,["fn"]`)
	c2.expectSilence()
}

func rawMiddleware(t *testing.T, mount eiotest.Mount) {
	var connects counter
	e := startRaw(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		registerEcho(srv)
		srv.Use(func(s *socketio.Socket) error {
			var a struct{ Token string }
			_ = s.Handshake().DecodeAuth(&a)
			if a.Token != "good" {
				return socketio.NewConnectError("not authorized", map[string]any{"code": 401})
			}
			s.SaveSession(map[string]any{"mw": 1})
			return nil
		})
		srv.Use(func(s *socketio.Socket) error {
			if s.Session()["mw"] != 1 {
				return errors.New("middlewares out of order")
			}
			return nil
		})
		srv.OnConnect(func(*socketio.Socket) error {
			connects.n.Add(1)
			return nil
		})
		srv.Of("/admin").Use(func(*socketio.Socket) error { return errors.New("admins only") })
		srv.Of("/late").OnConnect(func(*socketio.Socket) error { return socketio.NewConnectError("later", nil) })
	})
	c := e.dial()
	c.send(`0{"token":"bad"}`)
	c.expect(`4{"message":"not authorized","data":{"code":401}}`)
	c.send("0")
	c.expect(`4{"message":"not authorized","data":{"code":401}}`)
	c.send("0/admin,")
	c.expect(`4/admin,{"message":"admins only"}`)
	c.send("0/late,")
	c.expect(`4/late,{"message":"later"}`)
	if n := connects.n.Load(); n != 0 {
		t.Errorf("connect handler ran %d times for refused connections", n)
	}
	// The connection stays open: a good CONNECT succeeds.
	c.connect("/", `{"token":"good"}`)
	c.roundTrip("/", 1)
	if n := connects.n.Load(); n != 1 {
		t.Errorf("connect handler ran %d times, want 1", n)
	}
}

func rawPacketMiddleware(t *testing.T, mount eiotest.Mount) {
	var blocked counter
	e := startRaw(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		registerEcho(srv)
		_ = srv.On("blocked", blocked.handler)
		srv.OnConnect(func(s *socketio.Socket) error {
			s.Use(func(_ *socketio.Socket, event string, args []json.RawMessage) error {
				if event == "blocked" || len(args) > 0 && string(args[0]) == `"bad"` {
					return errors.New("dropped")
				}
				return nil
			})
			return nil
		})
	})
	c := e.dial()
	c.connect("/", "")
	c.send(`21["blocked"]`)
	c.send(`22["echo","bad"]`)
	c.roundTrip("/", 3) // neither 1 nor 2 was answered
	if n := blocked.n.Load(); n != 0 {
		t.Errorf("blocked handler ran %d times", n)
	}
}

func rawOutgoingVolatile(t *testing.T, mount eiotest.Mount) {
	socks := newSockets()
	type out struct {
		event string
		args  string
	}
	outs := make(chan out, 16)
	e := startRaw(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		registerEcho(srv)
		srv.OnConnect(func(s *socketio.Socket) error {
			s.OnAnyOutgoing(func(event string, args []any) { outs <- out{event, fmt.Sprint(args)} })
			if err := s.EmitVolatile("dropped"); err != nil { // not connected yet: dropped
				return err
			}
			if err := s.Emit("held", 1); err != nil {
				return err
			}
			return socks.onConnect(s)
		})
	})
	c := e.dial()
	c.connect("/", "")
	c.expect(`2["held",1]`)
	s := socks.next(t)
	if err := s.EmitVolatile("v", []byte{1}); err != nil {
		t.Fatal(err)
	}
	arr := decodeArray(t, c.nextText(), "51-")
	checkPlaceholders(t, arr, [][]byte{c.next().binary}, []any{"v", []byte{1}})
	if err := e.srv.Of("/").Volatile().Emit("bv"); err != nil {
		t.Fatal(err)
	}
	c.expect(`2["bv"]`)
	c.roundTrip("/", 1)
	want := []out{{"held", "[1]"}, {"v", "[[1]]"}, {"bv", "[]"}}
	for _, w := range want {
		if got := recvChan(t, outs, "an outgoing event"); got != w {
			t.Errorf("outgoing listener saw %+v, want %+v", got, w)
		}
	}
	select {
	case o := <-outs:
		t.Errorf("outgoing listener saw %+v, which is no event", o)
	case <-time.After(rawQuiet):
	}
}

func rawServerDisconnect(t *testing.T, mount eiotest.Mount) {
	root, admin := newSockets(), newSockets()
	gone := newReasons()
	e := startRaw(t, mount, socketio.Options{}, func(srv *socketio.Server) {
		registerEcho(srv)
		srv.OnConnect(root.onConnect)
		srv.OnDisconnect(gone.onDisconnect)
		a := srv.Of("/admin")
		registerEcho(a)
		a.OnConnect(admin.onConnect)
		a.OnDisconnect(gone.onDisconnect)
	})
	c := e.dial()
	c.connect("/", "")
	c.connect("/admin", "")
	root.next(t) // waited for; only the admin socket is acted on here
	sa := admin.next(t)
	sa.Disconnect(false)
	c.expect("1/admin,")
	gone.expect(t, socketio.ReasonServerNamespaceDisconnect)
	if sa.Connected() {
		t.Error("admin socket still connected")
	}
	c.roundTrip("/", 1)
	c.send(`2/admin,["echo",1]`) // the namespace was left: a protocol violation
	c.expectClosed()
	gone.expect(t, socketio.ReasonParseError)

	c = e.dial()
	c.connect("/", "")
	c.connect("/admin", "")
	sr, sa := root.next(t), admin.next(t)
	sr.Disconnect(true)
	// Every namespace of the connection is told before it closes, as the
	// official server does: socket.io-client then does not reconnect.
	told := []string{c.nextText(), c.nextText()}
	slices.Sort(told)
	if want := []string{"1", "1/admin,"}; !slices.Equal(told, want) {
		t.Errorf("packets before the close %q, want %q", told, want)
	}
	c.expectClosed()
	got := []string{recvChan(t, gone.ch, "a disconnect"), recvChan(t, gone.ch, "a disconnect")}
	slices.Sort(got)
	// Both sockets leave with the server's reason, as with the official
	// server: not a recoverable one.
	if want := []string{socketio.ReasonServerNamespaceDisconnect, socketio.ReasonServerNamespaceDisconnect}; !slices.Equal(got, want) {
		t.Errorf("reasons %q, want %q", got, want)
	}
	if sa.Connected() {
		t.Error("the other namespace's socket is still connected")
	}
	e.healthy()
}

func rawDisconnectReasons(t *testing.T, mount eiotest.Mount) {
	gone := newReasons()
	e := startRaw(t, mount, socketio.Options{Engine: engineioOptions(200*time.Millisecond, 400*time.Millisecond)},
		func(srv *socketio.Server) {
			registerEcho(srv)
			srv.OnDisconnect(gone.onDisconnect)
		})
	c := e.dial()
	c.connect("/", "")
	c.send("1")
	gone.expect(t, socketio.ReasonClientNamespaceDisconnect)
	c.connect("/", "")
	c.roundTrip("/", 1)
	c.close()
	gone.expect(t, socketio.ReasonTransportClose)

	c = e.dial()
	c.connect("/", "")
	_ = c.writeFrame(1, []byte("1")) // Engine.IO close
	gone.expect(t, socketio.ReasonTransportClose)

	c = e.dial()
	c.connect("/", "")
	c.stopPongs()
	gone.expect(t, socketio.ReasonPingTimeout)
	c.expectClosed()

	p := e.openPolling()
	p.post("0")
	p.poll(1)
	p.closeSession()
	gone.expect(t, socketio.ReasonTransportClose)
	e.healthy()
}

func rawServerClose(t *testing.T, mount eiotest.Mount) {
	var started, finished atomic.Int64
	var srv *socketio.Server
	e := startRaw(t, mount, socketio.Options{}, func(s *socketio.Server) {
		srv = s
		registerEcho(s)
		_ = s.On("work", func(n int) int {
			started.Add(1)
			defer finished.Add(1)
			time.Sleep(time.Millisecond)
			return n
		})
		_ = s.On("slow", func() {
			started.Add(1)
			defer finished.Add(1)
			time.Sleep(200 * time.Millisecond)
		})
	})
	const clients = 6
	var wg sync.WaitGroup
	conns := make([]*rawConn, clients)
	for i := range conns {
		conns[i] = e.dial()
		conns[i].connect("/", "")
	}
	conns[0].send(`2["slow"]`)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-c.done:
					return
				default:
				}
				if c.writeFrame(1, []byte(fmt.Sprintf(`42%d["work",%d]`, n, i))) != nil {
					return
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
	waitFor(t, "traffic", func() bool { return finished.Load() > 50 })
	if err := srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if s, f := started.Load(), finished.Load(); s != f {
		t.Errorf("Close returned with %d of %d handlers still running", s-f, s)
	}
	for _, c := range conns {
		select {
		case <-c.done:
		case <-time.After(rawWait):
			t.Fatal("a client is still connected after Close")
		}
	}
	wg.Wait()
	if _, err := e.dialErr(); err == nil {
		// The engine may refuse the WebSocket or close it at once; either way
		// no session may be served.
		t.Log("a WebSocket was accepted after Close")
	}
}

func rawRecovery(t *testing.T, mount eiotest.Mount) {
	type conn struct {
		s         *socketio.Socket
		recovered bool
		rooms     []string
		data      map[string]any
	}
	conns := make(chan conn, 8)
	gone := newReasons()
	e := startRaw(t, mount, socketio.Options{Recovery: &socketio.RecoveryOptions{}}, func(srv *socketio.Server) {
		registerEcho(srv)
		srv.OnConnect(func(s *socketio.Socket) error {
			if !s.Recovered() {
				s.Join("room1")
				s.SaveSession(map[string]any{"k": "v"})
			}
			conns <- conn{s, s.Recovered(), s.Rooms(), s.Session()}
			return nil
		})
		srv.OnDisconnect(gone.onDisconnect)
	})
	connectPID := func(c *rawConn, auth string) (sid, pid string) {
		t.Helper()
		c.send("0" + auth)
		var ok struct{ SID, PID string }
		if err := json.Unmarshal([]byte(c.expectPrefix("0")), &ok); err != nil || ok.SID == "" || ok.PID == "" {
			t.Fatalf("CONNECT answer without sid and pid: %+v %v", ok, err)
		}
		return ok.SID, ok.PID
	}
	// offsetOf reads an event and returns its arguments and offset.
	offsetOf := func(c *rawConn) (string, string) {
		t.Helper()
		arr := decodeArray(t, c.nextText(), "2")
		off, ok := arr[len(arr)-1].(string)
		if len(arr) < 2 || !ok {
			t.Fatalf("event %v has no offset", arr)
		}
		return fmt.Sprint(arr[:len(arr)-1]), off
	}

	c := e.dial()
	sid, pid := connectPID(c, "")
	first := recvChan(t, conns, "the connection")
	if first.recovered {
		t.Error("a new connection is marked recovered")
	}
	if err := e.srv.To("room1").Emit("m", 1); err != nil {
		t.Fatal(err)
	}
	args, off := offsetOf(c)
	if args != "[m 1]" {
		t.Errorf("event %s", args)
	}
	if err := first.s.Emit("direct", 2); err != nil {
		t.Fatal(err)
	}
	args, off2 := offsetOf(c)
	if args != "[direct 2]" || off2 == off {
		t.Errorf("direct emit %s with offset %q after %q", args, off2, off)
	}
	c.close()
	gone.expect(t, socketio.ReasonTransportClose)

	// Missed while away: two for this socket, one for others.
	_ = e.srv.To("room1").Emit("m", 3)
	_ = e.srv.To("elsewhere").Emit("m", 4)
	_ = e.srv.Emit("m", 5)
	_ = e.srv.Of("/").Volatile().Emit("m", 6) // volatile: not kept

	c = e.dial()
	sid2, pid2 := connectPID(c, fmt.Sprintf(`{"pid":%q,"offset":%q}`, pid, off2))
	if sid2 != sid || pid2 != pid {
		t.Errorf("recovered as %s/%s, want %s/%s", sid2, pid2, sid, pid)
	}
	for _, want := range []string{"[m 3]", "[m 5]"} {
		if got, _ := offsetOf(c); got != want {
			t.Errorf("replayed %s, want %s", got, want)
		}
	}
	c.expectSilence()
	rec := recvChan(t, conns, "the recovered connection")
	if !rec.recovered || !slices.Contains(rec.rooms, "room1") || !slices.Contains(rec.rooms, sid) || rec.data["k"] != "v" {
		t.Errorf("recovered connection: recovered=%v rooms=%q data=%v", rec.recovered, rec.rooms, rec.data)
	}
	if err := e.srv.To("room1").Emit("m", 7); err != nil {
		t.Fatal(err)
	}
	args, off7 := offsetOf(c)
	if args != "[m 7]" {
		t.Errorf("after recovery got %s", args)
	}
	c.close()
	gone.expect(t, socketio.ReasonTransportClose)

	// A second recovery of the same session, from the latest offset: nothing
	// to replay.
	c = e.dial()
	if sid3, _ := connectPID(c, fmt.Sprintf(`{"pid":%q,"offset":%q}`, pid, off7)); sid3 != sid {
		t.Errorf("second recovery got sid %s, want %s", sid3, sid)
	}
	if r := recvChan(t, conns, "a connection"); !r.recovered {
		t.Error("second recovery not marked recovered")
	}
	c.expectSilence()
	c.close()
	gone.expect(t, socketio.ReasonTransportClose)

	// An unknown pid gets a new session.
	c = e.dial()
	if sid3, _ := connectPID(c, fmt.Sprintf(`{"pid":"unknown","offset":%q}`, off7)); sid3 == sid {
		t.Error("an unknown pid recovered the session")
	}
	if r := recvChan(t, conns, "a connection"); r.recovered {
		t.Error("an unknown pid: marked recovered")
	}
	c.close()
	gone.expect(t, socketio.ReasonTransportClose)

	// An unknown offset with a known pid gets a new session.
	c = e.dial()
	sid4, pid4 := connectPID(c, "")
	recvChan(t, conns, "a connection")
	c.close()
	gone.expect(t, socketio.ReasonTransportClose)
	c = e.dial()
	if sid5, _ := connectPID(c, fmt.Sprintf(`{"pid":%q,"offset":"nope"}`, pid4)); sid5 == sid4 {
		t.Error("an unknown offset recovered the session")
	}
	recvChan(t, conns, "a connection")

	// An explicit disconnect is not recoverable.
	c2 := e.dial()
	sid6, pid6 := connectPID(c2, "")
	recvChan(t, conns, "a connection")
	_ = e.srv.To(sid6).Emit("m", 8)
	_, off6 := offsetOf(c2)
	c2.send("1")
	gone.expect(t, socketio.ReasonClientNamespaceDisconnect)
	_ = e.srv.Emit("m", 9)
	c.nextText() // c got it too
	if sid7, _ := connectPID(c2, fmt.Sprintf(`{"pid":%q,"offset":%q}`, pid6, off6)); sid7 == sid6 {
		t.Error("an explicit disconnect was recovered")
	}
	if r := recvChan(t, conns, "a connection"); r.recovered {
		t.Error("an explicit disconnect was marked recovered")
	}
}
