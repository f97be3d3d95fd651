package socketio

import (
	"fmt"
	"testing"
	"time"

	"github.com/siokit/siokit/core/parser"
)

func ev(data string) *parser.Packet {
	return &parser.Packet{Type: parser.Event, Namespace: "/", Data: []byte(data)}
}

func TestAppendOffset(t *testing.T) {
	for in, want := range map[string]string{
		`["e"]`:           `["e","o-1"]`,
		`["e",1,{"a":2}]`: `["e",1,{"a":2},"o-1"]`,
	} {
		if got := string(appendOffset([]byte(in), "o-1")); got != want {
			t.Errorf("appendOffset(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestRecoveryStore(t *testing.T) {
	r := newRecoveryStore(time.Minute)
	offsets := make([]string, 0, 6)
	record := func(data string, rooms, except []string) {
		p := r.record(ev(data), &BroadcastOptions{Rooms: rooms, Except: except})
		args, err := parser.SplitArray(p.Data)
		if err != nil {
			t.Fatal(err)
		}
		var off string
		if _, err := fmt.Sscanf(string(args[len(args)-1]), "%q", &off); err != nil {
			t.Fatalf("offset of %s: %v", p.Data, err)
		}
		offsets = append(offsets, off)
	}
	record(`["a"]`, nil, nil)                      // 0: everyone
	record(`["b"]`, []string{"red"}, nil)          // 1: red
	record(`["c"]`, []string{"blue"}, nil)         // 2: not ours
	record(`["d"]`, nil, []string{"red"})          // 3: all but red
	record(`["e"]`, []string{"blue", "sid1"}, nil) // 4: to the socket itself
	record(`["f"]`, nil, nil)                      // 5: everyone

	seen := map[string]bool{}
	for _, o := range offsets {
		if o == "" || seen[o] {
			t.Fatalf("offsets %q are not unique", offsets)
		}
		seen[o] = true
	}

	r.persist(&PersistedSession{SID: "sid1", PID: "pid1", Rooms: []string{"sid1", "red"}, DisconnectedAt: time.Now()})
	if _, ok := r.restore("pid1", "unknown offset"); ok {
		t.Error("restored with an unknown offset")
	}
	if _, ok := r.restore("other", offsets[0]); ok {
		t.Error("restored an unknown pid")
	}
	s, ok := r.restore("pid1", offsets[0])
	if !ok {
		t.Fatal("not restored")
	}
	var got []string
	for _, p := range s.Missed {
		got = append(got, string(p.Data[:4]))
	}
	if want := []string{`["b"`, `["e"`, `["f"`}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("missed %q, want %q", got, want)
	}
	if s.SID != "sid1" || s.PID != "pid1" {
		t.Errorf("restored %+v", s)
	}
	if _, ok := r.restore("pid1", offsets[0]); ok {
		t.Error("a session was restored twice")
	}

	// The latest offset: nothing missed.
	r.persist(&PersistedSession{SID: "sid1", PID: "pid1", Rooms: []string{"sid1"}, DisconnectedAt: time.Now()})
	if s, ok := r.restore("pid1", offsets[5]); !ok || len(s.Missed) != 0 {
		t.Errorf("restore from the latest offset = %v, %d missed", ok, len(s.Missed))
	}

	// Expired sessions and packets.
	r.persist(&PersistedSession{SID: "old", PID: "old", DisconnectedAt: time.Now().Add(-2 * time.Minute)})
	if _, ok := r.restore("old", offsets[0]); ok {
		t.Error("restored an expired session")
	}
	r.mu.Lock()
	for i := range r.packets {
		r.packets[i].at = time.Now().Add(-2 * time.Minute)
	}
	r.swept = time.Time{}
	r.mu.Unlock()
	r.persist(&PersistedSession{SID: "new", PID: "new", DisconnectedAt: time.Now()})
	r.mu.Lock()
	n, ns := len(r.packets), len(r.sessions)
	r.mu.Unlock()
	if n != 0 || ns != 1 {
		t.Errorf("after expiry: %d packets, %d sessions kept, want 0 and 1", n, ns)
	}
	r.close()
	if _, ok := r.restore("new", offsets[0]); ok {
		t.Error("restored after close")
	}
}
