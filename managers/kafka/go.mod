module github.com/siokit/siokit/managers/kafka

go 1.26.0

require (
	github.com/siokit/siokit/core v0.2.0
	github.com/siokit/siokit/managers/pubsub v0.2.0
	github.com/twmb/franz-go v1.22.3
	github.com/twmb/franz-go/pkg/kfake v0.0.0-20260918054303-01f206a7e32c
	github.com/twmb/franz-go/pkg/kmsg v1.15.1
)

require (
	github.com/gorilla/websocket v1.5.3 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/pierrec/lz4/v4 v4.1.33 // indirect
	github.com/siokit/siokit/adapters/nethttp v0.2.0 // indirect
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
)

replace (
	github.com/siokit/siokit/adapters/nethttp => ../../adapters/nethttp
	github.com/siokit/siokit/core => ../../core
	github.com/siokit/siokit/managers/pubsub => ../pubsub
)
