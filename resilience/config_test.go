package resilience_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/resilience"
	"github.com/sallyhq/sally/vendors"
)

func TestDefaultConfig(t *testing.T) {
	t.Parallel()
	c := resilience.DefaultConfig()
	require.Equal(t, 3, c.MaxAttempts)
	require.Equal(t, time.Second, c.BaseDelay)
	require.Equal(t, 10*time.Second, c.MaxDelay)
	require.Equal(t, 60*time.Second, c.MaxRetryAfter)
	require.Equal(t, 5, c.FailureThreshold)
	require.Equal(t, 60*time.Second, c.OpenDelay)
	require.Equal(t, 16, c.MaxConcurrent)
	require.Equal(t, 2*time.Minute, c.MaxTotal)
}

func TestSettingsFor(t *testing.T) {
	t.Parallel()
	s := resilience.Settings{
		Default:   resilience.Config{MaxAttempts: 4},
		PerVendor: map[string]resilience.Config{"openweather": {MaxConcurrent: 2, OpenDelay: 5 * time.Minute}},
	}

	ow := s.For("openweather")
	require.Equal(t, 2, ow.MaxConcurrent)
	require.Equal(t, 5*time.Minute, ow.OpenDelay)
	require.Equal(t, 4, ow.MaxAttempts, "from Default")
	require.Equal(t, resilience.DefaultBaseDelay, ow.BaseDelay, "from the package defaults")

	sam := s.For("samsara")
	require.Equal(t, resilience.DefaultMaxConcurrent, sam.MaxConcurrent)
	require.Equal(t, 4, sam.MaxAttempts)
}

func TestConfigDelay(t *testing.T) {
	t.Parallel()
	c := resilience.Config{BaseDelay: time.Second, MaxDelay: 10 * time.Second, MaxRetryAfter: time.Minute}

	t.Run("BackoffDoublesUpToMaxWithPositiveJitter", func(t *testing.T) {
		t.Parallel()
		for try, base := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 30: 10 * time.Second} {
			for range 50 {
				d := c.Delay(try, &vendors.Error{Kind: vendors.KindUnavailable})
				require.GreaterOrEqual(t, d, base, "try %d", try)
				require.LessOrEqual(t, d, base+base/4, "try %d", try)
			}
		}
	})

	t.Run("RetryAfterIsHonouredStrictly", func(t *testing.T) {
		t.Parallel()
		for range 50 {
			d := c.Delay(1, &vendors.Error{Kind: vendors.KindRateLimited, RetryAfter: 402 * time.Millisecond})
			require.GreaterOrEqual(t, d, 402*time.Millisecond)
			require.LessOrEqual(t, d, 402*time.Millisecond+41*time.Millisecond)
		}
	})

	t.Run("RetryAfterIsCapped", func(t *testing.T) {
		t.Parallel()
		d := c.Delay(1, &vendors.Error{Kind: vendors.KindRateLimited, RetryAfter: time.Hour})
		require.GreaterOrEqual(t, d, time.Minute)
		require.LessOrEqual(t, d, time.Minute+6*time.Second)
	})
}
