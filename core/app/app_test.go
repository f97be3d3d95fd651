package app

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/siokit/siokit/core/engineio"
)

const secret = "SECRET-OUTSIDE-THE-ROOT"

// tree builds a directory with a public folder to serve and, beside it,
// files that must never be served.
func tree(t testing.TB) (base string) {
	t.Helper()
	base = t.TempDir()
	files := map[string]string{
		"secret.txt":               secret,
		"single.txt":               "single file",
		"other/x.txt":              "other x",
		"public/index.html":        "<h1>public index</h1>",
		"public/main.html":         "main page",
		"public/app.js":            "console.log(1)",
		"public/style.css":         "body{}",
		"public/data.json":         `{"a":1}`,
		"public/img.png":           "png",
		"public/img.jpg":           "jpg",
		"public/anim.gif":          "gif",
		"public/notes.txt":         "notes",
		"public/blob.bin":          "bin",
		"public/Upper.HTML":        "upper",
		"public/sub/index.html":    "sub index",
		"public/sub/page.html":     "sub page",
		"public/emptydir/.keep":    "",
		"public/..dots/x.txt":      "dots dir",
		"public/.env":              "SECRET=1",
		"public/.git/config":       "[core]",
		"public/.well-known/a.txt": "acme",
		"public/sub/.hidden.txt":   "hidden",
		"public/with space.txt":    "space",
		"public/pct%2e%2e.txt":     "literal percent",
		"public/sub/deep/a.json":   `{"deep":true}`,
	}
	for name, body := range files {
		p := filepath.Join(base, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"public/link-out":    filepath.Join("..", "secret.txt"),
		"public/link-abs":    filepath.Join(base, "secret.txt"),
		"public/link-in":     "app.js",
		"public/dirlink-out": "..",
		"public/sub/up":      filepath.Join("..", "index.html"),
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(base, filepath.FromSlash(name))); err != nil {
			t.Skipf("symlinks not supported: %v", err)
		}
	}
	return base
}

func testRules(base string) []StaticRule {
	pub := filepath.Join(base, "public")
	return []StaticRule{
		File("/", filepath.Join(pub, "index.html")),
		FileWithType("/raw", filepath.Join(base, "single.txt"), "application/x-custom"),
		File("/missing-file", filepath.Join(base, "nope.txt")),
		File("/a-dir", pub),
		Dir("/static", pub),
		Dir("/dotok", pub).WithDotfiles(),
		File("/env", filepath.Join(pub, ".env")),
		Dir("/deep/", filepath.Join(base, "other")),
		Dir("/gone", filepath.Join(base, "no-such-dir")),
	}
}

type want struct {
	status int
	ctype  string
	body   string
}

