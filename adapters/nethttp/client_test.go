package siohttp_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/eiotest"
	"github.com/siokit/siokit/core/engineio"
)

func TestEngineIOClient(t *testing.T) {
	eiotest.RunClient(t, mount)
}

// echoServer returns an Engine.IO echo server, closed at the end of the test.
func echoServer(t testing.TB) *engineio.Server {
	srv := engineio.NewServer(nil)
	srv.OnConnection = func(s *engineio.Session) {
		s.OnMessage(func(data []byte, binary bool) { _ = s.Send(data, binary) })
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func TestClientTLS(t *testing.T) {
	ts := httptest.NewTLSServer(siohttp.Handler(echoServer(t)))
	t.Cleanup(ts.Close)
	trusted := x509.NewCertPool()
	trusted.AddCert(ts.Certificate())

	for _, transports := range [][]string{{engineio.TransportPolling}, {engineio.TransportWebSocket}, nil} {
		t.Run(name(transports), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()

			// Certificates are verified by default: the test CA is unknown.
			_, err := engineio.Dial(ctx, ts.URL, &engineio.ClientOptions{Transports: transports})
			var unknown x509.UnknownAuthorityError
			if !errors.Is(err, engineio.ErrHandshake) || !errors.As(err, &unknown) {
				t.Fatalf("Dial with default TLS = %v, want ErrHandshake wrapping x509.UnknownAuthorityError", err)
			}

			got := make(chan string, 1)
			c, err := engineio.Dial(ctx, ts.URL, &engineio.ClientOptions{
				Transports: transports,
				TLSConfig:  &tls.Config{RootCAs: trusted},
				OnMessage:  func(data []byte, _ bool) { got <- string(data) },
			})
			if err != nil {
				t.Fatalf("Dial with the test CA: %v", err)
			}
			defer func() { _ = c.Close(); <-c.Done() }()
			if err := c.Send([]byte("over tls"), false); err != nil {
				t.Fatal(err)
			}
			select {
			case s := <-got:
				if s != "over tls" {
					t.Errorf("got %q", s)
				}
			case <-ctx.Done():
				t.Fatal("no echo")
			}
		})
	}
}

func name(transports []string) string {
	if transports == nil {
		return "upgrade"
	}
	return transports[0]
}

// BenchmarkClientRoundTrip measures one message from the Go client to the
// Go server and back over WebSocket.
func BenchmarkClientRoundTrip(b *testing.B) {
	ts := httptest.NewServer(siohttp.Handler(echoServer(b)))
	b.Cleanup(ts.Close)
	for _, bc := range []struct {
		name   string
		binary bool
		size   int
	}{{"text-16B", false, 16}, {"text-1KiB", false, 1024}, {"binary-1KiB", true, 1024}} {
		b.Run(bc.name, func(b *testing.B) {
			got := make(chan struct{}, 1)
			c, err := engineio.Dial(context.Background(), ts.URL, &engineio.ClientOptions{
				Transports: []string{engineio.TransportWebSocket},
				OnMessage:  func([]byte, bool) { got <- struct{}{} },
			})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = c.Close(); <-c.Done() }()
			msg := make([]byte, bc.size)
			for i := range msg {
				msg[i] = 'a' + byte(i%26)
			}
			b.SetBytes(int64(bc.size))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Send(msg, bc.binary); err != nil {
					b.Fatal(err)
				}
				<-got
			}
		})
	}
}
