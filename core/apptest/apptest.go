// Package apptest is the scenario kit that holds every siokit adapter to the
// same [app.App] behaviour, as [github.com/siokit/siokit/core/eiotest] and
// [github.com/siokit/siokit/core/siotest] do for the Engine.IO and Socket.IO
// layers.
//
// An adapter's test provides an [eiotest.Mount] and calls [Run]:
//
//	func TestApp(t *testing.T) {
//		apptest.Run(t, func(t testing.TB, h engineio.Handler) string {
//			r := chi.NewRouter()
//			r.Use(siochi.Middleware(h)) // the engine and existing static files
//			r.Get("/api/ping", ping)    // the application's own routes
//			r.NotFound(siochi.Handler(h).ServeHTTP) // the rest: App's fallback
//			ts := httptest.NewServer(r)
//			t.Cleanup(ts.Close)
//			return ts.URL
//		})
//	}
//
// The mount is handed an App and must serve every request the App matches
// with it, and hand every request that the framework does not route
// elsewhere to it as well (a not-found handler or a last catch-all route),
// so that the App's fallback to its other application and its 404 are seen
// through the framework. The kit never requests a path under "/api/".
//
// [Run] builds Apps around a [socketio.Server], with static-file rules on a
// temporary directory it fills (and, where the platform allows, symbolic
// links), and checks over real HTTP: the Socket.IO path reaches the engine
// (a polling handshake and connect, a WebSocket handshake) ahead of any
// static rule, file rules with the content type of each known extension,
// unknown extensions and explicit types, directory rules with nested paths,
// index files for URLs ending in "/", the empty-key index rule, HEAD, the
// fallback to the other application, 404 when nothing matches, and the
// traversal attempts (dot segments, encoded dots and slashes, backslashes,
// absolute paths, NUL bytes, symbolic links leaving the directory), none of
// which may reveal a file outside a rule.
//
// # Caveats
//
// Run ends with a goroutine-leak check (go.uber.org/goleak), so it must not
// run in parallel with other tests of the same process.
package apptest

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/siokit/siokit/core/app"
	"github.com/siokit/siokit/core/eiotest"
	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/socketio"
)

// secret is the content of the file outside every rule; no response may
// contain it.
const secret = "TOP-SECRET-CONTENT"

// wait bounds every request of the kit.
const wait = 5 * time.Second

// otherApp is the App's other application: it answers every request with
// its method and raw path.
type otherApp struct{}

func (otherApp) Match(string) bool { return true }

func (otherApp) ServeRequest(w engineio.ResponseWriter, r engineio.Request) {
	w.SetHeader("Content-Type", "text/plain")
	w.SetHeader("X-Other", "1")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "other:"+r.Method()+" "+r.Path())
}

// tree is the temporary directory the rules serve.
type tree struct {
	root     string // holds secret.txt, outside every directory rule
	public   string // the "/static" directory
	site     string // the "/site" directory, with the empty-key index rule
	symlinks bool   // whether symbolic links could be made
}

// files maps paths under the tree's root to their contents.
var files = map[string]string{
	"secret.txt":               secret,
	"files/page.html":          "<h1>page</h1>",
	"files/style.css":          "body{}",
	"files/app.js":             "app()",
	"files/data.json":          `{"a":1}`,
	"files/photo.jpg":          "\xff\xd8\xff jpg",
	"files/logo.png":           "\x89PNG png",
	"files/anim.gif":           "GIF89a gif",
	"files/notes.txt":          "notes",
	"files/blob.bin":           "\x00\x01blob",
	"files/report.csv":         "a,b\n1,2\n",
	"public/index.html":        "<h1>public index</h1>",
	"public/a.js":              "a()",
	"public/css/main.css":      "h1{}",
	"public/js/lib/deep.js":    "deep()",
	"public/sub/index.html":    "<h1>sub index</h1>",
	"public/100%.txt":          "percent",
	"public/with space.txt":    "space",
	"public/Upper.JSON":        `{"upper":true}`,
	"public/noext":             "noext",
	"public/emptydir/.keep":    "",
	"public/.env":              "SECRET=dotfile",
	"public/.git/config":       "[core] dotfile",
	"public/css/.hidden.css":   "dotfile{}",
	"site/home.htm":            "<h1>site home</h1>",
	"site/index.html":          "<h1>not the index here</h1>",
	"site/docs/home.htm":       "<h1>docs home</h1>",
	"socketio-shadow/any.html": "<h1>shadow</h1>",
}

