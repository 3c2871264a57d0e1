// Package testkit holds the helpers that tests of several packages share, written
// once: a logger into the test's log, the fast resilience policy and a GraphQL POST.
package testkit

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
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

// PostGraphQL sends one GraphQL operation to baseURL's /graphql as application/json,
// with token as a bearer token unless it is empty, and returns the HTTP status and the
// body as it came (callers decode what they expect, errors included).
func PostGraphQL(tb testing.TB, baseURL, token, query string, vars map[string]any) (int, []byte) {
	tb.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		tb.Fatalf("PostGraphQL: %v", err)
	}
	req, err := http.NewRequest(http.MethodPost, baseURL+"/graphql", bytes.NewReader(body))
	if err != nil {
		tb.Fatalf("PostGraphQL: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("PostGraphQL: %v", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("PostGraphQL: reading the answer: %v", err)
	}
	return res.StatusCode, raw
}
