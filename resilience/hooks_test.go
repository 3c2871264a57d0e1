package resilience_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/resilience"
	"github.com/sallyhq/sally/vendors"
)

// OnTry hears of every try of its own call, with what SyncLog.tries records, and
// OnRetry of the same retries with the same waits.
func TestHooksReportEveryTry(t *testing.T) {
	t.Parallel()
	server := newFlakyServer(t, step{status: 503}, step{status: 429, retryAfter: "0.01"}, step{status: 200})
	policy := resilience.New(resilience.Options{Vendor: "samsara", Config: fastConfig()})
	var (
		mu      sync.Mutex
		tries   []resilience.Try
		retries []time.Duration
	)
	hooks := resilience.Hooks{
		OnTry: func(tr resilience.Try) {
			mu.Lock()
			defer mu.Unlock()
			tries = append(tries, tr)
		},
		OnRetry: func(_ int, _ error, wait time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			retries = append(retries, wait)
		},
	}
	var attempts int
	req := &vendors.Requester{
		Vendor: "samsara",
		Do: func(ctx context.Context, call func(ctx context.Context) error) error {
			var err error
			attempts, err = policy.Do(ctx, call, hooks)
			return err
		},
	}
	before := time.Now()
	err := req.Get(context.Background(), server.URL+"/v1/drivers", func([]byte) error { return nil })
	require.NoError(t, err)
	require.Equal(t, 3, attempts)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, tries, 3)
	require.Len(t, retries, 2)
	for i, tr := range tries {
		require.Equal(t, i+1, tr.Attempt)
		require.Equal(t, 1, tr.Requests)
		require.False(t, tr.Start.Before(before), "try %d starts after the call", i+1)
		require.Positive(t, tr.Duration)
		if i > 0 {
			prev := tries[i-1]
			require.False(t, tr.Start.Before(prev.Start.Add(prev.Duration+prev.Wait)), "try %d starts after the wait", i+1)
		}
	}
	require.Equal(t, 503, tries[0].Status)
	require.Equal(t, resilience.ClassUnavailable, tries[0].Class)
	require.Contains(t, tries[0].Message, "vendor unavailable")
	require.Error(t, tries[0].Err)
	require.Equal(t, retries[0], tries[0].Wait)

	require.Equal(t, 429, tries[1].Status)
	require.Equal(t, resilience.ClassRateLimited, tries[1].Class)
	require.Equal(t, retries[1], tries[1].Wait)
	require.GreaterOrEqual(t, tries[1].Wait, 10*time.Millisecond, "the vendor's Retry-After")

	require.Equal(t, 200, tries[2].Status)
	require.NoError(t, tries[2].Err)
	require.Empty(t, tries[2].Class)
	require.Empty(t, tries[2].Message)
	require.Zero(t, tries[2].Wait)
}

// A try the open breaker refuses is not a try: OnTry is not called, and the last
// try before a give-up has no wait.
func TestHooksRefusedAndLastTries(t *testing.T) {
	t.Parallel()
	cfg := fastConfig()
	cfg.FailureThreshold = 2
	server := newFlakyServer(t, step{status: 503}, step{status: 503}, step{status: 503})
	policy := resilience.New(resilience.Options{Vendor: "samsara", Config: cfg})
	var tries []resilience.Try
	hooks := resilience.Hooks{OnTry: func(tr resilience.Try) { tries = append(tries, tr) }}

	attempts, err := policy.Do(context.Background(), server.call(), hooks)
	requireClass(t, err, resilience.ClassUnavailable)
	require.Equal(t, 2, attempts, "the breaker opened after the second failure")
	require.Len(t, tries, 2)
	require.Positive(t, tries[0].Wait)
	require.Zero(t, tries[1].Wait, "no next try: the breaker is open")
	require.Zero(t, tries[1].Status, "the call sent its request without a vendors.Requester")

	tries = nil
	attempts, err = policy.Do(context.Background(), server.call(), hooks)
	requireClass(t, err, resilience.ClassCircuitOpen)
	require.Zero(t, attempts)
	require.Empty(t, tries)
}
