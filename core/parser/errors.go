package parser

// parserError is a sentinel that also matches its parent with errors.Is, so
// that every decoding failure matches [ErrMalformed].
type parserError struct {
	msg    string
	parent error
}

func (e *parserError) Error() string { return e.msg }

// Unwrap returns the parent sentinel, or nil.
func (e *parserError) Unwrap() error { return e.parent }

// Sentinel errors, testable with errors.Is. Every one of them also matches
// ErrMalformed. Errors returned by this package wrap them with details.
var (
	// ErrMalformed is any packet or payload that cannot be decoded.
	ErrMalformed error = &parserError{msg: "parser: malformed packet"}
	// ErrTooManyAttachments is an attachment count above the decoder's limit.
	ErrTooManyAttachments error = &parserError{msg: "parser: too many attachments", parent: ErrMalformed}
	// ErrUnexpectedBinary is a binary message while no attachment is awaited.
	ErrUnexpectedBinary error = &parserError{msg: "parser: unexpected binary message", parent: ErrMalformed}
	// ErrUnexpectedText is a text message while attachments are awaited.
	ErrUnexpectedText error = &parserError{msg: "parser: unexpected text message while attachments are pending", parent: ErrMalformed}
	// ErrBadPlaceholder is a binary placeholder whose num is not an integer
	// naming one of the declared attachments.
	ErrBadPlaceholder error = &parserError{msg: "parser: bad binary placeholder", parent: ErrMalformed}
	// ErrInvalidPayload is a payload whose shape is wrong for the packet type
	// (for example an EVENT that is not an array led by an event name).
	ErrInvalidPayload error = &parserError{msg: "parser: invalid payload", parent: ErrMalformed}
)
