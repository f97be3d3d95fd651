package socketio

import (
	"context"
	"slices"
	"testing"
)

func TestInMemoryManagerRooms(t *testing.T) {
	srv := NewServer(nil)
	defer func() { _ = srv.Close() }()
	m := newInMemoryManager(srv.Of("/m"))

	m.AddAll("a", []string{"a", "r1", "r2"})
	m.AddAll("b", []string{"b", "r1"})
	m.AddAll("a", []string{"r1"}) // again: no duplicate
	if got := m.SocketRooms("a"); !slices.Equal(got, []string{"a", "r1", "r2"}) {
		t.Errorf("SocketRooms(a) = %q", got)
	}
	if got := m.Rooms(); !slices.Equal(got, []string{"a", "b", "r1", "r2"}) {
		t.Errorf("Rooms() = %q", got)
	}
	m.Del("a", "r2")
	m.Del("a", "nope")
	m.Del("nobody", "r1")
	if got := m.Rooms(); !slices.Equal(got, []string{"a", "b", "r1"}) {
		t.Errorf("Rooms() after Del = %q (an empty room must go)", got)
	}
	m.DelAll("a")
	m.DelAll("nobody")
	if got := m.SocketRooms("a"); got != nil {
		t.Errorf("SocketRooms(a) after DelAll = %q", got)
	}
	if got := m.Rooms(); !slices.Equal(got, []string{"b", "r1"}) {
		t.Errorf("Rooms() after DelAll = %q", got)
	}
	m.DelAll("b")
	m.mu.RLock()
	nr, ns := len(m.rooms), len(m.sids)
	m.mu.RUnlock()
	if nr != 0 || ns != 0 {
		t.Errorf("%d rooms and %d sids left", nr, ns)
	}
}

func TestInMemoryManagerSelection(t *testing.T) {
	srv := newTestServer(t)
	var ids []string
	for range 4 {
		ids = append(ids, dialMem(t, srv).connect(srv).ID())
	}
	nsp := srv.Of("/")
	m := nsp.Manager()
	nsp.Socket(ids[0]).Join("x", "y")
	nsp.Socket(ids[1]).Join("x")
	nsp.Socket(ids[2]).Join("y")
	sorted := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	for _, tc := range []struct {
		name string
		opts BroadcastOptions
		want []string
	}{
		{"all", BroadcastOptions{}, ids},
		{"one room", BroadcastOptions{Rooms: []string{"x"}}, ids[:2]},
		{"union without duplicates", BroadcastOptions{Rooms: []string{"x", "y"}}, ids[:3]},
		{"except", BroadcastOptions{Except: []string{"x"}}, ids[2:]},
		{"room except sid", BroadcastOptions{Rooms: []string{"x", "y"}, Except: []string{ids[0]}}, ids[1:3]},
		{"unknown room", BroadcastOptions{Rooms: []string{"none"}}, nil},
	} {
		rs, err := m.FetchSockets(context.Background(), &tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rs {
			got = append(got, r.ID)
		}
		if !slices.Equal(sorted(got), sorted(tc.want)) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
		if len(tc.opts.Except) == 0 {
			if got := m.Sockets(tc.opts.Rooms); !slices.Equal(sorted(got), sorted(tc.want)) {
				t.Errorf("%s: Sockets = %q, want %q", tc.name, got, tc.want)
			}
		}
	}
	m.AddSockets(&BroadcastOptions{Rooms: []string{"y"}}, []string{"z"})
	m.DelSockets(&BroadcastOptions{Rooms: []string{"x"}}, []string{"z", "x"})
	if got := sorted(m.Sockets([]string{"z"})); !slices.Equal(got, sorted([]string{ids[2]})) {
		t.Errorf("room z = %q", got)
	}
	if got := m.Sockets([]string{"x"}); len(got) != 0 {
		t.Errorf("room x = %q after DelSockets", got)
	}
}
