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

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}

	t.Run("EmptyMeansDefaults", func(t *testing.T) {
		t.Parallel()
		c, err := resilience.ConfigFromEnv(env(nil))
		require.NoError(t, err)
		require.Equal(t, resilience.DefaultConfig(), c)
	})

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		c, err := resilience.ConfigFromEnv(env(map[string]string{
			"RETRY_MAX_ATTEMPTS":        "5",
			"RETRY_BASE_DELAY":          "250ms",
			"RETRY_MAX_DELAY":           "30", // bare seconds
			"CIRCUIT_FAILURE_THRESHOLD": "10",
			"CIRCUIT_OPEN_SECONDS":      "90",
		}))
		require.NoError(t, err)
		want := resilience.DefaultConfig()
		want.MaxAttempts = 5
		want.BaseDelay = 250 * time.Millisecond
		want.MaxDelay = 30 * time.Second
		want.FailureThreshold = 10
		want.OpenDelay = 90 * time.Second
		require.Equal(t, want, c)
	})

	bad := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"MaxAttemptsNotANumber", map[string]string{"RETRY_MAX_ATTEMPTS": "three"}, []string{`RETRY_MAX_ATTEMPTS: "three"`}},
		{"MaxAttemptsZero", map[string]string{"RETRY_MAX_ATTEMPTS": "0"}, []string{"RETRY_MAX_ATTEMPTS"}},
		{"BaseDelayGarbage", map[string]string{"RETRY_BASE_DELAY": "1 sec"}, []string{`RETRY_BASE_DELAY: "1 sec" is not a duration`}},
		{"MaxDelayNegative", map[string]string{"RETRY_MAX_DELAY": "-5s"}, []string{"RETRY_MAX_DELAY", "longer than zero"}},
		{"BaseLongerThanMax", map[string]string{"RETRY_BASE_DELAY": "20s"}, []string{"RETRY_BASE_DELAY (20s) is longer than RETRY_MAX_DELAY (10s)"}},
		{"ThresholdNegative", map[string]string{"CIRCUIT_FAILURE_THRESHOLD": "-1"}, []string{"CIRCUIT_FAILURE_THRESHOLD"}},
		{"OpenSecondsGarbage", map[string]string{"CIRCUIT_OPEN_SECONDS": "a minute"}, []string{"CIRCUIT_OPEN_SECONDS", "seconds"}},
		{"EveryErrorReported", map[string]string{"RETRY_MAX_ATTEMPTS": "x", "CIRCUIT_OPEN_SECONDS": "0"}, []string{"RETRY_MAX_ATTEMPTS", "CIRCUIT_OPEN_SECONDS"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := resilience.ConfigFromEnv(env(tt.env))
			require.Error(t, err)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
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
