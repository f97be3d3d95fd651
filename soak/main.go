// Command soak runs siokit's soak test: a Socket.IO server (socketio
// mounted with siohttp on a loopback listener) and thousands of clients in
// the same process, for a bounded time.
//
//	go run ./soak [-duration 3m] [-clients 2000] [-misbehave 0.02]
//
// A flooder bursts events into a room that the server re-emits to five
// watchers (Go clients that stay for the whole run): the server must slow
// it and close it for its rate, and never close a watcher, which must
// receive every event the server broadcast.
//
// Well-behaved clients (the Go client, over WebSocket, or long-polling then
// upgrading) connect, join random rooms, emit messages with acks, receive
// the room broadcasts, move between rooms, leave and reconnect. A share of
// the clients misbehaves, in raw frames: slow consumers that ask for a flood
// and stop reading, clients dropping their TCP connection in the middle of
// an emit, malformed packets, clients that never answer pings, a second
// concurrent long-poll.
//
// Every acknowledged message carries a unique id and the server records
// every id it handled: at the end each acknowledged message must have been
// handled exactly once. Once the clients are gone the engine must hold no
// session and the namespace no room or socket; once the server is closed
// the goroutines must be back to the baseline (the new ones are listed with
// their stacks otherwise) and HeapInuse near it. It prints a summary and
// exits 1 on any violation.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	var cfg Config
	flag.DurationVar(&cfg.Duration, "duration", 3*time.Minute, "how long clients keep working")
	flag.IntVar(&cfg.Clients, "clients", 2000, "number of virtual clients")
	flag.Float64Var(&cfg.Misbehave, "misbehave", 0.02, "fraction of the clients given each misbehaving kind")
	flag.IntVar(&cfg.Rooms, "rooms", 0, "number of rooms (default clients/10)")
	flag.DurationVar(&cfg.Interval, "interval", 2*time.Second, "mean pause between two emits of a client")
	slack := flag.Int("heap-slack", 8, "MiB HeapInuse may end above the baseline")
	flag.Parse()
	cfg.HeapSlack = uint64(max(*slack, 0)) << 20
	cfg.Logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

	// Before the baseline: os/signal keeps a goroutine once used.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	rep.Print(os.Stdout)
	if rep.Failed() {
		os.Exit(1)
	}
}

// Print writes the summary.
func (r *Report) Print(w io.Writer) {
	c := r.Config
	p := func(format string, args ...any) { _, _ = fmt.Fprintf(w, format+"\n", args...) }
	p("soak summary")
	p("  duration       %s of traffic (asked %s), %d rooms, emit every %s on average", r.Elapsed.Round(time.Millisecond), c.Duration, c.Rooms, c.Interval)
	p("  clients        %d (%d well-behaved)", c.Clients, r.Clients[Good])
	p("  connections    %d made, %d failed attempts", r.Connections, r.ConnectErrs)
	p("  messages       %d acked emits sent, %d acks received, %d unacknowledged; server handled %d", r.Sent, r.Acked, r.AckErrs, r.ServerMsgs)
	p("  broadcasts     %d delivered", r.Broadcasts)
	p("  misbehaving    kind                clients  episodes  closed by the server as expected")
	for k := Slow; k < numKinds; k++ {
		reaped := fmt.Sprint(r.Reaped[k])
		if k == Abrupt {
			reaped = "-"
		}
		p("                 %-18s %8d %9d  %s", k, r.Clients[k], r.Episodes[k], reaped)
	}
	p("                 (slow consumers were sent %d flood packets of %d KiB)", r.Floods, floodSize>>10)
	p("  flood room     %d events broadcast to %d watchers, each received all: %v; %d connections closed for their rate; flooders' reasons %s", r.FloodEvents, floodWatchers, !r.floodViolated(), r.FloodClosed, r.FloodReasons)
	p("  sessions       %d after the clients left, %d after Close; %d rooms, %d sockets left", r.SessionsAfterClients, r.SessionsAfterClose, r.RoomsLeft, r.SocketsLeft)
	p("  goroutines     %d before, %d at the peak, %d after", r.GoroutinesBefore, r.GoroutinesPeak, r.GoroutinesAfter)
	p("  heap in use    %s before, %s after", mib(r.HeapBefore), mib(r.HeapAfter))
	if !r.Failed() {
		p("  result         PASS")
		return
	}
	p("  result         FAIL, %d violations:", len(r.Violations))
	for _, v := range r.Violations {
		p("    - %s", v)
	}
}
