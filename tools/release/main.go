// Command release keeps siokit's module versions and proves they can be
// depended on from outside the repository.
//
//	scripts/release.sh plan            # the modules, versions and tags
//	scripts/release.sh bump DIR|all VERSION  # or scripts/bump.sh DIR|all VERSION
//	scripts/release.sh check           # what make release-check runs
//
// It is a module of its own outside go.work, run with GOWORK=off.
//
// The plan is the file versions.txt at the repository root: one line per
// released module, its directory and the version it is tagged at next
// ("core v0.2.0" is tagged core/v0.2.0). bump changes a line (or every line)
// and sets every go.mod in the repository that requires the module to that
// version. check builds a Go module proxy in a temporary folder from the
// committed tree (HEAD) at the planned versions, then builds, vets and tests
// the consumer program in testdata/consumer outside the workspace
// (GOWORK=off), with no replace directive, resolving siokit's modules from
// that proxy only.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// planFile is the version plan, at the repository root.
const planFile = "versions.txt"

// errUsage is returned for a bad command line.
var errUsage = errors.New("usage: release plan | bump DIR|all VERSION | check [-keep]")

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return errUsage
	}
	switch args[0] {
	case "plan":
		plan, err := readPlan(root)
		if err != nil {
			return err
		}
		for _, m := range plan {
			fmt.Printf("%-20s %-45s %s\n", m.Dir, m.Path, m.Tag())
		}
		return nil
	case "bump":
		if len(args) != 3 {
			return errUsage
		}
		return bump(root, args[1], args[2])
	case "check":
		fs := flag.NewFlagSet("check", flag.ContinueOnError)
		keep := fs.Bool("keep", false, "keep the temporary folder and print its path")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return check(root, *keep)
	}
	return errUsage
}

// repoRoot is the directory holding go.work, from the working directory up.
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
			return "", errors.New("no go.work in the working directory or above it")
		}
		dir = parent
	}
}

// planned is one released module.
type planned struct {
	Dir     string // slash-separated, relative to the root
	Path    string // the module path, from its go.mod
	Version string
}

// Tag is the module's git tag: its directory, a slash, its version.
func (m planned) Tag() string { return m.Dir + "/" + m.Version }

// readPlan reads versions.txt and each listed module's path.
func readPlan(root string) ([]planned, error) {
	f, err := os.Open(filepath.Join(root, planFile))
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	var plan []planned
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 || !semver.IsValid(fields[1]) || semver.Canonical(fields[1]) != fields[1] {
			return nil, fmt.Errorf("%s:%d: want \"DIR vMAJOR.MINOR.PATCH\", got %q", planFile, n, line)
		}
		path, err := modulePath(filepath.Join(root, fields[0]))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", planFile, n, err)
		}
		if !strings.HasSuffix(path, "/"+fields[0]) {
			return nil, fmt.Errorf("%s:%d: module %s does not end in its directory %s, so its tag would not name it", planFile, n, path, fields[0])
		}
		plan = append(plan, planned{Dir: fields[0], Path: path, Version: fields[1]})
	}
	return plan, sc.Err()
}

func modulePath(dir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", err
	}
	p := modfile.ModulePath(data)
	if p == "" {
		return "", fmt.Errorf("%s/go.mod has no module line", dir)
	}
	return p, nil
}

// workspaceModules lists the module directories of go.work.
func workspaceModules(root string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(root, "go.work"))
	if err != nil {
		return nil, err
	}
	wf, err := modfile.ParseWork("go.work", data, nil)
	if err != nil {
		return nil, err
	}
	dirs := make([]string, 0, len(wf.Use))
	for _, u := range wf.Use {
		dirs = append(dirs, filepath.Join(root, u.Path))
	}
	return dirs, nil
}

// bump sets the planned version of dir (or of every module, for "all") and
// every requirement of it in the workspace's go.mod files.
func bump(root, dir, version string) error {
	if !semver.IsValid(version) || semver.Canonical(version) != version {
		return fmt.Errorf("version %q is not vMAJOR.MINOR.PATCH", version)
	}
	data, err := os.ReadFile(filepath.Join(root, planFile))
	if err != nil {
		return err
	}
	lines := strings.Split(string(data), "\n")
	found := false
	for i, line := range lines {
		fields := strings.Fields(line)
		if len(fields) == 2 && !strings.HasPrefix(fields[0], "#") && (dir == "all" || fields[0] == dir) {
			if major := semver.Major(version); major != semver.Major(fields[1]) && major != "v0" && major != "v1" {
				return fmt.Errorf("%s: %s needs a new module path (%s), not only a tag", fields[0], major, "/"+major)
			}
			lines[i] = fields[0] + " " + version
			found = true
		}
	}
	if !found {
		return fmt.Errorf("%s is not in %s", dir, planFile)
	}
	if err := os.WriteFile(filepath.Join(root, planFile), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		return err
	}
	plan, err := readPlan(root)
	if err != nil {
		return err
	}
	return setRequires(root, plan)
}

// setRequires rewrites every workspace go.mod so that it requires the other
// released modules at their planned versions.
func setRequires(root string, plan []planned) error {
	want := make(map[string]string, len(plan))
	for _, m := range plan {
		want[m.Path] = m.Version
	}
	dirs, err := workspaceModules(root)
	if err != nil {
		return err
	}
	for _, dir := range dirs {
		name := filepath.Join(dir, "go.mod")
		data, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		f, err := modfile.Parse(name, data, nil)
		if err != nil {
			return err
		}
		changed := false
		for _, r := range f.Require {
			if v, ok := want[r.Mod.Path]; ok && r.Mod.Version != v {
				if err := f.AddRequire(r.Mod.Path, v); err != nil {
					return err
				}
				changed = true
			}
		}
		if !changed {
			continue
		}
		out, err := f.Format()
		if err != nil {
			return err
		}
		if err := os.WriteFile(name, out, 0o644); err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, name)
		fmt.Println("updated", rel)
	}
	return nil
}

// checkRequires reports every requirement of a released module, in any
// workspace go.mod, at another version than planned.
func checkRequires(root string, plan []planned) error {
	want := make(map[string]string, len(plan))
	for _, m := range plan {
		want[m.Path] = m.Version
	}
	dirs, err := workspaceModules(root)
	if err != nil {
		return err
	}
	var errs []error
	for _, dir := range dirs {
		name := filepath.Join(dir, "go.mod")
		data, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		f, err := modfile.ParseLax(name, data, nil)
		if err != nil {
			return err
		}
		for _, r := range f.Require {
			if v, ok := want[r.Mod.Path]; ok && r.Mod.Version != v {
				rel, _ := filepath.Rel(root, name)
				errs = append(errs, fmt.Errorf("%s requires %s, planned %s (scripts/bump.sh)", rel, module.Version{Path: r.Mod.Path, Version: r.Mod.Version}, v))
			}
		}
	}
	return errors.Join(errs...)
}