func makeTree(t *testing.T) tree {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tr := tree{root: root, public: filepath.Join(root, "public"), site: filepath.Join(root, "site")}
	if runtime.GOOS != "windows" {
		links := map[string]string{
			"public/escape.txt":  filepath.Join(root, "secret.txt"), // absolute, leaves the directory
			"public/up.txt":      "../secret.txt",                   // relative, leaves the directory
			"public/updir":       "..",                              // a directory outside
			"public/alias.txt":   "a.js",                            // stays inside: served
			"public/css/back.js": "../js/lib/deep.js",               // stays inside: served
		}
		tr.symlinks = true
		for name, target := range links {
			if err := os.Symlink(target, filepath.Join(root, filepath.FromSlash(name))); err != nil {
				t.Logf("no symbolic links here (%v): the symlink cases are skipped", err)
				tr.symlinks = false
				break
			}
		}
	}
	return tr
}

// rules are the static rules of the main Apps.
func (tr tree) rules() []app.StaticRule {
	f := func(name string) string { return filepath.Join(tr.root, "files", name) }
	return []app.StaticRule{
		app.File("/page", f("page.html")),
		app.File("/style.css", f("style.css")),
		app.File("/app.js", f("app.js")),
		app.File("/data.json", f("data.json")),
		app.File("/photo.jpg", f("photo.jpg")),
		app.File("/logo.png", f("logo.png")),
		app.File("/anim.gif", f("anim.gif")),
		app.File("/notes.txt", f("notes.txt")),
		app.File("/blob.bin", f("blob.bin")),
		app.FileWithType("/report", f("report.csv"), "text/csv; charset=utf-8"),
		app.FileWithType("/forced.html", f("page.html"), "text/plain"),
		app.File("/missing.txt", filepath.Join(tr.root, "files", "missing.txt")),
		app.Dir("/static", tr.public),
		app.DirWithType("/raw", filepath.Join(tr.root, "files"), "text/plain"),
		// The engine's path wins over a static rule for it.
		app.Dir("/socket.io", filepath.Join(tr.root, "socketio-shadow")),
	}
}

// env is one mounted App with its client.
type env struct {
	base   string
	client *http.Client
}

// start mounts an App around a new Socket.IO server. Its cleanups close the
// server before the mount shuts down, the documented order.
func start(t *testing.T, mount eiotest.Mount, opts *app.Options) *env {
	t.Helper()
	srv := socketio.NewServer(nil)
	base := strings.TrimSuffix(mount(t, app.New(srv, opts)), "/")
	tr := &http.Transport{}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Server.Close: %v", err)
		}
		tr.CloseIdleConnections()
	})
	return &env{base: base, client: &http.Client{
		Transport: tr,
		Timeout:   wait,
		// A redirect is an answer of its own, never followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// reply is what a test checks of an answer besides its body: the status
// and the headers.
type reply struct {
	StatusCode int
	Header     http.Header
}

// do sends one request with the raw path (sent as written, dot segments and
// escapes included) and returns the status and headers of the response with
// its body, read in full and closed.
func (e *env) do(t *testing.T, method, rawPath, body string) (reply, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.base+"/", rd)
	if err != nil {
		t.Fatal(err)
	}
	path, query, _ := strings.Cut(rawPath, "?")
	req.URL.Opaque = "//" + req.URL.Host + path // sent verbatim, never re-escaped
	req.URL.RawQuery = query
	if body != "" {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	res, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawPath, err)
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, rawPath, err)
	}
	return reply{StatusCode: res.StatusCode, Header: res.Header}, string(b)
}

