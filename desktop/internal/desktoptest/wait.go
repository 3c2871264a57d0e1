package desktoptest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Timeout is how long Eventually waits by default: generous, since a loaded CI
// machine may be slow; tests never assert on how fast something happens.
const Timeout = 60 * time.Second

// Eventually polls cond every 20 ms until it holds, failing the test after timeout.
// cond runs on a goroutine of its own (one call at a time), so it must not fail the
// test itself: no require, no t.Fatal.
func Eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	require.Eventually(tb, cond, timeout, 20*time.Millisecond, "timed out after %s waiting for %s", timeout, what)
}
