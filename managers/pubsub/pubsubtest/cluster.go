// Package siopubsubtest is the scenario kit that every pub/sub manager's
// tests run: a cluster of Socket.IO servers, each with a manager of its
// own, clients spread over them, and the operations that cross processes.
package siopubsubtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/socketio"
	siopubsub "github.com/siokit/siokit/managers/pubsub"
)

// NewManagerFunc returns the NewManager option of one server. Each call
// must open its own broker connection; prefix keeps tests apart.
type NewManagerFunc func(t testing.TB, prefix string) func(*socketio.Namespace) socketio.Manager

// Prefix returns a channel prefix unique to this test run.
func Prefix(t testing.TB) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "siotest-" + hex.EncodeToString(b[:])
}

// Cluster is a set of servers sharing a broker.
type Cluster struct {
	Servers []*socketio.Server
	URLs    []string
	// ServerSideEvents receives, from every server, "<index>:<event>" for
	// each server-side emit its "note" handler got.
	ServerSideEvents chan string
}

// NewCluster starts n servers over httptest, each with the manager from
// newManager, and waits until each one's manager of "/" is subscribed and
// counts n servers. Every server acks "join" by joining the room named by
// its argument, and answers the server-side emit "whoami" with its index.
func NewCluster(t testing.TB, n int, prefix string, newManager NewManagerFunc) *Cluster {
	t.Helper()
	c := &Cluster{ServerSideEvents: make(chan string, 64)}
	for i := range n {
		srv := socketio.NewServer(&socketio.Options{NewManager: newManager(t, prefix)})
		must(t, srv.On("join", func(s *socketio.Socket, room string) bool { s.Join(room); return true }))
		must(t, srv.On("leave", func(s *socketio.Socket, room string) bool { s.Leave(room); return true }))
		root := srv.Of("/")
		must(t, root.OnServerSideEmit("whoami", func() int { return i }))
		must(t, root.OnServerSideEmit("note", func(text string) {
			c.ServerSideEvents <- strconv.Itoa(i) + ":" + text
		}))
		hs := httptest.NewServer(siohttp.Handler(srv))
		t.Cleanup(func() {
			_ = srv.Close()
			hs.Close()
		})
		c.Servers = append(c.Servers, srv)
		c.URLs = append(c.URLs, hs.URL)
	}
	c.WaitCount(t, n)
	return c
}

// WaitCount waits until the manager of "/" on every server counts n servers.
func (c *Cluster) WaitCount(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for i, srv := range c.Servers {
		m, ok := srv.Of("/").Manager().(*siopubsub.Manager)
		if !ok {
			continue
		}
		select {
		case <-m.Ready():
		case <-time.After(time.Until(deadline)):
			t.Fatalf("server %d: manager not subscribed", i)
		}
		for {
			got := m.ServerCount(context.Background())
			if got == n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("server %d counts %d servers, want %d", i, got, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// Eventually retries cond every 20 ms for up to 5 s.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
