package siopubsub

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/siokit/siokit/core/parser"
	"github.com/siokit/siokit/core/socketio"
	"github.com/siokit/siokit/managers/pubsub/pickle"
)

// PythonOptions makes a manager a member of a python-socketio 5.x fleet:
// see the package documentation's "Python fleets".
type PythonOptions struct {
	// Channel is the channel (the Redis channel, the RabbitMQ exchange, the
	// Kafka topic) of python-socketio's managers, their channel argument.
	// Default DefaultPythonChannel.
	Channel string
}

// DefaultPythonChannel is python-socketio's default channel.
const DefaultPythonChannel = "socketio"

// Methods of python-socketio's manager messages.
const (
	pyEmit       = "emit"
	pyCallback   = "callback"
	pyDisconnect = "disconnect"
	pyCloseRoom  = "close_room"
)

// pyAckBase is where the ack ids of the packets this manager sends for a
// Python emit with callback start: far above the namespace's own counter,
// below 2^53 so that JavaScript clients echo them exactly.
const pyAckBase = 1 << 52

// pyAck is a broadcast with acks this process published, waiting for the
// first callback of another process.
type pyAck struct {
	onAck func(*socketio.Response)
	timer *time.Timer
}

// newHostID returns a host id shaped like python-socketio's (uuid4().hex).
func newHostID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// publishPython pickles msg and queues it on the Python channel.
func (m *Manager) publishPython(msg map[string]any) {
	b, err := pickle.Marshal(msg)
	if err != nil {
		m.log.Warn("siopubsub: cannot encode a python-socketio message", "method", msg["method"], "err", err)
		return
	}
	m.enqueue(m.pyChannel, b)
}

// pyEmitMessage builds python-socketio's emit message for a broadcast.
func (m *Manager) pyEmitMessage(p *parser.Packet, opts *socketio.BroadcastOptions, callback any) (map[string]any, error) {
	return pyEmitMessage(m.nsp.Name(), m.hostID, p, opts, callback)
}

func pyEmitMessage(nsp, hostID string, p *parser.Packet, opts *socketio.BroadcastOptions, callback any) (map[string]any, error) {
	name, args, err := packetArgs(p)
	if err != nil {
		return nil, err
	}
	var data any
	switch len(args) {
	case 0:
	case 1:
		data = args[0]
	default:
		data = pickle.Tuple(args)
	}
	return map[string]any{
		"method": pyEmit, "event": name, "data": data, "namespace": nsp,
		"room": pyRoomValue(opts.Rooms), "skip_sid": pyRoomValue(opts.Except), "callback": callback,
		"host_id": hostID,
	}, nil
}

// pyRoomValue is the room (or skip_sid) of a python-socketio message: None,
// one name, or a list.
func pyRoomValue(rooms []string) any {
	switch len(rooms) {
	case 0:
		return nil
	case 1:
		return rooms[0]
	}
	return rooms
}

func (m *Manager) publishPythonEmit(p *parser.Packet, opts *socketio.BroadcastOptions) {
	msg, err := m.pyEmitMessage(p, opts, nil)
	if err != nil {
		m.log.Warn("siopubsub: cannot encode broadcast", "err", err)
		return
	}
	m.publishPython(msg)
}

// pyBroadcastWithAck publishes an emit with python-socketio's callback and
// delivers locally. python-socketio answers a callback once (its emitter
// keeps one callback per id), so of the other processes the first answer
// is counted.
func (m *Manager) pyBroadcastWithAck(p *parser.Packet, opts *socketio.BroadcastOptions, onCount func(int), onAck func(*socketio.Response)) {
	if len(opts.Rooms) == 1 && m.nsp.Socket(opts.Rooms[0]) != nil {
		// A socket of this process: nobody else has it.
		m.InMemory.BroadcastWithAck(p, opts, onCount, onAck)
		return
	}
	msg, err := m.pyEmitMessage(p, opts, pickle.Tuple{pyRoomValue(opts.Rooms), m.nsp.Name(), int64(p.ID)}) //nolint:gosec // ack ids stay far below 2^63
	if err != nil {
		m.log.Warn("siopubsub: cannot encode broadcast", "err", err)
		m.InMemory.BroadcastWithAck(p, opts, onCount, onAck)
		return
	}
	a := &pyAck{onAck: onAck}
	m.mu.Lock()
	m.pyAcks[p.ID] = a
	a.timer = time.AfterFunc(max(m.opts.RequestsTimeout, opts.AckTimeout), func() {
		m.mu.Lock()
		if m.pyAcks[p.ID] == a {
			delete(m.pyAcks, p.ID)
		}
		m.mu.Unlock()
	})
	m.mu.Unlock()
	m.publishPython(msg)
	m.InMemory.BroadcastWithAck(p, opts, func(n int) { onCount(n + 1) }, onAck)
}

