package resilience_test

import (
	"context"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/resilience"
)

// doneWithin runs f and fails the test if it has not returned after limit: a guard
// against hangs, generous enough never to measure speed.
func doneWithin(t *testing.T, limit time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("still running after %s", limit)
	}
}

func TestDoRetries(t *testing.T) {
	t.Parallel()

	t.Run("UnavailableTwiceThenSuccess", func(t *testing.T) {
		t.Parallel()
		type retry struct {
			attempt int
			class   resilience.Class
			wait    time.Duration
		}
		var (
			mu      sync.Mutex
			retries []retry
		)
		server := newFlakyServer(t, step{status: 503}, step{status: 503}, step{status: 200})
		policy := resilience.New(resilience.Options{Vendor: "samsara", Config: fastConfig()})

		attempts, err := policy.Do(context.Background(), server.call(), resilience.Hooks{
			OnRetry: func(attempt int, err error, wait time.Duration) {
				mu.Lock()
				defer mu.Unlock()
				retries = append(retries, retry{attempt, resilience.Classify(err), wait})
			},
		})
		require.NoError(t, err)
		require.Equal(t, 3, attempts)
		require.Equal(t, 3, server.requests())
		require.Len(t, retries, 2)
		for i, r := range retries {
			require.Equal(t, i+1, r.attempt)
			require.Equal(t, resilience.ClassUnavailable, r.class)
			require.GreaterOrEqual(t, r.wait, time.Millisecond)
		}
		require.Equal(t, resilience.StateClosed, policy.State())
	})

	t.Run("RetryAfterSetsTheWait", func(t *testing.T) {
		t.Parallel()
		s := newSetup(t, fastConfig(), step{status: 429, retryAfter: "0.2"}, step{status: 200})

		attempts, err := s.do(t)
		require.NoError(t, err)
		require.Equal(t, 2, attempts)
		gaps := s.server.gaps()
		require.Len(t, gaps, 1)
		require.GreaterOrEqual(t, gaps[0], 200*time.Millisecond, "the vendor asked for 0.2 s")
	})

	t.Run("RetryAfterIsCapped", func(t *testing.T) {
		t.Parallel()
		cfg := fastConfig()
		cfg.MaxRetryAfter = 10 * time.Millisecond
		var wait time.Duration
		server := newFlakyServer(t, step{status: 503, retryAfter: "30"}, step{status: 200})
		policy := resilience.New(resilience.Options{Vendor: "samsara", Config: cfg})
		hooks := resilience.Hooks{OnRetry: func(_ int, _ error, w time.Duration) { wait = w }}

		var attempts int
		var err error
		doneWithin(t, 10*time.Second, func() { attempts, err = policy.Do(context.Background(), server.call(), hooks) })
		require.NoError(t, err)
		require.Equal(t, 2, attempts)
		require.GreaterOrEqual(t, wait, 10*time.Millisecond)
		require.LessOrEqual(t, wait, 11*time.Millisecond, "capped, plus at most a tenth of jitter")
	})

	t.Run("ConnectionResetIsRetried", func(t *testing.T) {
		t.Parallel()
		s := newSetup(t, fastConfig(), step{reset: true}, step{status: 200})

		attempts, err := s.do(t)
		require.NoError(t, err)
		require.Equal(t, 2, attempts)
		require.Equal(t, 2, s.server.requests())
	})

	t.Run("AttemptTimeoutIsRetried", func(t *testing.T) {
		t.Parallel()
		cfg := fastConfig()
		cfg.AttemptTimeout = 20 * time.Millisecond
		s := newSetup(t, cfg, step{hang: true}, step{status: 200})

		attempts, err := s.do(t)
		require.NoError(t, err)
		require.Equal(t, 2, attempts)
	})

	t.Run("UnauthorizedIsNotRetried", func(t *testing.T) {
		t.Parallel()
		s := newSetup(t, fastConfig(), step{status: 401})

		attempts, err := s.do(t)
		requireClass(t, err, resilience.ClassAuth)
		require.Equal(t, 1, attempts)
		require.Equal(t, 1, s.server.requests())
		require.Equal(t, "unauthorized: the vendor rejected the API key", resilience.Describe(err))
	})

	t.Run("ClientErrorsAreNotRetried", func(t *testing.T) {
		t.Parallel()
		for _, status := range []int{400, 403, 404} {
			s := newSetup(t, fastConfig(), step{status: status})
			attempts, err := s.do(t)
			requireClass(t, err, resilience.ClassAuth)
			require.Equal(t, 1, attempts, "status %d", status)
		}
	})

	t.Run("BadResponseIsNotRetried", func(t *testing.T) {
		t.Parallel()
		s := newSetup(t, fastConfig(), step{malformed: true}, step{status: 200})

		attempts, err := s.do(t)
		requireClass(t, err, resilience.ClassBadResponse)
		require.Equal(t, 1, attempts)
		require.Equal(t, 1, s.server.requests())
	})

	t.Run("GivesUpAfterMaxAttempts", func(t *testing.T) {
		t.Parallel()
		s := newSetup(t, fastConfig(), step{status: 502})

		attempts, err := s.do(t)
		requireClass(t, err, resilience.ClassUnavailable)
		require.Equal(t, 3, attempts)
		require.Equal(t, 3, s.server.requests())
		require.Equal(t, "vendor unavailable: samsara answered with a server error (HTTP 502)", resilience.Describe(err))
	})

	t.Run("StopsWhenTheNextWaitWouldPassMaxTotal", func(t *testing.T) {
		t.Parallel()
		cfg := fastConfig()
		cfg.MaxAttempts = 10
		cfg.BaseDelay = 20 * time.Millisecond // waits of 20, 40, 80 ms (+ up to 25 %)
		cfg.MaxDelay = time.Second
		cfg.MaxTotal = 100 * time.Millisecond
		s := newSetup(t, cfg, step{status: 503})

		attempts, err := s.do(t)
		requireClass(t, err, resilience.ClassUnavailable) // the vendor's error, not a timeout of ours
		require.GreaterOrEqual(t, attempts, 2)
		require.LessOrEqual(t, attempts, 3)
	})

	t.Run("StopsWhenTheNextWaitWouldPassTheCallersDeadline", func(t *testing.T) {
		t.Parallel()
		s := newSetup(t, fastConfig(), step{status: 429, retryAfter: "1"})
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()

		attempts, err := s.policy.Do(ctx, s.server.call(), resilience.Hooks{})
		requireClass(t, err, resilience.ClassRateLimited)
		require.Equal(t, 1, attempts)
	})

	t.Run("CallerCancelDuringTheWaitStopsAtOnce", func(t *testing.T) {
		t.Parallel()
		cfg := fastConfig()
		cfg.MaxRetryAfter = time.Minute
		cfg.MaxTotal = 2 * time.Minute
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		server := newFlakyServer(t, step{status: 503, retryAfter: "50"})
		policy := resilience.New(resilience.Options{Vendor: "samsara", Config: cfg})
		hooks := resilience.Hooks{OnRetry: func(int, error, time.Duration) { cancel() }}

		var attempts int
		var err error
		doneWithin(t, 10*time.Second, func() { attempts, err = policy.Do(ctx, server.call(), hooks) })
		requireClass(t, err, resilience.ClassCanceled)
		require.Equal(t, 1, attempts)
		require.Equal(t, 1, server.requests())
	})

	t.Run("CallerCancelDuringTheCallIsNotRetriedNorCounted", func(t *testing.T) {
		t.Parallel()
		cfg := fastConfig()
		cfg.FailureThreshold = 1
		s := newSetup(t, cfg, step{hang: true})
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			for s.server.requests() == 0 {
				time.Sleep(time.Millisecond)
			}
			cancel()
		}()

		var attempts int
		var err error
		doneWithin(t, 10*time.Second, func() { attempts, err = s.policy.Do(ctx, s.server.call(), resilience.Hooks{}) })
		requireClass(t, err, resilience.ClassCanceled)
		require.Equal(t, 1, attempts)
		require.Equal(t, resilience.StateClosed, s.policy.State(), "a canceled call says nothing about the vendor")
	})

	t.Run("CanceledContextMakesNoCall", func(t *testing.T) {
		t.Parallel()
		s := newSetup(t, fastConfig(), step{status: 200})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()

		attempts, err := s.policy.Do(ctx, s.server.call(), resilience.Hooks{})
		requireClass(t, err, resilience.ClassCanceled)
		require.Equal(t, 0, attempts)
		require.Equal(t, 0, s.server.requests())
	})
}

