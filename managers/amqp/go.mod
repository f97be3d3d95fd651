module github.com/siokit/siokit/managers/amqp

go 1.26

require (
	github.com/siokit/siokit/core v0.2.0
	github.com/siokit/siokit/managers/pubsub v0.2.0
)

require (
	github.com/gorilla/websocket v1.5.3 // indirect
	github.com/rabbitmq/amqp091-go v1.16.0
	github.com/siokit/siokit/adapters/nethttp v0.2.0 // indirect
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
)

replace (
	github.com/siokit/siokit/adapters/nethttp => ../../adapters/nethttp
	github.com/siokit/siokit/core => ../../core
	github.com/siokit/siokit/managers/pubsub => ../pubsub
)
