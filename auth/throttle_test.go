package auth_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/auth"
)

func TestThrottle(t *testing.T) {
	t.Parallel()

	setup := func(t *testing.T) (*auth.Throttle, *clock) {
		t.Helper()
		clk := newClock()
		return auth.NewThrottle(auth.DefaultMaxFailures, auth.DefaultWindow, clk.Now), clk
	}
	failN := func(th *auth.Throttle, email string, n int) {
		for range n {
			th.Fail(email)
		}
	}

	t.Run("EleventhAttemptRefused", func(t *testing.T) {
		t.Parallel()
		th, clk := setup(t)
		for i := range 10 {
			require.True(t, th.Allowed("bob@example.com"), "attempt %d", i+1)
			th.Fail("bob@example.com")
			clk.Add(time.Second)
		}
		require.False(t, th.Allowed("bob@example.com"))
		require.Equal(t, 10, th.Failures("bob@example.com"))
		require.True(t, th.Allowed("carol@example.com"), "other emails are unaffected")
	})

	t.Run("NormalizesEmail", func(t *testing.T) {
		t.Parallel()
		th, _ := setup(t)
		failN(th, " Bob@Example.COM ", 5)
		failN(th, "bob@example.com", 5)
		require.False(t, th.Allowed("BOB@example.com"))
	})

	t.Run("AllowedAgainAfterWindow", func(t *testing.T) {
		t.Parallel()
		th, clk := setup(t)
		failN(th, "bob@example.com", 10)
		clk.Add(auth.DefaultWindow - time.Second)
		require.False(t, th.Allowed("bob@example.com"))
		clk.Add(time.Second)
		require.True(t, th.Allowed("bob@example.com"))
		require.Equal(t, 0, th.Failures("bob@example.com"))
	})

	t.Run("SlidingWindow", func(t *testing.T) {
		t.Parallel()
		th, clk := setup(t)
		failN(th, "bob@example.com", 5)
		clk.Add(10 * time.Minute)
		failN(th, "bob@example.com", 5)
		require.False(t, th.Allowed("bob@example.com"))
		clk.Add(5 * time.Minute) // the first five leave the window
		require.True(t, th.Allowed("bob@example.com"))
		require.Equal(t, 5, th.Failures("bob@example.com"))
	})

	t.Run("SuccessClears", func(t *testing.T) {
		t.Parallel()
		th, _ := setup(t)
		failN(th, "bob@example.com", 9)
		th.Succeed("BOB@example.com")
		require.Equal(t, 0, th.Failures("bob@example.com"))
		failN(th, "bob@example.com", 9)
		require.True(t, th.Allowed("bob@example.com"))
	})

	t.Run("MemoryBounded", func(t *testing.T) {
		t.Parallel()
		th, clk := setup(t)
		th.MaxTracked = 100
		for i := range 1000 {
			th.Fail(fmt.Sprintf("user%d@example.com", i))
			clk.Add(time.Millisecond)
		}
		require.LessOrEqual(t, th.Len(), 100)
		require.Equal(t, 1, th.Failures("user999@example.com"), "the newest are kept")

		clk.Add(auth.DefaultWindow)
		th.Fail("late@example.com")
		require.Equal(t, 1, th.Len(), "expired emails are swept")
	})
}

func TestFailureDelay(t *testing.T) {
	t.Parallel()

	tests := []struct {
		n    int
		want time.Duration
	}{
		{n: -1, want: 0},
		{n: 0, want: 0},
		{n: 1, want: 250 * time.Millisecond},
		{n: 2, want: 500 * time.Millisecond},
		{n: 3, want: time.Second},
		{n: 4, want: 2 * time.Second},
		{n: 10, want: 2 * time.Second},
		{n: 1 << 30, want: auth.MaxFailureDelay},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, auth.FailureDelay(tt.n))
		})
	}
}
