// Package battery holds the reliability battery of siokit as tests: one test
// per item of the battery (bad inputs, faults and load situations), named
// TestBatteryNN_..., each run against the server mounted through every
// adapter of the mounts table.
//
// Every item checks the common expectations: no panic escapes, the race
// detector stays quiet (run with -race), goroutines return to their baseline
// (go.uber.org/goleak and a count while the server runs), the heap stays
// flat over repeated runs of the bad input, and a healthy client on the same
// server still gets its answers.
//
// Set SIOKIT_BATTERY_FULL=1 to run every repeated item the full number of
// times the battery names (10,000); by default they run fewer times so that
// the module, with every item through both adapters (siohttp and siofiber),
// stays near a minute with -race on two cores.
package battery
