package battery

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/siokit/siokit/core/eiotest"
	"github.com/siokit/siokit/core/siotest"
	"github.com/siokit/siokit/core/socketio"
)

// Socket.IO probes each open a WebSocket session: they run a hundred or a
// few hundred times per mount (10,000 with SIOKIT_BATTERY_FULL); the ones
// that wait out a timer or send megabytes run a handful of times.

// closedAfter dials, joins "/", sends packets and expects the server to
// close the connection.
func closedAfter(t *testing.T, e *env, packets ...string) {
	t.Helper()
	c := e.Dial().SetT(t)
	c.Connect("/", "")
	for _, p := range packets {
		c.Send(p)
	}
	c.ExpectClosed()
	c.Close()
}

// calls counts handler calls that must not happen.
type calls struct{ n atomic.Int64 }

func (c *calls) any(...any)                                       { c.n.Add(1) }
func (c *calls) anyEvent(s *socketio.Socket, ev string, a ...any) { c.n.Add(1) }
func (c *calls) check(t testing.TB) {
	t.Helper()
	if n := c.n.Load(); n != 0 {
		t.Errorf("%d handler calls, want 0", n)
	}
}

func TestBattery25_ConnectTimeout(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { siotest.RunRawScenario(t, m, "ConnectTimeout") })
		opts := socketio.Options{ConnectTimeout: 100 * time.Millisecond}
		// The default is 45 s, as the battery names; a short one here.
		run(t, m, item{opts: opts, reps: reps(3), probe: func(t *testing.T, e *env, i int) {
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					c := e.Dial().SetT(t)
					c.ExpectClosed()
					c.Close()
				})
			}
			wg.Wait()
		}})
	})
}

func TestBattery26_UnknownNamespace(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { siotest.RunRawScenario(t, m, "UnknownNamespace") })
		run(t, m, item{reps: reps(200), probe: func(t *testing.T, e *env, i int) {
			c := e.Dial().SetT(t)
			c.Send("0/unknown,")
			c.Expect(`4/unknown,{"message":"Invalid namespace"}`)
			c.Connect("/", "")
			c.RoundTrip("/", 1)
			c.Close()
		}})
	})
}

func TestBattery27_DuplicateConnectOrNotJoined(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { siotest.RunRawScenario(t, m, "DuplicateConnectAndNotJoined") })
		var bad calls
		setup := func(srv *socketio.Server) {
			_ = srv.Of("/admin").On("echo", bad.any)
			_ = srv.Of("/admin").OnAny(bad.anyEvent)
		}
		run(t, m, item{setup: setup, reps: reps(100), probe: func(t *testing.T, e *env, i int) {
			closedAfter(t, e, "0")
			closedAfter(t, e, `2/admin,["echo",1]`)
			c := e.Dial().SetT(t)
			c.Connect("/", "")
			c.Send(`51-/admin,["echo",{"_placeholder":true,"num":0}]`)
			c.SendBinary([]byte{1})
			c.ExpectClosed()
			c.Close()
			bad.check(t)
		}})
	})
}

func TestBattery28_MalformedPackets(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { siotest.RunRawScenario(t, m, "MalformedPackets") })
		var bad calls
		setup := func(srv *socketio.Server) {
			for _, ev := range []string{"x", "toString"} {
				_ = srv.On(ev, bad.any)
			}
			_ = srv.OnAny(bad.anyEvent)
		}
		// The battery's list, written as Socket.IO packets (without the
		// Engine.IO "4" of the battery's "42{}").
		packets := []string{`2{}`, `2"x"`, `2[]`, `2[null]`, `2[{"toString":1}]`, `2["connect"]`, `2abc[...]`, `abc`, `4abc`, `0[]`}
		run(t, m, item{setup: setup, reps: reps(20), probe: func(t *testing.T, e *env, i int) {
			for _, p := range packets {
				closedAfter(t, e, p)
			}
			bad.check(t)
		}})
	})
}

func TestBattery29_ErrorEventIsUserEvent(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { siotest.RunRawScenario(t, m, "ErrorEventIsUserEvent") })
		var other calls
		setup := func(srv *socketio.Server) {
			_ = srv.On("error", func(msg string) string { return "got " + msg })
			_ = srv.OnAny(other.anyEvent)
		}
		run(t, m, item{setup: setup, reps: reps(200), probe: func(t *testing.T, e *env, i int) {
			c := e.Dial().SetT(t)
			c.Connect("/", "")
			c.Send(`21["error","boom"]`)
			c.Expect(`31["got boom"]`)
			c.RoundTrip("/", 2)
			c.Close()
			other.check(t)
		}})
	})
}

