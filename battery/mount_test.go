package battery

// Items 48, 49 and 51: the example programs as shipped, built with go build
// and run as subprocesses, attacked over raw TCP; memory is the server
// process's resident set, read from /proc.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const mib = 1 << 20

var builds sync.Map // example name → *built

type built struct {
	once sync.Once
	bin  string
	err  error
}

// buildExample builds examples/<name> once per test binary, into binDir.
func buildExample(t *testing.T, name string) string {
	t.Helper()
	v, _ := builds.LoadOrStore(name, &built{})
	b := v.(*built)
	b.once.Do(func() {
		b.bin = filepath.Join(binDir(), name)
		cmd := exec.Command("go", "build", "-o", b.bin, "./examples/"+name)
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build ./examples/%s: %w\n%s", name, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.bin
}

var (
	binOnce sync.Once
	binPath string
)

// binDir is a folder for the example binaries, removed by TestMain.
func binDir() string {
	binOnce.Do(func() {
		var err error
		if binPath, err = os.MkdirTemp("", "siokit-battery-bin-"); err != nil {
			panic(err)
		}
	})
	return binPath
}

// exampleServer is an example program running as a subprocess.
type exampleServer struct {
	cmd    *exec.Cmd
	addr   string
	out    *syncBuffer
	exited chan struct{}
	err    error // Wait's, once exited is closed
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startExample runs examples/<name> on a free port, serving static (its
// -static and -client folders), and waits until it answers.
func startExample(t *testing.T, name, static string) *exampleServer {
	t.Helper()
	bin := buildExample(t, name)
	s := &exampleServer{addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), out: &syncBuffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, "-addr", s.addr, "-static", static, "-client", static)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, s.out.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for !s.healthy() {
		if time.Now().After(deadline) {
			t.Fatalf("%s does not answer on %s", name, s.addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

// healthy reports whether GET /api/health answers 200, on a new connection.
func (s *exampleServer) healthy() bool {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	res, err := c.Get("http://" + s.addr + "/api/health")
	if err != nil {
		return false
	}
	_ = res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// rss is the server process's resident set size in bytes.
func (s *exampleServer) rss(t *testing.T) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// maxRSS samples rss every 50 ms for d and returns the largest.
func (s *exampleServer) maxRSS(t *testing.T, d time.Duration) int64 {
	var peak int64
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		peak = max(peak, s.rss(t))
	}
	return peak
}

// terminate sends SIGTERM and waits up to limit for the process to exit,
// failing unless it exits with status 0.
func (s *exampleServer) terminate(t *testing.T, limit time.Duration) {
	t.Helper()
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
		if s.err != nil {
			t.Errorf("exit after SIGTERM: %v", s.err)
		}
		t.Logf("exited %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	case <-time.After(limit):
		t.Fatalf("still running %v after SIGTERM", limit)
	}
}

// staticDir writes the chat page the examples need, and a sparse file of
// size bytes as big.bin when size > 0.
func staticDir(t *testing.T, size int64) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<title>battery</title>"), 0o600); err != nil {
		t.Fatal(err)
	}
	if size > 0 {
		f, err := os.Create(filepath.Join(dir, "big.bin"))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		_ = f.Close()
	}
	return dir
}

// dialAll opens n TCP connections to addr, 32 at a time, and sends each
// the bytes first returns for it (nothing when nil).
func dialAll(t *testing.T, addr string, n int, first func(i int) []byte) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, err := net.DialTimeout("tcp", addr, 10*time.Second)
			if err != nil {
				errs <- err
				return
			}
			conns[i] = c
			if first != nil {
				if _, err := c.Write(first(i)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	t.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				_ = c.Close()
			}
		}
	})
	if err := <-errs; err != nil {
		t.Fatalf("dial %d connections: %v", n, err)
	}
	return conns
}

// raiseFileLimit lifts the test process's soft open-file limit to its hard
// limit and returns it.
func raiseFileLimit(t *testing.T) uint64 {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatal(err)
		}
	}
	return lim.Cur
}

