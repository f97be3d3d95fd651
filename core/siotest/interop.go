package siotest

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/siokit/siokit/core/eiotest"
	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/socketio"
)

// iopCheck is one line a client script prints: the outcome of one check.
type iopCheck struct {
	Check  string `json:"check"`
	OK     bool   `json:"ok"`
	Error  string `json:"error,omitempty"`
	Millis int    `json:"ms,omitempty"`
}

// iopClient is one real Socket.IO client the kit drives.
type iopClient struct {
	name   string   // subtest name
	checks []string // the checks its script must report as passed
	// run starts the script against the servers and returns its check lines.
	run func(t *testing.T, env *iopEnv, mode string) []iopCheck
}

// iopModes are the transport settings every client runs with: polling
// only, WebSocket only, and polling with an upgrade to WebSocket.
var iopModes = []string{"polling", "websocket", "upgrade"}

// The checks both clients make, in the order their scripts make them.
var iopCommonChecks = []string{
	"auth/accepted",
	"auth/refused-with-data",
	"namespaces/multiplexed",
	"namespaces/invalid",
	"transport/selected",
	"echo/string",
	"echo/string-unicode",
	"echo/string-empty",
	"echo/int",
	"echo/float",
	"echo/negative",
	"echo/max-safe-int",
	"echo/true",
	"echo/false",
	"echo/null",
	"echo/array",
	"echo/object",
	"echo/nested",
	"echo/binary",
	"echo/binary-empty",
	"echo/binary-in-object",
	"echo/binary-in-array",
	"echo/binary-deep",
	"echo/binary-several",
	"emit/every-type",
	"ack/multiple-values",
	"ack/server-to-client",
	"broadcast/ack-all",
	"broadcast/ack-timeout",
	"rooms/members-only",
	"rooms/to-except-sender",
	"broadcast/except-sender",
	"catchall/unknown-event",
	"catchall/not-for-handled",
	"disconnect/server",
	"disconnect/server-close",
	"reconnect/transport-lost",
	"reconnect/dropped",
}

// The checks only the JavaScript client makes: its reconnection after the
// server closes the session and connection state recovery, both absent
// from (or behaving otherwise in) python-socketio 5.7.2.
var iopJSChecks = []string{
	"auth/refused-one-namespace",
	"reconnect/engine-closed",
	"recovery/recovered",
	"recovery/missed-once-in-order",
	"recovery/server-state",
}

// The check only the Python client makes: after the server closes the
// Engine.IO session, python-socketio 5.7.2 reconnects over WebSocket (the
// server sends a close frame and no close packet, as Node does) but not
// over polling (it treats the close packet as intended).
var iopPyChecks = []string{
	"engine-closed/disconnected",
}

// RunInterop drives real Socket.IO clients against Socket.IO servers
// mounted with mount: the official JavaScript socket.io-client (Node.js,
// with the repository's node_modules) and python-socketio's Client
// (Debian's python3-socketio, run with /usr/bin/python3), each over
// polling only, WebSocket only and polling with upgrade.
//
// Each client process runs the whole scenario list and prints one JSON
// line per check; RunInterop asserts every expected check passed: auth
// accepted and refused with data, several namespaces (static and dynamic)
// on one connection, an unknown namespace, events with every argument type
// (binary at the top level and nested) echoed exactly, acks both ways,
// broadcast acks (all answers, and a timeout with the answers so far),
// rooms, broadcasts except the sender, the catch-all handler, a server-side
// disconnect, reconnection after a lost transport and (JavaScript)
// after the server closed the session, and (JavaScript) connection state
// recovery.
//
// The test fails, and does not skip, when Node.js, node_modules or the
// Python package is missing; `make test` installs them. The client runs
// are parallel subtests; RunInterop ends with a goroutine-leak check, so it
// must not run in parallel with other tests.
func RunInterop(t *testing.T, mount eiotest.Mount) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	clients := []iopClient{
		{name: "js", checks: slices.Concat(iopCommonChecks, iopJSChecks), run: iopRunJS},
		{name: "python", checks: slices.Concat(iopCommonChecks, iopPyChecks), run: iopRunPython},
	}
	t.Run("group", func(t *testing.T) {
		for _, c := range clients {
			for _, mode := range iopModes {
				t.Run(c.name+"/"+mode, func(t *testing.T) {
					t.Parallel()
					env := iopStart(t, mount)
					start := time.Now()
					lines := c.run(t, env, mode)
					iopAssert(t, c.checks, lines)
					env.assertQuiet(t)
					t.Logf("%s over %s: %d checks in %v", c.name, mode, len(lines), time.Since(start).Round(time.Millisecond))
				})
			}
		}
	})
	goleak.VerifyNone(t, ignore)
}

