package app

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzStaticPath feeds random URL paths to an App whose directory rule sits
// next to a secret file and holds symlinks pointing out of it: whatever is
// served must be one of the regular files inside the directory.
func FuzzStaticPath(f *testing.F) {
	base := tree(f)
	pub := filepath.Join(base, "public")
	var inside []fs.FileInfo
	err := filepath.WalkDir(pub, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := os.Stat(p)
		inside = append(inside, fi)
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	rs := compile([]StaticRule{Dir("/static", pub), Dir("/", filepath.Join(pub, "sub")), Index("index.html")})
	a := New(prefixHandler{prefix: "/engine.io/"}, &Options{Static: []StaticRule{Dir("/static", pub)}})

	abs := filepath.ToSlash(filepath.Join(base, "secret.txt"))
	for _, seed := range []string{
		"/static/app.js", "/static/", "/static/sub/", "/static/../secret.txt", "/static/%2e%2e%2fsecret.txt",
		"/static/..%2fsecret.txt", "/static/..%5csecret.txt", `/static/..\secret.txt`, "/static/" + abs,
		"/static/%2f" + abs, "/static/app.js%00", "/static/link-out", "/static/link-abs",
		"/static/dirlink-out/secret.txt", "/static/sub/up", "/../secret.txt", "/%2e%2e/%2e%2e/etc/passwd",
		"/static/%252e%252e/secret.txt", "/static/./../secret.txt", "//static/app.js",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if tg, ok := rs.resolve(raw); ok {
			if file, fi, err := tg.open(); err == nil {
				_ = file.Close()
				found := false
				for _, in := range inside {
					found = found || os.SameFile(in, fi)
				}
				if !found {
					t.Fatalf("%q opened %s/%s, not a file inside the root", raw, tg.root, tg.name)
				}
			}
		}
		w := newRecorder()
		a.ServeRequest(w, &fakeRequest{method: "GET", path: raw})
		if strings.Contains(w.body.String(), secret) {
			t.Fatalf("%q served the secret", raw)
		}
		if w.status == 200 && a.Match(raw) != true {
			t.Fatalf("%q served but Match is false", raw)
		}
	})
}
