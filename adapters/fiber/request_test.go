package siofiber_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	siofiber "github.com/siokit/siokit/adapters/fiber"
	"github.com/siokit/siokit/core/engineio"
)

// seen is what the engine read from one request, kept after it was served.
type seen struct {
	method, path, query, remote, token, host string
	headers                                  http.Header
	unwrapPath                               string
	req                                      engineio.Request
}

// TestRequestCopies keeps what the engine read from many requests while
// fasthttp reuses its pooled contexts for the next ones: every value must
// still be the one of its own request.
func TestRequestCopies(t *testing.T) {
	var mu sync.Mutex
	var got []seen
	srv := engineio.NewServer(&engineio.Options{AllowRequest: func(r engineio.Request) error {
		c := siofiber.Unwrap(r)
		mu.Lock()
		got = append(got, seen{
			method: r.Method(), path: r.Path(), query: r.RawQuery(), remote: r.RemoteAddr(),
			token: r.Header("x-token"), host: r.Header("Host"), headers: r.Headers(),
			unwrapPath: string(c.Context().URI().PathOriginal()), req: r,
		})
		mu.Unlock()
		return errors.New("refused on purpose")
	}})
	defer func() { _ = srv.Close() }()
	base, stop := listen(t, mountRoute(srv))
	defer stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()

	const n = 50
	for i := range n {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/engine.io/?EIO=4&transport=polling&n=%d", base, i), nil)
		req.Header.Set("X-Token", fmt.Sprintf("token-%d-%s", i, strings.Repeat("x", i)))
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d, want 403", res.StatusCode)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != n {
		t.Fatalf("%d requests seen, want %d", len(got), n)
	}
	host := strings.TrimPrefix(base, "http://")
	for i, s := range got {
		token := fmt.Sprintf("token-%d-%s", i, strings.Repeat("x", i))
		want := seen{
			method: "GET", path: "/engine.io/", query: fmt.Sprintf("EIO=4&transport=polling&n=%d", i),
			token: token, host: host, unwrapPath: "/engine.io/",
		}
		if s.method != want.method || s.path != want.path || s.query != want.query || s.token != want.token ||
			s.host != want.host || s.unwrapPath != want.unwrapPath || !strings.HasPrefix(s.remote, "127.0.0.1:") {
			t.Errorf("request %d: got %+v, want %+v", i, s, want)
		}
		if s.headers.Get("X-Token") != token || s.headers.Get("Host") != host {
			t.Errorf("request %d: Headers() = %v", i, s.headers)
		}
		if siofiber.Unwrap(s.req) != nil {
			t.Errorf("request %d: Unwrap after the request was served is not nil", i)
		}
	}
}

func TestBody(t *testing.T) {
	srv := engineio.NewServer(nil)
	defer func() { _ = srv.Close() }()
	got := make(chan string, 1)
	srv.OnConnection = func(s *engineio.Session) {
		s.OnMessage(func(data []byte, _ bool) { got <- string(data) })
	}
	base, stop := listen(t, mountMiddleware(srv))
	defer stop()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	res, err := client.Get(base + "/engine.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	open, _ := io.ReadAll(res.Body)
	res.Body.Close()
	sid := strings.SplitN(strings.TrimPrefix(string(open), `0{"sid":"`), `"`, 2)[0]
	msg := strings.Repeat("héllo ", 1000)
	res, err = client.Post(base+"/engine.io/?EIO=4&transport=polling&sid="+sid, "text/plain", strings.NewReader("4"+msg))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != "ok" {
		t.Fatalf("POST = %d %q", res.StatusCode, b)
	}
	select {
	case m := <-got:
		if m != msg {
			t.Fatalf("message of %d bytes differs", len(m))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
	}
}

func TestUnwrapForeign(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Unwrap of a foreign request did not panic")
		}
	}()
	siofiber.Unwrap(foreign{})
}

type foreign struct{ engineio.Request }

func (foreign) Context() context.Context { return context.Background() }

var _ fiber.Handler = siofiber.Handler(nil)
