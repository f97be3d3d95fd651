// Package siootel traces a siokit Socket.IO server with OpenTelemetry,
// through the server's instrumentation hooks (package hooks):
//
//	srv := socketio.NewServer(&socketio.Options{Hooks: siootel.Hooks(nil)})
//
// Each namespace connection gets a span "connect <namespace>" around its
// middlewares and connect handlers (status Error when they refuse it), and
// each event a client sends a span "<event> receive" around its handler,
// both of kind server, with the attributes messaging.system="socket.io",
// socketio.namespace, socketio.socket_id and socketio.event.
//
// # Trace context
//
// A client continues its trace by sending a W3C traceparent: in an event's
// last argument, as an object with a "traceparent" member (for example
// socket.emit("save", doc, {traceparent})), or for the whole connection in
// its auth object ({auth: {traceparent}}) or in a traceparent header of
// the handshake. The event's own context comes first.
//
// The span is not passed to the handler: handlers start their own spans
// from context.Background or their request's context.
package siootel
