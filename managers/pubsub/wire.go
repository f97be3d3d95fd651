package siopubsub

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/siokit/siokit/core/parser"
	"github.com/siokit/siokit/core/socketio"
)

// Request types, numbered as the Node adapter numbers them. The last two are
// siokit's own, used only with brokers that cannot count subscribers; Node
// servers ignore unknown types.
const (
	reqSockets              = 0
	reqAllRooms             = 1
	reqRemoteJoin           = 2
	reqRemoteLeave          = 3
	reqRemoteDisconnect     = 4
	reqRemoteFetch          = 5
	reqServerSideEmit       = 6
	reqBroadcast            = 7
	reqBroadcastClientCount = 8
	reqBroadcastAck         = 9
	reqHeartbeat            = 100
	reqClose                = 101
)

// errMalformed marks a message that does not have the expected shape.
var errMalformed = errors.New("siopubsub: malformed message")

// jsExt is MessagePack extension type 0, which notepack.io (the Node
// adapter's codec) writes for undefined (1 byte) and for dates (8 bytes,
// a float64 of milliseconds). It decodes to nil or to a time.
type jsExt struct{ v any }

func init() {
	msgpack.RegisterExt(0, (*jsExt)(nil))
}

// MarshalMsgpack writes undefined.
func (e *jsExt) MarshalMsgpack() ([]byte, error) { return []byte{0}, nil }

// UnmarshalMsgpack reads undefined or a date.
func (e *jsExt) UnmarshalMsgpack(b []byte) error {
	if len(b) == 8 {
		f := math.Float64frombits(binary.BigEndian.Uint64(b))
		e.v = time.UnixMilli(int64(f)).UTC().Format(time.RFC3339Nano)
		return nil
	}
	e.v = nil
	return nil
}

// normalize replaces decoded extension values by plain ones, in place.
func normalize(x any) any {
	switch t := x.(type) {
	case *jsExt:
		if t == nil {
			return nil
		}
		return t.v
	case jsExt:
		return t.v
	case map[string]any:
		for k, v := range t {
			t[k] = normalize(v)
		}
	case []any:
		for i, v := range t {
			t[i] = normalize(v)
		}
	}
	return x
}

// wirePacket is a packet in socket.io-parser's object form.
type wirePacket struct {
	Type int     `msgpack:"type"`
	Data []any   `msgpack:"data"`
	Nsp  string  `msgpack:"nsp"`
	ID   *uint64 `msgpack:"id,omitempty"`
}

// wireFlags are the broadcast flags the Node adapter carries.
type wireFlags struct {
	Volatile bool  `msgpack:"volatile,omitempty" json:"volatile,omitempty"`
	Timeout  int64 `msgpack:"timeout,omitempty" json:"timeout,omitempty"`
}

// wireOpts are broadcast options on the wire.
type wireOpts struct {
	Rooms  []string   `msgpack:"rooms" json:"rooms"`
	Except []string   `msgpack:"except" json:"except"`
	Flags  *wireFlags `msgpack:"flags,omitempty" json:"flags,omitempty"`
}

func optsToWire(o *socketio.BroadcastOptions, flags bool) wireOpts {
	w := wireOpts{Rooms: o.Rooms, Except: o.Except}
	if w.Rooms == nil {
		w.Rooms = []string{}
	}
	if w.Except == nil {
		w.Except = []string{}
	}
	if flags {
		w.Flags = &wireFlags{Volatile: o.Volatile, Timeout: o.AckTimeout.Milliseconds()}
	}
	return w
}

func optsFromWire(v any) *socketio.BroadcastOptions {
	o := &socketio.BroadcastOptions{}
	m, _ := v.(map[string]any)
	if m == nil {
		return o
	}
	o.Rooms = strList(m["rooms"])
	o.Except = strList(m["except"])
	if f, ok := m["flags"].(map[string]any); ok {
		o.Volatile, _ = f["volatile"].(bool)
	}
	return o
}