// pyDisconnect tells python-socketio servers to disconnect the sockets
// whose ids are opts' rooms: python-socketio disconnects by socket id only.
func (m *Manager) pyDisconnect(opts *socketio.BroadcastOptions) {
	for _, msg := range pyDisconnectMessages(m.nsp.Name(), m.hostID, opts) {
		m.publishPython(msg)
	}
}

func pyDisconnectMessages(nsp, hostID string, opts *socketio.BroadcastOptions) []map[string]any {
	if len(opts.Except) > 0 {
		return nil
	}
	var out []map[string]any
	for _, sid := range opts.Rooms {
		out = append(out, map[string]any{"method": pyDisconnect, "sid": sid, "namespace": nsp, "host_id": hostID})
	}
	return out
}

// pyCloseRooms publishes close_room for a DelSockets that empties rooms:
// every socket leaving them, or the sockets of one room leaving it.
func (m *Manager) pyCloseRooms(opts *socketio.BroadcastOptions, rooms []string) {
	for _, msg := range pyCloseRoomMessages(m.nsp.Name(), m.hostID, opts, rooms) {
		m.publishPython(msg)
	}
}

func pyCloseRoomMessages(nsp, hostID string, opts *socketio.BroadcastOptions, rooms []string) []map[string]any {
	if len(opts.Except) > 0 {
		return nil
	}
	if len(opts.Rooms) > 0 && (len(opts.Rooms) != 1 || len(rooms) != 1 || opts.Rooms[0] != rooms[0]) {
		return nil
	}
	var out []map[string]any
	for _, r := range rooms {
		out = append(out, map[string]any{"method": pyCloseRoom, "room": r, "namespace": nsp, "host_id": hostID})
	}
	return out
}

