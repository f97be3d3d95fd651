package socketio

import (
	"encoding/json"
	"fmt"

	"github.com/siokit/siokit/core/parser"
)

// Response is an acknowledgement: the values a client (or a server process)
// answered an emit with.
type Response struct {
	// SID is the id of the socket that answered, when one did.
	SID string
	// Args are the raw JSON values, in order.
	Args []json.RawMessage
	// Attachments are the binary attachments the values refer to.
	Attachments [][]byte
}

// Len returns the number of values.
func (r *Response) Len() int { return len(r.Args) }

// Decode decodes the values, in order, into the pointers given; missing
// values leave their pointers untouched, extra values are ignored.
func (r *Response) Decode(ptrs ...any) error {
	for i, p := range ptrs {
		if i >= len(r.Args) {
			break
		}
		if err := parser.Unmarshal(r.Args[i], r.Attachments, p); err != nil {
			return fmt.Errorf("socketio: ack value %d: %w", i, err)
		}
	}
	return nil
}

// Values decodes every value into plain Go values (binary as []byte).
func (r *Response) Values() ([]any, error) {
	return parser.DecodeArgs(r.Args, r.Attachments)
}
