module github.com/siokit/siokit/managers/nats

go 1.26

require (
	github.com/nats-io/nats.go v1.47.0
	github.com/siokit/siokit/core v0.2.0
	github.com/siokit/siokit/managers/pubsub v0.2.0
)

require (
	github.com/gorilla/websocket v1.5.3 // indirect
	github.com/klauspost/compress v1.20.0 // indirect
	github.com/nats-io/nkeys v0.4.16 // indirect
	github.com/nats-io/nuid v1.0.1 // indirect
	github.com/siokit/siokit/adapters/nethttp v0.2.0 // indirect
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
	golang.org/x/crypto v0.57.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)

replace (
	github.com/siokit/siokit/adapters/nethttp => ../../adapters/nethttp
	github.com/siokit/siokit/core => ../../core
	github.com/siokit/siokit/managers/pubsub => ../pubsub
)
