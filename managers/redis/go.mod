module github.com/siokit/siokit/managers/redis

go 1.26

require (
	github.com/redis/go-redis/v9 v9.17.2
	github.com/siokit/siokit/adapters/nethttp v0.2.0
	github.com/siokit/siokit/core v0.2.0
	github.com/siokit/siokit/managers/pubsub v0.2.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dgryski/go-rendezvous v0.0.0-20200823014737-9f7001d12a5f // indirect
	github.com/gorilla/websocket v1.5.3 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
)

replace (
	github.com/siokit/siokit/adapters/nethttp => ../../adapters/nethttp
	github.com/siokit/siokit/core => ../../core
	github.com/siokit/siokit/managers/pubsub => ../pubsub
)
