//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gofiber/fiber/v2"

	siofiber "github.com/siokit/siokit/adapters/fiber"
	siogin "github.com/siokit/siokit/adapters/gin"
	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/app"
	"github.com/siokit/siokit/examples/chat/chatserver"
)

const chromiumPath = "/usr/bin/chromium"

// browserSteps are the steps testdata/browser.js reports, in order.
var browserSteps = []string{
	"launch",
	"A open", "B open", "A join", "B join", "A sees bob joined",
	"B sees A typing", "A sends", "B sees A's message", "A sees own message",
	"B sends", "A sees B's message",
	"A reload", "B sees alice left", "A rejoin", "B sees alice joined again",
	"A sends after reload", "B sees A's message after reload",
	"B sends after reload", "A sees B's message after reload",
	"A sees B typing", "screenshot", "done",
}

// mount serves h on ln behind a web framework and returns a function that
// stops that server.
type mount func(t *testing.T, h *app.App, ln net.Listener) (stop func())

// browserMounts lists the ways the chat is mounted for the browser test.
var browserMounts = []struct {
	name  string
	serve mount
}{
	{"nethttp", serveNetHTTP},
	{"gin", serveGin},
	{"fiber", serveFiber},
}

// serveNetHTTP serves the chat on ln with net/http and siohttp.Handler.
func serveNetHTTP(t *testing.T, h *app.App, ln net.Listener) func() {
	return serveHTTP(t, ln, siohttp.Handler(h))
}

// serveHTTP serves handler on ln with a net/http server.
func serveHTTP(t *testing.T, ln net.Listener, handler http.Handler) func() {
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	return func() {
		_ = hs.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("net/http server: %v", err)
		}
	}
}

// serveGin mounts the chat on a gin app with routes of its own, as
// middleware that answers the Socket.IO path and the static files and passes
// every other request on to gin's router.
func serveGin(t *testing.T, h *app.App, ln net.Listener) func() {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(siogin.Middleware(h))
	r.GET("/api/ping", func(c *gin.Context) { c.String(http.StatusOK, "pong") })
	stop := serveHTTP(t, ln, r)
	checkOwnRoute(t, "http://"+ln.Addr().String()+"/api/ping")
	return stop
}

