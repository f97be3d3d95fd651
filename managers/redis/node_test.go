package sioredis_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/socketio"
	siopubsubtest "github.com/siokit/siokit/managers/pubsub/pubsubtest"
	sioredis "github.com/siokit/siokit/managers/redis"
)

// startNode runs testdata/node_server.js (socket.io with
// @socket.io/redis-adapter) and returns its URL.
func startNode(t *testing.T, key string) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "testdata/node_server.js", "redis://"+sharedAddr, key)
	cmd.Env = append(cmd.Environ(), "NODE_PATH="+filepath.Join(root, "node_modules"))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("node: %v (make deps installs node_modules)", err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				lines <- p
			}
		}
		close(lines)
	}()
	select {
	case port, ok := <-lines:
		if !ok {
			t.Fatalf("node server exited: %s", stderr.String())
		}
		return "http://127.0.0.1:" + port
	case <-time.After(10 * time.Second):
		t.Fatalf("node server did not start: %s", stderr.String())
		return ""
	}
}

// TestNodeInterop runs a Node socket.io server with @socket.io/redis-adapter
// and a siokit server on one Redis, a client on each.
func TestNodeInterop(t *testing.T) {
	key := siopubsubtest.Prefix(t)
	nodeURL := startNode(t, key)
	srv := socketio.NewServer(&socketio.Options{NewManager: sioredis.New(newClient(t), &sioredis.Options{Key: key})})
	if err := srv.On("join", func(s *socketio.Socket, room string) bool { s.Join(room); return true }); err != nil {
		t.Fatal(err)
	}
	if err := srv.Of("/").OnServerSideEmit("whoami", func() string { return "go" }); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(siohttp.Handler(srv))
	t.Cleanup(func() { _ = srv.Close(); hs.Close() })
	cl := &siopubsubtest.Cluster{Servers: []*socketio.Server{srv}}
	cl.WaitCount(t, 2)

	goc := siopubsubtest.Dial(t, hs.URL)
	nodec := siopubsubtest.Dial(t, nodeURL)
	both := []*siopubsubtest.Client{goc, nodec}

	t.Run("GoToNode", func(t *testing.T) {
		if err := srv.Emit("from-go", "x", []byte{7, 8}, map[string]any{"n": 1.5}); err != nil {
			t.Fatal(err)
		}
		for _, c := range both {
			e := c.Expect(t, "from-go")
			var s string
			var b []byte
			var m map[string]float64
			if e.Arg(0, &s) != nil || e.Arg(1, &b) != nil || e.Arg(2, &m) != nil || s != "x" || !slices.Equal(b, []byte{7, 8}) || m["n"] != 1.5 {
				t.Fatalf("from-go args %s (attachments %v)", e.Args, e.Attachments)
			}
		}
	})

	t.Run("NodeToGo", func(t *testing.T) {
		nodec.Call(t, "broadcast", "from-node", map[string]any{"a": 1})
		for _, c := range both {
			e := c.Expect(t, "from-node")
			var m map[string]int
			if err := e.Arg(0, &m); err != nil || m["a"] != 1 {
				t.Fatalf("from-node args %s", e.Args)
			}
		}
	})

	t.Run("Rooms", func(t *testing.T) {
		goc.Call(t, "join", "room-a")
		nodec.Call(t, "join", "room-a")
		nodec.Call(t, "to", "room-a", "node-room", 1)
		goc.Expect(t, "node-room")
		nodec.Expect(t, "node-room")
		if err := srv.To("room-a").Emit("go-room", 2); err != nil {
			t.Fatal(err)
		}
		goc.Expect(t, "go-room")
		nodec.Expect(t, "go-room")
		// A room only the Go client is in, from each side.
		goc.Call(t, "join", "room-go")
		nodec.Call(t, "to", "room-go", "only-go", 3)
		if err := srv.To("room-go").Emit("only-go-2"); err != nil {
			t.Fatal(err)
		}
		nodec.Call(t, "broadcast", "mark", 0)
		// The two come from different processes: in either order.
		var got []string
		for range 3 {
			got = append(got, goc.Next(t).Name)
		}
		if slices.Sort(got); !slices.Equal(got, []string{"mark", "only-go", "only-go-2"}) {
			t.Fatalf("Go client got %v", got)
		}
		nodec.Expect(t, "mark")
	})

	t.Run("FetchSockets", func(t *testing.T) {
		want := slices.Sorted(slices.Values([]string{goc.SID(), nodec.SID()}))
		socks, err := srv.FetchSockets(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range socks {
			got = append(got, s.ID)
			if s.ID == nodec.SID() && (!slices.Contains(s.Rooms, "room-a") || s.Handshake.Address == "") {
				t.Errorf("node socket: rooms %v, handshake %+v", s.Rooms, s.Handshake)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("Go FetchSockets = %v, want %v", got, want)
		}
		var nodeGot []string
		if err := json.Unmarshal(nodec.Call(t, "fetch")[0], &nodeGot); err != nil || !slices.Equal(nodeGot, want) {
			t.Fatalf("Node fetchSockets = %v (%v), want %v", nodeGot, err, want)
		}
	})

	t.Run("RemoteJoin", func(t *testing.T) {
		srv.In(nodec.SID()).SocketsJoin("room-b")
		siopubsubtest.Eventually(t, "node socket in room-b", func() bool {
			socks, _ := srv.In("room-b").FetchSockets(context.Background())
			return len(socks) == 1 && socks[0].ID == nodec.SID()
		})
		if err := srv.To("room-b").Emit("b"); err != nil {
			t.Fatal(err)
		}
		nodec.Expect(t, "b")
	})

	t.Run("BroadcastAcks", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := srv.Timeout(4*time.Second).EmitWithAck(ctx, "ask")
		if err != nil || len(res) != 2 {
			t.Fatalf("EmitWithAck: %d responses, %v", len(res), err)
		}
		for _, c := range both {
			c.Expect(t, "ask")
		}
	})

	t.Run("ServerSideEmit", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := srv.Of("/").ServerSideEmitWithAck(ctx, "whoami")
		if err != nil || len(res) != 1 {
			t.Fatalf("ServerSideEmitWithAck: %d answers, %v", len(res), err)
		}
		var who string
		if err := res[0].Decode(&who); err != nil || who != "node" {
			t.Fatalf("answer %q (%v)", who, err)
		}
		var answers []string
		raw := nodec.Call(t, "sse")[0]
		if err := json.Unmarshal(raw, &answers); err != nil || !slices.Equal(answers, []string{"go"}) {
			t.Fatalf("Node serverSideEmitWithAck answers %s (%v)", raw, err)
		}
	})

	t.Run("Emitter", func(t *testing.T) {
		em := sioredis.NewEmitter(newClient(t), &sioredis.Options{Key: key})
		if err := em.To("room-a").Emit(context.Background(), "em", "hi"); err != nil {
			t.Fatal(err)
		}
		goc.Expect(t, "em")
		nodec.Expect(t, "em")
	})
}
