module github.com/siokit/siokit/managers/pubsub

go 1.26

require (
	github.com/siokit/siokit/adapters/nethttp v0.2.0
	github.com/siokit/siokit/core v0.2.0
	github.com/vmihailenco/msgpack/v5 v5.4.1
)

require (
	github.com/gorilla/websocket v1.5.3 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
)

replace (
	github.com/siokit/siokit/adapters/nethttp => ../../adapters/nethttp
	github.com/siokit/siokit/core => ../../core
)
