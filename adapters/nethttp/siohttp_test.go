package siohttp_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/eiotest"
	"github.com/siokit/siokit/core/engineio"
)

// mount serves h with siohttp.Handler on an httptest server.
func mount(t testing.TB, h engineio.Handler) string {
	ts := httptest.NewServer(siohttp.Handler(h))
	t.Cleanup(ts.Close)
	return ts.URL
}

// mountMiddleware serves h in front of a handler that answers every other path.
func mountMiddleware(t testing.TB, h engineio.Handler) string {
	ts := httptest.NewServer(siohttp.Middleware(h, http.NotFoundHandler()))
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestEngineIO(t *testing.T) {
	eiotest.Run(t, mount)
}

func TestEngineIOMiddleware(t *testing.T) {
	eiotest.Run(t, mountMiddleware)
}
