module github.com/siokit/siokit/adapters/chi

go 1.26

require (
	github.com/gorilla/websocket v1.5.3
	github.com/siokit/siokit/adapters/nethttp v0.2.0
	github.com/siokit/siokit/core v0.2.0
	go.uber.org/goleak v1.3.0
)

require github.com/go-chi/chi/v5 v5.5.0

replace (
	github.com/siokit/siokit/adapters/nethttp => ../nethttp
	github.com/siokit/siokit/core => ../../core
)
