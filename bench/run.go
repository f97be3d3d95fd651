package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A server under test: how to start it.
type serverSpec struct {
	name string
	cmd  func(addr string) *exec.Cmd
}

func runCmd(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	rounds := fs.Int("rounds", 5, "interleaved rounds")
	dur := fs.Duration("duration", 2*time.Second, "measuring time per scenario and server (idle: the time held)")
	warm := fs.Duration("warmup", time.Second, "load run before each measurement, not counted")
	scen := fs.String("scenarios", strings.Join(defaultScenarios(), ","),
		"scenarios to run (idle-50k is opt-in), of:\n"+scenarioList())
	servers := fs.String("servers", strings.Join(defaultServers(), ","), "servers to compare")
	serverCPU := fs.String("server-cpu", "1", "CPU list the servers are pinned to (taskset), empty for none")
	connsFlag := fs.String("conns", "", "connections per scenario instead of its default, e.g. idle=2000,idle-50k=18000")
	_ = fs.Parse(args)

	specs, err := serverSpecs(strings.Split(*servers, ","), *serverCPU)
	if err != nil {
		return err
	}
	names := strings.Split(*scen, ",")
	for _, n := range names {
		if scenarios[n] == nil {
			return fmt.Errorf("unknown scenario %q", n)
		}
	}
	conns, err := parseConns(*connsFlag)
	if err != nil {
		return err
	}
	if err := raiseNoFile(); err != nil {
		return err
	}
	// Fail now, not after the other scenarios ran, when the machine's limit
	// on open files cannot hold a scenario's connections.
	for _, n := range names {
		c := conns[n]
		if c == 0 {
			c = scenarios[n].conns
		}
		if err := checkNoFile(c); err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
	}
	results := map[string]map[string][]Result{} // scenario -> server -> rounds
	ctx := context.Background()
	for round := 1; round <= *rounds; round++ {
		// Each round starts with the next server, so that none always runs
		// right after the same one.
		order := append(slices.Clone(specs[(round-1)%len(specs):]), specs[:(round-1)%len(specs)]...)
		for _, sc := range names {
			if scenarios[sc].once && round > 1 {
				continue
			}
			for _, spec := range order {
				if scenarios[sc].noRaw && isRaw(spec.name) {
					continue // the ceilings speak WebSocket only
				}
				r, err := measure(ctx, spec, sc, conns[sc], *dur, *warm)
				if err != nil {
					return fmt.Errorf("round %d, %s on %s: %w", round, sc, spec.name, err)
				}
				fmt.Fprintf(os.Stderr, "round %d %-11s %-8s %12.1f %s p50=%v p99=%v errors=%d %s\n",
					round, sc, spec.name, r.Value, r.Unit, r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Errors, r.Note)
				if results[sc] == nil {
					results[sc] = map[string][]Result{}
				}
				results[sc][spec.name] = append(results[sc][spec.name], r)
			}
		}
	}
	return printTable(os.Stdout, names, specs, results, *rounds, *dur, *warm)
}

func serverSpecs(names []string, cpu string) ([]serverSpec, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	pin := func(argv ...string) *exec.Cmd {
		// The machine's CPUs, not this process's: the generator itself may
		// be pinned to one (taskset), and the servers inherit its mask
		// unless they are pinned elsewhere.
		if cpu != "" && onlineCPUs() > 1 {
			if _, err := exec.LookPath("taskset"); err == nil {
				argv = append([]string{"taskset", "-c", cpu}, argv...)
			}
		}
		return exec.Command(argv[0], argv[1:]...) //nolint:gosec // G204: the harness starts its own binary, node on bench/node/server.js and taskset, with arguments it builds itself
	}
	var specs []serverSpec
	for _, n := range names {
		switch {
		case n == "node":
			specs = append(specs, serverSpec{name: n, cmd: func(addr string) *exec.Cmd {
				_, port, _ := net.SplitHostPort(addr)
				c := pin("node", filepath.Join(root, "bench", "node", "server.js"), port)
				c.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(root, "node_modules"))
				return c
			}})
		case goServers[n] != nil:
			specs = append(specs, serverSpec{name: n, cmd: func(addr string) *exec.Cmd {
				return pin(self, "serve", "-server", n, "-addr", addr)
			}})
		default:
			return nil, fmt.Errorf("unknown server %q", n)
		}
	}
	return specs, nil
}

// measure starts a fresh server, runs one scenario against it and stops it.
func measure(ctx context.Context, spec serverSpec, sc string, conns int, dur, warm time.Duration) (Result, error) {
	addr, err := freeAddr()
	if err != nil {
		return Result{}, err
	}
	cmd := spec.cmd(addr)
	cmd.Stdout, cmd.Stderr = nil, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return Result{}, fmt.Errorf("start %s: %w", spec.name, err)
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	if err := waitListening(addr, 15*time.Second); err != nil {
		return Result{}, fmt.Errorf("%s: %w", spec.name, err)
	}
	pid := cmd.Process.Pid
	if spec.name == "node" || strings.Contains(cmd.Path, "taskset") {
		// taskset execs the server, so the pid is the server's own.
		pid = cmd.Process.Pid
	}
	cfg := withDefaultConns(sc, LoadConfig{URL: "http://" + addr, Conns: conns, Duration: dur, Warmup: warm, PID: pid})
	r, err := scenarios[sc].run(ctx, cfg)
	r.Scenario = sc
	return r, err
}

// parseConns reads -conns: scenario=connections, comma-separated.
func parseConns(s string) (map[string]int, error) {
	out := map[string]int{}
	if s == "" {
		return out, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n <= 0 || scenarios[k] == nil {
			return nil, fmt.Errorf("-conns: %q is not scenario=connections", kv)
		}
		out[k] = n
	}
	return out, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", err
	}
	return addr, nil
}

func waitListening(addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			_ = c.Close() // only the connect mattered
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("server did not start listening")
}

// repoRoot finds the directory holding go.work above the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run siobench inside the siokit repository (no go.work found)")
		}
		dir = parent
	}
}

func median(rs []Result) (med, lo, hi float64) {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = r.Value
	}
	slices.Sort(v)
	return v[len(v)/2], v[0], v[len(v)-1]
}

// isRaw reports whether a server is one of the ceilings.
func isRaw(name string) bool { return strings.HasPrefix(name, "raw") }

// defaultServers lists every server this build can run: siokit through each
// adapter compiled in, the Node server, and the two ceilings.
func defaultServers() []string {
	var out []string
	for _, n := range []string{"siohttp", "siofiber"} {
		if goServers[n] != nil {
			out = append(out, n)
		}
	}
	return append(out, "node", "raw", "rawbatch")
}

// onlineCPUs counts the machine's online CPUs, whatever this process's
// affinity (runtime.NumCPU counts only the CPUs this process may use).
func onlineCPUs() int {
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return runtime.NumCPU()
	}
	n := 0
	for _, part := range strings.Split(strings.TrimSpace(string(b)), ",") {
		lo, hi, found := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		z := a
		var err2 error
		if found {
			z, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil {
			return runtime.NumCPU()
		}
		n += z - a + 1
	}
	return n
}
