package siomsgpack_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/eiotest"
	"github.com/siokit/siokit/core/socketio"
	siomsgpack "github.com/siokit/siokit/parsers/msgpack"
)

const wait = 10 * time.Second

// sample is the list of values every peer sends and checks: each kind of
// value, binary at the top level and nested.
func sample() []any {
	return []any{"héllo", 42, 1.5, true, nil, map[string]any{"k": []any{1, "x"}},
		[]byte{0, 1, 2, 255}, map[string]any{"bin": []byte{9, 8}, "n": 1}}
}

// sampleDecoded is sample as a peer's values decode into any.
func sampleDecoded() []any {
	return []any{"héllo", float64(42), 1.5, true, nil, map[string]any{"k": []any{float64(1), "x"}},
		[]byte{0, 1, 2, 255}, map[string]any{"bin": []byte{9, 8}, "n": float64(1)}}
}

// startServer serves the events the peers' scripts expect over the
// msgpack parser, on a real listener, and returns its URL.
func startServer(t *testing.T) string {
	t.Helper()
	srv := socketio.NewServer(&socketio.Options{Parser: siomsgpack.Parser{}})
	srv.Use(func(s *socketio.Socket) error {
		var auth struct{ Token string }
		if s.Handshake().DecodeAuth(&auth) != nil || auth.Token != "secret" {
			return socketio.NewConnectError("unauthorized", nil)
		}
		return nil
	})
	srv.OnConnect(func(s *socketio.Socket) error { return s.Emit("welcome", sample()...) })
	echo := func(ack socketio.AckFunc, args ...any) { _ = ack(args...) }
	must(t, srv.On("echo", echo))
	must(t, srv.On("ask", func(s *socketio.Socket, n int) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			res, err := s.EmitWithAck(ctx, "double", n)
			var r int
			if err == nil {
				err = res.Decode(&r)
			}
			if err != nil {
				_ = s.Emit("answer", err.Error())
				return
			}
			_ = s.Emit("answer", r)
		}()
	}))
	must(t, srv.On("shout", func(s *socketio.Socket, args ...any) error {
		return s.Namespace().Emit("news", args...)
	}))
	must(t, srv.Of("/chat").On("echo", echo))
	root := eiotest.RepoRoot(t)
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", siohttp.Handler(srv))
	mux.HandleFunc("/client.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(root, "node_modules", "socket.io-client", "dist", "socket.io.msgpack.min.js"))
	})
	mux.HandleFunc("/page.html", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join("testdata", "page.html"))
	})
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		_ = srv.Close()
		hs.Close()
	})
	return hs.URL
}