func TestBreaker(t *testing.T) {
	t.Parallel()

	oneTry := func() resilience.Config {
		cfg := fastConfig()
		cfg.MaxAttempts = 1
		return cfg
	}
	nextTry := regexp.MustCompile(`^circuit open: calls to samsara are paused after repeated failures; next try after \d\d:\d\d:\d\dZ$`)

	t.Run("OpensAfterConsecutiveHealthFailuresAndRefusesCalls", func(t *testing.T) {
		t.Parallel()
		s := newSetup(t, oneTry(), step{status: 503})

		for i := range 5 {
			require.Equal(t, resilience.StateClosed, s.policy.State(), "before failure %d", i+1)
			_, err := s.do(t)
			requireClass(t, err, resilience.ClassUnavailable)
		}
		require.Equal(t, resilience.StateOpen, s.policy.State())
		require.False(t, s.policy.OpenedAt().IsZero())

		for range 3 {
			attempts, err := s.do(t)
			requireClass(t, err, resilience.ClassCircuitOpen)
			require.Equal(t, 0, attempts)
			require.Regexp(t, nextTry, resilience.Describe(err))
		}
		require.Equal(t, 5, s.server.requests(), "an open breaker does not touch the vendor")
		require.Equal(t, []string{"CLOSED>OPEN"}, s.trans.get())
	})

	t.Run("RetriesStopWhenTheBreakerOpens", func(t *testing.T) {
		t.Parallel()
		cfg := fastConfig()
		cfg.MaxAttempts = 5
		cfg.FailureThreshold = 2
		s := newSetup(t, cfg, step{status: 500})

		attempts, err := s.do(t)
		requireClass(t, err, resilience.ClassUnavailable) // the vendor's error, not "circuit open"
		require.Equal(t, 2, attempts)
		require.Equal(t, 2, s.server.requests())
		require.Equal(t, resilience.StateOpen, s.policy.State())
	})

	t.Run("CountsEveryHealthClass", func(t *testing.T) {
		t.Parallel()
		cfg := oneTry()
		cfg.AttemptTimeout = 20 * time.Millisecond
		s := newSetup(t, cfg, step{status: 429}, step{status: 500}, step{reset: true}, step{hang: true}, step{status: 503})

		for range 5 {
			_, err := s.do(t)
			require.True(t, resilience.Classify(err).VendorHealth(), "%v", err)
		}
		require.Equal(t, resilience.StateOpen, s.policy.State())
	})

	t.Run("UnauthorizedDoesNotCount", func(t *testing.T) {
		t.Parallel()
		s := newSetup(t, oneTry(), step{status: 401})

		for range 5 {
			attempts, err := s.do(t)
			requireClass(t, err, resilience.ClassAuth)
			require.Equal(t, 1, attempts)
		}
		require.Equal(t, resilience.StateClosed, s.policy.State())
		require.Equal(t, 5, s.server.requests())
		require.Empty(t, s.trans.get())
	})

	t.Run("NonHealthErrorsNeitherCountNorResetTheRun", func(t *testing.T) {
		t.Parallel()
		s := newSetup(t, oneTry(),
			step{status: 503}, step{status: 503}, step{status: 503}, step{status: 503},
			step{status: 401}, step{malformed: true}, step{status: 404},
			step{status: 503})

		for range 7 {
			_, _ = s.do(t)
		}
		require.Equal(t, resilience.StateClosed, s.policy.State(), "four health failures so far")
		_, _ = s.do(t)
		require.Equal(t, resilience.StateOpen, s.policy.State(), "the fifth opens it")
	})

	t.Run("SuccessResetsTheRun", func(t *testing.T) {
		t.Parallel()
		s := newSetup(t, oneTry(),
			step{status: 503}, step{status: 503}, step{status: 503}, step{status: 503},
			step{status: 200},
			step{status: 503}, step{status: 503}, step{status: 503}, step{status: 503})

		for range 9 {
			_, _ = s.do(t)
		}
		require.Equal(t, resilience.StateClosed, s.policy.State())
	})

	t.Run("ProbeAfterOpenDelayClosesOnSuccess", func(t *testing.T) {
		t.Parallel()
		cfg := oneTry()
		cfg.OpenDelay = 30 * time.Millisecond
		s := newSetup(t, cfg,
			step{status: 503}, step{status: 503}, step{status: 503}, step{status: 503}, step{status: 503},
			step{status: 200})
		for range 5 {
			_, _ = s.do(t)
		}
		require.Equal(t, resilience.StateOpen, s.policy.State())

		time.Sleep(40 * time.Millisecond)
		require.Equal(t, resilience.StateOpen, s.policy.State(), "half-open comes with the next call")
		attempts, err := s.do(t)
		require.NoError(t, err)
		require.Equal(t, 1, attempts)
		require.Equal(t, resilience.StateClosed, s.policy.State())
		require.True(t, s.policy.OpenedAt().IsZero())
		require.Equal(t, []string{"CLOSED>OPEN", "OPEN>HALF_OPEN", "HALF_OPEN>CLOSED"}, s.trans.get())
	})

	t.Run("ProbeReopensOnFailure", func(t *testing.T) {
		t.Parallel()
		cfg := fastConfig() // three tries allowed, but a failed probe re-opens at once
		cfg.FailureThreshold = 1
		cfg.OpenDelay = 30 * time.Millisecond
		s := newSetup(t, cfg, step{status: 503})
		_, _ = s.do(t)
		require.Equal(t, resilience.StateOpen, s.policy.State())
		firstOpened := s.policy.OpenedAt()

		time.Sleep(40 * time.Millisecond)
		attempts, err := s.do(t)
		requireClass(t, err, resilience.ClassUnavailable)
		require.Equal(t, 1, attempts)
		require.Equal(t, resilience.StateOpen, s.policy.State())
		require.True(t, s.policy.OpenedAt().After(firstOpened))
		require.Equal(t, 2, s.server.requests())
		require.Equal(t, []string{"CLOSED>OPEN", "OPEN>HALF_OPEN", "HALF_OPEN>OPEN"}, s.trans.get())
	})

	t.Run("ProbeAnsweredWithUnauthorizedCloses", func(t *testing.T) {
		t.Parallel()
		cfg := oneTry()
		cfg.FailureThreshold = 1
		cfg.OpenDelay = 30 * time.Millisecond
		s := newSetup(t, cfg, step{status: 503}, step{status: 401})
		_, _ = s.do(t)
		time.Sleep(40 * time.Millisecond)

		_, err := s.do(t)
		requireClass(t, err, resilience.ClassAuth) // the real problem, not "circuit open"
		require.Equal(t, resilience.StateClosed, s.policy.State(), "the vendor answered, so it is up")
	})

	t.Run("RestoredOpenStaysOpenUntilItsDelayPasses", func(t *testing.T) {
		t.Parallel()
		cfg := oneTry()
		cfg.OpenDelay = time.Minute
		openedAt := time.Now().Add(-time.Second)
		server := newFlakyServer(t, step{status: 200})
		trans := &transitions{}
		policy := resilience.New(resilience.Options{
			Vendor: "samsara", Config: cfg,
			InitialState: resilience.StateOpen, OpenedAt: openedAt,
			OnStateChange: trans.record,
		})

		require.Equal(t, resilience.StateOpen, policy.State())
		require.True(t, policy.OpenedAt().Equal(openedAt))
		attempts, err := policy.Do(context.Background(), server.call(), resilience.Hooks{})
		requireClass(t, err, resilience.ClassCircuitOpen)
		require.Equal(t, 0, attempts)
		require.Equal(t, 0, server.requests())
		var re *resilience.Error
		require.ErrorAs(t, err, &re)
		require.WithinDuration(t, openedAt.Add(time.Minute), re.RetryAt, 5*time.Second)
		require.Empty(t, trans.get(), "restoring is not a transition")
	})

	t.Run("RestoredOpenFromLongAgoGoesHalfOpenOnNextCall", func(t *testing.T) {
		t.Parallel()
		cfg := oneTry()
		cfg.OpenDelay = time.Minute
		server := newFlakyServer(t, step{status: 200})
		trans := &transitions{}
		policy := resilience.New(resilience.Options{
			Vendor: "samsara", Config: cfg,
			InitialState: resilience.StateOpen, OpenedAt: time.Now().Add(-2 * time.Hour),
			OnStateChange: trans.record,
		})

		require.Equal(t, resilience.StateOpen, policy.State())
		attempts, err := policy.Do(context.Background(), server.call(), resilience.Hooks{})
		require.NoError(t, err)
		require.Equal(t, 1, attempts)
		require.Equal(t, resilience.StateClosed, policy.State())
		require.Equal(t, []string{"OPEN>HALF_OPEN", "HALF_OPEN>CLOSED"}, trans.get())
	})

	t.Run("RestoredOpenReopensWithTheFullDelay", func(t *testing.T) {
		t.Parallel()
		cfg := oneTry()
		cfg.OpenDelay = time.Minute
		server := newFlakyServer(t, step{status: 503})
		policy := resilience.New(resilience.Options{
			Vendor: "samsara", Config: cfg,
			InitialState: resilience.StateOpen, OpenedAt: time.Now().Add(-2 * time.Hour),
		})

		_, err := policy.Do(context.Background(), server.call(), resilience.Hooks{})
		requireClass(t, err, resilience.ClassUnavailable)
		require.Equal(t, resilience.StateOpen, policy.State())
		_, err = policy.Do(context.Background(), server.call(), resilience.Hooks{})
		var re *resilience.Error
		require.ErrorAs(t, err, &re)
		require.Greater(t, time.Until(re.RetryAt), 50*time.Second, "OpenDelay, not the restored remainder")
	})

	t.Run("RestoredHalfOpenLetsOneProbeThrough", func(t *testing.T) {
		t.Parallel()
		cfg := oneTry()
		server := newFlakyServer(t, step{status: 503})
		trans := &transitions{}
		policy := resilience.New(resilience.Options{
			Vendor: "samsara", Config: cfg,
			InitialState: resilience.StateHalfOpen, OnStateChange: trans.record,
		})
		require.Equal(t, resilience.StateHalfOpen, policy.State())

		attempts, err := policy.Do(context.Background(), server.call(), resilience.Hooks{})
		requireClass(t, err, resilience.ClassUnavailable)
		require.Equal(t, 1, attempts)
		require.Equal(t, resilience.StateOpen, policy.State())
		require.Equal(t, []string{"HALF_OPEN>OPEN"}, trans.get())
	})
}

