package app

import (
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/url"
	"os"
	"path"
	"sort"
	"strings"
)

// DefaultIndex is the file served for a directory URL (one ending in "/")
// when no [Index] rule names another.
const DefaultIndex = "index.html"

// ErrBadRule is matched (with errors.Is) by the errors of [StaticFromMap].
var ErrBadRule = errors.New("app: bad static rule")

// ruleKind tells the kinds of [StaticRule] apart.
type ruleKind uint8

const (
	kindFile ruleKind = iota + 1
	kindDir
	kindIndex
)

// StaticRule is one static-file rule. Build it with [File], [FileWithType],
// [Dir], [DirWithType], [Index] or [IndexWithType]; the zero value is ignored.
type StaticRule struct {
	// URL is the URL path of a file rule, or the prefix of a directory rule.
	URL string
	// Path is the file, directory or (for an index rule) the file name within
	// a directory.
	Path string
	// ContentType, if set, replaces the one derived from the file extension.
	ContentType string
	// Dotfiles lets a directory rule serve files and directories whose name
	// starts with a dot (".env", ".git/config", ".well-known/..."). Off by
	// default: such a URL is not served by the rule (404 unless another
	// handler takes it). A file rule serves the file it names either way.
	Dotfiles bool

	kind ruleKind
}

// File returns a rule that serves the file at path for the URL url exactly,
// with the content type of its extension.
func File(url, path string) StaticRule {
	return StaticRule{URL: cleanURL(url), Path: path, kind: kindFile}
}

// FileWithType is [File] with an explicit content type.
func FileWithType(url, path, contentType string) StaticRule {
	r := File(url, path)
	r.ContentType = contentType
	return r
}

// Dir returns a rule that serves the files under dir for URLs under prefix:
// with prefix "/static", "/static/css/a.css" is dir/css/a.css and
// "/static/" is dir's index file. prefix is matched by whole segments, with
// or without a trailing slash; "/" serves dir for every URL. A URL with a
// segment that starts with a dot (".env", ".git/config") is not served
// unless the rule's Dotfiles is set (see [StaticRule.WithDotfiles]).
func Dir(prefix, dir string) StaticRule {
	return StaticRule{URL: strings.TrimRight(cleanURL(prefix), "/"), Path: dir, kind: kindDir}
}

// DirWithType is [Dir] serving every file with the given content type.
func DirWithType(prefix, dir, contentType string) StaticRule {
	r := Dir(prefix, dir)
	r.ContentType = contentType
	return r
}

// Index returns a rule naming the file served for a directory URL, one that
// ends in "/", in place of [DefaultIndex]: python-socketio's empty-key rule.
func Index(name string) StaticRule {
	return StaticRule{Path: name, kind: kindIndex}
}

// IndexWithType is [Index] with an explicit content type for the index file.
func IndexWithType(name, contentType string) StaticRule {
	r := Index(name)
	r.ContentType = contentType
	return r
}

// StaticFromMap converts a python-socketio static_files map into rules. Keys
// are URLs; the empty key names the index file. Values are a file or
// directory name, or a map with "filename" and optionally "content_type"
// (map[string]any or map[string]string):
//
//	app.StaticFromMap(map[string]any{
//		"/":       "index.html",
//		"/static": "./public",
//		"/data":   map[string]any{"filename": "data.bin", "content_type": "text/plain"},
//		"":        "main.html",
//	})
//
// A value naming a directory (ending in "/" or, checked now, a directory on
// disk) becomes a [Dir] rule, any other a [File] rule.
func StaticFromMap(m map[string]any) ([]StaticRule, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rules := make([]StaticRule, 0, len(m))
	for _, k := range keys {
		name, ctype, err := mapValue(m[k])
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: %w", ErrBadRule, k, err)
		}
		switch {
		case k == "":
			rules = append(rules, IndexWithType(name, ctype))
		case isDirName(name):
			rules = append(rules, DirWithType(k, name, ctype))
		default:
			rules = append(rules, FileWithType(k, name, ctype))
		}
	}
	return rules, nil
}

func mapValue(v any) (name, ctype string, err error) {
	switch v := v.(type) {
	case string:
		name = v
	case map[string]any:
		var ok bool
		if name, ok = v["filename"].(string); !ok {
			return "", "", errors.New(`"filename" must be a string`)
		}
		if c, has := v["content_type"]; has {
			if ctype, ok = c.(string); !ok {
				return "", "", errors.New(`"content_type" must be a string`)
			}
		}
	case map[string]string:
		name, ctype = v["filename"], v["content_type"]
	default:
		return "", "", fmt.Errorf("value of type %T", v)
	}
	if name == "" {
		return "", "", errors.New("empty file name")
	}
	return name, ctype, nil
}

func isDirName(name string) bool {
	if strings.HasSuffix(name, "/") || strings.HasSuffix(name, string(os.PathSeparator)) {
		return true
	}
	fi, err := os.Stat(name)
	return err == nil && fi.IsDir()
}

func cleanURL(u string) string {
	if !strings.HasPrefix(u, "/") {
		u = "/" + u
	}
	return u
}

// WithDotfiles returns the rule with [StaticRule.Dotfiles] set.
func (r StaticRule) WithDotfiles() StaticRule {
	r.Dotfiles = true
	return r
}

