// Package siopubsub is the broker-neutral pub/sub [socketio.Manager]: it
// relays every operation that crosses server processes through a [Broker]
// and delivers locally through the wrapped [manager.InMemory].
//
// A broker is a small file: publish bytes to a channel, subscribe to
// channels, and optionally count the subscribers of a channel
// ([SubscriberCounter]). Brokers that cannot count (NATS, RabbitMQ) let the
// manager count processes from heartbeats. managers/redis, managers/amqp and
// managers/nats plug Redis, RabbitMQ and NATS in.
//
// # Wire format
//
// The channel names and messages are those of the Node
// @socket.io/redis-adapter (version 8), so Node and Go servers can share one
// Redis:
//
//   - broadcasts on "<prefix>#<nsp>#", or "<prefix>#<nsp>#<room>#" for a
//     broadcast to one room when [Options].RoomChannels is set: MessagePack
//     [uid, packet, opts], packet in socket.io-parser's object form
//     {type, data, nsp, id} with binary values as MessagePack bin;
//   - requests on "<prefix>-request#<nsp>#" (JSON, or MessagePack when they
//     carry binary) and responses on "<prefix>-response#<nsp>#" (and
//     "<prefix>-response#<nsp>#<uid>#").
//
// Each process has a random uid and ignores its own messages. Malformed
// messages are logged and skipped.
//
// # Faults
//
// Publishing never blocks an emit: messages go through a bounded queue to
// one publisher goroutine, which retries a failed publish once and then
// drops it with a log line. A lost subscription is re-established with
// backoff (1 s doubling to 60 s by default). Local delivery goes on during
// an outage; what is published while the broker is unreachable (and what
// other processes publish while this one is unsubscribed) is lost.
//
// # Caveats
//
//   - Acknowledgements that cross processes carry their first value only,
//     as in the Node adapter.
//   - A server-side emit acknowledged with several values crosses as an
//     array of them.
//   - Connection state recovery stays per process.
package siopubsub