func TestTestOnce(t *testing.T) {
	t.Parallel()

	t.Run("BypassesAnOpenBreakerWithoutRecording", func(t *testing.T) {
		t.Parallel()
		server := newFlakyServer(t, step{status: 200})
		trans := &transitions{}
		policy := resilience.New(resilience.Options{
			Vendor: "samsara", Config: fastConfig(),
			InitialState: resilience.StateOpen, OpenedAt: time.Now(),
			OnStateChange: trans.record,
		})

		require.NoError(t, policy.TestOnce(context.Background(), server.call()))
		require.Equal(t, 1, server.requests())
		require.Equal(t, resilience.StateOpen, policy.State())
		require.Empty(t, trans.get())
	})

	t.Run("MakesExactlyOneTry", func(t *testing.T) {
		t.Parallel()
		cfg := fastConfig()
		cfg.FailureThreshold = 1
		s := newSetup(t, cfg, step{status: 503}, step{status: 200})

		err := s.policy.TestOnce(context.Background(), s.server.call())
		requireClass(t, err, resilience.ClassUnavailable)
		require.Equal(t, 1, s.server.requests())
		require.Equal(t, resilience.StateClosed, s.policy.State(), "not recorded")
	})

	t.Run("HasTheAttemptTimeout", func(t *testing.T) {
		t.Parallel()
		cfg := fastConfig()
		cfg.AttemptTimeout = 20 * time.Millisecond
		s := newSetup(t, cfg, step{hang: true})

		err := s.policy.TestOnce(context.Background(), s.server.call())
		requireClass(t, err, resilience.ClassTimeout)
		require.Equal(t, "timeout: samsara did not answer in time (no answer within 20ms)", resilience.Describe(err))
	})
}

