package siohttp_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/app"
	"github.com/siokit/siokit/core/apptest"
	"github.com/siokit/siokit/core/engineio"
)

// mountApp puts an App in front of an application that answers /api/ping
// and hands every other request to the App, so that what neither answers
// reaches the App's fallback. (A ServeMux would redirect the kit's dot
// segments to the cleaned path before the App sees them.)
func mountApp(t testing.TB, h engineio.Handler) string {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/ping" {
			_, _ = io.WriteString(w, "pong")
			return
		}
		siohttp.Serve(h, w, r)
	})
	ts := httptest.NewServer(siohttp.Middleware(h, api))
	t.Cleanup(ts.Close)
	return ts.URL
}

// TestApp runs the App scenarios through siohttp, then checks that the
// application's own route still answers beside the App.
func TestApp(t *testing.T) {
	apptest.Run(t, mountApp)
	srv := engineio.NewServer(nil)
	defer func() { _ = srv.Close() }()
	base := mountApp(t, app.New(srv, nil))
	res, err := http.Get(base + "/api/ping")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(b) != "pong" {
		t.Errorf("GET /api/ping = %d %q, want 200 pong", res.StatusCode, b)
	}
}