// Run runs the App scenarios as subtests against Apps mounted with mount,
// then checks that no goroutine is left.
func Run(t *testing.T, mount eiotest.Mount) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	tr := makeTree(t)
	for _, sc := range []struct {
		name string
		run  func(t *testing.T, mount eiotest.Mount, tr tree)
	}{
		{"Engine", runEngine},
		{"StaticFiles", runStaticFiles},
		{"Directories", runDirectories},
		{"IndexRule", runIndexRule},
		{"Head", runHead},
		{"Fallback", runFallback},
		{"NotFound", runNotFound},
		{"Traversal", runTraversal},
	} {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, mount, tr) })
	}
	goleak.VerifyNone(t, ignore)
}

// runEngine checks that the Socket.IO path reaches the engine ahead of the
// static rule for the same prefix: a polling handshake, a namespace connect
// over polling, and a WebSocket session.
func runEngine(t *testing.T, mount eiotest.Mount, tr tree) {
	e := start(t, mount, &app.Options{Static: tr.rules(), Other: otherApp{}})
	res, body := e.do(t, http.MethodGet, "/socket.io/?EIO=4&transport=polling", "")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(body, `0{"sid":"`) {
		t.Fatalf("handshake = %d %q, want 200 and the open packet", res.StatusCode, body)
	}
	sid, _, _ := strings.Cut(strings.TrimPrefix(body, `0{"sid":"`), `"`)
	q := "/socket.io/?EIO=4&transport=polling&sid=" + sid
	if res, body := e.do(t, http.MethodPost, q, "40"); res.StatusCode != http.StatusOK || body != "ok" {
		t.Fatalf("POST 40 = %d %q, want 200 ok", res.StatusCode, body)
	}
	if res, body := e.do(t, http.MethodGet, q, ""); res.StatusCode != http.StatusOK || !strings.HasPrefix(body, `40{"sid":"`) {
		t.Fatalf("connect answer = %d %q, want 40{\"sid\":...}", res.StatusCode, body)
	}
	// A static rule on the engine's prefix never shadows it.
	if res, body := e.do(t, http.MethodGet, "/socket.io/any.html", ""); strings.Contains(body, "shadow") {
		t.Errorf("/socket.io/any.html = %d %q: a static rule answered on the engine's path", res.StatusCode, body)
	}

	url := "ws" + strings.TrimPrefix(e.base, "http") + "/socket.io/?EIO=4&transport=websocket"
	d := websocket.Dialer{HandshakeTimeout: wait}
	ws, wres, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("websocket handshake: %v", err)
	}
	_ = wres.Body.Close()
	defer func() { _ = ws.Close() }()
	_ = ws.SetReadDeadline(time.Now().Add(wait))
	if _, msg, err := ws.ReadMessage(); err != nil || !bytes.HasPrefix(msg, []byte(`0{"sid":"`)) {
		t.Fatalf("websocket open packet %q, %v", msg, err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := ws.ReadMessage(); err != nil || !bytes.HasPrefix(msg, []byte(`40{"sid":"`)) {
		t.Fatalf("websocket connect answer %q, %v", msg, err)
	}
}

// fileCase is one request for a static file and the answer it must get.
type fileCase struct {
	path, ctype, body string
}

func checkFiles(t *testing.T, e *env, cases []fileCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			res, body := e.do(t, http.MethodGet, c.path, "")
			if res.StatusCode != http.StatusOK || body != c.body {
				t.Fatalf("GET %s = %d %q, want 200 %q", c.path, res.StatusCode, body, c.body)
			}
			if got := res.Header.Get("Content-Type"); got != c.ctype {
				t.Errorf("Content-Type = %q, want %q", got, c.ctype)
			}
			if got := res.Header.Get("Content-Length"); got != strconv.Itoa(len(c.body)) {
				t.Errorf("Content-Length = %q, want %d", got, len(c.body))
			}
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
		})
	}
}

