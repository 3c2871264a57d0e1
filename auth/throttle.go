package auth

import "time"

// Login throttling defaults, from the contract: more than 10 failed logins for one
// email within 15 minutes are refused until the window passes. The failures are
// counted in the database (store.Throttle), so that every replica sees them all.
const (
	DefaultMaxFailures = 10
	DefaultWindow      = 15 * time.Minute
	// MaxFailureDelay caps FailureDelay.
	MaxFailureDelay = 2 * time.Second
)

// FailureDelay is how long to pause before answering a failed login after n failures
// within the window: 250 ms, doubling with each failure, capped at MaxFailureDelay.
// It slows scripted guessing without locking anyone out; the caller sleeps (on its
// request context), this only computes.
func FailureDelay(n int) time.Duration {
	if n <= 0 {
		return 0
	}
	d := 250 * time.Millisecond
	for i := 1; i < n && d < MaxFailureDelay; i++ {
		d *= 2
	}
	return min(d, MaxFailureDelay)
}
