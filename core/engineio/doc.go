// Package engineio implements Engine.IO v4, the transport layer under
// Socket.IO: sessions over HTTP long-polling and WebSocket, the upgrade from
// one to the other, heartbeats and the packet and payload encodings.
//
// [NewServer] returns a [Server], which serves requests through the
// framework-neutral contract of [Request], [ResponseWriter] and [Upgrader];
// adapters such as siohttp implement it for a web framework. Each accepted
// connection is a [Session]. [Dial] opens a [Client] session to a server.
package engineio