// runStaticFiles checks file rules: the content type of every known
// extension, an unknown one, and explicit types.
func runStaticFiles(t *testing.T, mount eiotest.Mount, tr tree) {
	e := start(t, mount, &app.Options{Static: tr.rules(), Other: otherApp{}})
	f := func(name string) string { return files["files/"+name] }
	checkFiles(t, e, []fileCase{
		{"/page", "text/html", f("page.html")},
		{"/style.css", "text/css", f("style.css")},
		{"/app.js", "application/javascript", f("app.js")},
		{"/data.json", "application/json", f("data.json")},
		{"/photo.jpg", "image/jpeg", f("photo.jpg")},
		{"/logo.png", "image/png", f("logo.png")},
		{"/anim.gif", "image/gif", f("anim.gif")},
		{"/notes.txt", "text/plain", f("notes.txt")},
		{"/blob.bin", "application/octet-stream", f("blob.bin")},
		{"/report", "text/csv; charset=utf-8", f("report.csv")},
		{"/forced.html", "text/plain", f("page.html")},
		{"/raw/style.css", "text/plain", f("style.css")},
	})
}

// runDirectories checks a directory rule: nested paths, escaped names,
// index files for URLs ending in "/", extension case, symbolic links that
// stay inside.
func runDirectories(t *testing.T, mount eiotest.Mount, tr tree) {
	e := start(t, mount, &app.Options{Static: tr.rules(), Other: otherApp{}})
	p := func(name string) string { return files["public/"+name] }
	cases := []fileCase{
		{"/static/a.js", "application/javascript", p("a.js")},
		{"/static/css/main.css", "text/css", p("css/main.css")},
		{"/static/js/lib/deep.js", "application/javascript", p("js/lib/deep.js")},
		{"/static/", "text/html", p("index.html")},
		{"/static/sub/", "text/html", p("sub/index.html")},
		{"/static/100%25.txt", "text/plain", p("100%.txt")},
		{"/static/with%20space.txt", "text/plain", p("with space.txt")},
		{"/static/Upper.JSON", "application/json", p("Upper.JSON")},
		{"/static/noext", "application/octet-stream", p("noext")},
	}
	if tr.symlinks {
		cases = append(cases,
			fileCase{"/static/alias.txt", "text/plain", p("a.js")},
			fileCase{"/static/css/back.js", "application/javascript", p("js/lib/deep.js")},
		)
	}
	checkFiles(t, e, cases)
}

// runIndexRule checks the empty-key rule: a URL ending in "/" gets the file
// it names, with its explicit content type, in every directory.
func runIndexRule(t *testing.T, mount eiotest.Mount, tr tree) {
	e := start(t, mount, &app.Options{Static: []app.StaticRule{
		app.Dir("/site", tr.site),
		app.IndexWithType("home.htm", "text/html; charset=utf-8"),
	}})
	checkFiles(t, e, []fileCase{
		{"/site/", "text/html; charset=utf-8", files["site/home.htm"]},
		{"/site/docs/", "text/html; charset=utf-8", files["site/docs/home.htm"]},
		{"/site/index.html", "text/html", files["site/index.html"]},
	})
	for _, p := range []string{"/site", "/site/nodir/"} {
		if res, body := e.do(t, http.MethodGet, p, ""); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d %q, want 404", p, res.StatusCode, body)
		}
	}
}

// runHead checks HEAD on static files: the GET headers without a body.
func runHead(t *testing.T, mount eiotest.Mount, tr tree) {
	e := start(t, mount, &app.Options{Static: tr.rules()})
	for _, c := range []fileCase{
		{"/style.css", "text/css", files["files/style.css"]},
		{"/static/", "text/html", files["public/index.html"]},
		{"/static/js/lib/deep.js", "application/javascript", files["public/js/lib/deep.js"]},
	} {
		res, body := e.do(t, http.MethodHead, c.path, "")
		if res.StatusCode != http.StatusOK || body != "" {
			t.Errorf("HEAD %s = %d %q, want 200 and no body", c.path, res.StatusCode, body)
		}
		if got := res.Header.Get("Content-Type"); got != c.ctype {
			t.Errorf("HEAD %s: Content-Type = %q, want %q", c.path, got, c.ctype)
		}
		if got := res.Header.Get("Content-Length"); got != strconv.Itoa(len(c.body)) {
			t.Errorf("HEAD %s: Content-Length = %q, want %d", c.path, got, len(c.body))
		}
	}
	if res, _ := e.do(t, http.MethodHead, "/static/none.js", ""); res.StatusCode != http.StatusNotFound {
		t.Errorf("HEAD of a missing file = %d, want 404", res.StatusCode)
	}
}

