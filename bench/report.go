package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"
)

// printTable prints, per scenario and server, the median of the rounds with
// min–max, p99 where measured, and the ratios to the Node server and to the
// raw WebSocket ceiling. The table is built in memory and written to w at
// once; the error is w's.
func printTable(w io.Writer, names []string, specs []serverSpec, results map[string]map[string][]Result, rounds int, dur, warm time.Duration) error {
	var b strings.Builder
	fmt.Fprintf(&b, "\nsiobench %s, %s/%s, %d CPUs, %d interleaved rounds of %v after %v of warm-up (medians, min–max)\n\n",
		time.Now().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, onlineCPUs(), rounds, dur, warm)
	fmt.Fprintln(&b, "| scenario | server | median | min–max | p99 | vs node | vs ceiling |")
	fmt.Fprintln(&b, "|---|---|---:|---:|---:|---:|---:|")
	for _, sc := range names {
		byServer := results[sc]
		ref := func(name string) float64 {
			if rs := byServer[name]; len(rs) > 0 {
				m, _, _ := median(rs)
				return m
			}
			return 0
		}
		node, raw := ref("node"), ref("raw")
		for _, spec := range specs {
			rs := byServer[spec.name]
			if len(rs) == 0 {
				continue
			}
			med, lo, hi := median(rs)
			var p99s []Result
			for _, r := range rs {
				p99s = append(p99s, Result{Value: float64(r.P99)})
			}
			p99, _, _ := median(p99s)
			fmt.Fprintf(&b, "| %s | %s | %.1f %s | %.1f–%.1f | %s | %s | %s |\n", sc, spec.name, med, rs[0].Unit, lo, hi,
				fmtDur(time.Duration(p99)), ratio(med, node), ratio(med, raw))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func ratio(v, ref float64) string {
	if ref == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", v/ref)
}

func fmtDur(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	return d.Round(10 * time.Microsecond).String()
}
