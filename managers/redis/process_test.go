//go:build unix

package sioredis_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/socketio"
	siopubsub "github.com/siokit/siokit/managers/pubsub"
	siopubsubtest "github.com/siokit/siokit/managers/pubsub/pubsubtest"
	sioredis "github.com/siokit/siokit/managers/redis"
)

// The test binary doubles as the cluster member of TestProcessCluster: run
// with procEnvName set, it serves one Socket.IO server on Redis instead of
// running tests (the os/exec helper-process pattern), so the members are
// real OS processes built with the same flags (-race included) as the test.
const (
	procEnvName  = "SIOREDIS_PROC_NAME"  // the member's name, answered to "whoami"
	procEnvRedis = "SIOREDIS_PROC_REDIS" // Redis address
	procEnvKey   = "SIOREDIS_PROC_KEY"   // channel prefix
)

func TestMain(m *testing.M) {
	if os.Getenv(procEnvName) != "" {
		os.Exit(procServer())
	}
	os.Exit(m.Run())
}

// fetched is one socket of a "fetch" answer.
type fetched struct {
	ID    string   `json:"id"`
	Rooms []string `json:"rooms"`
}

// procServer runs one cluster member: it listens on a free loopback port,
// prints "listening PORT" once its manager is subscribed, and serves until
// its stdin ends. Its handlers let a client drive the operations that
// cross processes; each acks its result and an error text ("" for none).
func procServer() int {
	name, key := os.Getenv(procEnvName), os.Getenv(procEnvKey)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv(procEnvRedis)})
	defer func() { _ = rdb.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	err := rdb.Ping(ctx).Err()
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: redis: %v\n", name, err)
		return 1
	}
	srv := socketio.NewServer(&socketio.Options{
		NewManager: sioredis.New(rdb, &sioredis.Options{Key: key, RequestsTimeout: 3 * time.Second, Logger: logger}),
		Logger:     logger,
	})
	root := srv.Of("/")
	errText := func(err error) string {
		if err != nil {
			return err.Error()
		}
		return ""
	}
	reqCtx := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 4*time.Second)
	}
	handlers := map[string]any{
		"count": func() int {
			ctx, cancel := reqCtx()
			defer cancel()
			m, ok := root.Manager().(*siopubsub.Manager)
			if !ok {
				return 0
			}
			return m.ServerCount(ctx)
		},
		"join":  func(s *socketio.Socket, room string) bool { s.Join(room); return true },
		"leave": func(s *socketio.Socket, room string) bool { s.Leave(room); return true },
		// bcast emits event(name, payload, payload as binary) to the rooms
		// to (all when empty) except the rooms except.
		"bcast": func(to, except []string, event, payload string) string {
			return errText(srv.To(to...).Except(except...).Emit(event, name, payload, []byte(payload)))
		},
		// bcastAck asks the sockets of to (all when empty) and answers the
		// sorted acks (each client acks its sid).
		"bcastAck": func(to []string) ([]string, string) {
			ctx, cancel := reqCtx()
			defer cancel()
			res, err := srv.Timeout(3*time.Second).To(to...).EmitWithAck(ctx, "ask", name)
			if err != nil {
				return nil, err.Error()
			}
			out := []string{}
			for _, r := range res {
				var sid string
				if err := r.Decode(&sid); err != nil {
					return nil, err.Error()
				}
				out = append(out, sid)
			}
			slices.Sort(out)
			return out, ""
		},
		// fetch answers the sockets of room (all when empty), sorted by id.
		"fetch": func(room string) ([]fetched, string) {
			ctx, cancel := reqCtx()
			defer cancel()
			var socks []*socketio.RemoteSocket
			var err error
			if room == "" {
				socks, err = root.FetchSockets(ctx)
			} else {
				socks, err = root.In(room).FetchSockets(ctx)
			}
			if err != nil {
				return nil, err.Error()
			}
			out := []fetched{}
			for _, s := range socks {
				rooms := slices.Clone(s.Rooms)
				slices.Sort(rooms)
				out = append(out, fetched{ID: s.ID, Rooms: rooms})
			}
			slices.SortFunc(out, func(a, b fetched) int { return strings.Compare(a.ID, b.ID) })
			return out, ""
		},
		"remoteJoin":       func(sid, room string) bool { srv.In(sid).SocketsJoin(room); return true },
		"remoteLeave":      func(sid, room string) bool { srv.In(sid).SocketsLeave(room); return true },
		"remoteDisconnect": func(sid string) bool { srv.In(sid).DisconnectSockets(false); return true },
		// sse asks the other members "whoami" and answers their sorted names.
		"sse": func() ([]string, string) {
			ctx, cancel := reqCtx()
			defer cancel()
			res, err := root.ServerSideEmitWithAck(ctx, "whoami")
			if err != nil {
				return nil, err.Error()
			}
			out := []string{}
			for _, r := range res {
				var n string
				if err := r.Decode(&n); err != nil {
					return nil, err.Error()
				}
				out = append(out, n)
			}
			slices.Sort(out)
			return out, ""
		},
		// note sends the other members a server-side emit without ack.
		"note": func(text string) string { return errText(root.ServerSideEmit("note", text)) },
	}
	for ev, h := range handlers {
		if err := srv.On(ev, h); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if err := root.OnServerSideEmit("whoami", func() string { return name }); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// A member tells its own clients about each note it receives.
	err = root.OnServerSideEmit("note", func(text string) {
		if err := root.Local().Emit("noted", name, text, []byte(text)); err != nil {
			logger.Error("noted", "err", err)
		}
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	hs := &http.Server{Handler: siohttp.Handler(srv), ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	if m, ok := root.Manager().(*siopubsub.Manager); ok {
		select {
		case <-m.Ready():
		case <-time.After(10 * time.Second):
			fmt.Fprintf(os.Stderr, "%s: manager not subscribed\n", name)
			return 1
		}
	}
	fmt.Printf("listening %d\n", ln.Addr().(*net.TCPAddr).Port)
	// The parent closes stdin to stop the member (and it ends if the parent dies).
	_, _ = io.Copy(io.Discard, os.Stdin)
	code := 0
	if err := srv.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: close: %v\n", name, err)
		code = 1
	}
	_ = hs.Close()
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(os.Stderr, "%s: serve: %v\n", name, err)
		code = 1
	}
	return code
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startMembers starts n cluster members (named p0, p1, …) at once, in
// process groups of their own, and returns their URLs. Cleanup closes their
// stdin, waits up to 5 s, then kills the group; a member that exits badly,
// or reports a data race or a panic, fails the test.
func startMembers(t *testing.T, n int, key string) []string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	lines := make([]chan string, n)
	stderrs := make([]*syncBuffer, n)
	for i := range n {
		name := fmt.Sprintf("p%d", i)
		cmd := exec.Command(self)
		// Under -race a process sleeps 1 s before exiting (atexit_sleep_ms);
		// a member need not.
		gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
		cmd.Env = append(os.Environ(), procEnvName+"="+name, procEnvRedis+"="+sharedAddr, procEnvKey+"="+key, "GORACE="+gorace)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		stderrs[i] = &syncBuffer{}
		cmd.Stderr = stderrs[i]
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", name, err)
		}
		done := make(chan error, 1)
		lines[i] = make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if p, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
					lines[i] <- p
				}
			}
			close(lines[i])
			done <- cmd.Wait() // after stdout is read to its end, as Wait requires
		}()
		t.Cleanup(func() {
			stopStart := time.Now()
			_ = stdin.Close()
			defer func() { t.Logf("member %s stopped in %v", name, time.Since(stopStart)) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				err = fmt.Errorf("did not stop within 5s of its stdin closing; killed (%w)", <-done)
			}
			out := stderrs[i].String()
			switch {
			case err != nil:
				t.Errorf("member %s: %v\n%s", name, err, out)
			case strings.Contains(out, "DATA RACE") || strings.Contains(out, "panic"):
				t.Errorf("member %s:\n%s", name, out)
			case out != "":
				t.Logf("member %s stderr:\n%s", name, out)
			}
		})
	}
	urls := make([]string, n)
	deadline := time.After(15 * time.Second)
	for i := range n {
		select {
		case port, ok := <-lines[i]:
			if !ok {
				t.Fatalf("member p%d exited before listening:\n%s", i, stderrs[i].String())
			}
			urls[i] = "http://127.0.0.1:" + port
		case <-deadline:
			t.Fatalf("member p%d did not start:\n%s", i, stderrs[i].String())
		}
	}
	return urls
}

