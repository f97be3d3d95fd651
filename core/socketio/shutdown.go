package socketio

import (
	"context"
	"errors"
)

// Shutdown closes the server gracefully, as http.Server.Shutdown does: it
// refuses new connections, disconnects every client with reason "server
// shutting down" (each client gets what was queued for it, then the close),
// waits for the running handlers, the disconnect handlers included, and
// closes the managers. When ctx ends first, it closes every connection at
// once, closes the managers and returns ctx.Err(); handlers still running
// then are not waited for. [Server.Close] is the form that waits without a
// bound.
//
// A handler that calls Shutdown (or Close) waits for itself until ctx ends:
// from a handler, call it on a goroutine of its own.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	first := !s.closed.Load()
	s.closed.Store(true)
	var all []*Namespace
	if first {
		for _, n := range s.nsps {
			all = append(all, n)
		}
		for _, p := range s.parents {
			all = append(all, p.Children()...)
		}
	}
	s.mu.Unlock()
	err := s.eio.Shutdown(ctx)
	if err == nil {
		done := make(chan struct{})
		go func() { // ends with the last handler, whether or not ctx has ended
			s.wg.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	for _, n := range all {
		if e := n.manager.Close(); e != nil {
			err = errors.Join(err, e)
		}
	}
	return err
}
