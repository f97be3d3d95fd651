package main

import (
	"context"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/siokit/siokit/core/socketio"
)

// TestMounts connects siokit's Go client through gin and through Fiber and
// has an event acknowledged each way, with the Redis manager.
func TestMounts(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer func() { _ = rdb.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis on 127.0.0.1:6379: %v", err)
	}
	sio, err := newServer(rdb)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sio.Close() }()

	gs := httptest.NewServer(ginRouter(sio))
	defer gs.Close()
	a := fiberApp(sio)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = a.Listener(ln) }()
	defer func() { _ = a.Shutdown() }()

	for name, url := range map[string]string{"gin": gs.URL, "fiber": "http://" + ln.Addr().String()} {
		c := socketio.NewClient(url, nil)
		if err := c.Connect(ctx); err != nil {
			t.Fatalf("%s: connect: %v", name, err)
		}
		res, err := c.EmitWithAck(ctx, "echo", "hi "+name)
		var got string
		if err == nil {
			err = res.Decode(&got)
		}
		_ = c.Close()
		if err != nil || got != "hi "+name {
			t.Fatalf("%s: echo acked %q, %v", name, got, err)
		}
	}
}
