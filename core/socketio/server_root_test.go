package socketio

import (
	"slices"
	"testing"
)

// TestServerRootShortcuts checks that the Server's shortcuts act on
// namespace "/", and that Leave takes several rooms as Join does.
func TestServerRootShortcuts(t *testing.T) {
	srv := newTestServer(t)
	c := dialMem(t, srv)
	s := c.connect(srv)

	if srv.Socket(s.ID()) != s {
		t.Fatalf("Socket(%q) is not the connected socket", s.ID())
	}
	if got := srv.Sockets(); len(got) != 1 || got[0] != s {
		t.Fatalf("Sockets = %v, want the one socket", got)
	}

	s.Join("a", "b", "c")
	s.Leave("a", "b", "not-in")
	if got, want := s.Rooms(), sortedRooms(s.ID(), "c"); !slices.Equal(got, want) {
		t.Fatalf("Rooms after Leave(a, b, not-in) = %v, want %v", got, want)
	}

	srv.SocketsJoin("x", "y")
	if got, want := s.Rooms(), sortedRooms(s.ID(), "c", "x", "y"); !slices.Equal(got, want) {
		t.Fatalf("Rooms after SocketsJoin = %v, want %v", got, want)
	}
	srv.SocketsLeave("x", "y", "c")
	if got, want := s.Rooms(), []string{s.ID()}; !slices.Equal(got, want) {
		t.Fatalf("Rooms after SocketsLeave = %v, want %v", got, want)
	}

	for _, tc := range []struct {
		name string
		emit func() error
		want string
	}{
		{"Volatile", func() error { return srv.Volatile().Emit("v", 1) }, `2["v",1]`},
		{"Local", func() error { return srv.Local().Emit("l", 2) }, `2["l",2]`},
	} {
		if err := tc.emit(); err != nil {
			t.Fatalf("%s().Emit: %v", tc.name, err)
		}
		if got := c.next(); got != tc.want {
			t.Fatalf("%s().Emit: client got %q, want %q", tc.name, got, tc.want)
		}
	}

	srv.DisconnectSockets(false)
	if s.Connected() || len(srv.Sockets()) != 0 {
		t.Fatal("DisconnectSockets left the socket connected")
	}
}

func sortedRooms(rooms ...string) []string {
	slices.Sort(rooms)
	return rooms
}
