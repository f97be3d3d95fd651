package socketio

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/siokit/siokit/core/engineio"
	"github.com/siokit/siokit/core/parser"
)

// BroadcastOptions selects the recipients of an operation on many sockets.
// Socket ids are rooms too: every socket is in the room named by its id.
type BroadcastOptions struct {
	// Rooms limits the operation to sockets in any of these rooms; empty
	// means every socket of the namespace.
	Rooms []string
	// Except skips sockets in any of these rooms.
	Except []string
	// Volatile packets may be dropped when a socket is not ready for them.
	Volatile bool
	// Local keeps the operation on this process.
	Local bool
	// NoCompress sends the packets uncompressed even where the engine
	// compresses WebSocket messages (engineio.Options.PerMessageDeflate).
	NoCompress bool
	// AckTimeout is how long the emitter of a broadcast with acks waits for
	// them (zero: no bound but its context), so that a pub/sub manager
	// knows when to forget the request.
	AckTimeout time.Duration
}

// Manager keeps room membership and delivers broadcasts for one namespace.
// The default [inMemoryManager] serves one process; a pub/sub manager wraps
// it and relays every operation that crosses processes through a broker.
// All methods are safe for concurrent use.
type Manager interface {
	// AddAll puts a local socket in rooms.
	AddAll(sid string, rooms []string)
	// Del takes a local socket out of a room.
	Del(sid, room string)
	// DelAll takes a local socket out of every room.
	DelAll(sid string)
	// SocketRooms returns the rooms of a local socket.
	SocketRooms(sid string) []string
	// Sockets returns the ids of local sockets in any of rooms, or of every
	// local socket when rooms is empty.
	Sockets(rooms []string) []string

	// Broadcast sends the packet to every matching socket.
	Broadcast(p *parser.Packet, opts *BroadcastOptions)
	// BroadcastWithAck sends the packet, which carries an ack id, to every
	// matching socket; onCount is called with the number of sockets the
	// packet went to (once per process), onAck with each acknowledgement.
	BroadcastWithAck(p *parser.Packet, opts *BroadcastOptions, onCount func(int), onAck func(*Response))

	// FetchSockets returns the matching sockets.
	FetchSockets(ctx context.Context, opts *BroadcastOptions) ([]*RemoteSocket, error)
	// AddSockets makes the matching sockets join rooms.
	AddSockets(opts *BroadcastOptions, rooms []string)
	// DelSockets makes the matching sockets leave rooms.
	DelSockets(opts *BroadcastOptions, rooms []string)
	// DisconnectSockets disconnects the matching sockets; close also closes
	// their underlying connections.
	DisconnectSockets(opts *BroadcastOptions, close bool)

	// ServerSideEmit sends an event to the namespace on every other server
	// process. With onAck set, each process's acknowledgement is passed to
	// it and ServerSideEmit returns once all have answered or ctx ends.
	ServerSideEmit(ctx context.Context, p *parser.Packet, onAck func(*Response)) error

	// PersistSession keeps a disconnected socket's state for recovery.
	PersistSession(s *PersistedSession)
	// RestoreSession returns the state kept for pid with the packets
	// broadcast after offset, or false when it is unknown or expired.
	RestoreSession(pid, offset string) (*PersistedSession, bool)

	// Close releases the manager's resources.
	Close() error
}

// inMemoryManager is the default [Manager]: room membership and delivery
// within one process. Pub/sub managers reach it through package manager's
// InMemory, which they embed for local delivery.
type inMemoryManager struct {
	nsp *Namespace

	mu    sync.RWMutex
	rooms map[string]map[string]struct{} // room -> sids
	sids  map[string]map[string]struct{} // sid -> rooms

	recovery *recoveryStore
}

var _ Manager = (*inMemoryManager)(nil)

// newInMemoryManager returns the in-process manager of nsp.
func newInMemoryManager(nsp *Namespace) *inMemoryManager {
	m := &inMemoryManager{
		nsp:   nsp,
		rooms: make(map[string]map[string]struct{}),
		sids:  make(map[string]map[string]struct{}),
	}
	if r := nsp.server.opts.Recovery; r != nil {
		m.recovery = newRecoveryStore(r.MaxDisconnectionDuration)
	}
	return m
}

