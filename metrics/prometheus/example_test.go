package sioprometheus_test

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	siohttp "github.com/siokit/siokit/adapters/nethttp"
	"github.com/siokit/siokit/core/socketio"
	sioprometheus "github.com/siokit/siokit/metrics/prometheus"
)

func Example() {
	m := sioprometheus.New(nil)
	prometheus.MustRegister(m)
	srv := socketio.NewServer(&socketio.Options{Hooks: m.Hooks()})
	defer func() { _ = srv.Close() }()

	http.Handle("/socket.io/", siohttp.Handler(srv))
	http.Handle("/metrics", promhttp.Handler())
	// http.ListenAndServe(":8080", nil)
}