// TestChromiumClientInterop runs socket.io-client's msgpack bundle in
// headless Chromium against siokit (testdata/page.html, driven by
// testdata/browser.js).
func TestChromiumClientInterop(t *testing.T) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatalf("/usr/bin/chromium is missing (%v); run `make deps`", err)
	}
	for _, transport := range []string{"websocket", "polling"} {
		t.Run(transport, func(t *testing.T) {
			url := startServer(t)
			out := eiotest.RunNode(t, "parsers/msgpack/testdata/browser.js", url+"/page.html?t="+transport)
			if strings.TrimSpace(out) != "OK" {
				t.Fatalf("browser: %s", out)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestNodeClientInterop(t *testing.T) {
	for _, transport := range []string{"websocket", "polling"} {
		t.Run(transport, func(t *testing.T) {
			url := startServer(t)
			out := eiotest.RunNode(t, "parsers/msgpack/testdata/client.js", url, transport)
			if !strings.Contains(out, "OK") {
				t.Fatalf("node client: %s", out)
			}
		})
	}
}

func TestPythonClientInterop(t *testing.T) {
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import socketio, msgpack").Run(); err != nil {
		t.Fatalf("%s cannot import socketio and msgpack (%v); run `make deps`", python, err)
	}
	for _, transport := range []string{"websocket", "polling"} {
		t.Run(transport, func(t *testing.T) {
			url := startServer(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, python, filepath.Join("testdata", "client.py"), url, transport)
			out, err := cmd.CombinedOutput()
			if err != nil || !bytes.Contains(out, []byte("OK")) {
				t.Fatalf("python client: %v\n%s", err, out)
			}
		})
	}
}

func TestGoClientInterop(t *testing.T) {
	t.Run("siokit server", func(t *testing.T) { runGoClient(t, startServer(t)) })
	t.Run("node server", func(t *testing.T) { runGoClient(t, startNodeServer(t)) })
}

// runGoClient drives siokit's client with the msgpack parser through the
// scenario of testdata/client.js.
func runGoClient(t *testing.T, url string) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	newClient := func() *socketio.Client {
		c := socketio.NewClient(url, &socketio.ClientOptions{
			Parser:       siomsgpack.Parser{},
			Auth:         map[string]string{"token": "secret"},
			Reconnection: new(false),
			Logger:       slog.New(slog.NewTextHandler(os.Stderr, nil)),
		})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	a := newClient()
	welcome := make(chan []any, 1)
	news := make(chan []any, 2)
	answer := make(chan any, 1)
	must(t, a.Of("/").On("welcome", func(args ...any) { welcome <- args }))
	must(t, a.Of("/").On("news", func(args ...any) { news <- args }))
	must(t, a.Of("/").On("answer", func(v any) { answer <- v }))
	must(t, a.Of("/").On("double", func(n int) int { return 2 * n }))
	chat := a.Of("/chat")
	must(t, a.Connect(ctx))

	select {
	case got := <-welcome:
		if !reflect.DeepEqual(got, sampleDecoded()) {
			t.Fatalf("welcome = %#v, want %#v", got, sampleDecoded())
		}
	case <-ctx.Done():
		t.Fatal("no welcome")
	}

	res, err := a.Of("/").EmitWithAck(ctx, "echo", sample()...)
	must(t, err)
	vals, err := res.Values()
	must(t, err)
	if !reflect.DeepEqual(vals, sampleDecoded()) {
		t.Fatalf("echo ack = %#v", vals)
	}

	must(t, a.Of("/").Emit("ask", 21))
	select {
	case v := <-answer:
		if v != float64(42) {
			t.Fatalf("answer = %v, want 42", v)
		}
	case <-ctx.Done():
		t.Fatal("no answer")
	}

	res, err = chat.EmitWithAck(ctx, "echo", "in chat", []byte{7})
	must(t, err)
	if vals, err = res.Values(); err != nil || !reflect.DeepEqual(vals, []any{"in chat", []byte{7}}) {
		t.Fatalf("chat echo = %#v, %v", vals, err)
	}

	b := newClient()
	must(t, b.Of("/").On("news", func(args ...any) { news <- args }))
	must(t, b.Connect(ctx))
	must(t, a.Of("/").Emit("shout", "hi all", []byte{5, 6}))
	for range 2 {
		select {
		case got := <-news:
			if !reflect.DeepEqual(got, []any{"hi all", []byte{5, 6}}) {
				t.Fatalf("news = %#v", got)
			}
		case <-ctx.Done():
			t.Fatal("broadcast did not reach both clients")
		}
	}
}

// startNodeServer runs testdata/server.js and returns its URL; the process
// ends with the test.
func startNodeServer(t *testing.T) string {
	t.Helper()
	root := eiotest.RepoRoot(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node not found (%v); run `make deps`", err)
	}
	cmd := exec.Command(node, filepath.Join("testdata", "server.js"))
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(root, "node_modules"))
	stdin, err := cmd.StdinPipe()
	must(t, err)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	must(t, cmd.Start())
	t.Cleanup(func() {
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(wait):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "LISTENING "); ok {
				port <- p
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case p := <-port:
		return "http://127.0.0.1:" + p
	case <-time.After(wait):
		t.Fatalf("node server did not start: %s", stderr.String())
		return ""
	}
}
