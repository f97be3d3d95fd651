package siootel_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/socketio"
	siootel "github.com/siokit/siokit/otel"
)

const (
	connTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	connSpan   = "00f067aa0ba902b7"
	eventTrace = "0af7651916cd43dd8448eb211c80319c"
	eventSpan  = "b7ad6b7169203331"
)

// TestSpans checks one span per handled event and per connection, each
// continuing the trace the client sent: the event's own traceparent, else
// the one of its handshake.
func TestSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	srv := socketio.NewServer(&socketio.Options{Hooks: siootel.Hooks(&siootel.Options{TracerProvider: tp})})
	must(t, srv.On("save", func(doc string, _ map[string]string) string { return doc }))
	must(t, srv.On("plain", func() int { return 1 }))
	srv.Of("/locked").OnConnect(func(*socketio.Socket) error { return socketio.NewConnectError("no", nil) })
	hs := httptest.NewServer(siohttp.Handler(srv))
	t.Cleanup(func() {
		_ = srv.Close()
		hs.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := socketio.NewClient(hs.URL, &socketio.ClientOptions{
		Auth:         map[string]string{"traceparent": "00-" + connTrace + "-" + connSpan + "-01"},
		Reconnection: new(false),
	})
	t.Cleanup(func() { _ = c.Close() })
	must(t, c.Connect(ctx))

	const saves = 3
	carrier := map[string]string{"traceparent": "00-" + eventTrace + "-" + eventSpan + "-01"}
	for range saves {
		_, err := c.Of("/").EmitWithAck(ctx, "save", "doc", carrier)
		must(t, err)
	}
	_, err := c.Of("/").EmitWithAck(ctx, "plain")
	must(t, err)
	if err := c.Of("/locked").Connect(ctx); err == nil {
		t.Fatal("/locked accepted the connection")
	}

	var connects, locked, saveSpans, plain int
	for _, s := range rec.Ended() {
		sc, parent := s.SpanContext(), s.Parent()
		switch s.Name() {
		case "connect /":
			connects++
			if sc.TraceID().String() != connTrace || parent.SpanID().String() != connSpan || !parent.IsRemote() {
				t.Errorf("connect span trace %s parent %s, want %s %s", sc.TraceID(), parent.SpanID(), connTrace, connSpan)
			}
		case "connect /locked":
			locked++
			if s.Status().Code != codes.Error {
				t.Errorf("refused connection's span has status %v", s.Status())
			}
		case "save receive":
			saveSpans++
			if sc.TraceID().String() != eventTrace || parent.SpanID().String() != eventSpan {
				t.Errorf("save span trace %s parent %s, want %s %s", sc.TraceID(), parent.SpanID(), eventTrace, eventSpan)
			}
		case "plain receive":
			plain++
			if sc.TraceID().String() != connTrace {
				t.Errorf("plain span trace %s, want the handshake's %s", sc.TraceID(), connTrace)
			}
		default:
			t.Errorf("unexpected span %q", s.Name())
		}
	}
	if connects != 1 || locked != 1 || saveSpans != saves || plain != 1 {
		t.Fatalf("spans: %d connect, %d refused connect, %d save, %d plain; want 1, 1, %d, 1", connects, locked, saveSpans, plain, saves)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
