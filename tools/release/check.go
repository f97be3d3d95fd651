package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// consumerModules are the released modules the consumer program requires.
var consumerModules = []string{"core", "adapters/gin", "adapters/fiber", "managers/redis"}

// check proves the plan: the requirements agree with it, and a module
// outside the workspace builds and passes its tests against the released
// modules served from a local proxy.
func check(root string, keep bool) error {
	plan, err := readPlan(root)
	if err != nil {
		return err
	}
	if err := checkRequires(root, plan); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "siokit-release-check-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("temporary folder:", tmp)
	} else {
		defer func() { _ = os.RemoveAll(tmp) }()
	}
	src := filepath.Join(tmp, "src")
	if err := copyTree(root, src); err != nil {
		return fmt.Errorf("copy the tree: %w", err)
	}
	proxy := filepath.Join(tmp, "proxy")
	for _, m := range plan {
		if err := publish(proxy, filepath.Join(src, filepath.FromSlash(m.Dir)), m); err != nil {
			return fmt.Errorf("%s: %w", m.Tag(), err)
		}
	}
	fmt.Printf("release-check: %d modules in a module proxy at %s\n", len(plan), proxy)
	consumer := filepath.Join(tmp, "consumer")
	if err := writeConsumer(root, consumer, plan); err != nil {
		return err
	}
	modcache, err := consumerModCache(tmp)
	if err != nil {
		return err
	}
	env, err := consumerEnv(modcache, proxy)
	if err != nil {
		return err
	}
	for _, args := range [][]string{
		{"build", "./..."}, // with -mod=mod it adds what the requirements need
		{"vet", "./..."},
		{"test", "-count=1", "./..."},
	} {
		fmt.Println("release-check: go", strings.Join(args, " "), "(GOWORK=off, no replace)")
		cmd := exec.Command("go", args...)
		cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = consumer, env, os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go %s in the consumer: %w", strings.Join(args, " "), err)
		}
	}
	mod, err := os.ReadFile(filepath.Join(consumer, "go.mod"))
	if err != nil {
		return err
	}
	if bytes.Contains(mod, []byte("replace")) {
		return errors.New("the consumer's go.mod has a replace directive")
	}
	fmt.Println("release-check: ok; the tags would be:")
	for _, m := range plan {
		fmt.Println("  " + m.Tag())
	}
	return nil
}

// copyTree copies the repository's files as git sees them (tracked, and
// untracked ones not ignored) to dst: what a clone plus the working
// changes holds, without build output or node_modules.
func copyTree(root, dst string) error {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("git ls-files: %w", err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		from := filepath.Join(root, filepath.FromSlash(name))
		fi, err := os.Lstat(from)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the working tree
		}
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		to := filepath.Join(dst, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		if err := copyFile(from, to, fi.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(from, to string, perm os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

// publish adds one module version to a GOPROXY folder: <path>/@v/list,
// <version>.info, .mod and .zip, as `go mod download` expects them.
func publish(proxy, dir string, m planned) error {
	esc, err := module.EscapePath(m.Path)
	if err != nil {
		return err
	}
	vdir := filepath.Join(proxy, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return err
	}
	zf, err := os.Create(filepath.Join(vdir, m.Version+".zip"))
	if err != nil {
		return err
	}
	if err := modzip.CreateFromDir(zf, module.Version{Path: m.Path, Version: m.Version}, dir); err != nil {
		_ = zf.Close()
		return fmt.Errorf("module zip: %w", err)
	}
	if err := zf.Close(); err != nil {
		return err
	}
	mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{m.Version, time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{
		m.Version + ".mod":  mod,
		m.Version + ".info": info,
		"list":              []byte(m.Version + "\n"),
	} {
		if err := os.WriteFile(filepath.Join(vdir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeConsumer copies testdata/consumer to dir with a go.mod that requires
// the released modules at their planned versions, and nothing else.
func writeConsumer(root, dir string, plan []planned) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	from := filepath.Join(root, "tools", "release", "testdata", "consumer")
	entries, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := copyFile(filepath.Join(from, e.Name()), filepath.Join(dir, e.Name()), 0o644); err != nil {
			return err
		}
	}
	byDir := make(map[string]planned, len(plan))
	for _, m := range plan {
		byDir[m.Dir] = m
	}
	var b strings.Builder
	b.WriteString("module example.com/siokit-consumer\n\ngo 1.26\n\nrequire (\n")
	for _, d := range consumerModules {
		m, ok := byDir[d]
		if !ok {
			return fmt.Errorf("the consumer needs %s, which %s does not list", d, planFile)
		}
		fmt.Fprintf(&b, "\t%s %s\n", m.Path, m.Version)
	}
	b.WriteString(")\n")
	return os.WriteFile(filepath.Join(dir, "go.mod"), []byte(b.String()), 0o644)
}

// consumerModCache returns the consumer's module cache: a new folder in
// tmp, apart from the user's so that the versions built here never reach
// it. It must be new on every run: the go command indexes a module cache's
// modules once (in the build cache, by path and version), so a cache that
// kept core@v0.2.0 from an earlier tree would be read with that tree's
// file list. Third-party modules come from the user's download cache
// (consumerEnv), so filling it costs unzipping only; compiled packages are
// shared through the build cache, keyed by content.
func consumerModCache(tmp string) (string, error) {
	cache := filepath.Join(tmp, "modcache")
	return cache, os.MkdirAll(cache, 0o755)
}

// consumerEnv is the environment of the go commands run in the consumer:
// no workspace; siokit's modules from proxy only (they are not in the
// checksum database); every other module from the local module cache,
// else the usual proxy; the module cache modcache.
func consumerEnv(modcache, proxy string) ([]string, error) {
	goenv := func(name string) (string, error) {
		out, err := exec.Command("go", "env", name).Output()
		return strings.TrimSpace(string(out)), err
	}
	upstream, err := goenv("GOPROXY")
	if err != nil {
		return nil, err
	}
	cache, err := goenv("GOMODCACHE")
	if err != nil {
		return nil, err
	}
	flags, err := goenv("GOFLAGS")
	if err != nil {
		return nil, err
	}
	proxies := []string{"file://" + filepath.ToSlash(proxy)}
	if _, err := os.Stat(filepath.Join(cache, "cache", "download")); err == nil {
		proxies = append(proxies, "file://"+filepath.ToSlash(filepath.Join(cache, "cache", "download")))
	}
	if upstream != "" && upstream != "off" {
		proxies = append(proxies, upstream)
	}
	return append(os.Environ(),
		"GOWORK=off",
		"GOPROXY="+strings.Join(proxies, ","),
		"GONOSUMDB=github.com/siokit/siokit",
		"GOPRIVATE=",
		"GOMODCACHE="+modcache,
		"GOFLAGS="+strings.TrimSpace(flags+" -mod=mod -modcacherw -trimpath"),
		"GOTOOLCHAIN=local",
	), nil
}