// decodePython reads a python-socketio message: JSON when it starts with
// '{', else a pickle of plain data, as python-socketio's listener tries
// both.
func decodePython(msg []byte) (map[string]any, error) {
	var v any
	if len(msg) > 0 && msg[0] == '{' {
		if err := json.Unmarshal(msg, &v); err != nil {
			return nil, fmt.Errorf("%w: %w", errMalformed, err)
		}
	} else {
		var err error
		if v, err = pickle.Unmarshal(msg); err != nil {
			return nil, fmt.Errorf("%w: %w", errMalformed, err)
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: python-socketio message is %T", errMalformed, v)
	}
	return m, nil
}

func (m *Manager) onPython(raw []byte) error {
	msg, err := decodePython(raw)
	if err != nil {
		return err
	}
	method, _ := msg["method"].(string)
	host, _ := msg["host_id"].(string)
	nsp, _ := msg["namespace"].(string)
	if nsp == "" {
		nsp = "/"
	}
	if nsp != m.nsp.Name() {
		return nil
	}
	if host == m.hostID && method != pyCallback {
		return nil // delivered here when it was sent
	}
	switch method {
	case pyEmit:
		return m.onPythonEmit(msg, host)
	case pyCallback:
		if host != m.hostID {
			return nil
		}
		id, ok := toInt(msg["id"])
		if !ok || id < 0 {
			return fmt.Errorf("%w: callback id %v", errMalformed, msg["id"])
		}
		m.mu.Lock()
		a := m.pyAcks[uint64(id)]
		if a != nil {
			delete(m.pyAcks, uint64(id))
			a.timer.Stop()
		}
		m.mu.Unlock()
		if a == nil {
			return nil // answered already, or too late
		}
		res, err := responseOf(pyArgs(msg["args"], true))
		if err != nil {
			return err
		}
		a.onAck(res)
	case pyDisconnect:
		sid, _ := msg["sid"].(string)
		if s := m.nsp.Socket(sid); s != nil {
			s.Disconnect(false)
		}
	case pyCloseRoom:
		rooms := pyRooms(msg["room"])
		if len(rooms) == 1 {
			m.InMemory.DelSockets(&socketio.BroadcastOptions{Rooms: rooms}, rooms)
		}
	}
	return nil
}

func (m *Manager) onPythonEmit(msg map[string]any, host string) error {
	name, ok := msg["event"].(string)
	if !ok {
		return fmt.Errorf("%w: emit event is %T", errMalformed, msg["event"])
	}
	enc, atts, err := parser.EncodeEvent(nil, name, pyArgs(msg["data"], false))
	if err != nil {
		return err
	}
	p := &parser.Packet{Type: parser.Event, Namespace: m.nsp.Name(), Data: enc, Attachments: atts}
	opts := &socketio.BroadcastOptions{Rooms: pyRooms(msg["room"]), Except: pyRooms(msg["skip_sid"]), Local: true}
	cb, _ := msg["callback"].(pickle.Tuple)
	if cb == nil {
		if l, ok := msg["callback"].([]any); ok {
			cb = l // a JSON message
		}
	}
	if len(cb) != 3 || host == "" {
		m.InMemory.Broadcast(p, opts)
		return nil
	}
	p.ID, p.HasID = m.pyAckSeq.Add(1)-1+pyAckBase, true
	m.InMemory.BroadcastWithAck(p, opts, func(int) {}, func(r *socketio.Response) {
		if r == nil {
			return // the socket left without answering
		}
		vals, err := responseValues(r)
		if err != nil {
			m.log.Warn("siopubsub: cannot encode ack", "err", err)
			return
		}
		m.publishPython(map[string]any{
			"method": pyCallback, "host_id": host, "sid": cb[0], "namespace": cb[1], "id": cb[2], "args": pickle.Tuple(vals),
		})
	})
	return nil
}

// pyArgs turns python-socketio's data into event arguments: a tuple is
// several, None none, anything else one. Callback args are always a
// sequence (tuple in a pickle, list in JSON).
func pyArgs(data any, seq bool) []any {
	switch t := data.(type) {
	case pickle.Tuple:
		return plainList(t)
	case nil:
		return nil
	case []any:
		if seq {
			return plainList(t)
		}
	}
	return []any{plain(data)}
}

func plainList(l []any) []any {
	out := make([]any, len(l))
	for i, v := range l {
		out[i] = plain(v)
	}
	return out
}

// plain turns tuples into lists, which is how a client sees them.
func plain(v any) any {
	switch t := v.(type) {
	case pickle.Tuple:
		return plainList(t)
	case []any:
		return plainList(t)
	case map[string]any:
		for k, e := range t {
			t[k] = plain(e)
		}
	}
	return v
}

// pyRooms reads a room or skip_sid: None, a name, or a list or tuple of
// names; python-socketio allows any hashable, so numbers become their
// decimal text.
func pyRooms(v any) []string {
	switch t := v.(type) {
	case nil:
		return nil
	case string:
		return []string{t}
	case pickle.Tuple:
		return strList([]any(t))
	case []any:
		return strList(t)
	case *big.Int:
		return []string{t.String()}
	}
	if f, ok := toFloat(v); ok {
		return []string{strconv.FormatFloat(f, 'f', -1, 64)}
	}
	return nil
}

// packetArgs returns the event name and the arguments of an EVENT packet
// as plain values: numbers as json.Number (so that integers stay integers
// in Python), binary placeholders replaced by their []byte.
func packetArgs(p *parser.Packet) (string, []any, error) {
	elems, err := parser.SplitArray(p.Data)
	if err != nil {
		return "", nil, err
	}
	if len(elems) == 0 {
		return "", nil, fmt.Errorf("%w: event without a name", errMalformed)
	}
	var name string
	if err := json.Unmarshal(elems[0], &name); err != nil {
		return "", nil, fmt.Errorf("%w: event name: %w", errMalformed, err)
	}
	args, err := decodeRaw(elems[1:], p.Attachments)
	return name, args, err
}

// responseValues returns an acknowledgement's values as plain values.
func responseValues(r *socketio.Response) ([]any, error) {
	return decodeRaw(r.Args, r.Attachments)
}

func decodeRaw(raws []json.RawMessage, atts [][]byte) ([]any, error) {
	out := make([]any, len(raws))
	for i, raw := range raws {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%w: argument %d: %w", errMalformed, i, err)
		}
		if len(atts) > 0 {
			var err error
			if v, err = withAttachments(v, atts); err != nil {
				return nil, err
			}
		}
		out[i] = v
	}
	return out, nil
}

// withAttachments replaces the {"_placeholder": true, "num": n} objects of
// v by the attachments they stand for.
func withAttachments(v any, atts [][]byte) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		if ph, _ := t["_placeholder"].(bool); ph && len(t) == 2 {
			n, err := strconv.Atoi(fmt.Sprint(t["num"]))
			if err != nil || n < 0 || n >= len(atts) {
				return nil, fmt.Errorf("%w: placeholder %v", errMalformed, t["num"])
			}
			return atts[n], nil
		}
		for k, e := range t {
			r, err := withAttachments(e, atts)
			if err != nil {
				return nil, err
			}
			t[k] = r
		}
	case []any:
		for i, e := range t {
			r, err := withAttachments(e, atts)
			if err != nil {
				return nil, err
			}
			t[i] = r
		}
	}
	return v, nil
}
