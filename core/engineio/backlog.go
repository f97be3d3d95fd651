package engineio

// Backlog reports the packets, and their bytes, queued for the session and
// not yet taken by a writer or a poll. An upper layer that sends to many
// sessions reads it to slow itself down before a queue reaches
// MaxQueuedPackets or MaxQueuedBytes, where [Session.SendPackets] would close
// the session: a backlog that falls shows a client that reads, one that stays
// shows a client that does not.
func (c *Session) Backlog() (packets int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue), c.queuedBytes
}
