// Package siopubsub is the broker-neutral pub/sub [socketio.Manager]: it
// relays every operation that crosses server processes through a [Broker]
// and delivers locally through the wrapped [manager.InMemory].
//
// A broker is a small file: publish bytes to a channel, subscribe to
// channels, and optionally count the subscribers of a channel
// ([SubscriberCounter]). Brokers that cannot count (NATS, RabbitMQ) let the
// manager count processes from heartbeats. managers/redis, managers/amqp,
// managers/nats, managers/kafka and managers/zmq plug Redis, RabbitMQ, NATS,
// Kafka and ZeroMQ in.
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
// # Python fleets
//
// With [Options].Python set, a manager also speaks python-socketio 5.x's
// manager protocol, so siokit servers join a fleet of python-socketio
// servers and their write-only emitters on the same broker and channel
// (default "socketio"): RedisManager and AsyncRedisManager (managers/redis),
// KombuManager on RabbitMQ (managers/amqp), KafkaManager (managers/kafka) and
// ZmqManager (managers/zmq), each tested against Debian's python3-socketio
// 5.7.2. The [Emitter] speaks it too, so a Go worker can emit to a Python
// fleet. In this mode:
//
//   - a broadcast is published as python-socketio's emit message, a pickled
//     dict {method: "emit", event, data, namespace, room, skip_sid,
//     callback, host_id}, instead of the Node adapter's broadcast; several
//     arguments go as a tuple, binary as bytes, rooms as one name or a list
//     (python-socketio's Server reads lists; its AsyncServer 5.7 does not),
//     except rooms as skip_sid. Each server reads these messages from every
//     other member, Python or Go;
//   - a broadcast with acks carries python-socketio's callback (room,
//     namespace, id) and is answered with callback messages to its host_id.
//     python-socketio answers a callback once, so of the other processes
//     the first answer is counted: the emitter waits for its local sockets
//     and one remote answer, which fits python-socketio's rule that a
//     callback addresses one socket (to one socket of this process, nothing
//     is published);
//   - disconnecting the sockets of rooms also publishes python-socketio's
//     disconnect message for each room, which a python-socketio server
//     applies when the room is the id of one of its sockets;
//   - a DelSockets that empties rooms (every socket leaving them, or
//     In(room).SocketsLeave(room)) also publishes close_room;
//   - messages are read as pickles of plain data (package pickle refuses
//     every opcode that imports or calls) or as JSON, as python-socketio's
//     listener does; messages from this process (by host_id) are skipped.
//
// python-socketio has no remote join or leave, fetch sockets, server-side
// emit or server count: those stay among siokit servers (Node adapter
// requests on their own channels). Except rooms reach python-socketio
// servers as skip_sid, which they match against socket ids only. Packets
// for a Python callback wait on the local sockets until they answer or
// disconnect, as in python-socketio.
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
