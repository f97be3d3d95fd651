package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/siokit/siokit/core/app"
	"github.com/siokit/siokit/core/engineio"
)

func ExampleNew() {
	dir, _ := os.MkdirTemp("", "public")
	defer func() { _ = os.RemoveAll(dir) }()
	_ = os.WriteFile(filepath.Join(dir, "index.html"), []byte("<h1>chat</h1>"), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "chat.js"), []byte("connect()"), 0o644)

	engine := engineio.NewServer(nil) // or a Socket.IO server
	defer func() { _ = engine.Close() }()
	a := app.New(engine, &app.Options{Static: []app.StaticRule{
		app.File("/", filepath.Join(dir, "index.html")),
		app.Dir("/static", dir),
	}})
	// Mount a with any adapter, e.g. http.ListenAndServe(":8000", siohttp.Handler(a)).

	for _, path := range []string{"/", "/static/chat.js", "/static/../secret", "/api"} {
		w := &response{status: 200}
		a.ServeRequest(w, request(path))
		fmt.Println(path, w.status, w.header, w.body.String())
	}
	fmt.Println(a.Match("/engine.io/"), a.Match("/static/chat.js"), a.Match("/api"))
	// Output:
	// / 200 text/html <h1>chat</h1>
	// /static/chat.js 200 application/javascript connect()
	// /static/../secret 404 text/plain Not Found
	// /api 404 text/plain Not Found
	// true true false
}

// request and response stand in for an adapter.
type request string

func (r request) Context() context.Context { return context.Background() }
func (r request) Method() string           { return http.MethodGet }
func (r request) Path() string             { return string(r) }
func (r request) RawQuery() string         { return "" }
func (r request) Header(string) string     { return "" }
func (r request) Headers() http.Header     { return nil }
func (r request) RemoteAddr() string       { return "127.0.0.1:1" }
func (r request) Body() io.Reader          { return http.NoBody }

type response struct {
	status int
	header string
	body   strings.Builder
}

func (w *response) SetHeader(name, value string) {
	if name == "Content-Type" {
		w.header = value
	}
}
func (w *response) WriteHeader(status int)      { w.status = status }
func (w *response) Write(p []byte) (int, error) { return w.body.Write(p) }
