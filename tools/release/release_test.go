package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// repo writes a small workspace: module a, and module b requiring a.
func repo(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"go.work":      "go 1.26\n\nuse (\n\t./lib/a\n\t./lib/b\n)\n",
		"versions.txt": "# plan\nlib/a v0.2.0\nlib/b v0.2.0\n",
		"lib/a/go.mod": "module example.com/x/lib/a\n\ngo 1.26\n",
		"lib/a/a.go":   "package a\n",
		"lib/b/go.mod": "module example.com/x/lib/b\n\ngo 1.26\n\nrequire example.com/x/lib/a v0.1.0\n\nreplace example.com/x/lib/a => ../a\n",
		"lib/b/b.go":   "package b\n",
	}
	for name, data := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestBumpSetsPlanAndRequires(t *testing.T) {
	t.Parallel()
	root := repo(t)
	plan, err := readPlan(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkRequires(root, plan); err == nil || !strings.Contains(err.Error(), "example.com/x/lib/a@v0.1.0, planned v0.2.0") {
		t.Fatalf("checkRequires before the bump: %v, want the stale requirement named", err)
	}
	if err := bump(root, "all", "v0.3.0"); err != nil {
		t.Fatal(err)
	}
	if plan, err = readPlan(root); err != nil {
		t.Fatal(err)
	}
	for _, m := range plan {
		if m.Version != "v0.3.0" {
			t.Errorf("%s planned at %s after bump, want v0.3.0", m.Dir, m.Version)
		}
	}
	if err := checkRequires(root, plan); err != nil {
		t.Errorf("checkRequires after the bump: %v", err)
	}
	mod, _ := os.ReadFile(filepath.Join(root, "lib", "b", "go.mod"))
	if !strings.Contains(string(mod), "require example.com/x/lib/a v0.3.0") {
		t.Errorf("lib/b/go.mod after bump:\n%s", mod)
	}
	for _, bad := range [][2]string{{"lib/a", "v2.0.0"}, {"lib/c", "v0.4.0"}, {"all", "0.4"}} {
		if err := bump(root, bad[0], bad[1]); err == nil {
			t.Errorf("bump %s %s succeeded, want an error", bad[0], bad[1])
		}
	}
}

func TestPublishWritesProxyLayout(t *testing.T) {
	t.Parallel()
	root := repo(t)
	plan, err := readPlan(root)
	if err != nil {
		t.Fatal(err)
	}
	proxy := t.TempDir()
	m := plan[0]
	if err := publish(proxy, filepath.Join(root, "lib", "a"), m); err != nil {
		t.Fatal(err)
	}
	vdir := filepath.Join(proxy, "example.com", "x", "lib", "a", "@v")
	for _, name := range []string{"list", "v0.2.0.info", "v0.2.0.mod", "v0.2.0.zip"} {
		if _, err := os.Stat(filepath.Join(vdir, name)); err != nil {
			t.Errorf("proxy file %s: %v", name, err)
		}
	}
	cf, err := modzip.CheckZip(module.Version{Path: m.Path, Version: m.Version}, filepath.Join(vdir, "v0.2.0.zip"))
	if err != nil || len(cf.Valid) != 2 {
		t.Errorf("zip: %v, valid files %v (want go.mod and a.go)", err, cf.Valid)
	}
	if m.Tag() != "lib/a/v0.2.0" {
		t.Errorf("tag %q", m.Tag())
	}
}
