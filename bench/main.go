// Command siobench compares Socket.IO servers under the same load: siokit
// through siohttp (and siofiber), the official Node server, and two bare Go
// WebSocket servers doing the same frame work — the ceilings. It speaks
// Engine.IO v4 / Socket.IO v5 itself, so it can load any server URL.
//
//	siobench run [-rounds 5] [-duration 2s] [-warmup 1s] [-scenarios echo,room,...] [-servers ...] [-conns idle=2000]
//	siobench serve -server siohttp|siofiber|raw|rawbatch -addr 127.0.0.1:4000
//	siobench load -url http://127.0.0.1:4000 -scenario echo -c 50 -duration 10s
//
// `make bench` builds this command, pins the servers and the load generator
// to separate cores, runs the servers interleaved (a fresh server process
// per measurement, each round starting with the next server) and prints a
// table of medians with each figure's ratio to the Node server and to the
// best raw server in that scenario; then notes (memory, heartbeats) and
// siofiber over siohttp round by round.
//
// # The contract
//
// Every server implements, on namespace "/":
//
//   - "echo" and "echoany" acknowledge their arguments; siokit takes them as
//     json.RawMessage in "echo" and as ...any (decoded values, as the README
//     writes handlers) in "echoany"; binary attachments come back as
//     attachments;
//   - "bcast" re-emits its arguments to every socket as "bcast";
//   - "join" joins the socket to the room its argument names and
//     acknowledges with that name; "rbcast" re-emits its arguments after the
//     first (a room name) to that room as "rbcast".
//
// The servers: siohttp and siofiber (siokit through net/http and through
// Fiber), node (bench/node/server.js, the official socket.io package), raw
// (gorilla/websocket, one write per message) and rawbatch (every message
// queued for a connection framed into one buffer and sent with one write,
// the batching siokit's engine does). The raw servers keep no sessions, send
// no heartbeat and decode no JSON: they are the limit, not a peer.
//
// # Scenarios
//
// Each measures for -duration after -warmup of uncounted load:
//
//   - echo: 50 connections doing back-to-back acknowledged events with a
//     small JSON object, json.RawMessage handler; figure acks/s;
//   - echo-any: the same with the ...any handler;
//   - echo-16k: a 16 KiB JSON object (a list of records), ...any handler;
//   - echo-binary: a name and a 4 KiB binary attachment, ...any handler;
//     the ack must carry the same bytes back;
//   - broadcast: 1,000 receivers and a sender keeping 4 events in flight,
//     each re-emitted to everyone; figure deliveries/s, p99 delay;
//   - room: 1,000 connected, of which 100 (one in ten, and the sender)
//     joined a room; events go to the room only (a delivery outside it
//     counts as an error);
//   - connect: 16 at a time doing handshake, namespace connect and close;
//   - idle: 10,000 idle WebSocket connections, held for -duration but at
//     least 10 s (a Go server's collector runs meanwhile); figure
//     the server's resident memory per connection above its baseline, in
//     the first round only (memory does not drift with the machine's load
//     the way rates do);
//   - polling: the echo scenario over long-polling (not the raw servers);
//   - idle-50k (opt-in: -scenarios idle-50k): 50,000 idle connections held
//     for two heartbeats (2 × pingInterval + 5 s, about a minute per
//     server); notes the RSS, the pings each connection got, the longest gap
//     between two, and whether every connection stayed open, that is
//     whether every pong reached the server in time.
//
// -conns overrides a scenario's connections (scenario=n, comma-separated).
//
// The default run is 5 rounds of 38 measurements of 3 s (warm-up
// included), plus set-up (a server start, up to 1,000 connections dialed)
// and the idle scenario once per server. Measured on two cores shared with
// other jobs: one round, idle included, took 3.6 minutes (load average 5 to
// 16) and 4.5 minutes (about 25); the idle scenario runs in the first round
// only, so the whole run takes about 13 minutes at the lighter load and 19
// at the heavier.
// -scenarios and -servers narrow it.
//
// # Open files
//
// siobench raises its limit on open files (RLIMIT_NOFILE) to the hard limit,
// and the servers it starts inherit it. Each process needs about one file
// per connection, so idle-50k needs a hard limit above 50,256: on a machine
// whose hard limit is lower (a container without CAP_SYS_RESOURCE, such as
// the one this was written on: 20,000), siobench says so before it starts;
// raise the hard limit, or run it with -conns idle-50k=18000. Loopback
// connections beyond 20,000 come from several source addresses
// (127.0.0.1, 127.0.0.2, …), so that the ephemeral ports of one address do
// not run out.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = runCmd(os.Args[2:])
	case "serve":
		err = serveCmd(os.Args[2:])
	case "load":
		err = loadCmd(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "siobench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: siobench run|serve|load [flags]; siobench <cmd> -h for the flags")
	os.Exit(2)
}
