module github.com/siokit/siokit/examples

go 1.26

require (
	github.com/siokit/siokit/adapters/nethttp v0.1.0
	github.com/siokit/siokit/core v0.1.0
)

replace (
	github.com/siokit/siokit/adapters/nethttp => ../adapters/nethttp
	github.com/siokit/siokit/core => ../core
)
