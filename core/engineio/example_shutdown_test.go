package engineio_test

import (
	"context"
	"fmt"
	"time"

	"github.com/siokit/siokit/core/engineio"
)

// Shutdown closes every session and waits for the callbacks, as
// http.Server.Shutdown waits for requests; its context bounds the wait.
// Shut the engine down before the HTTP server, so that the pending polls
// get their close packet.
func ExampleServer_Shutdown() {
	srv := engineio.NewServer(nil)
	srv.OnConnection = func(s *engineio.Session) {
		s.OnClose(func(reason string) { fmt.Println("closed:", reason) })
	}
	serve(srv, "GET", "EIO=4&transport=polling", "") // a client connects

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(ctx)
	fmt.Println("shutdown:", err, "sessions left:", srv.Count())
	// Output:
	// closed: server shutting down
	// shutdown: <nil> sessions left: 0
}
