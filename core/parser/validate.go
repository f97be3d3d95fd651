package parser

import (
	"fmt"
	"unicode/utf8"
)

// Validate checks a packet that another wire format decoded into this
// package's form (a JSON payload with binary placeholders, and the
// attachments they name) as strictly as [Decoder] checks the text format:
// a known type; a namespace that starts with '/', at most maxNamespaceLen
// bytes (512 when zero) of valid UTF-8 without control characters or
// commas (which the text format cannot carry); an ack
// id only where the type allows one, at most [MaxAckID], and present on
// acks; a payload of the shape the type allows, led by an event name that
// is not reserved for events; placeholders that name one of the
// attachments. It records the array's elements, so that [Packet.EventArgs]
// and [Packet.AckArgs] need not scan the payload again. Errors match
// [ErrMalformed].
func (p *Packet) Validate(maxNamespaceLen int) error {
	if p.Type > BinaryAck {
		return malformed("unknown packet type %d", p.Type)
	}
	if err := validateNamespace(p.Namespace, maxNamespaceLen); err != nil {
		return err
	}
	if p.HasID {
		switch p.Type {
		case Connect, Disconnect, ConnectError:
			return malformed("ack id on a %v packet", p.Type)
		}
		if p.ID > MaxAckID {
			return malformed("ack id %d above 2^53", p.ID)
		}
	} else if p.Type == Ack || p.Type == BinaryAck {
		return fmt.Errorf("%w: %v without ack id", ErrInvalidPayload, p.Type)
	}
	args, err := validatePayload(p.Type, p.Data, len(p.Attachments), nil)
	if err != nil {
		return err
	}
	p.args, p.argsBase, p.argsSize = nil, nil, 0
	if len(args) > 0 {
		p.args, p.argsBase, p.argsSize = args, &p.Data[0], len(p.Data)
	}
	return nil
}

func validateNamespace(nsp string, limit int) error {
	if limit <= 0 {
		limit = DefaultMaxNamespaceLen
	}
	if nsp == "" || nsp[0] != '/' {
		return malformed("namespace %.32q does not start with '/'", nsp)
	}
	if len(nsp) > limit {
		return malformed("namespace longer than %d bytes", limit)
	}
	for i := 0; i < len(nsp); i++ {
		if c := nsp[i]; c < 0x20 || c == 0x7f {
			return malformed("control character in namespace")
		} else if c == ',' {
			return malformed("comma in namespace") // the text format cannot carry it
		}
	}
	if !utf8.ValidString(nsp) {
		return malformed("namespace is not valid UTF-8")
	}
	return nil
}
