module github.com/siokit/siokit/core

go 1.26