// TestBattery48_ContentLengthAttack: 300 connections each announce a
// 4,000,000-byte body and send one byte, to a path nothing serves. The
// examples as shipped (net/http with siohttp, Fiber with siofiber.Config)
// grow by under 64 MB and keep answering.
func TestBattery48_ContentLengthAttack(t *testing.T) {
	for _, name := range []string{"nethttp", "fiber"} {
		t.Run(name, func(t *testing.T) {
			s := startExample(t, name, staticDir(t, 0))
			base := s.rss(t)
			req := []byte("POST /anything HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 4000000\r\n\r\nA")
			conns := dialAll(t, s.addr, 300, func(int) []byte { return req })
			peak := s.maxRSS(t, 2*time.Second)
			t.Logf("%s: RSS %d MB before, peak %d MB with 300 connections", name, base/mib, peak/mib)
			if peak-base >= 64*mib {
				t.Errorf("RSS grew by %d MB (limit 64 MB)", (peak-base)/mib)
			}
			if !s.healthy() {
				t.Error("the server does not answer during the attack")
			}
			for _, c := range conns {
				_ = c.Close()
			}
			s.terminate(t, 25*time.Second)
		})
	}
}

// TestBattery49_SlowlorisAndHalfOpen: 1,000 connections that send a
// request's headers one byte a second and 5,000 that send nothing are all
// closed within the example's read timeout (10 s), through net/http, gin and
// Fiber; SIGTERM while 100 slowloris connections are held still exits 0
// within the shutdown grace.
func TestBattery49_SlowlorisAndHalfOpen(t *testing.T) {
	const (
		slow, halfOpen = 1000, 5000
		timeout        = 10 * time.Second // ReadHeaderTimeout, siofiber's ReadTimeout
		slack          = 5 * time.Second
		perMount       = slow + halfOpen + 200 // the test's descriptors for one mount
	)
	// The mounts run side by side as far as the open-file limit allows.
	limit := raiseFileLimit(t)
	if limit < perMount+500 {
		t.Fatalf("open-file limit %d; this item needs %d", limit, perMount+500)
	}
	slots := make(chan struct{}, (limit-500)/perMount)
	for _, name := range []string{"nethttp", "gin", "fiber"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			slots <- struct{}{}
			defer func() { <-slots }()
			s := startExample(t, name, staticDir(t, 0))
			start := time.Now()
			loris := dialAll(t, s.addr, slow, func(int) []byte { return []byte("GET /api/health HTTP/1.1\r\nHost: x\r\nX-") })
			half := dialAll(t, s.addr, halfOpen, nil)
			opened := time.Since(start)
			stop := make(chan struct{})
			defer close(stop)
			go trickle(loris, stop)
			// Every connection is closed by the server: reads end.
			conns := append(append([]net.Conn{}, loris...), half...)
			closed := waitClosed(conns, start.Add(opened+timeout+slack))
			if closed < len(conns) {
				t.Errorf("%d of %d connections closed within %v of opening", closed, len(conns), timeout+slack)
			}
			t.Logf("%s: %d+%d connections opened in %v; all closed after %v", name, slow, halfOpen, opened.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
			if !s.healthy() {
				t.Error("the server does not answer after the attack")
			}

			held := dialAll(t, s.addr, 100, func(int) []byte { return []byte("GET /api/health HTTP/1.1\r\nHost: x\r\nX-") })
			go trickle(held, stop)
			s.terminate(t, timeout+slack)
		})
	}
}

// trickle writes one header byte a second to each connection until stop.
func trickle(conns []net.Conn, stop <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		for _, c := range conns {
			_ = c.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
			_, _ = c.Write([]byte("a"))
		}
	}
}