// serveFiber mounts the chat on a Fiber app with routes of its own, with
// siofiber.Handler on the Socket.IO path and on each URL of the static
// rules, next to the app's own route.
func serveFiber(t *testing.T, h *app.App, ln net.Listener) func() {
	a := fiber.New(fiber.Config{DisableStartupMessage: true})
	a.Get("/api/ping", func(c *fiber.Ctx) error { return c.SendString("pong") })
	chat := siofiber.Handler(h)
	a.All("/socket.io/*", chat)
	a.Get("/", chat)
	a.Get("/static/*", chat)
	a.Get("/vendor/*", chat)
	done := make(chan error, 1)
	go func() { done <- a.Listener(ln) }()
	checkOwnRoute(t, "http://"+ln.Addr().String()+"/api/ping")
	return func() {
		if err := a.ShutdownWithTimeout(5 * time.Second); err != nil {
			t.Errorf("fiber shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("fiber server: %v", err)
		}
	}
}

// checkOwnRoute asserts that the framework still answers its own route
// next to the chat.
func checkOwnRoute(t *testing.T, url string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	res, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	body, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK || string(body) != "pong" {
		t.Errorf("GET %s = %d %q, want 200 \"pong\"", url, res.StatusCode, body)
	}
}

// browserLine is one JSON line of testdata/browser.js.
type browserLine struct {
	Step   string          `json:"step"`
	OK     bool            `json:"ok"`
	MS     int64           `json:"ms"`
	Error  string          `json:"error"`
	Detail json.RawMessage `json:"detail"`
	Event  string          `json:"event"`
	Page   string          `json:"page"`
	URL    string          `json:"url"`
}

// TestBrowser drives two headless Chromium pages through the chat, mounted
// on each framework in browserMounts, with testdata/browser.js (npm's
// playwright-core). It needs Debian's chromium and the repository's
// node_modules, both installed by `make test` (scripts/deps.sh).
func TestBrowser(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	modules := filepath.Join(root, "node_modules")
	clientDir := filepath.Join(modules, "socket.io-client", "dist")
	for _, need := range []string{
		chromiumPath,
		filepath.Join(modules, "playwright-core", "package.json"),
		filepath.Join(clientDir, "socket.io.min.js"),
	} {
		if _, err := os.Stat(need); err != nil {
			t.Fatalf("%s is missing: run `make test` (scripts/deps.sh installs Debian's chromium and the npm packages): %v", need, err)
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not on PATH (Node.js 20 is part of this machine's kind): %v", err)
	}
	artifacts := os.Getenv("ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(os.TempDir(), "siokit-chat-browser")
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}

	for _, m := range browserMounts {
		t.Run(m.name, func(t *testing.T) {
			start := time.Now()
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			if testing.Verbose() {
				log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			}
			srv, err := chatserver.New(log)
			if err != nil {
				t.Fatal(err)
			}
			h := app.New(srv, &app.Options{Static: chatserver.StaticRules("static", clientDir)})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			stop := m.serve(t, h, ln)
			t.Cleanup(func() {
				_ = srv.Close()
				stop()
			})

			shot := filepath.Join(artifacts, "chat-"+m.name+".png")
			_ = os.Remove(shot)
			lines, err := runBrowser(t, node, modules, "http://"+ln.Addr().String(), shot)
			checkBrowserLines(t, lines)
			if err != nil {
				t.Fatal(err)
			}
			checkScreenshot(t, shot)
			t.Logf("%s: browser scenario passed in %v; screenshot of page A: %s", m.name, time.Since(start).Round(time.Millisecond), shot)
		})
	}
}

// runBrowser runs testdata/browser.js against base and returns the lines it
// printed, and an error when it failed. The script, Chromium included, is
// killed by process group when it overruns its time or returns.
func runBrowser(t *testing.T, node, modules, base, shot string) ([]browserLine, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "browser.js"), base, shot)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 3 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	// Whatever happens below, leave no Chromium behind.
	defer func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }()

	var lines []browserLine
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		var l browserLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Errorf("browser.js printed a line that is not JSON: %q", sc.Text())
			continue
		}
		t.Logf("browser: %s", sc.Text())
		lines = append(lines, l)
	}
	err = cmd.Wait()
	switch {
	case ctx.Err() != nil:
		return lines, fmt.Errorf("browser.js did not finish within 30 s (killed); stderr:\n%s", stderr.String())
	case err != nil:
		return lines, fmt.Errorf("browser.js: %w; stderr:\n%s", err, stderr.String())
	}
	return lines, nil
}

// checkBrowserLines asserts that every step passed in order, that no page
// threw, and that each page reached the server over WebSocket (page A once
// more after its reload).
func checkBrowserLines(t *testing.T, lines []browserLine) {
	t.Helper()
	var steps []string
	sockets := map[string]int{}
	for _, l := range lines {
		switch {
		case l.Step != "":
			if !l.OK {
				t.Errorf("step %q failed after %d ms: %s", l.Step, l.MS, l.Error)
			}
			steps = append(steps, l.Step)
		case l.Event == "pageerror":
			t.Errorf("page %s threw: %s", l.Page, l.Error)
		case l.Event == "websocket":
			if !strings.Contains(l.URL, "/socket.io/?EIO=4&transport=websocket") {
				t.Errorf("page %s opened an unexpected WebSocket %s", l.Page, l.URL)
			}
			sockets[l.Page]++
		}
	}
	if got, want := strings.Join(steps, " | "), strings.Join(browserSteps, " | "); got != want && !t.Failed() {
		t.Errorf("steps:\n got %s\nwant %s", got, want)
	}
	if sockets["A"] < 2 || sockets["B"] < 1 {
		t.Errorf("WebSocket upgrades: page A %d (want 2: before and after its reload), page B %d (want 1)", sockets["A"], sockets["B"])
	}
}

// checkScreenshot asserts that name is a PNG of a page-sized picture.
func checkScreenshot(t *testing.T, name string) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	defer func() { _ = f.Close() }()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s is not a PNG: %v", name, err)
	}
	if b := img.Bounds(); b.Dx() < 400 || b.Dy() < 300 {
		t.Errorf("screenshot %s is %dx%d, want at least 400x300", name, b.Dx(), b.Dy())
	}
	if c := distinctColours(img, 64); c < 8 {
		t.Errorf("screenshot %s has %d colours, want a rendered page (8 or more)", name, c)
	}
}

// distinctColours counts the distinct colours of img, stopping at limit.
func distinctColours(img image.Image, limit int) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= limit {
				return len(seen)
			}
		}
	}
	return len(seen)
}