func TestBattery30_UnknownOrRepeatedAck(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { siotest.RunRawScenario(t, m, "AckIgnoredWhenUnknownOrRepeated") })
		tr := newTracker()
		run(t, m, item{setup: tr.setup, reps: reps(100), probe: func(t *testing.T, e *env, i int) {
			c := e.Dial().SetT(t)
			c.Connect("/", "")
			s := tr.socket(t, c.SID())
			var returned atomic.Int32
			res := make(chan string, 2)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), wait)
				defer cancel()
				r, err := s.EmitWithAck(ctx, "q")
				returned.Add(1)
				var got string
				if err == nil {
					err = r.Decode(&got)
				}
				res <- fmt.Sprint(got, err)
			}()
			rest := c.ExpectPrefix("2")
			id := rest[:strings.IndexByte(rest, '[')]
			c.Send(`3999999["unknown"]`)
			c.Send("3" + id + `["first"]`)
			c.Send("3" + id + `["second"]`)
			if got := recv(t, res, "the ack"); got != "first<nil>" {
				t.Errorf("EmitWithAck got %q, want first", got)
			}
			c.RoundTrip("/", 3) // both extra acks have been handled
			if n := returned.Load(); n != 1 {
				t.Errorf("EmitWithAck returned %d times", n)
			}
			c.Close()
			tr.reason(t, c.SID(), 0)
		}})
	})
}

func TestBattery31_BadPlaceholders(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { siotest.RunRawScenario(t, m, "BadPlaceholders") })
		var bad calls
		setup := func(srv *socketio.Server) { _ = srv.On("e", bad.any); _ = srv.OnAny(bad.anyEvent) }
		run(t, m, item{setup: setup, reps: reps(30), probe: func(t *testing.T, e *env, i int) {
			for _, num := range []string{`"splice"`, `-1`, `1.5`, `1`} {
				c := e.Dial().SetT(t)
				c.Connect("/", "")
				c.Send(`51-["e",{"_placeholder":true,"num":` + num + `}]`)
				c.SendBinary([]byte{1})
				c.ExpectClosed()
				c.Close()
			}
			bad.check(t)
		}})
	})
}

func TestBattery32_TooManyAttachments(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { siotest.RunRawScenario(t, m, "TooManyAttachments") })
		var bad calls
		setup := func(srv *socketio.Server) { _ = srv.On("e", bad.any) }
		run(t, m, item{setup: setup, reps: reps(50), probe: func(t *testing.T, e *env, i int) {
			// Closed on the header, before any attachment is sent.
			closedAfter(t, e, `511-["e"]`)
			closedAfter(t, e, `599999999999-["e"]`)
			bad.check(t)
		}})
	})
}

func TestBattery33_BinaryState(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { siotest.RunRawScenario(t, m, "BinaryState") })
		var bad calls
		setup := func(srv *socketio.Server) { _ = srv.On("e", bad.any); _ = srv.Of("/admin").On("e", bad.any) }
		big := make([]byte, 64<<10)
		run(t, m, item{setup: setup, reps: reps(50), probe: func(t *testing.T, e *env, i int) {
			// Text while attachments are pending (one 64 KiB attachment
			// already held: freed when the connection closes).
			c := e.Dial().SetT(t)
			c.Connect("/", "")
			c.Send(`52-["e",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
			c.SendBinary(big)
			c.Send(`2["e"]`)
			c.ExpectClosed()
			c.Close()
			// Binary with none pending.
			c = e.Dial().SetT(t)
			c.Connect("/", "")
			c.SendBinary([]byte{1})
			c.ExpectClosed()
			c.Close()
			// BINARY_EVENT for a namespace not joined.
			c = e.Dial().SetT(t)
			c.Connect("/", "")
			c.Send(`51-/admin,["e",{"_placeholder":true,"num":0}]`)
			c.SendBinary([]byte{1})
			c.ExpectClosed()
			c.Close()
			// Partial state abandoned by a client that goes away.
			c = e.Dial().SetT(t)
			c.Connect("/", "")
			c.Send(`52-["e",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
			c.SendBinary(big)
			c.Close()
			bad.check(t)
		}})
	})
}

