package main

import (
	"strings"
	"testing"
	"time"
)

// TestSoak runs the soak briefly: 100 clients for 10 seconds, with a short
// heartbeat so that the misbehaving kinds all reach their verdict.
func TestSoak(t *testing.T) {
	d := 10 * time.Second
	if testing.Short() {
		d = 8 * time.Second
	}
	rep, err := Run(t.Context(), Config{
		Duration:     d,
		Clients:      100,
		Misbehave:    0.03,
		Interval:     500 * time.Millisecond,
		PingInterval: 1500 * time.Millisecond,
		PingTimeout:  1500 * time.Millisecond,
		Settle:       20 * time.Second,
		Logf:         t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rep.Print(&b)
	if rep.Failed() {
		t.Fatal(b.String())
	}
	t.Log(b.String())
	if rep.Acked == 0 || rep.Broadcasts == 0 || rep.Connections < int64(rep.Config.Clients) {
		t.Errorf("too little traffic: %d acks, %d broadcasts, %d connections", rep.Acked, rep.Broadcasts, rep.Connections)
	}
	for k := Slow; k < numKinds; k++ {
		if k != Abrupt && rep.Reaped[k] == 0 {
			t.Errorf("no %s connection reached its verdict", k)
		}
	}
}

// TestLedgerCheck covers the exactly-once verdict.
func TestLedgerCheck(t *testing.T) {
	tests := []struct {
		name           string
		handled, acked []uint64
		want           []string // substrings of the violations, in order
	}{
		{"exactly once", []uint64{1, 2, 3}, []uint64{1, 2, 3}, nil},
		{"handled, not acked", []uint64{1, 2}, []uint64{1}, nil},
		{"lost", []uint64{1}, []uint64{1, 2}, []string{"1 acknowledged messages were never handled", "id 2 acknowledged but never handled"}},
		{"handled twice", []uint64{1, 1}, []uint64{1}, []string{"1 messages were handled more than once", "id 1 handled 2 times"}},
		{"acked twice", []uint64{7}, []uint64{7, 7}, []string{"1 messages were acknowledged more than once", "id 7 acknowledged 2 times"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLedger()
			for _, id := range tt.handled {
				l.handled(id)
			}
			for _, id := range tt.acked {
				l.acked(id)
			}
			var rep Report
			l.check(&rep)
			if len(rep.Violations) != len(tt.want) {
				t.Fatalf("violations %q, want %d matching %q", rep.Violations, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(rep.Violations[i], w) {
					t.Errorf("violation %d = %q, want it to contain %q", i, rep.Violations[i], w)
				}
			}
		})
	}
}
