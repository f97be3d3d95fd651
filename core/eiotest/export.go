package eiotest

import "testing"

// RunScenario runs the one scenario of [Run] with the given name (such as
// "ErrorCodes" or "ConcurrentPolls") against mount, so that a test outside
// this package — the reliability battery — can name the scenario that covers
// an item. An unknown name fails t.
func RunScenario(t *testing.T, mount Mount, name string) {
	t.Helper()
	for _, sc := range scenarios {
		if sc.name == name {
			sc.run(t, mount)
			return
		}
	}
	t.Fatalf("eiotest: no scenario named %q", name)
}