func TestBattery34_LongNamesAndAckIDs(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { siotest.RunRawScenario(t, m, "Limits") })
		names := make(chan int, 1)
		setup := func(srv *socketio.Server) {
			_ = srv.OnAny(func(s *socketio.Socket, event string) { names <- len(event) })
		}
		// An event name just under maxHttpBufferSize (1,000,000) is
		// handled; a namespace over MaxNamespaceLen (512) closes.
		name := strings.Repeat("n", 1_000_000-20)
		run(t, m, item{setup: setup, reps: reps(5), probe: func(t *testing.T, e *env, i int) {
			c := e.Dial().SetT(t)
			c.Connect("/", "")
			c.Send(`2["` + name + `"]`)
			if n := recv(t, names, "the long event"); n != len(name) {
				t.Errorf("event name of %d bytes, want %d", n, len(name))
			}
			c.RoundTrip("/", 5)
			c.Close()
			c = e.Dial().SetT(t)
			c.Send("0/" + strings.Repeat("a", 511) + ",") // 512 bytes: at the cap
			c.Expect("4/" + strings.Repeat("a", 511) + `,{"message":"Invalid namespace"}`)
			c.Close()
			c = e.Dial().SetT(t)
			c.Send("0/" + strings.Repeat("a", 1<<20) + ",") // over the cap
			c.ExpectClosed()
			c.Close()
			closedAfter(t, e, `29007199254740993["echo",1]`)      // 2^53+1
			closedAfter(t, e, `2123456789012345678901["echo",1]`) // 21 digits
		}})
	})
}

func TestBattery35_DeepNesting(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { siotest.RunRawScenario(t, m, "DeepNesting") })
		var bad calls
		setup := func(srv *socketio.Server) { _ = srv.On("x", bad.any) }
		deep := `2["x",` + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + `]`
		run(t, m, item{setup: setup, reps: reps(10), probe: func(t *testing.T, e *env, i int) {
			closedAfter(t, e, deep)
			bad.check(t)
		}})
	})
}

func TestBattery36_HandlerPanic(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { siotest.RunRawScenario(t, m, "HandlerPanic") })
		setup := func(srv *socketio.Server) {
			_ = srv.On("boom", func() { panic("kaboom-event") })
			_ = srv.On("boomack", func() int { panic("kaboom-ack") })
		}
		run(t, m, item{setup: setup, reps: reps(200), probe: func(t *testing.T, e *env, i int) {
			c := e.Dial().SetT(t)
			c.Connect("/", "")
			c.Send(`2["boom"]`)
			c.Send(`21["boomack"]`)
			c.RoundTrip("/", 2)
			c.Close()
			if i == 0 && !strings.Contains(e.Logs(), "kaboom-ack") {
				t.Error("the panic was not logged")
			}
		}})
	})
}

// discardClient is a WebSocket client joined to "/" that reads and drops
// everything, answering pings; it never acknowledges.
func (e *env) discardClient(t testing.TB) (sid string, c *websocket.Conn, done chan struct{}) {
	t.Helper()
	c, err := e.dialWS("EIO=4&transport=websocket")
	if err != nil {
		t.Fatal(err)
	}
	var o struct{ SID string }
	_ = json.Unmarshal([]byte(readText(t, c)[1:]), &o)
	_ = c.WriteMessage(websocket.TextMessage, []byte("40"))
	if got := readText(t, c); !strings.HasPrefix(got, "40{") {
		t.Fatalf("CONNECT answer %q", got)
	}
	done = make(chan struct{})
	_ = c.SetReadDeadline(time.Time{})
	go func() {
		defer close(done)
		for {
			_, data, err := c.ReadMessage()
			if err != nil {
				return
			}
			if string(data) == "2" {
				_ = c.WriteMessage(websocket.TextMessage, []byte("3"))
			}
		}
	}()
	return o.SID, c, done
}

func TestBattery37_AckTimeouts(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { siotest.RunRawScenario(t, m, "AckTimeoutAndDisconnect") })
		tr := newTracker()
		// The battery's million timeouts: 5,000 in the first run and 2,000
		// in each of the next two (more runs with SIOKIT_BATTERY_FULL),
		// with the heap compared around the latter.
		run(t, m, item{setup: tr.setup, reps: reps(2), probe: func(t *testing.T, e *env, i int) {
			sid, c, done := e.discardClient(t)
			defer func() { c.Close(); <-done }()
			s := tr.socket(t, sid)
			n := 2000
			if i == 0 {
				n = 5000
			}
			var wg sync.WaitGroup
			var ok atomic.Int64
			for w := range 8 {
				wg.Go(func() {
					for j := w; j < n; j += 8 {
						ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
						if _, err := s.EmitWithAck(ctx, "never"); err != nil {
							ok.Add(1)
						}
						cancel()
					}
				})
			}
			wg.Wait()
			if got := ok.Load(); got != int64(n) {
				t.Errorf("%d of %d unanswered EmitWithAck calls returned an error", got, n)
			}
			// On disconnect every pending ack fails.
			errs := make(chan error, 5)
			for range 5 {
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					defer cancel()
					_, err := s.EmitWithAck(ctx, "pending")
					errs <- err
				}()
			}
			time.Sleep(20 * time.Millisecond)
			c.Close()
			for range 5 {
				if err := recv(t, errs, "a pending ack to fail"); err == nil {
					t.Error("a pending EmitWithAck succeeded after the disconnect")
				}
			}
			tr.reason(t, sid, 0)
		}})
	})
}

