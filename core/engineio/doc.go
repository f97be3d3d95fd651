// Package engineio implements Engine.IO v4, the transport layer under
// Socket.IO: sessions over HTTP long-polling and WebSocket, the upgrade from
// one to the other, heartbeats and the packet and payload encodings.
//
// [NewServer] returns a [Server], which serves requests through the
// framework-neutral contract of [Request], [ResponseWriter] and [Hijacker];
// adapters such as siohttp implement it for a web framework. Each accepted
// connection is a [Session]. [Dial] opens a [Client] session to a server.
//
// # WebSocket
//
// The server speaks RFC 6455 itself. An adapter only hands over the network
// connection ([Hijacker]); the engine checks the opening handshake, answers
// it (Sec-WebSocket-Accept, permessage-deflate), clears the connection's
// deadlines, and from then on alone reads and writes it: data frames,
// pings and pongs, close frames, on plain TCP and TLS alike. One goroutine
// at a time reads; every write holds one lock, so no frame can land inside
// another. The frames are read and built by a small internal codec
// (core/internal/wsframe) on the engine's own buffers, not by a WebSocket
// library, for three reasons: the engine already frames its writes, so that
// a batch of queued messages goes out in one write, which message-oriented
// libraries (gorilla/websocket, fasthttp/websocket) cannot do; those
// libraries also write close frames under their own lock when a read fails,
// a second writer on the connection; and net/http and fasthttp then share
// one code path with no library per server (a library working on caller
// buffers, such as gobwas/ws, would do, but the codec the engine needs is a
// few hundred lines). The Go [Client] still uses gorilla/websocket.
//
// Closing follows RFC 6455 and the Node server: a session closed by the
// server over WebSocket gets a close frame (1000) and no Engine.IO close
// packet, and the connection waits up to a second for the client's close
// frame; a client's close frame is answered with its code; a protocol
// error closes with 1002, invalid UTF-8 in a text message with 1007, a
// message over MaxHTTPBufferSize (fragments reassembled, compressed
// messages inflated) with 1009, and more control frames per second than
// Options.MaxControlFramesPerSecond with 1008. A close during an upgrade
// (after the probe was answered) completes the upgrade, then closes the
// new transport, as Node does.
package engineio
