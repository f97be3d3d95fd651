// Package core holds siokit's version. The protocol lives in its sub-packages:
// [github.com/siokit/siokit/core/engineio] for Engine.IO v4 and
// [github.com/siokit/siokit/core/socketio] for Socket.IO v5.
package core

// Version is the release of the siokit modules, kept in lockstep.
const Version = "0.1.0"