// iopAssert checks that every expected check was reported and passed, and
// that the script reported nothing unexpected.
func iopAssert(t *testing.T, want []string, got []iopCheck) {
	t.Helper()
	byName := make(map[string]iopCheck, len(got))
	for _, c := range got {
		if _, dup := byName[c.Check]; dup {
			t.Errorf("check %q reported twice", c.Check)
		}
		byName[c.Check] = c
	}
	for _, name := range want {
		c, ok := byName[name]
		switch {
		case !ok:
			t.Errorf("check %s: not reported (the script stopped or timed out before it)", name)
		case !c.OK:
			t.Errorf("check %s failed: %s", name, c.Error)
		}
		delete(byName, name)
	}
	for name, c := range byName {
		t.Errorf("unexpected check %s (ok=%v %s)", name, c.OK, c.Error)
	}
}

// iopParse extracts the check lines of a script's output.
func iopParse(t *testing.T, out string) []iopCheck {
	t.Helper()
	var checks []iopCheck
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var c iopCheck
		if err := json.Unmarshal([]byte(line), &c); err != nil || c.Check == "" {
			t.Errorf("bad check line %q: %v", line, err)
			continue
		}
		checks = append(checks, c)
	}
	return checks
}

// iopEnv is the servers one client run talks to.
type iopEnv struct {
	main     *socketio.Server
	base     string // the main server
	proxy    *iopProxy
	recovery *socketio.Server
	recBase  string // the server with connection state recovery
	logs     *iopLogs
}

// iopToken is the auth token the servers accept.
const iopToken = "s3cret"

// iopAckTimeout bounds every acknowledgement the servers wait for.
const iopAckTimeout = 5 * time.Second

// iopStart builds and mounts the servers of one client run.
func iopStart(t *testing.T, mount eiotest.Mount) *iopEnv {
	env := &iopEnv{logs: &iopLogs{}}
	logger := slog.New(env.logs)

	// Each server's Close is registered after its mount, so it runs before
	// the mount's shutdown, in the documented order: a long-poll left by a
	// client that vanished (the proxy cut) ends with the session instead of
	// holding the HTTP server's shutdown (fasthttp never notices the peer
	// is gone).
	env.main = socketio.NewServer(&socketio.Options{Logger: logger})
	iopSetupMain(t, env)
	env.base = mount(t, env.main)
	t.Cleanup(func() { _ = env.main.Close() })
	env.proxy = iopNewProxy(t, env.base)

	env.recovery = socketio.NewServer(&socketio.Options{
		Logger:   logger,
		Recovery: &socketio.RecoveryOptions{MaxDisconnectionDuration: time.Minute},
	})
	iopSetupRecovery(t, env.recovery)
	env.recBase = mount(t, env.recovery)
	t.Cleanup(func() { _ = env.recovery.Close() })
	return env
}

// iopAuth is the connect handler of every namespace: the token must match,
// and a refusal carries data.
func iopAuth(s *socketio.Socket) error {
	var auth struct {
		Token string `json:"token"`
	}
	if err := s.Handshake().DecodeAuth(&auth); err != nil || auth.Token != iopToken {
		return socketio.NewConnectError("not authorized", map[string]any{"code": 4001, "reason": "bad token"})
	}
	return nil
}