// AddAll implements [Manager].
func (m *inMemoryManager) AddAll(sid string, rooms []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mine := m.sids[sid]
	if mine == nil {
		mine = make(map[string]struct{}, len(rooms))
		m.sids[sid] = mine
	}
	for _, r := range rooms {
		mine[r] = struct{}{}
		members := m.rooms[r]
		if members == nil {
			members = make(map[string]struct{})
			m.rooms[r] = members
		}
		members[sid] = struct{}{}
	}
}

// Del implements [Manager].
func (m *inMemoryManager) Del(sid, room string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.delLocked(sid, room)
}

func (m *inMemoryManager) delLocked(sid, room string) {
	if members := m.rooms[room]; members != nil {
		delete(members, sid)
		if len(members) == 0 {
			delete(m.rooms, room)
		}
	}
	if mine := m.sids[sid]; mine != nil {
		delete(mine, room)
	}
}

// DelAll implements [Manager].
func (m *inMemoryManager) DelAll(sid string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for room := range m.sids[sid] {
		if members := m.rooms[room]; members != nil {
			delete(members, sid)
			if len(members) == 0 {
				delete(m.rooms, room)
			}
		}
	}
	delete(m.sids, sid)
}

// SocketRooms implements [Manager].
func (m *inMemoryManager) SocketRooms(sid string) []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	mine := m.sids[sid]
	if mine == nil {
		return nil
	}
	out := make([]string, 0, len(mine))
	for r := range mine {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// Sockets implements [Manager].
func (m *inMemoryManager) Sockets(rooms []string) []string {
	var out []string
	m.each(&BroadcastOptions{Rooms: rooms}, func(s *Socket) { out = append(out, s.id) })
	return out
}

// Rooms returns every room of the namespace with local members.
func (m *inMemoryManager) Rooms() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]string, 0, len(m.rooms))
	for r := range m.rooms {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// each calls fn for every local connected socket matching opts. fn must not
// change room membership.
func (m *inMemoryManager) each(opts *BroadcastOptions, fn func(*Socket)) {
	m.mu.RLock()
	var except map[string]struct{}
	if len(opts.Except) > 0 {
		except = make(map[string]struct{})
		for _, r := range opts.Except {
			for sid := range m.rooms[r] {
				except[sid] = struct{}{}
			}
		}
	}
	var targets []*Socket
	visit := func(sid string) {
		if _, skip := except[sid]; skip {
			return
		}
		if s := m.nsp.localSocket(sid); s != nil {
			targets = append(targets, s)
		}
	}
	switch len(opts.Rooms) {
	case 0:
		for sid := range m.sids {
			visit(sid)
		}
	case 1:
		for sid := range m.rooms[opts.Rooms[0]] {
			visit(sid)
		}
	default:
		seen := make(map[string]struct{})
		for _, r := range opts.Rooms {
			for sid := range m.rooms[r] {
				if _, dup := seen[sid]; !dup {
					seen[sid] = struct{}{}
					visit(sid)
				}
			}
		}
	}
	m.mu.RUnlock()
	for _, s := range targets {
		fn(s)
	}
}

// Broadcast implements [Manager]: the packet is encoded once and the same
// bytes go to every recipient.
func (m *inMemoryManager) Broadcast(p *parser.Packet, opts *BroadcastOptions) {
	if m.recovery != nil && !opts.Volatile && p.Type == parser.Event && !p.HasID {
		p = m.recovery.record(p, opts)
	}
	frames := m.nsp.server.frames(p)
	noCompress(frames, opts)
	// A recipient that cannot take the packet is disconnected or closing;
	// it misses this broadcast as it would any later one.
	n := 0
	m.each(opts, func(s *Socket) { n++; _ = s.deliver(frames, p, opts.Volatile) })
	m.nsp.server.hookBroadcast(p, n)
}

// BroadcastWithAck implements [Manager].
func (m *inMemoryManager) BroadcastWithAck(p *parser.Packet, opts *BroadcastOptions, onCount func(int), onAck func(*Response)) {
	frames := m.nsp.server.frames(p)
	noCompress(frames, opts)
	n := 0
	m.each(opts, func(s *Socket) {
		if s.expectAck(p.ID, onAck) {
			// A failed delivery means the socket is going away: its
			// disconnect fails the ack registered above, so it still
			// counts and answers.
			_ = s.deliver(frames, p, opts.Volatile)
			n++
		}
	})
	m.nsp.server.hookBroadcast(p, n)
	onCount(n)
}

// FetchSockets implements [Manager].
func (m *inMemoryManager) FetchSockets(_ context.Context, opts *BroadcastOptions) ([]*RemoteSocket, error) {
	var out []*RemoteSocket
	m.each(opts, func(s *Socket) { out = append(out, s.remote()) })
	return out, nil
}

// AddSockets implements [Manager].
func (m *inMemoryManager) AddSockets(opts *BroadcastOptions, rooms []string) {
	m.each(opts, func(s *Socket) { s.Join(rooms...) })
}

// DelSockets implements [Manager].
func (m *inMemoryManager) DelSockets(opts *BroadcastOptions, rooms []string) {
	m.each(opts, func(s *Socket) { s.Leave(rooms...) })
}

// DisconnectSockets implements [Manager].
func (m *inMemoryManager) DisconnectSockets(opts *BroadcastOptions, close bool) {
	m.each(opts, func(s *Socket) { s.Disconnect(close) })
}

// ServerSideEmit implements [Manager]: with one process there is nobody to
// tell, so it returns at once.
func (m *inMemoryManager) ServerSideEmit(context.Context, *parser.Packet, func(*Response)) error {
	return nil
}

// PersistSession implements [Manager].
func (m *inMemoryManager) PersistSession(s *PersistedSession) {
	if m.recovery != nil {
		m.recovery.persist(s)
	}
}

// RestoreSession implements [Manager].
func (m *inMemoryManager) RestoreSession(pid, offset string) (*PersistedSession, bool) {
	if m.recovery == nil {
		return nil, false
	}
	return m.recovery.restore(pid, offset)
}

// Close implements [Manager].
func (m *inMemoryManager) Close() error {
	if m.recovery != nil {
		m.recovery.close()
	}
	return nil
}

// encodeFrames encodes a packet into the Engine.IO messages that carry it:
// the text header, then one binary message per attachment.
// noCompress marks frames to be sent uncompressed if opts says so.
func noCompress(frames []engineio.Packet, opts *BroadcastOptions) {
	if opts.NoCompress {
		for i := range frames {
			frames[i].NoCompress = true
		}
	}
}

func encodeFrames(p *parser.Packet) []engineio.Packet {
	frames := make([]engineio.Packet, 1+len(p.Attachments))
	// One byte of room for the Engine.IO packet type (engineio.MessageFrame).
	head := make([]byte, 1, 1+len(p.Data)+len(p.Namespace)+24)
	frames[0] = engineio.MessageFrame(p.Append(head))
	for i, a := range p.Attachments {
		frames[1+i] = engineio.Packet{Type: engineio.PacketMessage, Data: a, Binary: true}
	}
	return frames
}

// framePacket encodes p's header, then the JSON that encode appends to it,
// into one buffer, and sets p.Data and p.Attachments: the frame and p.Data
// share the bytes, so a packet without attachments costs one buffer.
func framePacket(pr Parser, p *parser.Packet, encode func(dst []byte) ([]byte, [][]byte, error)) ([]engineio.Packet, error) {
	if pr != nil {
		return parserFrames(pr, p, encode)
	}
	f := new(frame)
	// The first byte is room for the Engine.IO packet type
	// (engineio.MessageFrame).
	head := p.Append(f.room[:1])
	buf, atts, err := encode(head)
	if err != nil {
		return nil, err
	}
	p.Data, p.Attachments = buf[len(head):], atts
	if len(atts) > 0 {
		return encodeFrames(p), nil // the header counts the attachments
	}
	f.msg[0] = engineio.MessageFrame(buf)
	return f.msg[:], nil
}

// frame is one Engine.IO message with room for a small packet's bytes,
// allocated as one.
type frame struct {
	msg  [1]engineio.Packet
	room [129]byte
}
