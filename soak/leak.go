package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"
)

func numGoroutine() int { return runtime.NumGoroutine() }

// heapInuse returns HeapInuse after a full collection.
func heapInuse() uint64 {
	runtime.GC()
	debug.FreeOSMemory() // a second collection, and pooled memory let go
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// settledBaseline measures the goroutines and heap before the run.
func settledBaseline() (int, uint64) {
	time.Sleep(100 * time.Millisecond)
	return numGoroutine(), heapInuse()
}

// gSlack is the heap a goroutine descriptor keeps after its goroutine has
// ended: the runtime never frees them (a g is about 450 bytes, plus its
// slot in the list of all goroutines).
const gSlack = 1 << 10

// settle waits up to d for the goroutine count to come back to want and
// HeapInuse to come under heapLimit (timers of the server, such as the
// upgrade timeout, keep it reachable for a while), and returns both.
func settle(want int, heapLimit uint64, d time.Duration) (int, uint64) {
	deadline := time.Now().Add(d)
	n := numGoroutine()
	for n > want && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		runtime.GC()
		n = numGoroutine()
	}
	heap := heapInuse()
	for heap > heapLimit && time.Now().Before(deadline) {
		time.Sleep(time.Second)
		heap = heapInuse()
	}
	return n, heap
}

// writeHeapProfile writes a heap profile to a temporary file and returns a
// note naming it, for `go tool pprof -sample_index=inuse_space`.
func writeHeapProfile() string {
	f, err := os.CreateTemp("", "soak-heap-*.pprof")
	if err != nil {
		return ""
	}
	err = pprof.Lookup("heap").WriteTo(f, 0)
	if cerr := f.Close(); err != nil || cerr != nil {
		return ""
	}
	return "; heap profile in " + f.Name()
}

// goroutineProfile returns the goroutines grouped by stack: stack text ->
// count.
func goroutineProfile() map[string]int {
	var buf bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
	out := make(map[string]int)
	// A "goroutine profile: total N" line, then blocks separated by blank
	// lines, each starting with "N @ pcs".
	_, text, _ := strings.Cut(buf.String(), "\n")
	for block := range strings.SplitSeq(text, "\n\n") {
		head, stack, ok := strings.Cut(block, "\n")
		if !ok {
			continue
		}
		count, _, ok := strings.Cut(head, " @ ")
		n, err := strconv.Atoi(count)
		if !ok || err != nil {
			continue
		}
		out[stack] += n
	}
	return out
}

// diffProfiles lists the stacks that have more goroutines in after than in
// before, the most numerous first (at most 10), leaving out the goroutine
// taking the profile.
func diffProfiles(before, after map[string]int) string {
	type group struct {
		stack string
		extra int
	}
	var groups []group
	for stack, n := range after {
		if extra := n - before[stack]; extra > 0 && !strings.Contains(stack, "pprof.writeGoroutine") {
			groups = append(groups, group{stack, extra})
		}
	}
	slices.SortFunc(groups, func(a, b group) int { return b.extra - a.extra })
	var b strings.Builder
	for i, g := range groups {
		if i == 10 {
			fmt.Fprintf(&b, "(%d more stacks)\n", len(groups)-i)
			break
		}
		fmt.Fprintf(&b, "%d goroutine(s):\n%s\n", g.extra, g.stack)
	}
	return b.String()
}