func TestBulkhead(t *testing.T) {
	t.Parallel()

	t.Run("BoundsConcurrencyAcrossIntegrationsOfAVendor", func(t *testing.T) {
		t.Parallel()
		server := newFlakyServer(t, step{latency: 20 * time.Millisecond})
		bulkheads := resilience.NewBulkheads(resilience.Settings{
			PerVendor: map[string]resilience.Config{"samsara": {MaxConcurrent: 2}},
		})
		require.Same(t, bulkheads.For("samsara"), bulkheads.For("samsara"))
		require.Equal(t, 2, bulkheads.For("samsara").MaxConcurrent())
		require.Equal(t, resilience.DefaultMaxConcurrent, bulkheads.For("truckbase").MaxConcurrent())

		policies := []*resilience.Policy{
			resilience.New(resilience.Options{Vendor: "samsara", Config: fastConfig(), Bulkhead: bulkheads.For("samsara")}),
			resilience.New(resilience.Options{Vendor: "samsara", Config: fastConfig(), Bulkhead: bulkheads.For("samsara")}),
		}
		var wg sync.WaitGroup
		errs := make(chan error, 10)
		for i := range 10 {
			wg.Go(func() {
				_, err := policies[i%2].Do(context.Background(), server.call(), resilience.Hooks{})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.Equal(t, 10, server.requests())
		require.LessOrEqual(t, server.peakInFlight(), 2)
	})

	t.Run("FullAfterItsWaitIsBusyAndNotCounted", func(t *testing.T) {
		t.Parallel()
		cfg := fastConfig()
		cfg.FailureThreshold = 1
		server := newFlakyServer(t, step{hang: true})
		bh := resilience.NewBulkhead(1, 10*time.Millisecond)
		policy := resilience.New(resilience.Options{Vendor: "samsara", Config: cfg, Bulkhead: bh})

		ctx, cancel := context.WithCancel(context.Background())
		holding := make(chan struct{})
		go func() {
			defer close(holding)
			_, _ = policy.Do(ctx, server.call(), resilience.Hooks{})
		}()
		require.Eventually(t, func() bool { return server.requests() > 0 }, 10*time.Second, time.Millisecond,
			"the first call to reach the server")

		attempts, err := policy.Do(context.Background(), server.call(), resilience.Hooks{})
		requireClass(t, err, resilience.ClassBusy)
		require.Equal(t, 0, attempts)
		require.Equal(t, 1, server.requests())
		require.Equal(t, "busy: too many calls to samsara are already in flight; try again shortly", resilience.Describe(err))
		require.Equal(t, resilience.StateClosed, policy.State())
		cancel()
		<-holding
	})
}

func TestPolicyConcurrentUse(t *testing.T) {
	t.Parallel()
	cfg := fastConfig()
	cfg.OpenDelay = 5 * time.Millisecond
	var script []step
	for i := range 40 {
		switch i % 4 {
		case 0:
			script = append(script, step{status: 503})
		case 1:
			script = append(script, step{status: 401})
		default:
			script = append(script, step{status: 200})
		}
	}
	s := newSetup(t, cfg, script...)
	s.policy = resilience.New(resilience.Options{
		Vendor: "samsara", Config: cfg, Bulkhead: resilience.NewBulkhead(4, time.Second),
		OnStateChange: s.trans.record,
	})

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				_, _ = s.policy.Do(context.Background(), s.server.call(), resilience.Hooks{})
				_ = s.policy.State()
				_ = s.policy.OpenedAt()
			}
		})
	}
	wg.Wait()
	require.Contains(t, []resilience.State{resilience.StateClosed, resilience.StateOpen, resilience.StateHalfOpen}, s.policy.State())
}

