package engineio

import (
	"errors"
	"fmt"
	"strconv"
)

// Code is an Engine.IO HTTP error code, sent as {"code":N,"message":...}.
type Code int

// The Engine.IO error codes.
const (
	CodeUnknownTransport    Code = 0
	CodeUnknownSID          Code = 1
	CodeBadHandshakeMethod  Code = 2
	CodeBadRequest          Code = 3
	CodeForbidden           Code = 4
	CodeUnsupportedProtocol Code = 5
)

var codeMessages = map[Code]string{
	CodeUnknownTransport:    "Transport unknown",
	CodeUnknownSID:          "Session ID unknown",
	CodeBadHandshakeMethod:  "Bad handshake method",
	CodeBadRequest:          "Bad request",
	CodeForbidden:           "Forbidden",
	CodeUnsupportedProtocol: "Unsupported protocol version",
}

// Message returns the protocol's message for the code.
func (c Code) Message() string { return codeMessages[c] }

// RequestError is an HTTP request the engine refused: Status is the HTTP
// status, Code and Message form the JSON body.
type RequestError struct {
	Status  int
	Code    Code
	Message string
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("engineio: request refused: %d %s (code %d)", e.Status, e.Message, e.Code)
}

// body returns the JSON body {"code":N,"message":"..."}.
func (e *RequestError) body() []byte {
	b := make([]byte, 0, 32+len(e.Message))
	b = append(b, `{"code":`...)
	b = strconv.AppendInt(b, int64(e.Code), 10)
	b = append(b, `,"message":`...)
	b = strconv.AppendQuote(b, e.Message)
	return append(b, '}')
}

// Sentinel errors a caller can test with errors.Is.
var (
	// ErrSessionClosed is returned by writes to a closed session.
	ErrSessionClosed = errors.New("engineio: session closed")
	// ErrQueueFull is returned when a packet would overflow a session's
	// outgoing queue; the session is closed unless the packet was volatile.
	ErrQueueFull = errors.New("engineio: outgoing queue full")
	// ErrServerClosed is returned by handshakes after [Server.Close].
	ErrServerClosed = errors.New("engineio: server closed")
)

// Close reasons passed to the close callback.
const (
	ReasonTransportClose     = "transport close"
	ReasonTransportError     = "transport error"
	ReasonPingTimeout        = "ping timeout"
	ReasonParseError         = "parse error"
	ReasonForcedClose        = "forced close"
	ReasonServerShuttingDown = "server shutting down"
)
