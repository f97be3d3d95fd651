package parser

import (
	"sync"
	"sync/atomic"
)

// Event names repeat: a server handles a few names millions of times. The
// names table keeps the strings of the names seen first, so that taking a
// packet's name allocates nothing once its name is known. It is bounded in
// entries and in name length, so a peer sending ever new names only fills
// it; names past the bound are allocated as usual. Readers load the map
// without a lock; writers copy it.
const (
	maxNames   = 256
	maxNameLen = 64
)

var names struct {
	m  atomic.Pointer[map[string]string]
	mu sync.Mutex // serializes writers
}

// internName returns b as a string, the table's copy when b is in it.
func internName(b []byte) string {
	var known map[string]string
	if m := names.m.Load(); m != nil {
		known = *m
	}
	if s, ok := known[string(b)]; ok {
		return s
	}
	s := string(b)
	// Once the table is full, a new name costs no lock: a peer sending
	// ever new names does not serialize every decoder on names.mu.
	if len(s) <= maxNameLen && len(known) < maxNames {
		addName(s)
	}
	return s
}

// addName copies the table with s added, unless it is full.
func addName(s string) {
	names.mu.Lock()
	defer names.mu.Unlock()
	var old map[string]string
	if m := names.m.Load(); m != nil {
		old = *m
	}
	if len(old) >= maxNames {
		return
	}
	if _, ok := old[s]; ok {
		return
	}
	m := make(map[string]string, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[s] = s
	names.m.Store(&m)
}
