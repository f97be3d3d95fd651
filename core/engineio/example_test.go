package engineio_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/siokit/siokit/core/engineio"
)

// memRequest is a minimal adapter request, enough for long-polling without a
// network; real programs mount the server with an adapter such as siohttp.
type memRequest struct {
	method, query, body string
}

func (r memRequest) Context() context.Context { return context.Background() }
func (r memRequest) Method() string           { return r.method }
func (r memRequest) Path() string             { return engineio.DefaultPath }
func (r memRequest) RawQuery() string         { return r.query }
func (r memRequest) Header(string) string     { return "" }
func (r memRequest) Headers() http.Header     { return http.Header{} }
func (r memRequest) RemoteAddr() string       { return "127.0.0.1:1234" }
func (r memRequest) Body() io.Reader          { return strings.NewReader(r.body) }

type memResponse struct{ bytes.Buffer }

func (*memResponse) SetHeader(string, string) {}
func (*memResponse) WriteHeader(int)          {}

// serve answers one request and returns the response body.
func serve(h engineio.Handler, method, query, body string) string {
	var w memResponse
	h.ServeRequest(&w, memRequest{method, query, body})
	return w.String()
}

func ExampleNewServer() {
	srv := engineio.NewServer(&engineio.Options{
		CORS: engineio.CORSOptions{AllowedOrigins: []string{"https://example.com"}},
	})
	srv.OnConnection = func(s *engineio.Session) {
		s.OnMessage(func(data []byte, binary bool) {
			_ = s.Send(data, binary) // echo
		})
		s.OnClose(func(reason string) { fmt.Println("closed:", reason) })
	}
	// An adapter mounts it, e.g. http.Handle("/engine.io/", siohttp.Handler(srv)).

	open := serve(srv, "GET", "EIO=4&transport=polling", "")
	sid := open[len(`0{"sid":"`) : strings.IndexByte(open, ',')-1]
	q := "EIO=4&transport=polling&sid=" + sid
	fmt.Println(serve(srv, "POST", q, "4hello\x1ebAQID"))
	fmt.Printf("%q\n", serve(srv, "GET", q, ""))
	serve(srv, "POST", q, "1")
	if err := srv.Close(); err != nil { // waits for the close callback
		fmt.Println(err)
	}
	// Output:
	// ok
	// "4hello\x1ebAQID"
	// closed: transport close
}
