package siopubsubtest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/siokit/siokit/core/socketio"
	siopubsub "github.com/siokit/siokit/managers/pubsub"
)

// Config names what [Run] needs of a broker.
type Config struct {
	// NewManager builds each server's manager (required).
	NewManager NewManagerFunc
	// NewEmitter builds a write-only emitter on the same broker; the
	// emitter scenarios are skipped when nil.
	NewEmitter func(t testing.TB, prefix string) *siopubsub.Emitter
}

// Run starts three servers with one client each and checks, across the
// servers: broadcast, rooms, except, broadcast acks, remote join, leave and
// disconnect, fetch sockets, server-side emit with and without acks, and
// the emitter.
func Run(t *testing.T, cfg Config) {
	prefix := Prefix(t)
	cl := NewCluster(t, 3, prefix, cfg.NewManager)
	s0, s1, s2 := cl.Servers[0], cl.Servers[1], cl.Servers[2]
	clients := []*Client{Dial(t, cl.URLs[0]), Dial(t, cl.URLs[1]), Dial(t, cl.URLs[2])}
	c0, c1, c2 := clients[0], clients[1], clients[2]
	sids := []string{c0.SID(), c1.SID(), c2.SID()}

	// sync broadcasts a marker from srv and checks it is every client's next
	// event, so that nothing else arrived before it.
	sync := func(t *testing.T, srv *socketio.Server, want ...string) {
		t.Helper()
		if err := srv.Emit("sync"); err != nil {
			t.Fatal(err)
		}
		for i, c := range clients {
			name := "sync"
			if len(want) > i && want[i] != "" {
				name = want[i]
				c.Expect(t, name)
				name = "sync"
			}
			c.Expect(t, name)
		}
	}

	t.Run("Broadcast", func(t *testing.T) {
		for i, srv := range cl.Servers {
			if err := srv.Emit("hello", i, []byte{1, 2, byte(i)}); err != nil {
				t.Fatal(err)
			}
			for _, c := range clients {
				e := c.Expect(t, "hello")
				var from int
				var bin []byte
				if err := e.Arg(0, &from); err != nil || from != i {
					t.Fatalf("from = %d (%v), want %d", from, err, i)
				}
				if err := e.Arg(1, &bin); err != nil || !slices.Equal(bin, []byte{1, 2, byte(i)}) {
					t.Fatalf("binary = %v (%v)", bin, err)
				}
			}
		}
	})

	t.Run("Rooms", func(t *testing.T) {
		c1.Call(t, "join", "r1")
		if err := s0.To("r1").Emit("room", "r1"); err != nil {
			t.Fatal(err)
		}
		sync(t, s0, "", "room", "")
		if err := s2.To(sids[0], sids[2]).Emit("two"); err != nil {
			t.Fatal(err)
		}
		sync(t, s2, "two", "", "two")
	})

	t.Run("Except", func(t *testing.T) {
		if err := s2.Except("r1").Emit("ex"); err != nil {
			t.Fatal(err)
		}
		sync(t, s2, "ex", "", "ex")
		if err := s1.To("r1").Except(sids[1]).Emit("nobody"); err != nil {
			t.Fatal(err)
		}
		sync(t, s1)
	})

	t.Run("BroadcastAcks", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := s0.Timeout(4*time.Second).EmitWithAck(ctx, "ask", "q")
		if err != nil {
			t.Fatalf("EmitWithAck: %v (%d responses)", err, len(res))
		}
		var got []string
		for _, r := range res {
			var sid string
			if err := r.Decode(&sid); err != nil {
				t.Fatal(err)
			}
			got = append(got, sid)
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(sids))
		if !slices.Equal(got, want) {
			t.Fatalf("acks from %v, want %v", got, want)
		}
		for _, c := range clients {
			c.Expect(t, "ask")
		}
		// To a room on another server only.
		res, err = s1.Timeout(4*time.Second).To("r1").EmitWithAck(ctx, "ask")
		if err != nil || len(res) != 1 {
			t.Fatalf("room EmitWithAck: %d responses, %v", len(res), err)
		}
		c1.Expect(t, "ask")
	})

	t.Run("RemoteJoinLeave", func(t *testing.T) {
		s0.In(sids[2]).SocketsJoin("r2")
		inR2 := func(srv *socketio.Server) []string {
			socks, err := srv.Of("/").In("r2").FetchSockets(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, s := range socks {
				out = append(out, s.ID)
			}
			return out
		}
		Eventually(t, "c2 in r2", func() bool { return slices.Equal(inR2(s1), []string{sids[2]}) })
		if err := s1.To("r2").Emit("r2"); err != nil {
			t.Fatal(err)
		}
		sync(t, s1, "", "", "r2")
		s1.In("r2").SocketsLeave("r2")
		Eventually(t, "r2 empty", func() bool { return len(inR2(s0)) == 0 })
		// Every socket joins r3, then the ones in r1 leave it.
		s2.Of("/").SocketsJoin("r3")
		Eventually(t, "all in r3", func() bool {
			socks, _ := s0.In("r3").FetchSockets(context.Background())
			return len(socks) == 3
		})
		s0.In("r1").SocketsLeave("r3")
		Eventually(t, "c1 out of r3", func() bool {
			socks, _ := s2.In("r3").FetchSockets(context.Background())
			return len(socks) == 2
		})
	})

	t.Run("FetchSockets", func(t *testing.T) {
		socks, err := s1.FetchSockets(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range socks {
			got = append(got, s.ID)
			if !slices.Contains(s.Rooms, s.ID) {
				t.Errorf("socket %s rooms %v lack its own", s.ID, s.Rooms)
			}
			if s.Handshake == nil || s.Handshake.Address == "" {
				t.Errorf("socket %s: no handshake address", s.ID)
			}
		}
		slices.Sort(got)
		if want := slices.Sorted(slices.Values(sids)); !slices.Equal(got, want) {
			t.Fatalf("FetchSockets = %v, want %v", got, want)
		}
		for _, s := range socks {
			if s.ID == sids[0] {
				if err := s.Emit("direct", "hi"); err != nil { // from s1 to a socket of s0
					t.Fatal(err)
				}
			}
		}
		sync(t, s1, "direct", "", "")
	})

	t.Run("ServerSideEmit", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := s0.Of("/").ServerSideEmitWithAck(ctx, "whoami")
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for _, r := range res {
			var i int
			if err := r.Decode(&i); err != nil {
				t.Fatal(err)
			}
			got = append(got, i)
		}
		slices.Sort(got)
		if !slices.Equal(got, []int{1, 2}) {
			t.Fatalf("whoami answers %v, want [1 2]", got)
		}
		if err := s1.Of("/").ServerSideEmit("note", "n1"); err != nil {
			t.Fatal(err)
		}
		var notes []string
		for range 2 {
			select {
			case n := <-cl.ServerSideEvents:
				notes = append(notes, n)
			case <-time.After(5 * time.Second):
				t.Fatalf("server-side emits received: %v", notes)
			}
		}
		slices.Sort(notes)
		if !slices.Equal(notes, []string{"0:n1", "2:n1"}) {
			t.Fatalf("notes = %v", notes)
		}
	})

	if cfg.NewEmitter != nil {
		t.Run("Emitter", func(t *testing.T) {
			em := cfg.NewEmitter(t, prefix)
			ctx := context.Background()
			if err := em.Emit(ctx, "from-emitter", 1, []byte("bin")); err != nil {
				t.Fatal(err)
			}
			for _, c := range clients {
				e := c.Expect(t, "from-emitter")
				var b []byte
				if err := e.Arg(1, &b); err != nil || string(b) != "bin" {
					t.Fatalf("binary = %q (%v)", b, err)
				}
			}
			if err := em.To("r1").Emit(ctx, "em-room"); err != nil {
				t.Fatal(err)
			}
			if err := em.Except("r1").Emit(ctx, "em-except"); err != nil {
				t.Fatal(err)
			}
			// A marker from the emitter itself: the same publisher, so the
			// same order everywhere.
			if err := em.Emit(ctx, "em-sync"); err != nil {
				t.Fatal(err)
			}
			for i, c := range clients {
				want := "em-except"
				if i == 1 {
					want = "em-room"
				}
				c.Expect(t, want)
				c.Expect(t, "em-sync")
			}
			if err := em.In(sids[0]).SocketsJoin(ctx, "em"); err != nil {
				t.Fatal(err)
			}
			Eventually(t, "c0 in em", func() bool {
				socks, _ := s2.In("em").FetchSockets(ctx)
				return len(socks) == 1 && socks[0].ID == sids[0]
			})
			if err := em.ServerSideEmit(ctx, "note", "em"); err != nil {
				t.Fatal(err)
			}
			var notes []string
			for range 3 {
				select {
				case n := <-cl.ServerSideEvents:
					notes = append(notes, n)
				case <-time.After(5 * time.Second):
					t.Fatalf("server-side emits received: %v", notes)
				}
			}
			slices.Sort(notes)
			if !slices.Equal(notes, []string{"0:em", "1:em", "2:em"}) {
				t.Fatalf("notes = %v", notes)
			}
		})
	}

	t.Run("RemoteDisconnect", func(t *testing.T) {
		s0.In(sids[2]).DisconnectSockets(false)
		select {
		case <-c2.Disconnected():
		case <-time.After(5 * time.Second):
			t.Fatal("c2 not disconnected")
		}
		Eventually(t, "two sockets left", func() bool {
			socks, _ := s1.FetchSockets(context.Background())
			return len(socks) == 2
		})
	})
}
