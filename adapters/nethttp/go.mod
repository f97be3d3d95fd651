module github.com/siokit/siokit/adapters/nethttp

go 1.26

require (
	github.com/gorilla/websocket v1.5.3
	github.com/siokit/siokit/core v0.2.0
)

replace github.com/siokit/siokit/core => ../../core
