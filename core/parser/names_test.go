package parser

import (
	"fmt"
	"strings"
	"testing"
)

func TestInternName(t *testing.T) {
	long := strings.Repeat("x", maxNameLen+1)
	for i := range maxNames + 50 { // more names than the table holds
		name := fmt.Sprintf("event-%d", i)
		if got := internName([]byte(name)); got != name {
			t.Fatalf("internName(%q) = %q", name, got)
		}
	}
	if got := internName([]byte(long)); got != long {
		t.Fatalf("internName of a long name = %q", got)
	}
	m := *names.m.Load()
	if len(m) > maxNames {
		t.Errorf("the table holds %d names, more than %d", len(m), maxNames)
	}
	if _, ok := m[long]; ok {
		t.Error("a name longer than maxNameLen was kept")
	}
	// A known name costs no allocation.
	b := []byte("event-1")
	if n := testing.AllocsPerRun(100, func() { _ = internName(b) }); n != 0 {
		t.Errorf("internName of a known name: %v allocations", n)
	}
}

func TestUnquote(t *testing.T) {
	tests := []struct{ raw, want string }{
		{`"chat"`, "chat"},
		{`"a\"b"`, `a"b`},
		{`"\u00e9t\u00e9"`, "été"},
		{`"été"`, "été"},
	}
	for _, tt := range tests {
		if got := unquote([]byte(tt.raw)); got != tt.want {
			t.Errorf("unquote(%s) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}
