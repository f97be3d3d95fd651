package siofiber_test

import (
	"testing"

	"github.com/siokit/siokit/core/siotest"
)

// TestSocketIORaw runs the Socket.IO raw-frame scenarios through the
// middleware form, so that every request passes the framework's router.
func TestSocketIORaw(t *testing.T) { siotest.RunRaw(t, serve(mountMiddleware)) }

// TestSocketIOClient runs the Go Socket.IO client scenarios against a server
// mounted on a route group next to the application's routes.
func TestSocketIOClient(t *testing.T) { siotest.RunClient(t, serve(mountRoute)) }

// TestSocketIOInterop runs the official JavaScript socket.io-client and
// python-socketio's Client over polling, WebSocket and upgrade. It needs
// Node.js with the repository's node_modules and Debian's python3-socketio,
// which `make test` installs.
func TestSocketIOInterop(t *testing.T) { siotest.RunInterop(t, serve(mountMiddleware)) }

// TestSocketIOCloses checks that the official socket.io-client and
// python-socketio live through the server's closes through siofiber: a close
// during the upgrade, a server restart.
func TestSocketIOCloses(t *testing.T) { siotest.RunCloses(t, serve(mountMiddleware)) }
