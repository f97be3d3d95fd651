package siopubsub

import "strings"

// The manager's traffic, reported to the server's hooks
// (socketio.Options.Hooks: ManagerPublish and ManagerReceive), with the
// kind of message: "broadcast", "request" or "response".

// channelKind names the kind of message a channel carries.
func (m *Manager) channelKind(channel string) string {
	switch {
	case channel == m.requestChannel:
		return "request"
	case channel == m.responseChannel || channel == m.ownResponse:
		return "response"
	case strings.HasPrefix(channel, m.channel):
		return "broadcast"
	}
	return "other"
}

func (m *Manager) hookPublish(channel string, size int) {
	if h := m.nsp.Server().Hooks(); h != nil && h.ManagerPublish != nil {
		h.ManagerPublish(m.nsp.Name(), m.channelKind(channel), size)
	}
}

func (m *Manager) hookReceive(channel string, size int) {
	if h := m.nsp.Server().Hooks(); h != nil && h.ManagerReceive != nil {
		h.ManagerReceive(m.nsp.Name(), m.channelKind(channel), size)
	}
}
