module github.com/siokit/siokit/managers/zmq

go 1.26

require (
	github.com/go-zeromq/zmq4 v0.17.0
	github.com/siokit/siokit/core v0.2.0
	github.com/siokit/siokit/managers/pubsub v0.2.0
)

require (
	github.com/go-zeromq/goczmq/v4 v4.2.2 // indirect
	github.com/gorilla/websocket v1.5.3 // indirect
	github.com/siokit/siokit/adapters/nethttp v0.2.0 // indirect
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
	golang.org/x/sync v0.7.0 // indirect
	golang.org/x/text v0.15.0 // indirect
)

replace (
	github.com/siokit/siokit/adapters/nethttp => ../../adapters/nethttp
	github.com/siokit/siokit/core => ../../core
	github.com/siokit/siokit/managers/pubsub => ../pubsub
)