// contentTypes is python-engineio's table (the first eight) and the web
// types a browser checks (it refuses an image, module, font or wasm served
// as application/octet-stream with nosniff), so that the answer does not
// depend on the host's mime files.
var contentTypes = map[string]string{
	".css":         "text/css",
	".gif":         "image/gif",
	".html":        "text/html",
	".jpg":         "image/jpeg",
	".js":          "application/javascript",
	".json":        "application/json",
	".png":         "image/png",
	".txt":         "text/plain",
	".htm":         "text/html",
	".jpeg":        "image/jpeg",
	".mjs":         "application/javascript",
	".svg":         "image/svg+xml",
	".wasm":        "application/wasm",
	".woff":        "font/woff",
	".woff2":       "font/woff2",
	".ttf":         "font/ttf",
	".otf":         "font/otf",
	".ico":         "image/x-icon",
	".webp":        "image/webp",
	".avif":        "image/avif",
	".map":         "application/json",
	".webmanifest": "application/manifest+json",
	".xml":         "application/xml",
	".pdf":         "application/pdf",
	".mp4":         "video/mp4",
	".webm":        "video/webm",
	".mp3":         "audio/mpeg",
	".wav":         "audio/wav",
}

// ContentType returns the content type for a file name by its extension
// (case-insensitive): from the built-in table of web types above, then from
// mime.TypeByExtension (the host's tables), else application/octet-stream.
func ContentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	if ext != "" {
		if t := mime.TypeByExtension(ext); t != "" {
			return t
		}
	}
	return "application/octet-stream"
}

// hasDotSegment reports whether a slash path has a segment that starts
// with a dot.
func hasDotSegment(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		if strings.HasPrefix(seg, ".") {
			return true
		}
	}
	return false
}

// rules is the compiled form of a rule list.
type rules struct {
	files     map[string]StaticRule // by exact URL
	dirs      []StaticRule          // longest prefix first
	index     string
	indexType string
}

func compile(list []StaticRule) *rules {
	rs := &rules{files: make(map[string]StaticRule), index: DefaultIndex}
	for _, r := range list {
		switch r.kind {
		case kindFile:
			rs.files[r.URL] = r
		case kindDir:
			rs.dirs = append(rs.dirs, r)
		case kindIndex:
			rs.index, rs.indexType = r.Path, r.ContentType
		}
	}
	sort.SliceStable(rs.dirs, func(i, j int) bool { return len(rs.dirs[i].URL) > len(rs.dirs[j].URL) })
	return rs
}

func (rs *rules) empty() bool { return len(rs.files) == 0 && len(rs.dirs) == 0 }

// target is a resolved request: a file rule's file (root == ""), or a name
// within a directory rule's root.
type target struct {
	root  string
	name  string
	ctype string
}

// resolve maps a raw (escaped) URL path to a target. It refuses any path
// that, once unescaped, is not a clean absolute slash path.
func (rs *rules) resolve(raw string) (target, bool) {
	if rs.empty() {
		return target{}, false
	}
	p, err := url.PathUnescape(raw)
	if err != nil || !cleanPath(p) {
		return target{}, false
	}
	if r, ok := rs.files[p]; ok {
		return target{name: r.Path, ctype: typeOr(r.ContentType, r.Path)}, true
	}
	for _, r := range rs.dirs {
		if !strings.HasPrefix(p, r.URL+"/") {
			continue
		}
		rel, ctype := p[len(r.URL)+1:], r.ContentType
		if !r.Dotfiles && hasDotSegment(rel) {
			return target{}, false
		}
		if rel == "" || strings.HasSuffix(rel, "/") {
			rel += rs.index
			if rs.indexType != "" {
				ctype = rs.indexType
			}
		}
		return target{root: r.Path, name: rel, ctype: typeOr(ctype, rel)}, true
	}
	return target{}, false
}

func typeOr(ctype, name string) string {
	if ctype != "" {
		return ctype
	}
	return ContentType(name)
}

// cleanPath reports whether p is "/" followed by segments that are neither
// empty (except a final one, for a trailing slash) nor "." nor "..", with no
// NUL byte or backslash anywhere.
func cleanPath(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\x00\\") {
		return false
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		if s == "." || s == ".." || s == "" && i != len(segs)-1 {
			return false
		}
	}
	return true
}

// errNotRegular is returned by open for a directory, device or pipe.
var errNotRegular = errors.New("app: not a regular file")

// open opens the target's file, refusing anything but a regular file. The
// caller closes it.
func (t target) open() (*os.File, fs.FileInfo, error) {
	if t.root == "" {
		return openRegular(os.Stat, os.Open, t.name)
	}
	root, err := os.OpenRoot(t.root)
	if err != nil {
		return nil, nil, fmt.Errorf("app: open static root: %w", err)
	}
	defer func() { _ = root.Close() }()
	return openRegular(root.Stat, root.Open, t.name)
}

// exists reports whether the target is a regular file, without opening it.
func (t target) exists() bool {
	if t.root == "" {
		fi, err := os.Stat(t.name)
		return err == nil && fi.Mode().IsRegular()
	}
	root, err := os.OpenRoot(t.root)
	if err != nil {
		return false
	}
	defer func() { _ = root.Close() }()
	fi, err := root.Stat(t.name)
	return err == nil && fi.Mode().IsRegular()
}

// openRegular checks that name is a regular file before opening it (opening
// a pipe would block) and that the file opened is the one checked.
func openRegular(stat func(string) (fs.FileInfo, error), open func(string) (*os.File, error), name string) (*os.File, fs.FileInfo, error) {
	before, err := stat(name)
	if err != nil {
		return nil, nil, fmt.Errorf("app: static file: %w", err)
	}
	if !before.Mode().IsRegular() {
		return nil, nil, errNotRegular
	}
	f, err := open(name)
	if err != nil {
		return nil, nil, fmt.Errorf("app: static file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || !os.SameFile(before, fi) {
		_ = f.Close()
		return nil, nil, errNotRegular
	}
	return f, fi, nil
}
