package main

import (
	"testing"

	"github.com/siokit/siokit/examples/internal/exampletest"
)

func TestRun(t *testing.T) { exampletest.Run(t, run) }
