package app

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"

	"github.com/siokit/siokit/core/engineio"
)

// fakeRequest is an engineio.Request built from a method and a raw target.
type fakeRequest struct {
	method, path, query string
	body                string
}

func newRequest(method, target string) *fakeRequest {
	p, q, _ := strings.Cut(target, "?")
	return &fakeRequest{method: method, path: p, query: q}
}

func (r *fakeRequest) Context() context.Context { return context.Background() }
func (r *fakeRequest) Method() string           { return r.method }
func (r *fakeRequest) Path() string             { return r.path }
func (r *fakeRequest) RawQuery() string         { return r.query }
func (r *fakeRequest) Header(string) string     { return "" }
func (r *fakeRequest) Headers() http.Header     { return http.Header{} }
func (r *fakeRequest) RemoteAddr() string       { return "127.0.0.1:1" }
func (r *fakeRequest) Body() io.Reader          { return strings.NewReader(r.body) }

// recorder is an engineio.ResponseWriter that keeps what is written.
type recorder struct {
	status int
	header http.Header
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (w *recorder) SetHeader(name, value string) { w.header.Set(name, value) }
func (w *recorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *recorder) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// prefixHandler is an engineio.Handler answering "<name> <path>" for paths
// under prefix.
type prefixHandler struct{ name, prefix string }

func (h prefixHandler) Match(path string) bool { return strings.HasPrefix(path, h.prefix) }
func (h prefixHandler) ServeRequest(w engineio.ResponseWriter, r engineio.Request) {
	w.SetHeader("Content-Type", "text/plain")
	w.WriteHeader(http.StatusTeapot)
	_, _ = io.WriteString(w, h.name+" "+r.Method()+" "+r.Path())
}

func serve(a *App, method, target string) *recorder {
	w := newRecorder()
	a.ServeRequest(w, newRequest(method, target))
	return w
}