// iopWhoami answers with what the server knows of the socket.
func iopWhoami(s *socketio.Socket) map[string]any {
	return map[string]any{"nsp": s.Namespace().Name(), "sid": s.ID(), "eio": s.EngineID()}
}

// iopMust fails the test when a handler cannot be registered.
func iopMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// iopSetupMain registers the handlers of the main server.
func iopSetupMain(t *testing.T, env *iopEnv) {
	srv := env.main
	root := srv.Of("/")
	admin := srv.Of("/admin")
	dyn := srv.OfRegexp(regexp.MustCompile(`^/dyn-[0-9]+$`))
	for _, n := range []*socketio.Namespace{root, admin, dyn.Namespace} {
		n.OnConnect(iopAuth)
		iopMust(t, n.On("whoami", iopWhoami))
	}

	iopMust(t, root.On("echo", func(v any) any { return v }))
	iopMust(t, root.On("echoEmit", func(s *socketio.Socket, args ...any) {
		if err := s.Emit("echoed", args...); err != nil {
			_ = s.Emit("echoed", "emit failed: "+err.Error())
		}
	}))
	iopMust(t, root.On("sum", func(a, b float64) (float64, string) { return a + b, "sum" }))

	// The server asks the client and answers with the client's answer. It
	// waits in the handler: acks are routed apart from the event queue.
	iopMust(t, root.On("askMe", func(s *socketio.Socket, ack socketio.AckFunc) {
		ctx, cancel := context.WithTimeout(context.Background(), iopAckTimeout)
		defer cancel()
		r, err := s.EmitWithAck(ctx, "question", "q", 41, []byte{1, 2, 3})
		if err != nil {
			_ = ack("error", err.Error())
			return
		}
		vals, err := r.Values()
		if err != nil {
			_ = ack("error", err.Error())
			return
		}
		_ = ack(vals...)
	}))

	iopMust(t, root.On("join", func(s *socketio.Socket, room string) string {
		s.Join(room)
		return room
	}))
	// A fence follows each room emit to every socket of the namespace: a
	// client that gets the fence without the emit was rightly skipped.
	fence := func(token any) { _ = root.Emit("fence", token) }
	iopMust(t, root.On("toRoom", func(room string, token any) {
		_ = root.To(room).Emit("roomMsg", token)
		fence(token)
	}))
	iopMust(t, root.On("toRoomExceptMe", func(s *socketio.Socket, room string, token any) {
		_ = s.To(room).Emit("roomMsg", token)
		fence(token)
	}))
	iopMust(t, root.On("shout", func(s *socketio.Socket, token any) {
		_ = s.Broadcast().Emit("shouted", token)
		fence(token)
	}))
	// pollRoom asks every socket of a room and reports the answers, sorted
	// by socket id, and whether the wait timed out.
	iopMust(t, root.On("pollRoom", func(room string, timeoutMs float64) map[string]any {
		d := time.Duration(timeoutMs) * time.Millisecond
		res, err := root.To(room).Timeout(d).EmitWithAck(context.Background(), "poll", "how are you")
		slices.SortFunc(res, func(a, b *socketio.Response) int { return cmp.Compare(a.SID, b.SID) })
		answers := make([]any, 0, len(res))
		for _, r := range res {
			vals, derr := r.Values()
			if derr != nil {
				vals = []any{"undecodable: " + derr.Error()}
			}
			answers = append(answers, map[string]any{"sid": r.SID, "values": vals})
		}
		out := map[string]any{"answers": answers, "timedOut": errors.Is(err, socketio.ErrTimeout)}
		if err != nil && !errors.Is(err, socketio.ErrTimeout) {
			out["error"] = err.Error()
		}
		return out
	}))

	var caughtMu sync.Mutex
	var caught []string
	iopMust(t, root.OnAny(func(event string, args ...any) (string, string, []any) {
		caughtMu.Lock()
		caught = append(caught, event)
		caughtMu.Unlock()
		return "caught", event, args
	}))
	iopMust(t, root.On("caughtEvents", func() []string {
		caughtMu.Lock()
		defer caughtMu.Unlock()
		return slices.Clone(caught)
	}))

	iopMust(t, root.On("kickMe", func(s *socketio.Socket) { s.Disconnect(false) }))
	iopMust(t, root.On("kickAll", func(s *socketio.Socket) { s.Disconnect(true) }))
	iopMust(t, root.On("dropMe", func(s *socketio.Socket) {
		if es := srv.Engine().Session(s.EngineID()); es != nil {
			_ = es.Close()
		}
	}))
	iopMust(t, root.On("cutMe", func() { env.proxy.cut() }))
	iopMust(t, root.On("dropSelf", func(s *socketio.Socket) { s.Drop() }))
}

