package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	siofiber "github.com/siokit/siokit/adapters/fiber"
	siohttp "github.com/siokit/siokit/adapters/nethttp"
)

// startServer starts one of siobench's Go servers in this process and
// returns its URL.
func startServer(t *testing.T, name string) string {
	t.Helper()
	switch name {
	case "raw", "rawbatch":
		ts := httptest.NewServer(http.HandlerFunc(newRawServer(name == "rawbatch").serve))
		t.Cleanup(ts.Close)
		return ts.URL
	case "siohttp":
		srv := newBenchServer()
		ts := httptest.NewServer(siohttp.Handler(srv))
		t.Cleanup(func() { _ = srv.Close(); ts.Close() })
		return ts.URL
	case "siofiber":
		srv := newBenchServer()
		app := fiber.New(fiber.Config{DisableStartupMessage: true})
		app.All("/socket.io/*", siofiber.Handler(srv))
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { defer close(done); _ = app.Listener(ln) }()
		t.Cleanup(func() { _ = srv.Close(); _ = app.Shutdown(); <-done })
		return "http://" + ln.Addr().String()
	case "node":
		spec, err := serverSpecs([]string{"node"}, "")
		if err != nil {
			t.Fatal(err)
		}
		addr, err := freeAddr()
		if err != nil {
			t.Fatal(err)
		}
		cmd := spec[0].cmd(addr)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		if err := waitListening(addr, 15*time.Second); err != nil {
			t.Fatal(err)
		}
		return "http://" + addr
	}
	t.Fatalf("no server %q", name)
	return ""
}

// TestContract runs every scenario but the idle ones, briefly and with a
// few connections, against each server (the Node one needs node and the
// npm packages `make deps` installs): each must answer every event
// (no error: acks carry the arguments and attachments back, room events
// reach the room only) and complete some work.
func TestContract(t *testing.T) {
	for _, server := range []string{"raw", "rawbatch", "siohttp", "siofiber", "node"} {
		t.Run(server, func(t *testing.T) {
			for _, sc := range []string{"echo", "echo-any", "echo-16k", "echo-binary", "broadcast", "room", "connect", "polling"} {
				if scenarios[sc].noRaw && isRaw(server) {
					continue
				}
				t.Run(sc, func(t *testing.T) {
					url := startServer(t, server) // a fresh one, as siobench run does
					conns := 4
					if sc == "room" {
						conns = 20 // 2 members, 18 outside the room
					}
					r, err := scenarios[sc].run(context.Background(), LoadConfig{
						URL: url, Conns: conns, Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond,
					})
					if err != nil {
						t.Fatal(err)
					}
					if r.Errors != 0 || r.Value <= 0 {
						t.Fatalf("%s on %s: %.1f %s, %d errors", sc, server, r.Value, r.Unit, r.Errors)
					}
				})
			}
		})
	}
}

// TestIdle holds a few idle connections to siohttp, with this process as
// the server whose memory is read.
func TestIdle(t *testing.T) {
	if testing.Short() {
		t.Skip("holds connections for 10 s")
	}
	url := startServer(t, "siohttp")
	r, err := idleScenario(context.Background(), LoadConfig{URL: url, Conns: 20, PID: os.Getpid()})
	if err != nil {
		t.Fatal(err)
	}
	if r.Errors != 0 || !strings.Contains(r.Note, "at 20 connections") {
		t.Fatalf("%+v", r)
	}
}

func TestAppendRawFrame(t *testing.T) {
	tests := []struct {
		n      int
		header []byte
	}{
		{0, []byte{0x81, 0}},
		{125, []byte{0x81, 125}},
		{126, []byte{0x81, 126, 0, 126}},
		{65535, []byte{0x81, 126, 0xFF, 0xFF}},
		{65536, binary.BigEndian.AppendUint64([]byte{0x81, 127}, 65536)},
	}
	for _, tt := range tests {
		p := bytes.Repeat([]byte{'x'}, tt.n)
		got := appendRawFrame(nil, 1, p)
		if !bytes.Equal(got[:len(tt.header)], tt.header) || !bytes.Equal(got[len(tt.header):], p) {
			t.Errorf("n=%d: header % x", tt.n, got[:min(len(got), 10)])
		}
	}
	if got := appendRawFrame(nil, 2, []byte{1, 2}); !bytes.Equal(got, []byte{0x82, 2, 1, 2}) {
		t.Errorf("binary frame % x", got)
	}
}