// procEvent is an event a [procClient] received: the member that sent it,
// the payload and its binary copy.
type procEvent struct {
	name, from, payload string
	bin                 []byte
}

// procClient is a socketio.Client of one member, recording its events.
type procClient struct {
	*socketio.Client
	events       chan procEvent
	disconnected chan string
}

func dialMember(t *testing.T, url string) *procClient {
	t.Helper()
	c := &procClient{events: make(chan procEvent, 256), disconnected: make(chan string, 1)}
	cl := socketio.NewClient(url, &socketio.ClientOptions{
		Engine:       engineio.ClientOptions{Transports: []string{engineio.TransportWebSocket}},
		Reconnection: new(false),
	})
	record := func(event string, args []any) {
		e := procEvent{name: event}
		if len(args) > 0 {
			e.from, _ = args[0].(string)
		}
		if len(args) > 1 {
			e.payload, _ = args[1].(string)
		}
		if len(args) > 2 {
			e.bin, _ = args[2].([]byte)
		}
		c.events <- e
	}
	must(t, cl.OnAny(func(event string, args ...any) { record(event, args) }))
	// "ask" is acknowledged with the socket's id.
	must(t, cl.On("ask", func(s *socketio.ClientSocket, from string) string {
		record("ask", []any{from})
		return s.ID()
	}))
	cl.OnDisconnect(func(reason string) {
		select {
		case c.disconnected <- reason:
		default:
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cl.Connect(ctx); err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	c.Client = cl
	return c
}

// call emits event with args, waits for the ack and decodes its values
// into out; a non-empty error text in the ack's last value fails the test.
func (c *procClient) call(t *testing.T, event string, args []any, out ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
	defer cancel()
	res, err := c.EmitWithAck(ctx, event, args...)
	if err != nil {
		t.Fatalf("%s%v: %v", event, args, err)
	}
	if err := res.Decode(out...); err != nil {
		t.Fatalf("%s%v: %v", event, args, err)
	}
	if len(res.Args) > len(out) {
		var msg string
		if err := res.Decode(append(slices.Clone(out), &msg)...); err == nil && msg != "" {
			t.Fatalf("%s%v: %s", event, args, msg)
		}
	}
}

// next returns the next event, failing after 5 s.
func (c *procClient) next(t *testing.T) procEvent {
	t.Helper()
	select {
	case e := <-c.events:
		return e
	case <-time.After(5 * time.Second):
		t.Fatalf("client %s: no event within 5s", c.ID())
		return procEvent{}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestProcessCluster runs three members as separate OS processes on the
// shared Redis, one client on each, and checks every operation that
// crosses processes, from each member: broadcast, rooms, except, broadcast
// acks, fetch sockets, remote join and leave, server-side emit with and
// without acks, the write-only emitter of the test process, and remote
// disconnect.
func TestProcessCluster(t *testing.T) {
	rdb := newClient(t) // fails the test when Redis is down
	key := siopubsubtest.Prefix(t)
	start := time.Now()
	urls := startMembers(t, 3, key)
	t.Logf("members listening after %v", time.Since(start))
	cs := make([]*procClient, 3)
	for i, u := range urls {
		cs[i] = dialMember(t, u)
	}
	sids := []string{cs[0].ID(), cs[1].ID(), cs[2].ID()}
	for i, c := range cs {
		siopubsubtest.Eventually(t, fmt.Sprintf("p%d counts 3 servers", i), func() bool {
			var n int
			c.call(t, "count", nil, &n)
			return n == 3
		})
	}
	t.Logf("cluster formed after %v", time.Since(start))
	em := sioredis.NewEmitter(rdb, &sioredis.Options{Key: key})

	// settle has member via broadcast a "sync" marker and checks that the
	// events each client received before it are want[i] (any order).
	// Earlier emits of via come first, so nothing is missed or left over.
	settle := func(t *testing.T, via int, want ...[]string) {
		t.Helper()
		cs[via].call(t, "bcast", []any{nil, nil, "sync", "s"})
		for i, c := range cs {
			var got []string
			for e := c.next(t); e.name != "sync"; e = c.next(t) {
				got = append(got, e.name)
			}
			var w []string
			if i < len(want) {
				w = slices.Clone(want[i])
			}
			slices.Sort(got)
			slices.Sort(w)
			if !slices.Equal(got, w) {
				t.Fatalf("client of p%d got %v before p%d's sync, want %v", i, got, via, w)
			}
		}
	}
	bcast := func(t *testing.T, from int, to, except []string, event string) {
		t.Helper()
		cs[from].call(t, "bcast", []any{to, except, event, fmt.Sprintf("%s/%d", event, from)})
	}
	fetch := func(t *testing.T, via int, room string) []fetched {
		t.Helper()
		var out []fetched
		cs[via].call(t, "fetch", []any{room}, &out)
		return out
	}
	ids := func(f []fetched) []string {
		out := []string{}
		for _, s := range f {
			out = append(out, s.ID)
		}
		return out
	}
	sorted := func(s ...string) []string { return slices.Sorted(slices.Values(s)) }
	none := []string(nil)

	t.Run("Broadcast", func(t *testing.T) {
		for i := range cs {
			bcast(t, i, nil, nil, "hello")
			for j, c := range cs {
				e := c.next(t)
				want := fmt.Sprintf("hello/%d", i)
				if e.name != "hello" || e.from != fmt.Sprintf("p%d", i) || e.payload != want || string(e.bin) != want {
					t.Fatalf("client of p%d got %+v from p%d's broadcast", j, e, i)
				}
			}
		}
	})

	t.Run("Rooms", func(t *testing.T) {
		cs[1].call(t, "join", []any{"r1"})
		cs[2].call(t, "join", []any{"r2"})
		for i := range cs {
			bcast(t, i, []string{"r1"}, nil, "room")
			settle(t, i, none, []string{"room"}, none)
			bcast(t, i, []string{"r1", "r2"}, nil, "rooms")
			settle(t, i, none, []string{"rooms"}, []string{"rooms"})
			// A socket id is a room; two ids on two other members.
			bcast(t, i, []string{sids[(i+1)%3], sids[(i+2)%3]}, nil, "ids")
			w := [][]string{{"ids"}, {"ids"}, {"ids"}}
			w[i] = nil
			settle(t, i, w...)
		}
		cs[2].call(t, "leave", []any{"r2"})
		bcast(t, 0, []string{"r2"}, nil, "left")
		settle(t, 0)
	})

	t.Run("Except", func(t *testing.T) {
		for i := range cs {
			bcast(t, i, nil, []string{"r1"}, "ex")
			settle(t, i, []string{"ex"}, none, []string{"ex"})
			bcast(t, i, []string{"r1"}, []string{sids[1]}, "nobody")
			settle(t, i)
			other := (i + 1) % 3
			bcast(t, i, nil, []string{sids[other]}, "ex-id")
			w := [][]string{{"ex-id"}, {"ex-id"}, {"ex-id"}}
			w[other] = nil
			settle(t, i, w...)
		}
	})

	t.Run("BroadcastAcks", func(t *testing.T) {
		for i, c := range cs {
			var got []string
			c.call(t, "bcastAck", []any{nil}, &got)
			if want := sorted(sids...); !slices.Equal(got, want) {
				t.Fatalf("p%d: acks from %v, want %v", i, got, want)
			}
			settle(t, i, []string{"ask"}, []string{"ask"}, []string{"ask"})
			c.call(t, "bcastAck", []any{[]string{"r1"}}, &got)
			if !slices.Equal(got, []string{sids[1]}) {
				t.Fatalf("p%d: acks from r1 %v, want [%s]", i, got, sids[1])
			}
			settle(t, i, none, []string{"ask"}, none)
		}
	})

	t.Run("FetchSockets", func(t *testing.T) {
		for i := range cs {
			all := fetch(t, i, "")
			if got := ids(all); !slices.Equal(got, sorted(sids...)) {
				t.Fatalf("p%d fetches %v, want %v", i, got, sorted(sids...))
			}
			for _, s := range all {
				want := []string{s.ID}
				if s.ID == sids[1] {
					want = sorted(s.ID, "r1")
				}
				if !slices.Equal(s.Rooms, want) {
					t.Fatalf("p%d: socket %s rooms %v, want %v", i, s.ID, s.Rooms, want)
				}
			}
			if got := ids(fetch(t, i, "r1")); !slices.Equal(got, []string{sids[1]}) {
				t.Fatalf("p%d fetches r1 = %v, want [%s]", i, got, sids[1])
			}
		}
	})

	t.Run("RemoteJoinLeave", func(t *testing.T) {
		for i := range cs {
			// Member i makes the client of member j join a room; member k
			// sees it there, broadcasts to it, then makes it leave.
			j, k := (i+1)%3, (i+2)%3
			room := fmt.Sprintf("rj%d", i)
			cs[i].call(t, "remoteJoin", []any{sids[j], room})
			siopubsubtest.Eventually(t, fmt.Sprintf("p%d sees %s in %s", k, sids[j], room), func() bool {
				return slices.Equal(ids(fetch(t, k, room)), []string{sids[j]})
			})
			bcast(t, k, []string{room}, nil, "joined")
			w := [][]string{nil, nil, nil}
			w[j] = []string{"joined"}
			settle(t, k, w...)
			cs[k].call(t, "remoteLeave", []any{sids[j], room})
			siopubsubtest.Eventually(t, fmt.Sprintf("p%d sees %s empty", i, room), func() bool {
				return len(fetch(t, i, room)) == 0
			})
			bcast(t, i, []string{room}, nil, "gone")
			settle(t, i)
		}
	})

	t.Run("ServerSideEmit", func(t *testing.T) {
		for i, c := range cs {
			var got []string
			c.call(t, "sse", nil, &got)
			want := []string{"p0", "p1", "p2"}
			want = slices.Delete(want, i, i+1)
			if !slices.Equal(got, want) {
				t.Fatalf("p%d: whoami answers %v, want %v", i, got, want)
			}
			text := fmt.Sprintf("n%d", i)
			c.call(t, "note", []any{text})
			// The other members tell their own clients, each on its own
			// schedule: wait for both, then check nothing else came.
			for j, o := range cs {
				if j == i {
					continue
				}
				e := o.next(t)
				if e.name != "noted" || e.from != fmt.Sprintf("p%d", j) || e.payload != text || string(e.bin) != text {
					t.Fatalf("client of p%d got %+v after p%d's note", j, e, i)
				}
			}
			settle(t, i)
		}
	})

	t.Run("Emitter", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// emSync is settle with the emitter's own marker: one publisher, so
		// one order everywhere.
		emSync := func(t *testing.T, want ...[]string) {
			t.Helper()
			must(t, em.Emit(ctx, "em-sync"))
			for i, c := range cs {
				var got []string
				for e := c.next(t); e.name != "em-sync"; e = c.next(t) {
					got = append(got, e.name)
				}
				w := slices.Clone(want[i])
				slices.Sort(got)
				slices.Sort(w)
				if !slices.Equal(got, w) {
					t.Fatalf("client of p%d got %v from the emitter, want %v", i, got, w)
				}
			}
		}
		must(t, em.Emit(ctx, "em", "emitter", "all", []byte("all")))
		for i, c := range cs {
			if e := c.next(t); e.name != "em" || e.payload != "all" || string(e.bin) != "all" {
				t.Fatalf("client of p%d got %+v from the emitter", i, e)
			}
		}
		must(t, em.To("r1").Emit(ctx, "em-room"))
		must(t, em.Except("r1").Emit(ctx, "em-except"))
		must(t, em.To(sids[0], sids[2]).Emit(ctx, "em-ids"))
		emSync(t, []string{"em-except", "em-ids"}, []string{"em-room"}, []string{"em-except", "em-ids"})

		must(t, em.In(sids[0]).SocketsJoin(ctx, "em"))
		siopubsubtest.Eventually(t, "p2 sees the client of p0 in em", func() bool {
			return slices.Equal(ids(fetch(t, 2, "em")), []string{sids[0]})
		})
		must(t, em.To("em").Emit(ctx, "em-joined"))
		emSync(t, []string{"em-joined"}, nil, nil)
		must(t, em.In(sids[0]).SocketsLeave(ctx, "em"))
		siopubsubtest.Eventually(t, "p1 sees em empty", func() bool { return len(fetch(t, 1, "em")) == 0 })

		must(t, em.ServerSideEmit(ctx, "note", "em"))
		for i, c := range cs {
			if e := c.next(t); e.name != "noted" || e.from != fmt.Sprintf("p%d", i) || e.payload != "em" {
				t.Fatalf("client of p%d got %+v after the emitter's note", i, e)
			}
		}
		emSync(t, nil, nil, nil)
	})

	t.Run("RemoteDisconnect", func(t *testing.T) {
		// Two more clients; each member disconnects the other's.
		d0, d1 := dialMember(t, urls[0]), dialMember(t, urls[1])
		siopubsubtest.Eventually(t, "five sockets", func() bool { return len(fetch(t, 2, "")) == 5 })
		cs[0].call(t, "remoteDisconnect", []any{d1.ID()})
		cs[1].call(t, "remoteDisconnect", []any{d0.ID()})
		for i, d := range []*procClient{d0, d1} {
			select {
			case r := <-d.disconnected:
				if r != socketio.ReasonIOServerDisconnect {
					t.Fatalf("d%d disconnected: %q", i, r)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("d%d not disconnected", i)
			}
		}
		siopubsubtest.Eventually(t, "three sockets left", func() bool {
			return slices.Equal(ids(fetch(t, 2, "")), sorted(sids...))
		})
		cs[2].call(t, "remoteDisconnect", []any{sids[0]})
		select {
		case r := <-cs[0].disconnected:
			if r != socketio.ReasonIOServerDisconnect {
				t.Fatalf("client of p0 disconnected: %q", r)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("client of p0 not disconnected")
		}
		siopubsubtest.Eventually(t, "p1 fetches two sockets", func() bool {
			return slices.Equal(ids(fetch(t, 1, "")), sorted(sids[1], sids[2]))
		})
	})
	t.Logf("scenarios done after %v", time.Since(start))
}
