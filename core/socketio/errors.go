package socketio

import (
	"encoding/json"
	"errors"
)

// Sentinel errors a caller can test with errors.Is.
var (
	// ErrTimeout is returned when an acknowledgement does not arrive in time.
	ErrTimeout = errors.New("socketio: ack timeout")
	// ErrDisconnected is returned for acks pending when the socket disconnects
	// and for emits on a disconnected socket.
	ErrDisconnected = errors.New("socketio: socket disconnected")
	// ErrBadHandler reports a handler whose type On cannot call.
	ErrBadHandler = errors.New("socketio: unsupported handler")
	// ErrReservedEvent is returned when emitting an event name the protocol
	// reserves (connect, connect_error, disconnect, disconnecting,
	// newListener, removeListener).
	ErrReservedEvent = errors.New("socketio: reserved event name")
	// ErrServerClosed is returned by operations after Server.Close.
	ErrServerClosed = errors.New("socketio: server closed")
)

// ConnectError refuses a connection: return it (or any error) from a
// middleware or connect handler. Message and Data reach the client's
// connect_error handler as {"message": Message, "data": Data}.
type ConnectError struct {
	Message string
	Data    any
}

// NewConnectError returns a refusal carrying message and optional data.
func NewConnectError(message string, data any) *ConnectError {
	return &ConnectError{Message: message, Data: data}
}

func (e *ConnectError) Error() string { return "socketio: connection refused: " + e.Message }

// payload is the CONNECT_ERROR body.
func (e *ConnectError) payload() []byte {
	v := struct {
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}{e.Message, e.Data}
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(struct {
			Message string `json:"message"`
		}{e.Message})
	}
	return b
}

// refusal turns any error from a middleware or connect handler into the
// ConnectError sent to the client.
func refusal(err error) *ConnectError {
	var ce *ConnectError
	if errors.As(err, &ce) {
		return ce
	}
	return &ConnectError{Message: err.Error()}
}

// Disconnect reasons, as the official server names them.
const (
	ReasonServerNamespaceDisconnect = "server namespace disconnect"
	ReasonClientNamespaceDisconnect = "client namespace disconnect"
	ReasonServerShuttingDown        = "server shutting down"
	ReasonPingTimeout               = "ping timeout"
	ReasonTransportClose            = "transport close"
	ReasonTransportError            = "transport error"
	ReasonParseError                = "parse error"
	ReasonForcedClose               = "forced close"
	ReasonForcedServerClose         = "forced server close"

	// ReasonRateLimitExceeded: the client kept sending faster than
	// Options.EventRate allows, or more events than its handlers could take
	// (Options.MaxPendingEvents), for longer than Options.RateLimitWait. The
	// server sends DISCONNECT first, so the official client does not
	// reconnect on its own.
	ReasonRateLimitExceeded = "rate limit exceeded"
	// ReasonAttachmentLimit: a packet's binary attachments did not all
	// arrive within Options.AttachmentTimeout, or exceeded
	// Options.MaxAttachmentBytes.
	ReasonAttachmentLimit = "attachment limit exceeded"
)

// recoverable reports whether a disconnect with reason keeps the session for
// connection state recovery: explicit disconnects do not.
func recoverable(reason string) bool {
	switch reason {
	case ReasonTransportError, ReasonTransportClose, ReasonForcedClose, ReasonPingTimeout,
		ReasonServerShuttingDown, ReasonForcedServerClose:
		return true
	}
	return false
}
