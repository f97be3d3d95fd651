package eiotest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/siokit/siokit/core/engineio"
)

// StartFunc serves h on ln with a framework's own server and returns the
// server's graceful shutdown.
type StartFunc func(h engineio.Handler, ln net.Listener) (shutdown func(context.Context) error)

// HTTPStart is the StartFunc of a framework served by net/http: build turns
// the engine into the framework's handler.
func HTTPStart(build func(engineio.Handler) http.Handler) StartFunc {
	return func(h engineio.Handler, ln net.Listener) func(context.Context) error {
		hs := &http.Server{Handler: build(h), ReadHeaderTimeout: 5 * time.Second}
		served := make(chan error, 1)
		go func() { served <- hs.Serve(ln) }()
		return func(ctx context.Context) error {
			if err := hs.Shutdown(ctx); err != nil {
				return err
			}
			if err := <-served; !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		}
	}
}

// arrivals signals each request that names a session, so the test knows a
// long-poll has reached the engine.
type arrivals struct {
	engineio.Handler
	ch chan struct{}
}

func (a arrivals) ServeRequest(w engineio.ResponseWriter, r engineio.Request) {
	if strings.Contains(r.RawQuery(), "sid=") {
		select {
		case a.ch <- struct{}{}:
		default:
		}
	}
	a.Handler.ServeRequest(w, r)
}

// RunShutdown checks the documented shutdown order on a framework's server:
// with a long-poll pending and a WebSocket open, closing the engine ends
// both sessions with "server shutting down" (the poll returns the close
// packet), the framework's server then shuts down cleanly, and no goroutine
// is left.
func RunShutdown(t *testing.T, start StartFunc) {
	t.Helper()
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := engineio.NewServer(nil)
	reasons := make(chan string, 2)
	srv.OnConnection = func(s *engineio.Session) { s.OnClose(func(r string) { reasons <- r }) }
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	arrived := make(chan struct{}, 1)
	shutdown := start(arrivals{Handler: srv, ch: arrived}, ln)
	base := "http://" + ln.Addr().String() + "/engine.io/?EIO=4&transport="
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}

	res, err := client.Get(base + "polling")
	if err != nil {
		t.Fatal(err)
	}
	open, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	sid := strings.SplitN(strings.TrimPrefix(string(open), `0{"sid":"`), `"`, 2)[0]
	poll := make(chan string, 1)
	go func() {
		res, err := client.Get(base + "polling&sid=" + sid)
		if err != nil {
			poll <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		poll <- string(b)
	}()
	ws, wsRes, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = wsRes.Body.Close()
	defer func() { _ = ws.Close() }()
	if _, _, err := ws.ReadMessage(); err != nil {
		t.Fatal(err)
	}

	<-arrived
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	for range 2 {
		if r := <-reasons; r != engineio.ReasonServerShuttingDown {
			t.Errorf("close reason %q, want %q", r, engineio.ReasonServerShuttingDown)
		}
	}
	if got := <-poll; got != "1" && !strings.Contains(got, `"code":1`) {
		t.Errorf("pending poll got %q, want the close packet", got)
	}
	if _, msg, err := ws.ReadMessage(); err == nil && string(msg) != "1" {
		t.Errorf("websocket got %q, want the close packet", msg)
	}
}