func TestJSONString(t *testing.T) {
	tests := []struct {
		in   string
		s    string
		rest string
		ok   bool
	}{
		{`"r",1]`, "r", ",1]", true},
		{`"room 1"]`, "room 1", "]", true},
		{`"a\"b"]`, "", "", false},
		{`r",1]`, "", "", false},
		{`"r`, "", "", false},
	}
	for _, tt := range tests {
		s, rest, ok := jsonString([]byte(tt.in))
		if s != tt.s || string(rest) != tt.rest || ok != tt.ok {
			t.Errorf("jsonString(%q) = %q, %q, %v", tt.in, s, rest, ok)
		}
	}
}

func TestSendTime(t *testing.T) {
	tests := []struct {
		msg, prefix string
		t           int64
		ok          bool
	}{
		{`42["bcast",1764900000000000001]`, `42["bcast",`, 1764900000000000001, true},
		{`42["rbcast",{"t":"1764900000000000002","text":"hello, room","user":"bench"}]`, `42["rbcast",`, 1764900000000000002, true},
		{`42["bcast",null]`, `42["bcast",`, 0, false},
	}
	for _, tt := range tests {
		got, ok := sendTime([]byte(tt.msg), []byte(tt.prefix))
		if got != tt.t || ok != tt.ok {
			t.Errorf("sendTime(%s) = %d, %v", tt.msg, got, ok)
		}
	}
}

func TestOpenTimes(t *testing.T) {
	i, to := openTimes([]byte(`0{"sid":"x","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`))
	if i != 25*time.Second || to != 20*time.Second {
		t.Fatalf("%v %v", i, to)
	}
}

func TestParseConns(t *testing.T) {
	got, err := parseConns("idle=2000,room=500")
	if err != nil || got["idle"] != 2000 || got["room"] != 500 || len(got) != 2 {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{"idle", "idle=0", "idle=x", "nope=5"} {
		if _, err := parseConns(bad); err == nil {
			t.Errorf("parseConns(%q): no error", bad)
		}
	}
}

func TestBigPayload(t *testing.T) {
	if len(bigPayload) != 16<<10 || !json.Valid(bigPayload) {
		t.Fatalf("%d bytes, valid %v", len(bigPayload), json.Valid(bigPayload))
	}
}

func TestHeartbeats(t *testing.T) {
	const interval, timeout = 25 * time.Second, 20 * time.Second
	hold := 55 * time.Second
	good := func() *idleConn { return &idleConn{pings: 2, maxGap: interval} }
	tests := []struct {
		name  string
		conns []*idleConn
		want  string
		lost  int64
	}{
		{"all answered", []*idleConn{good(), good()}, "every heartbeat answered on time", 0},
		{"one lost", []*idleConn{good(), {pings: 1, err: errors.New("closed")}}, "NOT every heartbeat", 1},
		{"one without ping", []*idleConn{good(), {}}, "NOT every heartbeat", 0},
		{"late ping", []*idleConn{good(), {pings: 2, maxGap: interval + timeout + time.Second}}, "NOT every heartbeat", 0},
		{"no ping at all", []*idleConn{{}, {}}, "the server sent no ping", 0},
	}
	for _, tt := range tests {
		lost, note := heartbeats("", tt.conns, true, hold, interval, timeout)
		if lost != tt.lost || !strings.Contains(note, tt.want) {
			t.Errorf("%s: lost %d, note %q", tt.name, lost, note)
		}
	}
}