// iopSetupRecovery registers the handlers of the server with connection
// state recovery: "ready" puts the socket in a room, stores session data
// and broadcasts tick 1; when that socket goes away unexpectedly, the
// server broadcasts tick 2 to everyone and tick 3 to the room, which the
// client must get on recovery; "report" tells what the server saw.
func iopSetupRecovery(t *testing.T, srv *socketio.Server) {
	root := srv.Of("/")
	root.OnConnect(iopAuth)
	var mu sync.Mutex
	var probe string
	var absent, sentMissed bool
	iopMust(t, root.On("ready", func(s *socketio.Socket) string {
		mu.Lock()
		probe = s.ID()
		mu.Unlock()
		s.Join("probe-room")
		s.SaveSession(map[string]any{"nick": "probe"})
		_ = root.Emit("tick", 1)
		return "ready"
	}))
	root.OnDisconnect(func(s *socketio.Socket, reason string) {
		mu.Lock()
		defer mu.Unlock()
		if s.ID() != probe || sentMissed {
			return
		}
		sentMissed = true
		absent = root.Socket(s.ID()) == nil
		_ = root.Emit("tick", 2)
		_ = root.To("probe-room").Emit("tick", 3)
	})
	iopMust(t, root.On("report", func(s *socketio.Socket) map[string]any {
		mu.Lock()
		defer mu.Unlock()
		return map[string]any{
			"recovered":       s.Recovered(),
			"sentWhileAbsent": sentMissed && absent,
			"nick":            s.Session()["nick"],
			"inRoom":          slices.Contains(s.Rooms(), "probe-room"),
		}
	}))
}

// iopLogs records the servers' logs; warnings, errors and closed
// connections fail the run (see assertQuiet).
type iopLogs struct {
	mu      sync.Mutex
	records []string
}

// Enabled implements [slog.Handler].
func (l *iopLogs) Enabled(_ context.Context, level slog.Level) bool { return level >= slog.LevelInfo }

// Handle implements [slog.Handler].
func (l *iopLogs) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	l.mu.Lock()
	l.records = append(l.records, b.String())
	l.mu.Unlock()
	return nil
}

// WithAttrs implements [slog.Handler].
func (l *iopLogs) WithAttrs([]slog.Attr) slog.Handler { return l }

// WithGroup implements [slog.Handler].
func (l *iopLogs) WithGroup(string) slog.Handler { return l }

// assertQuiet fails when the servers logged a warning, an error or a
// connection they closed for a protocol violation: a real client never
// causes one.
func (e *iopEnv) assertQuiet(t *testing.T) {
	t.Helper()
	e.logs.mu.Lock()
	defer e.logs.mu.Unlock()
	for _, r := range e.logs.records {
		t.Errorf("server log: %s", r)
	}
}

var _ engineio.Handler = (*socketio.Server)(nil)