// TestFollow: a breaker adopts one that another replica opened (the state persisted
// on the integration), and nothing older than its own last change.
func TestFollow(t *testing.T) {
	t.Parallel()
	cfg := fastConfig()
	cfg.MaxAttempts = 1
	cfg.OpenDelay = time.Minute

	t.Run("AdoptsAnOpenBreaker", func(t *testing.T) {
		t.Parallel()
		server := newFlakyServer(t, step{status: 200})
		trans := &transitions{}
		policy := resilience.New(resilience.Options{Vendor: "samsara", Config: cfg, OnStateChange: trans.record})
		openedAt := time.Now().Add(-10 * time.Second)
		policy.Follow(resilience.StateOpen, openedAt)

		require.Equal(t, resilience.StateOpen, policy.State())
		attempts, err := policy.Do(context.Background(), server.call(), resilience.Hooks{})
		requireClass(t, err, resilience.ClassCircuitOpen)
		require.Equal(t, 0, attempts)
		require.Equal(t, 0, server.requests(), "the vendor is left alone")
		var re *resilience.Error
		require.ErrorAs(t, err, &re)
		require.WithinDuration(t, openedAt.Add(time.Minute), re.RetryAt, 5*time.Second, "what remains of the other replica's delay")
		require.Empty(t, trans.get(), "the replica that opened it reported it")
	})

	t.Run("IgnoresWhatItRecoveredFrom", func(t *testing.T) {
		t.Parallel()
		c := cfg
		c.FailureThreshold = 1
		c.OpenDelay = 50 * time.Millisecond
		server := newFlakyServer(t, step{status: 503}, step{status: 200}, step{status: 200})
		policy := resilience.New(resilience.Options{Vendor: "samsara", Config: c})
		_, err := policy.Do(context.Background(), server.call(), resilience.Hooks{})
		requireClass(t, err, resilience.ClassUnavailable)
		openedAt := policy.OpenedAt()
		require.Eventually(t, func() bool {
			_, err := policy.Do(context.Background(), server.call(), resilience.Hooks{})
			return err == nil
		}, 5*time.Second, 10*time.Millisecond)
		require.Equal(t, resilience.StateClosed, policy.State(), "the probe closed it")

		policy.Follow(resilience.StateOpen, openedAt) // a snapshot read before the recovery
		require.Equal(t, resilience.StateClosed, policy.State())
	})

	t.Run("IgnoresOtherStates", func(t *testing.T) {
		t.Parallel()
		policy := resilience.New(resilience.Options{Vendor: "samsara", Config: cfg})
		policy.Follow(resilience.StateHalfOpen, time.Now())
		policy.Follow(resilience.StateClosed, time.Time{})
		policy.Follow(resilience.StateOpen, time.Time{})
		policy.Follow(resilience.StateOpen, time.Now().Add(-2*time.Minute)) // its delay is over
		require.Equal(t, resilience.StateClosed, policy.State())
	})
}
