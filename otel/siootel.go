package siootel

import (
	"context"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/siokit/siokit/core/hooks"
)

// ScopeName is the instrumentation scope of the spans.
const ScopeName = "github.com/siokit/siokit/otel"

// Options configures [Hooks]. Zero fields take the default in their comment.
type Options struct {
	// TracerProvider makes the tracer. Default otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
	// Propagator reads the trace context clients send. Default the W3C
	// trace context (propagation.TraceContext).
	Propagator propagation.TextMapPropagator
}

// Hooks returns hooks that trace a server: one span for each namespace
// connection (its middlewares and connect handlers) and one for each event
// a client sends (its handler). Set them as socketio.Options.Hooks, or
// combine them with others with [hooks.Merge].
func Hooks(opts *Options) *hooks.Hooks {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.TracerProvider == nil {
		o.TracerProvider = otel.GetTracerProvider()
	}
	if o.Propagator == nil {
		o.Propagator = propagation.TraceContext{}
	}
	t := &tracer{tr: o.TracerProvider.Tracer(ScopeName), prop: o.Propagator}
	return &hooks.Hooks{
		ConnectStart: func(e hooks.Event) any { return t.start(e, "connect "+e.Namespace) },
		ConnectEnd:   t.end,
		EventStart:   func(e hooks.Event) any { return t.start(e, e.Name+" receive") },
		EventEnd:     t.end,
	}
}

type tracer struct {
	tr   trace.Tracer
	prop propagation.TextMapPropagator
}

func (t *tracer) start(e hooks.Event, name string) any {
	ctx := context.Background()
	if e.TraceParent != "" {
		ctx = t.prop.Extract(ctx, propagation.MapCarrier{"traceparent": e.TraceParent})
	}
	attrs := []attribute.KeyValue{
		attribute.String("messaging.system", "socket.io"),
		attribute.String("socketio.namespace", e.Namespace),
		attribute.String("socketio.socket_id", e.SocketID),
	}
	if e.Name != "" {
		attrs = append(attrs, attribute.String("socketio.event", e.Name))
	}
	_, span := t.tr.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	return span
}

func (t *tracer) end(_ hooks.Event, state any, _ time.Duration, err error) {
	span, ok := state.(trace.Span)
	if !ok {
		return
	}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
