package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/internal/testclock"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/store"
)

func TestThrottle(t *testing.T) {
	ctx := context.Background()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		// Each subtest has its own emails: they share the database.
		setup := func() (*store.Throttle, *testclock.Clock) {
			clk := testclock.New(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
			return s.NewThrottle(auth.DefaultMaxFailures, auth.DefaultWindow, clk.Now), clk
		}
		allowed := func(th *store.Throttle, email string) bool {
			ok, err := th.Allowed(ctx, email)
			require.NoError(t, err)
			return ok
		}
		failures := func(th *store.Throttle, email string) int {
			n, err := th.Failures(ctx, email)
			require.NoError(t, err)
			return n
		}
		failN := func(th *store.Throttle, email string, n int) {
			for range n {
				require.NoError(t, th.Fail(ctx, email))
			}
		}

		t.Run("EleventhAttemptRefused", func(t *testing.T) {
			th, clk := setup()
			for i := range 10 {
				require.True(t, allowed(th, "bob@eleventh.example"), "attempt %d", i+1)
				require.NoError(t, th.Fail(ctx, "bob@eleventh.example"))
				clk.Add(time.Second)
			}
			require.False(t, allowed(th, "bob@eleventh.example"))
			require.Equal(t, 10, failures(th, "bob@eleventh.example"))
			require.True(t, allowed(th, "carol@eleventh.example"), "other emails are unaffected")
		})

		t.Run("SharedByReplicas", func(t *testing.T) {
			// Two throttles over one database are two replicas: they count together.
			a, _ := setup()
			b, _ := setup()
			failN(a, "bob@replicas.example", 6)
			failN(b, "bob@replicas.example", 4)
			require.False(t, allowed(a, "bob@replicas.example"))
			require.False(t, allowed(b, "bob@replicas.example"))
			require.NoError(t, a.Succeed(ctx, "bob@replicas.example"))
			require.True(t, allowed(b, "bob@replicas.example"))
		})

		t.Run("NormalizesEmail", func(t *testing.T) {
			th, _ := setup()
			failN(th, " Bob@Normal.EXAMPLE ", 5)
			failN(th, "bob@normal.example", 5)
			require.False(t, allowed(th, "BOB@normal.example"))
		})

		t.Run("AllowedAgainAfterWindow", func(t *testing.T) {
			th, clk := setup()
			failN(th, "bob@window.example", 10)
			clk.Add(auth.DefaultWindow - time.Second)
			require.False(t, allowed(th, "bob@window.example"))
			clk.Add(time.Second)
			require.True(t, allowed(th, "bob@window.example"))
			require.Equal(t, 0, failures(th, "bob@window.example"))
		})

		t.Run("SlidingWindow", func(t *testing.T) {
			th, clk := setup()
			failN(th, "bob@sliding.example", 5)
			clk.Add(10 * time.Minute)
			failN(th, "bob@sliding.example", 5)
			require.False(t, allowed(th, "bob@sliding.example"))
			clk.Add(5 * time.Minute) // the first five leave the window
			require.True(t, allowed(th, "bob@sliding.example"))
			require.Equal(t, 5, failures(th, "bob@sliding.example"))
		})

		t.Run("SuccessClears", func(t *testing.T) {
			th, _ := setup()
			failN(th, "bob@success.example", 9)
			require.NoError(t, th.Succeed(ctx, "BOB@success.example"))
			require.Equal(t, 0, failures(th, "bob@success.example"))
			failN(th, "bob@success.example", 9)
			require.True(t, allowed(th, "bob@success.example"))
		})

		t.Run("OldFailuresSwept", func(t *testing.T) {
			// Last: it sweeps every email's old failures, the other subtests' included.
			th, clk := setup()
			for i := range 50 {
				require.NoError(t, th.Fail(ctx, fmt.Sprintf("user%d@sweep.example", i)))
			}
			n, err := th.Len(ctx)
			require.NoError(t, err)
			require.GreaterOrEqual(t, n, 50)
			clk.Add(auth.DefaultWindow + time.Hour) // later than every other subtest's clock
			require.NoError(t, th.Fail(ctx, "late@sweep.example"))
			n, err = th.Len(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, n, "failures older than the window are deleted")
		})
	})
}