func TestBattery38_ConnectionStateRecovery(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { siotest.RunRawScenario(t, m, "Recovery") })
		recovered := make(chan bool, 4)
		setup := func(srv *socketio.Server) {
			srv.OnConnect(func(s *socketio.Socket) error {
				var a struct{ T int }
				if s.Handshake().DecodeAuth(&a) != nil || a.T != 1 {
					return nil // the healthy clients
				}
				if !s.Recovered() {
					s.Join("room")
				}
				recovered <- s.Recovered()
				return nil
			})
		}
		opts := socketio.Options{Recovery: &socketio.RecoveryOptions{}}
		connectPID := func(t *testing.T, c *siotest.Conn, auth string) (sid, pid string) {
			t.Helper()
			c.Send("0" + auth)
			var ok struct{ SID, PID string }
			if err := json.Unmarshal([]byte(c.ExpectPrefix("0")), &ok); err != nil || ok.SID == "" || ok.PID == "" {
				t.Fatalf("CONNECT answer without sid and pid: %+v %v", ok, err)
			}
			return ok.SID, ok.PID
		}
		event := func(t *testing.T, c *siotest.Conn) (args, offset string) {
			t.Helper()
			var arr []any
			if err := json.Unmarshal([]byte(c.ExpectPrefix("2")), &arr); err != nil || len(arr) < 2 {
				t.Fatalf("event %v: %v", arr, err)
			}
			off, _ := arr[len(arr)-1].(string)
			return fmt.Sprint(arr[:len(arr)-1]), off
		}
		run(t, m, item{opts: opts, setup: setup, reps: reps(30), probe: func(t *testing.T, e *env, i int) {
			srv := e.Server()
			c := e.Dial().SetT(t)
			sid, pid := connectPID(t, c, `{"t":1}`)
			if recv(t, recovered, "the connection") {
				t.Fatal("a new connection is marked recovered")
			}
			_ = srv.To("room").Emit("m", 0)
			_, off := event(t, c)
			c.Close()
			waitFor(t, "the disconnect", func() bool { return srv.Of("/").Socket(sid) == nil })
			_ = srv.To("room").Emit("m", 1)
			_ = srv.To("room").Emit("m", 2)
			c = e.Dial().SetT(t)
			sid2, _ := connectPID(t, c, fmt.Sprintf(`{"t":1,"pid":%q,"offset":%q}`, pid, off))
			if sid2 != sid || !recv(t, recovered, "the recovered connection") {
				t.Fatalf("not recovered: sid %s, want %s", sid2, sid)
			}
			for _, want := range []string{"[m 1]", "[m 2]"} {
				if args, _ := event(t, c); args != want {
					t.Fatalf("replayed %s, want %s", args, want)
				}
			}
			c.RoundTrip("/", 9) // nothing replayed twice before the ack
			// An explicit disconnect is not recoverable.
			c.Send("1")
			waitFor(t, "the disconnect", func() bool { return srv.Of("/").Socket(sid) == nil })
			c.Close()
			c = e.Dial().SetT(t)
			if sid3, _ := connectPID(t, c, fmt.Sprintf(`{"t":1,"pid":%q,"offset":%q}`, pid, off)); sid3 == sid || recv(t, recovered, "the connection") {
				t.Error("recovered after an explicit disconnect")
			}
			c.Close()
			// An unknown pid gives a new session.
			c = e.Dial().SetT(t)
			if sid4, _ := connectPID(t, c, `{"t":1,"pid":"nope","offset":"0-0"}`); sid4 == sid || recv(t, recovered, "the connection") {
				t.Error("recovered with an unknown pid")
			}
			c.Close()
		}})
	})
}

