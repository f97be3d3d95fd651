package socketio

import (
	"crypto/rand"
	"encoding/base64"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/siokit/siokit/core/parser"
)

// PersistedSession is the state of a socket kept after an accidental
// disconnect, for connection state recovery.
type PersistedSession struct {
	// SID is the socket id the client gets back.
	SID string `json:"sid"`
	// PID is the private id the client presents to recover.
	PID string `json:"pid"`
	// Rooms are the socket's rooms, its own included.
	Rooms []string `json:"rooms"`
	// Data is the socket's session data.
	Data map[string]any `json:"data,omitempty"`
	// DisconnectedAt is when the socket went away.
	DisconnectedAt time.Time `json:"disconnectedAt"`
	// Missed are the packets broadcast to the socket's rooms since, in order,
	// filled in by RestoreSession.
	Missed []*parser.Packet `json:"-"`
}

// recoveryStore keeps persisted sessions and the packets broadcast during
// the last window, as the official server's in-memory adapter does. Expired
// entries are dropped as new ones arrive, so it needs no goroutine.
type recoveryStore struct {
	window time.Duration

	mu       sync.Mutex
	sessions map[string]*PersistedSession
	packets  []recordedPacket
	prefix   string // makes offsets unique across processes
	seq      uint64
	swept    time.Time // last scan of the sessions for expiry
}

type recordedPacket struct {
	offset string
	at     time.Time
	rooms  []string
	except []string
	p      *parser.Packet
}

func newRecoveryStore(window time.Duration) *recoveryStore {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &recoveryStore{
		window:   window,
		sessions: make(map[string]*PersistedSession),
		prefix:   base64.RawURLEncoding.EncodeToString(b[:]) + "-",
	}
}

// record gives a broadcast event an offset, appended as its last argument,
// and keeps it for replay. It returns the packet to send.
func (r *recoveryStore) record(p *parser.Packet, opts *BroadcastOptions) *parser.Packet {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	r.expireLocked(now)
	r.seq++
	offset := r.prefix + strconv.FormatUint(r.seq, 36)
	q := *p
	q.Data = appendOffset(p.Data, offset)
	r.packets = append(r.packets, recordedPacket{
		offset: offset, at: now,
		rooms: slices.Clone(opts.Rooms), except: slices.Clone(opts.Except), p: &q,
	})
	return &q
}

// appendOffset turns ["event",...] into ["event",...,"offset"].
func appendOffset(data []byte, offset string) []byte {
	out := make([]byte, 0, len(data)+len(offset)+3)
	out = append(out, data[:len(data)-1]...)
	out = append(out, ',')
	out = strconv.AppendQuote(out, offset)
	return append(out, ']')
}

func (r *recoveryStore) persist(s *PersistedSession) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expireLocked(time.Now())
	r.sessions[s.PID] = s
}

func (r *recoveryStore) restore(pid, offset string) (*PersistedSession, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expireLocked(time.Now())
	s, ok := r.sessions[pid]
	if !ok || s.DisconnectedAt.Before(time.Now().Add(-r.window)) {
		return nil, false
	}
	i := slices.IndexFunc(r.packets, func(rp recordedPacket) bool { return rp.offset == offset })
	if i < 0 {
		return nil, false
	}
	delete(r.sessions, pid)
	restored := *s
	restored.Missed = nil
	for _, rp := range r.packets[i+1:] {
		if rp.matches(s.Rooms) {
			restored.Missed = append(restored.Missed, rp.p)
		}
	}
	return &restored, true
}

// matches reports whether a socket in rooms received the packet.
func (rp *recordedPacket) matches(rooms []string) bool {
	for _, r := range rp.except {
		if slices.Contains(rooms, r) {
			return false
		}
	}
	if len(rp.rooms) == 0 {
		return true
	}
	for _, r := range rp.rooms {
		if slices.Contains(rooms, r) {
			return true
		}
	}
	return false
}

func (r *recoveryStore) expireLocked(now time.Time) {
	cut := now.Add(-r.window)
	if now.Sub(r.swept) > time.Second {
		r.swept = now
		for pid, s := range r.sessions {
			if s.DisconnectedAt.Before(cut) {
				delete(r.sessions, pid)
			}
		}
	}
	n := 0
	for n < len(r.packets) && r.packets[n].at.Before(cut) {
		n++
	}
	if n > 0 {
		r.packets = slices.Delete(r.packets, 0, n)
	}
}

func (r *recoveryStore) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sessions = make(map[string]*PersistedSession)
	r.packets = nil
}
