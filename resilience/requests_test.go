package resilience_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/resilience"
	"github.com/sallyhq/sally/vendors"
)

// resetServer answers {"data": []} until armed, then closes the connection without
// answering (RST) for a number of requests. It is what makes net/http's Transport
// re-send a GET by itself: a reused keep-alive connection that fails before the
// first byte of the answer.
type resetServer struct {
	*httptest.Server
	t *testing.T

	mu     sync.Mutex
	armed  bool
	resets int // requests still to reset once armed; < 0: all
	seen   int // requests since armed
	warmup *sync.WaitGroup
}

func newResetServer(t *testing.T) *resetServer {
	t.Helper()
	s := &resetServer{t: t}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *resetServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	reset, warmup := false, s.warmup
	if s.armed {
		s.seen++
		if s.resets != 0 {
			reset = true
			s.resets--
		}
	}
	s.mu.Unlock()
	if reset {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			s.t.Errorf("hijack: %v", err)
			return
		}
		_ = conn.(*net.TCPConn).SetLinger(0)
		_ = conn.Close()
		return
	}
	if warmup != nil {
		warmup.Done()
		warmup.Wait() // every warm-up request holds its own connection
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"data": []}`))
}

// warm leaves n idle keep-alive connections to the server in client's pool.
func (s *resetServer) warm(t *testing.T, client *http.Client, n int) {
	t.Helper()
	var wg sync.WaitGroup
	wg.Add(n)
	s.mu.Lock()
	s.warmup = &wg
	s.mu.Unlock()
	var done sync.WaitGroup
	for range n {
		done.Go(func() {
			req := &vendors.Requester{Vendor: "samsara", Client: client}
			if err := req.Get(context.Background(), s.URL, func([]byte) error { return nil }); err != nil {
				t.Errorf("warm-up: %v", err)
			}
		})
	}
	done.Wait()
	s.mu.Lock()
	s.warmup = nil
	s.mu.Unlock()
}

// arm resets the next n requests (all of them when n < 0) and counts from now on.
func (s *resetServer) arm(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.armed, s.resets, s.seen = true, n, 0
}

// requests returns how many requests arrived since arm.
func (s *resetServer) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen
}

// TestDoCountsHiddenResends makes vendor calls through vendors.Requester and a
// keep-alive client: each try's hidden re-sends count as tries, the tries together
// never send more than MaxAttempts requests, and Do returns what was sent.
func TestDoCountsHiddenResends(t *testing.T) {
	t.Parallel()

	type result struct {
		attempts int
		err      error
		retries  []int // OnRetry's attempt, in order
		reused   bool  // the first request went on a reused connection
	}
	run := func(t *testing.T, cfg resilience.Config, s *resetServer, client *http.Client) result {
		t.Helper()
		var (
			mu  sync.Mutex
			res result
		)
		policy := resilience.New(resilience.Options{Vendor: "samsara", Config: cfg})
		hooks := resilience.Hooks{
			OnRetry: func(attempt int, _ error, _ time.Duration) {
				mu.Lock()
				defer mu.Unlock()
				res.retries = append(res.retries, attempt)
			},
		}
		var first atomic.Bool
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) {
				if first.CompareAndSwap(false, true) {
					res.reused = info.Reused
				}
			},
		})
		req := &vendors.Requester{
			Vendor: "samsara",
			Client: client,
			Do: func(ctx context.Context, call func(ctx context.Context) error) error {
				var err error
				res.attempts, err = policy.Do(ctx, call, hooks)
				return err
			},
		}
		doneWithin(t, 10*time.Second, func() {
			res.err = req.Get(ctx, s.URL+"/v1/drivers", func([]byte) error { return nil })
		})
		mu.Lock()
		defer mu.Unlock()
		return res
	}
	// requireRetries checks that OnRetry counted like Do: increasing, below attempts.
	requireRetries := func(t *testing.T, r result) {
		t.Helper()
		for i, a := range r.retries {
			require.Positive(t, a)
			require.Less(t, a, r.attempts)
			if i > 0 {
				require.Greater(t, a, r.retries[i-1])
			}
		}
	}

	// One idle connection is the audit's case; with more, the Transport re-sends
	// again and again within one try, on the next kept connection.
	for _, pool := range []struct {
		name string
		idle int
	}{{"OneIdleConnection", 1}, {"FourIdleConnections", 4}} {
		idle := pool.idle
		t.Run("EveryRequestReset/"+pool.name, func(t *testing.T) {
			t.Parallel()
			s := newResetServer(t)
			client := vendors.NewHTTPClient()
			t.Cleanup(client.CloseIdleConnections)
			s.warm(t, client, idle)
			s.arm(-1)

			r := run(t, fastConfig(), s, client)

			require.True(t, r.reused, "the call must start on a kept connection")
			requireClass(t, r.err, resilience.ClassNetwork)
			require.Equal(t, 3, s.requests(), "MaxAttempts requests, hidden re-sends included")
			require.Equal(t, s.requests(), r.attempts)
			requireRetries(t, r)
		})

		t.Run("TwoResetsThenSuccess/"+pool.name, func(t *testing.T) {
			t.Parallel()
			s := newResetServer(t)
			client := vendors.NewHTTPClient()
			t.Cleanup(client.CloseIdleConnections)
			s.warm(t, client, idle)
			s.arm(2)

			r := run(t, fastConfig(), s, client)

			require.True(t, r.reused, "the call must start on a kept connection")
			require.NoError(t, r.err)
			require.Equal(t, 3, s.requests())
			require.Equal(t, 3, r.attempts)
			requireRetries(t, r)
		})
	}

	t.Run("OneAttemptSendsOneRequest", func(t *testing.T) {
		t.Parallel()
		cfg := fastConfig()
		cfg.MaxAttempts = 1
		s := newResetServer(t)
		client := vendors.NewHTTPClient()
		t.Cleanup(client.CloseIdleConnections)
		s.warm(t, client, 2)
		s.arm(-1)

		r := run(t, cfg, s, client)

		requireClass(t, r.err, resilience.ClassNetwork)
		require.False(t, r.reused, "the last request of the budget goes on a new connection")
		require.Equal(t, 1, s.requests())
		require.Equal(t, 1, r.attempts)
		require.Empty(t, r.retries)
	})

	t.Run("HealthyCallsKeepTheirConnection", func(t *testing.T) {
		t.Parallel()
		s := newResetServer(t)
		client := vendors.NewHTTPClient()
		t.Cleanup(client.CloseIdleConnections)
		s.warm(t, client, 1)
		s.arm(0)

		r := run(t, fastConfig(), s, client)

		require.NoError(t, r.err)
		require.True(t, r.reused, "keep-alive stays on for a try with budget to spare")
		require.Equal(t, 1, r.attempts)
		require.Equal(t, 1, s.requests())
	})

	t.Run("FailedDialsCountOneTryEach", func(t *testing.T) {
		t.Parallel()
		s := newResetServer(t)
		client := vendors.NewHTTPClient()
		t.Cleanup(client.CloseIdleConnections)
		s.Close()

		r := run(t, fastConfig(), s, client)

		requireClass(t, r.err, resilience.ClassNetwork)
		require.Equal(t, 3, r.attempts)
		require.Equal(t, []int{1, 2}, r.retries)
	})

	t.Run("TestOnceSendsOneRequest", func(t *testing.T) {
		t.Parallel()
		s := newResetServer(t)
		client := vendors.NewHTTPClient()
		t.Cleanup(client.CloseIdleConnections)
		s.warm(t, client, 2)
		s.arm(-1)
		policy := resilience.New(resilience.Options{Vendor: "samsara", Config: fastConfig()})
		req := &vendors.Requester{Vendor: "samsara", Client: client, Do: policy.TestOnce}

		err := req.Get(context.Background(), s.URL, func([]byte) error { return nil })

		requireClass(t, err, resilience.ClassNetwork)
		require.Equal(t, 1, s.requests())
	})
}
