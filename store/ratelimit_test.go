package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/store"
)

func TestRateLimiter(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		// Each subtest has its own keys: they share the database.
		take := func(l *store.RateLimiter, key string, at time.Time) (bool, time.Duration) {
			t.Helper()
			ok, retry, err := l.Take(ctx, key, at)
			require.NoError(t, err)
			return ok, retry
		}

		t.Run("SlidingWindow", func(t *testing.T) {
			l := s.NewRateLimiter("tests", 3, time.Minute)
			for i := range 3 {
				ok, _ := take(l, "user-a", t0.Add(time.Duration(i)*10*time.Second))
				require.True(t, ok, "call %d", i+1)
			}
			ok, retry := take(l, "user-a", t0.Add(25*time.Second))
			require.False(t, ok, "the fourth within a minute")
			require.Equal(t, 35*time.Second, retry, "until the first call is a minute old")
			ok, _ = take(l, "user-b", t0.Add(25*time.Second))
			require.True(t, ok, "another key has its own count")
			ok, _ = take(l, "user-a", t0.Add(time.Minute))
			require.True(t, ok, "the first call left the window")
			ok, _ = take(l, "user-a", t0.Add(time.Minute+5*time.Second))
			require.False(t, ok, "the second is still in it")
		})

		t.Run("KindsApart", func(t *testing.T) {
			tests := s.NewRateLimiter("tests", 1, time.Minute)
			syncs := s.NewRateLimiter("syncs", 1, time.Minute)
			ok, _ := take(tests, "user-kinds", t0)
			require.True(t, ok)
			ok, _ = take(syncs, "user-kinds", t0)
			require.True(t, ok, "a test does not count toward syncs")
			ok, _ = take(tests, "user-kinds", t0.Add(time.Second))
			require.False(t, ok)
		})

		t.Run("SharedByReplicas", func(t *testing.T) {
			// Two limiters over one database are two replicas: they count together.
			a := s.NewRateLimiter("syncs", 30, time.Minute)
			b := s.NewRateLimiter("syncs", 30, time.Minute)
			for i := range 30 {
				l := a
				if i%2 == 1 {
					l = b
				}
				ok, _ := take(l, "user-replicas", t0.Add(time.Duration(i)*time.Second))
				require.True(t, ok, "call %d", i+1)
			}
			ok, _ := take(a, "user-replicas", t0.Add(40*time.Second))
			require.False(t, ok, "the 31st on either replica")
			ok, _ = take(b, "user-replicas", t0.Add(40*time.Second))
			require.False(t, ok)
		})

		t.Run("AtomicUnderConcurrency", func(t *testing.T) {
			// 40 calls at once over two limiters: exactly the limit gets through.
			a := s.NewRateLimiter("logins", 20, time.Minute)
			b := s.NewRateLimiter("logins", 20, time.Minute)
			var accepted atomic.Int32
			var wg sync.WaitGroup
			for i := range 40 {
				l := a
				if i%2 == 1 {
					l = b
				}
				wg.Go(func() {
					ok, _, err := l.Take(ctx, "203.0.113.7", t0.Add(time.Duration(i)*time.Millisecond))
					if err == nil && ok {
						accepted.Add(1)
					}
				})
			}
			wg.Wait()
			require.EqualValues(t, 20, accepted.Load())
		})

		t.Run("Sweep", func(t *testing.T) {
			l := s.NewRateLimiter("sweep", 5, time.Minute)
			for i := range 5 {
				take(l, "user-sweep", t0.Add(time.Duration(i)*time.Second))
			}
			n, err := l.Len(ctx)
			require.NoError(t, err)
			require.Equal(t, 5, n)
			take(l, "user-sweep", t0.Add(2*time.Minute)) // a period after the first sweep
			n, err = l.Len(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, n, "the calls that left the period are deleted")
		})
	})
}
