package desktoptest

import (
	"testing"
	"time"
)

// Timeout is how long Eventually waits by default: generous, since a loaded CI
// machine may be slow; tests never assert on how fast something happens.
const Timeout = 60 * time.Second

// Eventually polls cond until it holds, failing the test after timeout.
func Eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