// strList reads a list of room names; numbers (Node allows numeric rooms)
// become their decimal text.
func strList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		switch t := e.(type) {
		case string:
			out = append(out, t)
		default:
			if f, ok := toFloat(t); ok {
				out = append(out, strconv.FormatFloat(f, 'f', -1, 64))
			}
		}
	}
	return out
}

func toFloat(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case float32:
		return float64(t), true
	case int:
		return float64(t), true
	case int8:
		return float64(t), true
	case int16:
		return float64(t), true
	case int32:
		return float64(t), true
	case int64:
		return float64(t), true
	case uint:
		return float64(t), true
	case uint8:
		return float64(t), true
	case uint16:
		return float64(t), true
	case uint32:
		return float64(t), true
	case uint64:
		return float64(t), true
	}
	return 0, false
}

func toInt(v any) (int64, bool) {
	f, ok := toFloat(v)
	if !ok || f != math.Trunc(f) {
		return 0, false
	}
	return int64(f), true
}

// packetToWire turns an EVENT (or ACK) packet into its object form: the
// JSON with its binary placeholders becomes plain values with []byte.
func packetToWire(p *parser.Packet) (*wirePacket, error) {
	elems, err := parser.SplitArray(p.Data)
	if err != nil {
		return nil, err
	}
	data, err := parser.DecodeArgs(elems, p.Attachments)
	if err != nil {
		return nil, err
	}
	t := p.Type
	switch t {
	case parser.BinaryEvent:
		t = parser.Event
	case parser.BinaryAck:
		t = parser.Ack
	}
	w := &wirePacket{Type: int(t), Data: data, Nsp: p.Namespace}
	if w.Nsp == "" {
		w.Nsp = "/"
	}
	if p.HasID {
		id := p.ID
		w.ID = &id
	}
	return w, nil
}

// packetFromWire turns a decoded object-form EVENT packet back into a packet.
func packetFromWire(v any) (*parser.Packet, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: packet is %T", errMalformed, v)
	}
	typ, _ := toInt(m["type"])
	if typ != int64(parser.Event) && typ != int64(parser.BinaryEvent) {
		return nil, fmt.Errorf("%w: packet type %v", errMalformed, m["type"])
	}
	data, _ := m["data"].([]any)
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: packet without data", errMalformed)
	}
	name, ok := data[0].(string)
	if !ok {
		return nil, fmt.Errorf("%w: event name is %T", errMalformed, data[0])
	}
	enc, atts, err := parser.EncodeEvent(nil, name, data[1:])
	if err != nil {
		return nil, err
	}
	nsp, _ := m["nsp"].(string)
	if nsp == "" {
		nsp = "/"
	}
	p := &parser.Packet{Type: parser.Event, Namespace: nsp, Data: enc, Attachments: atts}
	if id, ok := toInt(m["id"]); ok && id >= 0 {
		p.ID, p.HasID = uint64(id), true
	}
	return p, nil
}

// responseOf builds a Response from plain values.
func responseOf(vals []any) (*socketio.Response, error) {
	data, atts, err := parser.EncodeAck(nil, vals)
	if err != nil {
		return nil, err
	}
	args, err := parser.SplitArray(data)
	if err != nil {
		return nil, err
	}
	return &socketio.Response{Args: args, Attachments: atts}, nil
}

// firstValue decodes the first value of a response into a plain value.
func firstValue(r *socketio.Response) (any, error) {
	if r == nil || len(r.Args) == 0 {
		return nil, nil
	}
	vals, err := parser.DecodeArgs(r.Args[:1], r.Attachments)
	if err != nil {
		return nil, err
	}
	return vals[0], nil
}

// hasBinary reports whether a plain value holds []byte at any depth.
func hasBinary(x any) bool {
	switch t := x.(type) {
	case []byte:
		return true
	case map[string]any:
		for _, v := range t {
			if hasBinary(v) {
				return true
			}
		}
	case []any:
		for _, v := range t {
			if hasBinary(v) {
				return true
			}
		}
	}
	return false
}