// runFallback checks that what no rule serves reaches the other
// application: unmapped URLs, missing files, directories, and methods other
// than GET and HEAD on static URLs.
func runFallback(t *testing.T, mount eiotest.Mount, tr tree) {
	e := start(t, mount, &app.Options{Static: tr.rules(), Other: otherApp{}})
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/"},
		{http.MethodGet, "/elsewhere/x.html"},
		{http.MethodGet, "/static/none.js"},
		{http.MethodGet, "/missing.txt"},
		{http.MethodGet, "/static/css"},
		{http.MethodGet, "/static/emptydir/"},
		{http.MethodGet, "/staticx/a.js"},
		{http.MethodPost, "/static/a.js"},
		{http.MethodPut, "/page"},
		{http.MethodDelete, "/notes.txt"},
	} {
		res, body := e.do(t, c.method, c.path, "x")
		want := "other:" + c.method + " " + c.path
		if res.StatusCode != http.StatusOK || body != want || res.Header.Get("X-Other") != "1" {
			t.Errorf("%s %s = %d %q, want 200 %q from the other application", c.method, c.path, res.StatusCode, body, want)
		}
	}
}

// runNotFound checks the 404 of an App without another application.
func runNotFound(t *testing.T, mount eiotest.Mount, tr tree) {
	e := start(t, mount, &app.Options{Static: tr.rules()})
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/"},
		{http.MethodGet, "/nothing/here"},
		{http.MethodGet, "/static/none.js"},
		{http.MethodGet, "/missing.txt"},
		{http.MethodGet, "/static/emptydir/"},
		{http.MethodPost, "/static/a.js"},
	} {
		if res, body := e.do(t, c.method, c.path, "x"); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s = %d %q, want 404", c.method, c.path, res.StatusCode, body)
		}
	}
}

// runTraversal checks that no request reads outside a rule's file or
// directory: every attempt gets 404 and never the secret.
func runTraversal(t *testing.T, mount eiotest.Mount, tr tree) {
	e := start(t, mount, &app.Options{Static: tr.rules()})
	abs := filepath.ToSlash(filepath.Join(tr.root, "secret.txt"))
	paths := []string{
		"/static/../secret.txt",
		"/static/../../secret.txt",
		"/static/css/../../secret.txt",
		"/static/./../secret.txt",
		"/static/%2e%2e/secret.txt",
		"/static/%2e%2e%2fsecret.txt",
		"/static/%2E%2E%2Fsecret.txt",
		"/static/..%2fsecret.txt",
		"/static/..%2Fsecret.txt",
		"/static/..%5csecret.txt",
		"/static/..%5Csecret.txt",
		"/static/%5c..%5csecret.txt",
		"/static/%252e%252e%252fsecret.txt",
		"/static/" + abs,
		"/static/" + strings.ReplaceAll(abs, "/", "%2f"),
		"/static//" + strings.TrimPrefix(abs, "/"),
		"/static/a.js%00",
		"/static/a.js%00.html",
		"/raw/../secret.txt",
		"/raw/%2e%2e%2fsecret.txt",
		"/page/../secret.txt",
		// Dotfiles and dot-directories are not served by a directory rule.
		"/static/.env",
		"/static/%2eenv",
		"/static/.git/config",
		"/static/%2Egit/config",
		"/static/css/.hidden.css",
		"/static/emptydir/.keep",
	}
	if tr.symlinks {
		paths = append(paths, "/static/escape.txt", "/static/up.txt", "/static/updir/secret.txt", "/static/updir/")
	}
	for _, p := range paths {
		res, body := e.do(t, http.MethodGet, p, "")
		if strings.Contains(body, secret) || strings.Contains(body, "dotfile") {
			t.Errorf("GET %s revealed the file outside the rules: %d %q", p, res.StatusCode, body)
			continue
		}
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d %q, want 404", p, res.StatusCode, body)
		}
	}
}
