module github.com/siokit/siokit/parsers/msgpack

go 1.26

require (
	github.com/siokit/siokit/core v0.2.0
	github.com/vmihailenco/msgpack/v5 v5.4.1
)

require go.uber.org/goleak v1.3.0 // indirect

require (
	github.com/gorilla/websocket v1.5.3 // indirect
	github.com/siokit/siokit/adapters/nethttp v0.2.0
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
)

replace github.com/siokit/siokit/core => ../../core

replace github.com/siokit/siokit/adapters/nethttp => ../../adapters/nethttp
