//go:build race

package graph_test

// raceEnabled tells tests that the race detector slows the CPU-bound work down.
const raceEnabled = true