// encodeRequest writes a request or response as JSON, or as MessagePack
// when it carries binary (JSON would turn it into base64 text).
func encodeRequest(m map[string]any) ([]byte, error) {
	if hasBinary(m) {
		return msgpack.Marshal(m)
	}
	return json.Marshal(m)
}

// decodeObject reads a request or response: JSON when it starts with '{',
// else MessagePack, as the Node adapter decides.
func decodeObject(msg []byte) (map[string]any, error) {
	var v any
	if len(msg) > 0 && msg[0] == '{' {
		if err := json.Unmarshal(msg, &v); err != nil {
			return nil, fmt.Errorf("%w: %w", errMalformed, err)
		}
	} else if err := unmarshalMsgpack(msg, &v); err != nil {
		return nil, err
	}
	m, ok := normalize(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: not an object but %T", errMalformed, v)
	}
	return m, nil
}

// wireHandshake is a socket's handshake as Node servers describe it.
type wireHandshake struct {
	Headers map[string]any  `json:"headers"`
	Time    string          `json:"time"`
	Address string          `json:"address"`
	XDomain bool            `json:"xdomain"`
	Secure  bool            `json:"secure"`
	Issued  int64           `json:"issued"`
	URL     string          `json:"url"`
	Query   map[string]any  `json:"query"`
	Auth    json.RawMessage `json:"auth,omitempty"`
}

// wireSocket is one socket of a fetch-sockets response.
type wireSocket struct {
	ID        string          `json:"id"`
	Handshake wireHandshake   `json:"handshake"`
	Rooms     []string        `json:"rooms"`
	Data      json.RawMessage `json:"data,omitempty"`
}

func socketToWire(r *socketio.RemoteSocket) wireSocket {
	w := wireSocket{ID: r.ID, Rooms: r.Rooms}
	if w.Rooms == nil {
		w.Rooms = []string{}
	}
	if hs := r.Handshake; hs != nil {
		w.Handshake = wireHandshake{
			Headers: map[string]any{},
			Time:    hs.Time.Format("Mon Jan 02 2006 15:04:05 GMT-0700"),
			Address: hs.Address,
			Issued:  hs.Time.UnixMilli(),
			URL:     hs.URL,
			Query:   map[string]any{},
			Auth:    hs.Auth,
		}
		for k, v := range hs.Headers {
			w.Handshake.Headers[strings.ToLower(k)] = strings.Join(v, ", ")
		}
		for k, v := range hs.Query {
			if len(v) == 1 {
				w.Handshake.Query[k] = v[0]
			} else {
				w.Handshake.Query[k] = v
			}
		}
	}
	if r.Data != nil {
		if b, err := json.Marshal(r.Data); err == nil {
			w.Data = b
		}
	}
	return w
}

func socketFromWire(w *wireSocket, nsp string) *socketio.RemoteSocket {
	hs := &socketio.Handshake{
		Headers: http.Header{},
		Query:   url.Values{},
		Address: w.Handshake.Address,
		URL:     w.Handshake.URL,
		Auth:    w.Handshake.Auth,
	}
	if w.Handshake.Issued > 0 {
		hs.Time = time.UnixMilli(w.Handshake.Issued)
	}
	for k, v := range w.Handshake.Headers {
		hs.Headers[http.CanonicalHeaderKey(k)] = textList(v)
	}
	for k, v := range w.Handshake.Query {
		hs.Query[k] = textList(v)
	}
	r := &socketio.RemoteSocket{ID: w.ID, Namespace: nsp, Rooms: w.Rooms, Handshake: hs}
	if len(w.Data) > 0 {
		var data map[string]any
		if json.Unmarshal(w.Data, &data) == nil {
			r.Data = data
		}
	}
	return r
}

func textList(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			out = append(out, fmt.Sprint(e))
		}
		return out
	case nil:
		return nil
	}
	return []string{fmt.Sprint(v)}
}
