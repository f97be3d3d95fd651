package siohttp_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siokit/siokit/core/app"
	"github.com/siokit/siokit/core/eiotest"
)

// TestBrowserStaticAndCompression serves a page with an App in headless
// Chromium (Debian's chromium driven by playwright-core): the page's SVG
// image renders (naturalWidth > 0) and its ES module (.mjs) loads, which
// both need a right content type under nosniff, and socket.io-client in the
// page reads the server's gzip-compressed long-polling responses.
func TestBrowserStaticAndCompression(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"index.html": `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body>
<img id="pic" src="/static/pic.svg" alt="pic">
<script src="/static/socket.io.min.js"></script>
<script type="module">
import { answer } from "/static/mod.mjs";
window.moduleAnswer = answer;
</script>
</body></html>`,
		"pic.svg": `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30" fill="teal"/></svg>`,
		"mod.mjs": `export const answer = 42;`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	root := eiotest.RepoRoot(t)
	log := &encodingLog{seen: map[string][]string{}}
	var ts = compressServerApp(t, log, []app.StaticRule{
		app.File("/", filepath.Join(dir, "index.html")),
		app.File("/static/socket.io.min.js", filepath.Join(root, "node_modules", "socket.io-client", "dist", "socket.io.min.js")),
		app.Dir("/static", dir),
	})
	out := eiotest.RunNode(t, "adapters/nethttp/testdata/static_browser.js", ts.URL)
	var res struct {
		Fatal        string
		SVGWidth     int `json:"svgWidth"`
		ModuleAnswer any `json:"moduleAnswer"`
		SocketIO     struct {
			Welcome, Reply int
			Error          *string
		} `json:"socketio"`
		Errors []string
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &res); err != nil {
		t.Fatalf("script output %q: %v", out, err)
	}
	if res.Fatal != "" {
		t.Fatalf("browser: %s", res.Fatal)
	}
	if res.SVGWidth != 40 {
		t.Errorf("SVG naturalWidth %d, want 40 (it did not render)", res.SVGWidth)
	}
	if res.ModuleAnswer != float64(42) {
		t.Errorf("module export %v, want 42 (the .mjs did not load)", res.ModuleAnswer)
	}
	if s := res.SocketIO; s.Error != nil || s.Welcome != 30000 || s.Reply != 30000 {
		t.Errorf("socket.io-client in Chromium: welcome %d, reply %d, error %v", s.Welcome, s.Reply, s.Error)
	}
	if len(res.Errors) > 0 {
		t.Errorf("page errors: %q", res.Errors)
	}
	var chrome []string
	for ua, encs := range log.seen {
		if strings.Contains(ua, "Chrome") {
			chrome = append(chrome, encs...)
		}
	}
	if !contains(chrome, "gzip") {
		t.Errorf("Chromium's polling responses: %q (by User-Agent %q), want gzip among them", chrome, log.seen)
	}
}
