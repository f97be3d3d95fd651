package app

import (
	"io"
	"testing"
)

// streamRecorder is a recorder with the StreamWriter capability: it keeps the
// reader it is handed instead of taking the body through Write.
type streamRecorder struct {
	*recorder
	body   io.ReadCloser
	size   int64
	writes int
}

func (w *streamRecorder) Write(p []byte) (int, error) {
	w.writes++
	return w.recorder.Write(p)
}

func (w *streamRecorder) WriteStream(body io.ReadCloser, size int64) {
	w.body, w.size = body, size
}

func TestStreamWriter(t *testing.T) {
	t.Parallel()
	base := tree(t)
	a := New(prefixHandler{prefix: "/engine.io/"}, &Options{Static: testRules(base)})
	tests := []struct {
		method   string
		wantBody string // "" for no stream handed over
	}{
		{"GET", "console.log(1)"},
		{"HEAD", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			t.Parallel()
			w := &streamRecorder{recorder: newRecorder()}
			a.ServeRequest(w, newRequest(tt.method, "/static/app.js"))
			if w.status != 200 || w.writes != 0 {
				t.Fatalf("status %d, %d Write calls; want 200 and none", w.status, w.writes)
			}
			if tt.wantBody == "" {
				if w.body != nil {
					t.Fatalf("%s handed over a body stream", tt.method)
				}
				return
			}
			if w.body == nil {
				t.Fatal("no body stream handed over")
			}
			got, err := io.ReadAll(w.body)
			if err != nil || string(got) != tt.wantBody || w.size != int64(len(tt.wantBody)) {
				t.Fatalf("stream %q (size %d), %v; want %q", got, w.size, err, tt.wantBody)
			}
			if err := w.body.Close(); err != nil {
				t.Fatalf("the App closed the file it handed over: %v", err)
			}
		})
	}
}
