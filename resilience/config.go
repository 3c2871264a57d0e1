package resilience

import (
	"math/rand/v2"
	"time"

	"github.com/sallyhq/sally/vendors"
)

// Named defaults of every policy setting. runtime.md documents the ones the
// environment can change; the others are tuned here.
const (
	// DefaultMaxAttempts is how many tries one vendor call gets, the first included
	// (RETRY_MAX_ATTEMPTS).
	DefaultMaxAttempts = 3
	// DefaultBaseDelay is the first backoff wait (RETRY_BASE_DELAY).
	DefaultBaseDelay = time.Second
	// DefaultMaxDelay bounds the doubling backoff before jitter (RETRY_MAX_DELAY).
	DefaultMaxDelay = 10 * time.Second
	// DefaultMaxRetryAfter caps a vendor's Retry-After, so a confused vendor cannot
	// park a sync for an hour: the adapters' own cap (vendors.ParseRetryAfter never
	// returns more), defined once there. A Config may lower it.
	DefaultMaxRetryAfter = vendors.MaxRetryAfter
	// DefaultAttemptTimeout bounds one try. Vendor calls answer in well under a
	// second when healthy; 15 s leaves room for large pages without letting a
	// hung connection eat the whole budget.
	DefaultAttemptTimeout = 15 * time.Second
	// DefaultMaxTotal bounds one Do, tries and waits together, so a sync never hangs
	// on one call.
	DefaultMaxTotal = 2 * time.Minute
	// DefaultFailureThreshold is how many consecutive vendor-health failures open
	// the breaker (CIRCUIT_FAILURE_THRESHOLD).
	DefaultFailureThreshold = 5
	// DefaultOpenDelay is how long an open breaker refuses calls before one probe
	// (CIRCUIT_OPEN_SECONDS).
	DefaultOpenDelay = 60 * time.Second
	// DefaultMaxConcurrent bounds the calls in flight to one vendor across all
	// integrations, well below the vendors' documented rate limits.
	DefaultMaxConcurrent = 16
	// DefaultMaxWait is how long a call waits for a free bulkhead slot before it
	// fails with ClassBusy.
	DefaultMaxWait = 30 * time.Second
)

// Config holds the settings of the policies around one integration's vendor calls.
// A zero field means its Default… constant, so per-vendor overrides only name what
// differs.
type Config struct {
	MaxAttempts      int           // tries per call, the first included
	BaseDelay        time.Duration // first backoff wait
	MaxDelay         time.Duration // backoff bound before jitter
	MaxRetryAfter    time.Duration // cap on a vendor's Retry-After
	AttemptTimeout   time.Duration // per try
	MaxTotal         time.Duration // per Do, tries and waits together
	FailureThreshold int           // consecutive vendor-health failures that open the breaker
	OpenDelay        time.Duration // open → half-open
	MaxConcurrent    int           // bulkhead size per vendor
	MaxWait          time.Duration // wait for a bulkhead slot
}

// DefaultConfig returns the defaults, as documented in runtime.md.
func DefaultConfig() Config {
	return Config{
		MaxAttempts:      DefaultMaxAttempts,
		BaseDelay:        DefaultBaseDelay,
		MaxDelay:         DefaultMaxDelay,
		MaxRetryAfter:    DefaultMaxRetryAfter,
		AttemptTimeout:   DefaultAttemptTimeout,
		MaxTotal:         DefaultMaxTotal,
		FailureThreshold: DefaultFailureThreshold,
		OpenDelay:        DefaultOpenDelay,
		MaxConcurrent:    DefaultMaxConcurrent,
		MaxWait:          DefaultMaxWait,
	}
}

// over fills every zero (or negative) field of c from base.
func (c Config) over(base Config) Config {
	pick := func(v, d time.Duration) time.Duration {
		if v > 0 {
			return v
		}
		return d
	}
	pickInt := func(v, d int) int {
		if v > 0 {
			return v
		}
		return d
	}
	return Config{
		MaxAttempts:      pickInt(c.MaxAttempts, base.MaxAttempts),
		BaseDelay:        pick(c.BaseDelay, base.BaseDelay),
		MaxDelay:         pick(c.MaxDelay, base.MaxDelay),
		MaxRetryAfter:    pick(c.MaxRetryAfter, base.MaxRetryAfter),
		AttemptTimeout:   pick(c.AttemptTimeout, base.AttemptTimeout),
		MaxTotal:         pick(c.MaxTotal, base.MaxTotal),
		FailureThreshold: pickInt(c.FailureThreshold, base.FailureThreshold),
		OpenDelay:        pick(c.OpenDelay, base.OpenDelay),
		MaxConcurrent:    pickInt(c.MaxConcurrent, base.MaxConcurrent),
		MaxWait:          pick(c.MaxWait, base.MaxWait),
	}
}

func (c Config) withDefaults() Config { return c.over(DefaultConfig()) }

// Delay returns the wait after the given failed try (1-based) that ended in err,
// before the next one. A vendor's Retry-After (vendors.Error.RetryAfter) sets the
// wait, capped at MaxRetryAfter; otherwise it is BaseDelay doubled per try up to
// MaxDelay. Jitter is only ever added (up to a tenth of a Retry-After, up to a
// quarter of a backoff), never subtracted, so the vendor's wait is honoured
// strictly while retries of many integrations still spread out. Exported so other
// retry loops (the desktop's reconnect) back off the same way.
func (c Config) Delay(try int, err error) time.Duration {
	c = c.withDefaults()
	if e, ok := vendors.AsError(err); ok && e.RetryAfter > 0 {
		d := min(e.RetryAfter, c.MaxRetryAfter)
		return d + positiveJitter(d/10)
	}
	d := c.BaseDelay
	for i := 1; i < try && d < c.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, c.MaxDelay)
	return d + positiveJitter(d/4)
}

func positiveJitter(upTo time.Duration) time.Duration {
	if upTo <= 0 {
		return 0
	}
	return rand.N(upTo + 1)
}

// Settings holds the default Config and per-vendor overrides, so a vendor with a
// stricter rate limit (OpenWeather's free plan) can get fewer concurrent calls.
type Settings struct {
	Default   Config
	PerVendor map[string]Config
}

// For returns the Config of vendor: its override's non-zero fields over Default,
// over the package defaults.
func (s Settings) For(vendor string) Config {
	base := s.Default.withDefaults()
	if c, ok := s.PerVendor[vendor]; ok {
		return c.over(base)
	}
	return base
}
