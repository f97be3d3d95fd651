package battery

import (
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	siofiber "github.com/siokit/siokit/adapters/fiber"
	"github.com/siokit/siokit/core/engineio"
)

// TestMain serves one request through Fiber before the tests, so that
// fasthttp's process-wide date ticker (started on the first response, never
// stopped) exists before any goroutine-leak baseline is taken, as siofiber's
// own tests do.
func TestMain(m *testing.M) {
	a := fiber.New(fiber.Config{DisableStartupMessage: true})
	a.Get("/", func(c *fiber.Ctx) error { return c.SendString("warm") })
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		go func() { _ = a.Listener(ln) }()
		tr := &http.Transport{}
		if res, err := (&http.Client{Transport: tr}).Get("http://" + ln.Addr().String() + "/"); err == nil {
			_ = res.Body.Close()
		}
		tr.CloseIdleConnections()
		_ = a.ShutdownWithTimeout(5 * time.Second)
	}
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(binPath) // the example binaries of mount_test.go
	}
	os.Exit(code)
}

// mountFiber serves h with siofiber.Handler on every path of a Fiber app
// that streams request bodies, as siofiber's documentation asks, so that
// the engine's own body limit applies (item 11).
//
// fasthttp's worker-pool cleaner notices a shutdown only when it wakes, every
// MaxIdleWorkerDuration (default 10s); a short one lets it end before the
// goroutine-leak checks give up.
func mountFiber(t testing.TB, h engineio.Handler) string {
	a := fiber.New(fiber.Config{DisableStartupMessage: true, StreamRequestBody: true})
	a.Use(siofiber.Handler(h))
	a.Server().MaxIdleWorkerDuration = 20 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Listener(ln) }()
	t.Cleanup(func() {
		if err := a.ShutdownWithTimeout(5 * time.Second); err != nil {
			t.Errorf("Fiber shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Fiber listener: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}
