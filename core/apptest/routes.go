package apptest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// CheckRoutes checks that an application's own routes still answer beside
// an App mounted on it at base: GET /api/ping answers "pong" and POST
// /api/echo echoes its body, the routes the adapters' test applications
// declare.
func CheckRoutes(t *testing.T, base string) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	for _, tc := range []struct{ method, path, body, want string }{
		{http.MethodGet, "/api/ping", "", "pong"},
		{http.MethodPost, "/api/echo", "hi", "hi"},
	} {
		req, err := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if res.StatusCode != http.StatusOK || string(b) != tc.want {
			t.Errorf("%s %s = %d %q, want 200 %q", tc.method, tc.path, res.StatusCode, b, tc.want)
		}
	}
}