// waitClosed polls the connections, every 100 ms from one goroutine (the
// race detector allows 8,128 goroutines, fewer than the connections here),
// until the server has closed them all or deadline passes, and returns how
// many it closed.
func waitClosed(conns []net.Conn, deadline time.Time) int {
	open := append([]net.Conn{}, conns...)
	for {
		still := open[:0]
		for _, c := range open {
			if !peerClosed(c) {
				still = append(still, c)
			}
		}
		open = still
		if len(open) == 0 || time.Now().After(deadline) {
			return len(conns) - len(open)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// peerClosed reads what the connection holds without blocking, discarding
// it (a 408 or 400 answer may come first), and reports whether the peer
// has closed or reset it.
func peerClosed(c net.Conn) bool {
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	buf := make([]byte, 4096)
	_ = rc.Read(func(fd uintptr) bool {
		for {
			n, _, err := syscall.Recvfrom(int(fd), buf, syscall.MSG_DONTWAIT)
			switch {
			case n > 0:
				continue
			case err == syscall.EAGAIN || err == syscall.EINTR:
			default: // 0 bytes: end of stream; or a reset
				closed = true
			}
			return true
		}
	})
	return closed
}

// TestBattery51_SlowStaticReaders: ten clients read a 100 MB static file
// slowly; the server grows by under 32 MB (net/http and Fiber). Then SIGTERM:
// the downloads finish, whole, and the program exits 0 within its grace.
func TestBattery51_SlowStaticReaders(t *testing.T) {
	const size = 100 * mib
	for _, name := range []string{"nethttp", "fiber"} {
		t.Run(name, func(t *testing.T) {
			s := startExample(t, name, staticDir(t, size))
			base := s.rss(t)
			fast := make(chan struct{})
			results := make(chan error, 10)
			for range 10 {
				go func() { results <- slowDownload("http://"+s.addr+"/static/big.bin", size, fast) }()
			}
			peak := s.maxRSS(t, 3*time.Second)
			t.Logf("%s: RSS %d MB before, peak %d MB with ten slow readers", name, base/mib, peak/mib)
			if peak-base >= 32*mib {
				t.Errorf("RSS grew by %d MB (limit 32 MB)", (peak-base)/mib)
			}
			close(fast)
			s.terminate(t, 25*time.Second)
			for range 10 {
				if err := <-results; err != nil {
					t.Errorf("download during shutdown: %v", err)
				}
			}
		})
	}
}

// slowDownload reads url 64 KiB every 20 ms until fast is closed, then as
// fast as it can, and checks that it got want bytes.
func slowDownload(url string, want int64, fast <-chan struct{}) error {
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Get(url)
	if err != nil {
		return err
	}
	defer func() { _ = res.Body.Close() }()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", res.StatusCode)
	}
	r := bufio.NewReaderSize(res.Body, 64<<10)
	buf := make([]byte, 64<<10)
	var n int64
	for {
		select {
		case <-fast:
			m, err := io.Copy(io.Discard, r)
			n += m
			if err != nil {
				return err
			}
			if n != want {
				return fmt.Errorf("got %d bytes of %d", n, want)
			}
			return nil
		case <-time.After(20 * time.Millisecond):
		}
		m, err := io.ReadFull(r, buf)
		n += int64(m)
		if err != nil {
			return fmt.Errorf("after %d bytes: %w", n, err)
		}
	}
}

// TestBattery50_IdleKeepAlive: connections that made one request and then
// sit idle on keep-alive are closed after the examples' idle timeout (60 s)
// and not long before it, on net/http, gin and Fiber as shipped.
func TestBattery50_IdleKeepAlive(t *testing.T) {
	const (
		conns   = 50
		idle    = 60 * time.Second // the examples' IdleTimeout, siofiber.DefaultIdleTimeout
		slack   = 5 * time.Second
		earlier = idle / 2
	)
	for _, name := range []string{"nethttp", "gin", "fiber"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := startExample(t, name, staticDir(t, 0))
			cs := dialAll(t, s.addr, conns, func(int) []byte { return []byte("GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n") })
			for i, c := range cs {
				_ = c.SetReadDeadline(time.Now().Add(wait))
				res, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil || res.StatusCode != http.StatusOK || res.Close {
					t.Fatalf("connection %d: %v %v (want 200, kept alive)", i, res, err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
				_ = c.SetReadDeadline(time.Time{})
			}
			start := time.Now()
			if closed := waitClosed(cs, start.Add(earlier)); closed > 0 {
				t.Errorf("%d of %d idle connections closed within %v, before the idle timeout", closed, conns, earlier)
			}
			closed := waitClosed(cs, start.Add(idle+slack))
			if closed < conns {
				t.Errorf("%d of %d idle connections closed within %v", closed, conns, idle+slack)
			}
			t.Logf("%s: %d idle connections closed after %v", name, closed, time.Since(start).Round(time.Second))
			for _, c := range cs {
				_ = c.Close()
			}
			s.terminate(t, wait)
		})
	}
}
