package manager_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/siokit/siokit/core/socketio"
	"github.com/siokit/siokit/core/socketio/manager"
)

// recording is a manager built the way pub/sub managers are: an embedded
// InMemory plus what it relays.
type recording struct {
	*manager.InMemory
	joins chan []string
}

func (r *recording) AddSockets(opts *socketio.BroadcastOptions, rooms []string) {
	r.joins <- append(slices.Clone(opts.Rooms), rooms...)
	r.InMemory.AddSockets(opts, rooms)
}

func TestInMemoryRooms(t *testing.T) {
	srv := socketio.NewServer(nil)
	defer func() { _ = srv.Close() }()
	m := manager.NewInMemory(srv.Of("/m"))
	if m.Namespace() != srv.Of("/m") {
		t.Fatal("Namespace is not the namespace the manager was built for")
	}
	m.AddAll("s1", []string{"s1", "b", "a"})
	m.AddAll("s2", []string{"s2", "a"})
	if got, want := m.Rooms(), []string{"a", "b", "s1", "s2"}; !slices.Equal(got, want) {
		t.Fatalf("Rooms = %v, want %v", got, want)
	}
	m.Del("s1", "a")
	if got, want := m.SocketRooms("s1"), []string{"b", "s1"}; !slices.Equal(got, want) {
		t.Fatalf("SocketRooms(s1) = %v, want %v", got, want)
	}
	m.DelAll("s2")
	if got, want := m.Rooms(), []string{"b", "s1"}; !slices.Equal(got, want) {
		t.Fatalf("Rooms after DelAll = %v, want %v", got, want)
	}
}

func TestHandleServerSideEmit(t *testing.T) {
	srv := socketio.NewServer(nil)
	defer func() { _ = srv.Close() }()
	nsp := srv.Of("/")
	if err := nsp.OnServerSideEmit("inc", func(n int) int { return n + 1 }); err != nil {
		t.Fatal(err)
	}
	var got []any
	manager.HandleServerSideEmit(nsp, "inc", []json.RawMessage{json.RawMessage(`41`)}, nil, func(res []any) { got = res })
	if len(got) != 1 || got[0] != 42 {
		t.Fatalf("ack got %v, want [42]", got)
	}
	// An event without a handler is dropped: ack is not called.
	called := false
	manager.HandleServerSideEmit(nsp, "none", nil, nil, func([]any) { called = true })
	if called {
		t.Fatal("ack called for an event without a handler")
	}
}

func TestNewRemoteSocketActsThroughManager(t *testing.T) {
	joins := make(chan []string, 1)
	srv := socketio.NewServer(&socketio.Options{
		NewManager: func(nsp *socketio.Namespace) socketio.Manager {
			return &recording{InMemory: manager.NewInMemory(nsp), joins: joins}
		},
	})
	defer func() { _ = srv.Close() }()
	r := manager.NewRemoteSocket(srv.Of("/"), &socketio.RemoteSocket{ID: "elsewhere", Namespace: "/"})
	r.Join("room")
	if got, want := <-joins, []string{"elsewhere", "room"}; !slices.Equal(got, want) {
		t.Fatalf("AddSockets got %v, want %v", got, want)
	}
}