func TestServeRequest(t *testing.T) {
	t.Parallel()
	base := tree(t)
	engine := prefixHandler{name: "engine", prefix: "/engine.io/"}
	plain := New(engine, &Options{Static: testRules(base)})
	withOther := New(engine, &Options{Static: testRules(base), Other: prefixHandler{name: "other"}})

	notFound := want{http.StatusNotFound, "text/plain", "Not Found"}
	cases := []struct {
		method, target string
		want           want
		other          bool // with Other set, goes to Other instead of 404
	}{
		{"GET", "/engine.io/?EIO=4&transport=polling", want{418, "text/plain", "engine GET /engine.io/"}, false},
		{"POST", "/engine.io/", want{418, "text/plain", "engine POST /engine.io/"}, false},
		{"GET", "/", want{200, "text/html", "<h1>public index</h1>"}, false},
		{"HEAD", "/", want{200, "text/html", ""}, false},
		{"POST", "/", notFound, true},
		{"PUT", "/static/app.js", notFound, true},
		{"GET", "/raw", want{200, "application/x-custom", "single file"}, false},
		{"GET", "/raw/", notFound, true},
		{"GET", "/missing-file", notFound, true},
		{"GET", "/a-dir", notFound, true},
		{"GET", "/static/app.js", want{200, "application/javascript", "console.log(1)"}, false},
		{"GET", "/static/style.css", want{200, "text/css", "body{}"}, false},
		{"GET", "/static/data.json", want{200, "application/json", `{"a":1}`}, false},
		{"GET", "/static/img.png", want{200, "image/png", "png"}, false},
		{"GET", "/static/img.jpg", want{200, "image/jpeg", "jpg"}, false},
		{"GET", "/static/anim.gif", want{200, "image/gif", "gif"}, false},
		{"GET", "/static/notes.txt", want{200, "text/plain", "notes"}, false},
		{"GET", "/static/blob.bin", want{200, "application/octet-stream", "bin"}, false},
		{"GET", "/static/Upper.HTML", want{200, "text/html", "upper"}, false},
		{"GET", "/static/with%20space.txt", want{200, "text/plain", "space"}, false},
		{"GET", "/static/pct%252e%252e.txt", want{200, "text/plain", "literal percent"}, false},
		{"GET", "/static/..dots/x.txt", notFound, true},
		{"GET", "/static/.env", notFound, true},
		{"GET", "/static/%2eenv", notFound, true},
		{"GET", "/static/.git/config", notFound, true},
		{"GET", "/static/.well-known/a.txt", notFound, true},
		{"GET", "/static/sub/.hidden.txt", notFound, true},
		{"GET", "/static/emptydir/.keep", notFound, true},
		{"GET", "/dotok/..dots/x.txt", want{200, "text/plain", "dots dir"}, false},
		{"GET", "/dotok/.well-known/a.txt", want{200, "text/plain", "acme"}, false},
		{"GET", "/dotok/.git/config", want{200, "application/octet-stream", "[core]"}, false},
		{"GET", "/env", want{200, "application/octet-stream", "SECRET=1"}, false},
		{"GET", "/static/", want{200, "text/html", "<h1>public index</h1>"}, false},
		{"GET", "/static/sub/", want{200, "text/html", "sub index"}, false},
		{"GET", "/static/sub/page.html", want{200, "text/html", "sub page"}, false},
		{"GET", "/static/sub/deep/a.json", want{200, "application/json", `{"deep":true}`}, false},
		{"GET", "/static/sub/up", want{200, "application/octet-stream", "<h1>public index</h1>"}, false},
		{"GET", "/static/link-in", want{200, "application/octet-stream", "console.log(1)"}, false},
		{"GET", "/deep/x.txt", want{200, "text/plain", "other x"}, false},
		{"GET", "/static", notFound, true},
		{"GET", "/static/sub", notFound, true},
		{"GET", "/static/emptydir/", notFound, true},
		{"GET", "/static/missing.js", notFound, true},
		{"GET", "/gone/x.txt", notFound, true},
		{"GET", "/staticx/app.js", notFound, true},
		{"GET", "/api/users", notFound, true},
		// Traversal and other escapes.
		{"GET", "/static/../secret.txt", notFound, true},
		{"GET", "/static/sub/../../secret.txt", notFound, true},
		{"GET", "/static/%2e%2e/secret.txt", notFound, true},
		{"GET", "/static/%2e%2e%2fsecret.txt", notFound, true},
		{"GET", "/static/%2E%2E%2Fsecret.txt", notFound, true},
		{"GET", "/static/..%2fsecret.txt", notFound, true},
		{"GET", "/static/..%5csecret.txt", notFound, true},
		{"GET", "/static/..%5Csecret.txt", notFound, true},
		{"GET", `/static/..\secret.txt`, notFound, true},
		{"GET", `/static/sub\..\..\secret.txt`, notFound, true},
		{"GET", "/static/%252e%252e/secret.txt", notFound, true},
		{"GET", "/static/./app.js", notFound, true},
		{"GET", "/static//app.js", notFound, true},
		{"GET", "/static/" + filepath.ToSlash(filepath.Join(base, "secret.txt")), notFound, true},
		{"GET", "/static/%2f" + strings.TrimPrefix(filepath.ToSlash(filepath.Join(base, "secret.txt")), "/"), notFound, true},
		{"GET", "/static/app.js%00.html", notFound, true},
		{"GET", "/static/%00", notFound, true},
		{"GET", "/static/%zz", notFound, true},
		{"GET", "/static/link-out", notFound, true},
		{"GET", "/static/link-abs", notFound, true},
		{"GET", "/static/dirlink-out/secret.txt", notFound, true},
		{"GET", "/static/dirlink-out/public/app.js", notFound, true},
		{"GET", "/deep/../secret.txt", notFound, true},
		{"GET", "static/app.js", notFound, true},
		{"GET", "", notFound, true},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			t.Parallel()
			for _, a := range []*App{plain, withOther} {
				exp := tc.want
				if tc.other && a == withOther {
					exp = want{418, "text/plain", "other " + tc.method + " " + tc.target}
				}
				w := serve(a, tc.method, tc.target)
				if w.status != exp.status || w.header.Get("Content-Type") != exp.ctype || w.body.String() != exp.body {
					t.Errorf("other=%v: got %d %q %q, want %d %q %q", a == withOther,
						w.status, w.header.Get("Content-Type"), w.body.String(), exp.status, exp.ctype, exp.body)
				}
				if strings.Contains(w.body.String(), secret) {
					t.Fatalf("served the secret")
				}
			}
		})
	}
}

