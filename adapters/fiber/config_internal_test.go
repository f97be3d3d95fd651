package siofiber

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// deadlineConn records the write deadlines set on it.
type deadlineConn struct {
	net.Conn
	deadlines []time.Time
}

func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	c.deadlines = append(c.deadlines, t)
	return nil
}

// TestDeadlineStream checks that each chunk read from a file stream moves
// the connection's write deadline to the timeout from now.
func TestDeadlineStream(t *testing.T) {
	t.Parallel()
	conn := &deadlineConn{}
	const timeout = time.Hour
	s := &deadlineStream{ReadCloser: io.NopCloser(strings.NewReader("abcdef")), conn: conn, timeout: timeout}
	buf := make([]byte, 2)
	for i := range 3 {
		before := time.Now()
		if n, err := s.Read(buf); n != 2 || err != nil {
			t.Fatalf("read %d: %d, %v", i, n, err)
		}
		if len(conn.deadlines) != i+1 {
			t.Fatalf("after read %d: %d deadlines set, want %d", i, len(conn.deadlines), i+1)
		}
		if d := conn.deadlines[i]; d.Before(before.Add(timeout)) || d.After(time.Now().Add(timeout)) {
			t.Fatalf("read %d: deadline %v, want the timeout from the read", i, d)
		}
	}
}