func TestBattery39_ManyClients(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		setup := func(srv *socketio.Server) {
			_ = srv.On("join", func(s *socketio.Socket, room string) string { s.Join(room); return room })
			_ = srv.On("leave", func(s *socketio.Socket, room string) string { s.Leave(room); return room })
		}
		// The battery's 10,000 clients: 400 here per adapter (10,000 with
		// SIOKIT_BATTERY_FULL), 16 at a time, while the server broadcasts,
		// makes sockets join and leave and disconnects some.
		clients := 400
		if full {
			clients = 10_000
		}
		run(t, m, item{setup: setup, reps: 1, probe: func(t *testing.T, e *env, i int) {
			srv := e.Server()
			stop := make(chan struct{})
			var bg sync.WaitGroup
			bg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					_ = srv.To("r").Emit("tick", 1)
					srv.In("r").SocketsJoin("r2")
					srv.In("r2").SocketsLeave("r2")
					// Only the load's sockets (in room "r"), never the
					// healthy client the common checks use afterwards.
					var load []*socketio.Socket
					for _, s := range srv.Of("/").Sockets() {
						if slices.Contains(s.Rooms(), "r") {
							load = append(load, s)
						}
					}
					if len(load) > 1 {
						load[rand.IntN(len(load))].Disconnect(false)
					}
					time.Sleep(time.Millisecond)
				}
			})
			var next atomic.Int64
			var wg sync.WaitGroup
			for range 16 {
				wg.Go(func() {
					for next.Add(1) <= int64(clients) && !t.Failed() {
						c, err := e.DialErr()
						if err != nil {
							t.Error(err)
							return
						}
						c.SetT(t)
						c.Send(`0`)
						c.Send(`21["join","r"]`)
						c.Send(`22["echo","x"]`)
						c.Send(`23["leave","r"]`)
						c.Send(`1`)
						c.Close()
					}
				})
			}
			wg.Wait()
			close(stop)
			bg.Wait()
			waitFor(t, "every socket to leave", func() bool { return len(srv.Of("/").Sockets()) <= 1 })
			if mgr, ok := srv.Of("/").Manager().(interface{ Rooms() []string }); ok {
				waitFor(t, "the rooms to empty", func() bool { return len(mgr.Rooms()) <= 1 }) // the healthy client's own room
			}
		}})
	})
}

func TestBattery40_ServerCloseUnderTraffic(t *testing.T) {
	eachMount(t, func(t *testing.T, m eiotest.Mount) {
		t.Run("kit", func(t *testing.T) { siotest.RunRawScenario(t, m, "ServerCloseUnderTraffic") })
		// Server.Close is final: each repetition builds a server, loads it
		// and closes it; goleak checks each, the heap is compared across.
		var h0 uint64
		for i := range reps(4) {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				var handlers, finished atomic.Int64
				e := newEnv(t, m, socketio.Options{}, func(srv *socketio.Server) {
					_ = srv.On("work", func() int {
						handlers.Add(1)
						time.Sleep(5 * time.Millisecond)
						finished.Add(1)
						return 1
					})
				})
				var conns []*siotest.Conn
				for range 20 {
					c := e.Dial()
					c.Connect("/", "")
					conns = append(conns, c)
				}
				stop := make(chan struct{})
				var wg sync.WaitGroup
				for j, c := range conns {
					wg.Go(func() {
						for k := 0; ; k++ {
							select {
							case <-stop:
								return
							default:
							}
							c.Send(fmt.Sprintf(`2%d["work"]`, k))
							_ = e.Server().Emit("news", j)
							time.Sleep(time.Millisecond)
						}
					})
				}
				time.Sleep(50 * time.Millisecond)
				if err := e.Server().Close(); err != nil {
					t.Fatal(err)
				}
				close(stop)
				wg.Wait()
				if h, f := handlers.Load(), finished.Load(); h != f {
					t.Errorf("%d handlers started, %d finished when Close returned", h, f)
				}
				for _, c := range conns {
					c.SetT(t)
					drainUntilClosed(t, c)
				}
				if n := e.Server().Engine().Count(); n != 0 {
					t.Errorf("%d sessions after Close", n)
				}
			})
			if i == 0 {
				h0 = heapInuse()
			}
		}
		if growth := int64(heapInuse()) - int64(h0); growth > heapBound {
			t.Errorf("HeapInuse grew by %d KiB over the repetitions", growth>>10)
		}
	})
}

// drainUntilClosed reads everything until the server has closed c.
func drainUntilClosed(t *testing.T, c *siotest.Conn) {
	t.Helper()
	if !c.WaitClosed(wait) {
		t.Error("a client connection is still open after Server.Close")
	}
}
