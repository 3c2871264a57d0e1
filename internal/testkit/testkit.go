// Package testkit holds the helpers that tests of several packages share, written
// once: a logger into the test's log and the fast resilience policy.
package testkit

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sallyhq/sally/resilience"
)

// Logger sends log lines at level and above to tb.Log until the test ends; lines
// that background goroutines write a moment later are dropped (testing panics on a
// Log after the end).
func Logger(tb testing.TB, level slog.Level) *slog.Logger {
	tb.Helper()
	w := &writer{tb: tb}
	tb.Cleanup(w.close)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

type writer struct {
	mu     sync.Mutex
	tb     testing.TB
	closed bool
}

func (w *writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.tb.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (w *writer) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}

// FastPolicy is the tests' resilience config: the production shape with millisecond
// waits (failsafe's flakyServer idea), so retries cost a test nothing, and a breaker
// that stays open long enough not to close by itself while a test looks at it.
func FastPolicy() resilience.Config {
	return resilience.Config{
		MaxAttempts:      3,
		BaseDelay:        5 * time.Millisecond,
		MaxDelay:         20 * time.Millisecond,
		FailureThreshold: 5,
		OpenDelay:        time.Minute,
	}
}