func TestHeadContentLength(t *testing.T) {
	t.Parallel()
	base := tree(t)
	a := New(prefixHandler{prefix: "/engine.io/"}, &Options{Static: testRules(base)})
	for _, m := range []string{"GET", "HEAD"} {
		w := serve(a, m, "/static/app.js")
		if got := w.header.Get("Content-Length"); got != "14" {
			t.Errorf("%s Content-Length = %q, want 14", m, got)
		}
		if got := w.header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s X-Content-Type-Options = %q", m, got)
		}
	}
}

func TestIndexRule(t *testing.T) {
	t.Parallel()
	base := tree(t)
	pub := filepath.Join(base, "public")
	cases := []struct {
		name      string
		rule      StaticRule
		target    string
		wantType  string
		wantBody  string
		wantFound bool
	}{
		{"default", StaticRule{}, "/static/", "text/html", "<h1>public index</h1>", true},
		{"named", Index("main.html"), "/static/", "text/html", "main page", true},
		{"typed", IndexWithType("main.html", "text/x-main"), "/static/", "text/x-main", "main page", true},
		{"typed, not a directory URL", IndexWithType("main.html", "text/x-main"), "/static/main.html", "text/html", "main page", true},
		{"missing in subdir", Index("main.html"), "/static/sub/", "", "", false},
		{"index escaping", Index("../secret.txt"), "/static/", "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := New(prefixHandler{prefix: "/engine.io/"}, &Options{Static: []StaticRule{Dir("/static", pub), tc.rule}})
			w := serve(a, "GET", tc.target)
			if !tc.wantFound {
				if w.status != http.StatusNotFound {
					t.Fatalf("got %d %q, want 404", w.status, w.body.String())
				}
				return
			}
			if w.status != 200 || w.header.Get("Content-Type") != tc.wantType || w.body.String() != tc.wantBody {
				t.Fatalf("got %d %q %q", w.status, w.header.Get("Content-Type"), w.body.String())
			}
		})
	}
}

