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
// ceiling: the best median of the raw servers in that scenario (the
// highest, or the lowest where lower is better), so that siokit is held to
// the batching server where batching wins and to the plain one where it
// does not. The table is built in memory and written to w at
// once; the error is w's.
func printTable(w io.Writer, names []string, specs []serverSpec, results map[string]map[string][]Result, rounds int, dur, warm time.Duration) error {
	var b strings.Builder
	fmt.Fprintf(&b, "\nsiobench %s, %s/%s, %d CPUs, %d interleaved rounds of %v after %v of warm-up (medians, min–max)\n\n",
		time.Now().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, onlineCPUs(), rounds, dur, warm)
	fmt.Fprintln(&b, "| scenario | server | median | min–max | p99 | vs node | vs best raw |")
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
		node, raw := ref("node"), 0.0
		for name := range byServer {
			if v := ref(name); isRaw(name) && v > 0 && (raw == 0 || better(sc, v, raw)) {
				raw = v
			}
		}
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
	printNotes(&b, names, specs, results)
	printPairs(&b, names, results, "siofiber", "siohttp")
	_, err := io.WriteString(w, b.String())
	return err
}

// printPairs compares two servers round by round: the rounds are
// interleaved, so a round's pair ran close together and the machine's drift
// between rounds cancels out of their ratio. It prints, per scenario, the
// median of a's figure over b's with min–max, and in how many rounds a's
// figure was the higher.
func printPairs(w *strings.Builder, names []string, results map[string]map[string][]Result, a, b string) {
	header := false
	for _, sc := range names {
		ra, rb := results[sc][a], results[sc][b]
		n := min(len(ra), len(rb))
		if n == 0 {
			continue
		}
		if !header {
			fmt.Fprintf(w, "\n%s over %s, round by round (median, min–max, rounds where %s is higher):\n\n", a, b, a)
			header = true
		}
		ratios := make([]Result, n)
		higher := 0
		for i := range n {
			ratios[i].Value = ra[i].Value / rb[i].Value
			if ra[i].Value > rb[i].Value {
				higher++
			}
		}
		med, lo, hi := median(ratios)
		fmt.Fprintf(w, "- %s: %.2f (%.2f–%.2f), %d of %d\n", sc, med, lo, hi, higher, n)
	}
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

// better reports whether figure a beats figure b in scenario sc.
func better(sc string, a, b float64) bool {
	if s := scenarios[sc]; s != nil && s.lowerIsBetter {
		return a < b
	}
	return a > b
}

// printNotes prints what the table's figures do not say (the idle
// scenarios' total memory and heartbeats), per scenario and server, from
// the last round.
func printNotes(w *strings.Builder, names []string, specs []serverSpec, results map[string]map[string][]Result) {
	header := false
	for _, sc := range names {
		for _, spec := range specs {
			rs := results[sc][spec.name]
			if len(rs) == 0 || rs[len(rs)-1].Note == "" {
				continue
			}
			if !header {
				fmt.Fprintln(w, "\nNotes:")
				fmt.Fprintln(w)
				header = true
			}
			fmt.Fprintf(w, "- %s on %s: %s\n", sc, spec.name, rs[len(rs)-1].Note)
		}
	}
}
