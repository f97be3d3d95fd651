// Command siobench compares Socket.IO servers under the same load: siokit
// through siohttp (and siofiber), the official Node server, and a bare Go
// WebSocket server doing the same frame work (the ceiling). It speaks
// Engine.IO v4 / Socket.IO v5 itself, so it can load any server URL.
//
//	siobench run [-rounds 3] [-duration 10s] [-scenarios echo,broadcast,...] [-servers ...]
//	siobench serve -server siohttp -addr 127.0.0.1:4000
//	siobench load -url http://127.0.0.1:4000 -scenario echo -c 50 -duration 10s
//
// Every server implements one contract on namespace "/": "echo" acknowledges
// its arguments, "bcast" re-emits its arguments to every socket as "bcast".
// `make bench` builds this command, pins the servers and the load generator
// to separate cores, runs the servers interleaved and prints the table.
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