func TestRootDir(t *testing.T) {
	t.Parallel()
	base := tree(t)
	a := New(prefixHandler{name: "engine", prefix: "/engine.io/"}, &Options{Static: []StaticRule{
		Dir("/", filepath.Join(base, "public")),
		File("/special.txt", filepath.Join(base, "single.txt")),
	}})
	cases := []struct{ target, body string }{
		{"/", "<h1>public index</h1>"},
		{"/app.js", "console.log(1)"},
		{"/sub/", "sub index"},
		{"/special.txt", "single file"},
		{"/engine.io/", "engine GET /engine.io/"},
		{"/../secret.txt", "Not Found"},
		{"/link-out", "Not Found"},
	}
	for _, tc := range cases {
		if w := serve(a, "GET", tc.target); w.body.String() != tc.body {
			t.Errorf("GET %s = %d %q, want %q", tc.target, w.status, w.body.String(), tc.body)
		}
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	base := tree(t)
	a := New(prefixHandler{prefix: "/engine.io/"}, &Options{Static: testRules(base)})
	cases := []struct {
		path string
		want bool
	}{
		{"/engine.io/", true},
		{"/engine.io/x", true},
		{"/", true},
		{"/raw", true},
		{"/static/app.js", true},
		{"/static/", true},
		{"/static/sub/", true},
		{"/static/missing.js", false},
		{"/static", false},
		{"/missing-file", false},
		{"/a-dir", false},
		{"/api/users", false},
		{"/static/../secret.txt", false},
		{"/static/%2e%2e%2fsecret.txt", false},
		{"/static/link-out", false},
	}
	for _, tc := range cases {
		if got := a.Match(tc.path); got != tc.want {
			t.Errorf("Match(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
	if New(prefixHandler{prefix: "/e/"}, nil).Match("/") {
		t.Error("an App without rules matched /")
	}
}

func TestNotRegular(t *testing.T) {
	t.Parallel()
	base := tree(t)
	fifo := filepath.Join(base, "public", "fifo")
	if err := mkfifo(fifo); err != nil {
		t.Skipf("no fifo: %v", err)
	}
	a := New(prefixHandler{prefix: "/engine.io/"}, &Options{Static: []StaticRule{
		Dir("/static", filepath.Join(base, "public")),
		File("/fifo", fifo),
		File("/null", os.DevNull),
	}})
	// Opening a fifo would block this test forever: the check must come first.
	for _, target := range []string{"/static/fifo", "/fifo", "/null"} {
		if w := serve(a, "GET", target); w.status != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", target, w.status)
		}
		if a.Match(target) {
			t.Errorf("Match(%s) = true", target)
		}
	}
}

func TestWithEngine(t *testing.T) {
	t.Parallel()
	base := tree(t)
	srv := engineio.NewServer(nil)
	defer func() { _ = srv.Close() }()
	a := New(srv, &Options{Static: testRules(base)})
	w := serve(a, "GET", "/engine.io/?EIO=4&transport=polling")
	if w.status != 200 || !strings.HasPrefix(w.body.String(), `0{"sid":"`) {
		t.Fatalf("handshake: %d %q", w.status, w.body.String())
	}
	if w := serve(a, "GET", "/"); w.status != 200 {
		t.Fatalf("GET / = %d", w.status)
	}
	if srv.Count() != 1 {
		t.Fatalf("sessions = %d, want 1", srv.Count())
	}
}

func TestStaticFromMap(t *testing.T) {
	t.Parallel()
	base := tree(t)
	pub := filepath.Join(base, "public")
	got, err := StaticFromMap(map[string]any{
		"/":        filepath.Join(pub, "index.html"),
		"/static":  pub,
		"/assets/": filepath.Join(base, "not-yet") + "/",
		"/data":    map[string]any{"filename": filepath.Join(base, "single.txt"), "content_type": "text/x-data"},
		"/plain":   map[string]string{"filename": filepath.Join(base, "single.txt")},
		"":         map[string]any{"filename": "main.html", "content_type": "text/x-main"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []StaticRule{
		IndexWithType("main.html", "text/x-main"),
		File("/", filepath.Join(pub, "index.html")),
		Dir("/assets", filepath.Join(base, "not-yet")+"/"),
		FileWithType("/data", filepath.Join(base, "single.txt"), "text/x-data"),
		File("/plain", filepath.Join(base, "single.txt")),
		Dir("/static", pub),
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	a := New(prefixHandler{prefix: "/engine.io/"}, &Options{Static: got})
	for target, body := range map[string]string{"/static/": "main page", "/data": "single file", "/": "<h1>public index</h1>"} {
		if w := serve(a, "GET", target); w.body.String() != body {
			t.Errorf("GET %s = %q, want %q", target, w.body.String(), body)
		}
	}
	if w := serve(a, "GET", "/static/"); w.header.Get("Content-Type") != "text/x-main" {
		t.Errorf("index content type = %q", w.header.Get("Content-Type"))
	}

	bad := []map[string]any{
		{"/": 42},
		{"/": map[string]any{"content_type": "text/plain"}},
		{"/": map[string]any{"filename": "x", "content_type": 1}},
		{"/": ""},
		{"": []string{"x"}},
	}
	for _, m := range bad {
		if _, err := StaticFromMap(m); !errors.Is(err, ErrBadRule) {
			t.Errorf("StaticFromMap(%v) error = %v, want ErrBadRule", m, err)
		}
	}
}

func TestContentType(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"a.html": "text/html", "a.css": "text/css", "a.js": "application/javascript",
		"a.json": "application/json", "a.jpg": "image/jpeg", "a.png": "image/png",
		"a.gif": "image/gif", "a.txt": "text/plain", "a.JS": "application/javascript",
		"a.jpeg": "image/jpeg", "a": "application/octet-stream",
		"dir.html/file": "application/octet-stream", "a.siokit-none": "application/octet-stream",
		"a.svg": "image/svg+xml", "a.SVG": "image/svg+xml", "a.mjs": "application/javascript",
		"a.wasm": "application/wasm", "a.woff": "font/woff", "a.woff2": "font/woff2",
		"a.ico": "image/x-icon", "a.webp": "image/webp", "a.avif": "image/avif",
		"a.map": "application/json", "a.webmanifest": "application/manifest+json",
		"a.htm": "text/html",
	}
	for name, want := range cases {
		if got := ContentType(name); got != want {
			t.Errorf("ContentType(%q) = %q, want %q", name, got, want)
		}
	}
}
