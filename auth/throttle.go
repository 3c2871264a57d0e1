package auth

import (
	"strings"
	"sync"
	"time"
)

// Login throttling defaults, from the contract: more than 10 failed logins for one
// email within 15 minutes are refused until the window passes.
const (
	DefaultMaxFailures = 10
	DefaultWindow      = 15 * time.Minute
	// DefaultMaxTracked bounds the emails a Throttle remembers (a few MB at most), so
	// failed logins for random addresses cannot exhaust memory.
	DefaultMaxTracked = 100_000
	// MaxFailureDelay caps FailureDelay.
	MaxFailureDelay = 2 * time.Second
)

// Throttle counts failed logins per email in a sliding window. Once an email has max
// failures within the window, Allowed refuses it until the oldest of them is older
// than the window; the caller answers refused attempts exactly like a wrong password
// and does not call Fail for them. State is per process: behind a load balancer each
// replica counts on its own, which at worst multiplies the allowance by the replica
// count. It is safe for concurrent use.
type Throttle struct {
	max    int
	window time.Duration
	now    func() time.Time

	// MaxTracked bounds how many emails are remembered (DefaultMaxTracked); set it
	// before first use.
	MaxTracked int

	mu        sync.Mutex
	failures  map[string][]time.Time // oldest first, at most max entries
	lastSweep time.Time
}

// NewThrottle returns a Throttle allowing maxFailures failures per email within window (use
// DefaultMaxFailures and DefaultWindow). now is the clock, time.Now when nil.
func NewThrottle(maxFailures int, window time.Duration, now func() time.Time) *Throttle {
	if maxFailures < 1 {
		maxFailures = 1
	}
	if now == nil {
		now = time.Now
	}
	return &Throttle{
		max:        maxFailures,
		window:     window,
		now:        now,
		MaxTracked: DefaultMaxTracked,
		failures:   make(map[string][]time.Time),
	}
}

func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// recent drops failures that left the window; the caller holds mu.
func (t *Throttle) recent(key string, now time.Time) []time.Time {
	fs := t.failures[key]
	cut := 0
	for cut < len(fs) && now.Sub(fs[cut]) >= t.window {
		cut++
	}
	if cut == len(fs) {
		delete(t.failures, key)
		return nil
	}
	if cut > 0 {
		fs = append(fs[:0], fs[cut:]...)
		t.failures[key] = fs
	}
	return fs
}

// Allowed reports whether a login for email may be tried now: false once the email has
// max failures within the window (so with 10, the 11th attempt is refused).
func (t *Throttle) Allowed(email string) bool {
	return t.Failures(email) < t.max
}

// Failures returns how many failures of email are within the window, for
// FailureDelay.
func (t *Throttle) Failures(email string) int {
	key := normalizeEmail(email)
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.recent(key, t.now()))
}

// Fail records a failed login for email.
func (t *Throttle) Fail(email string) {
	key := normalizeEmail(email)
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	fs := t.recent(key, now)
	if fs == nil {
		t.makeRoom(now)
	}
	fs = append(fs, now)
	if len(fs) > t.max { // older ones no longer change the answer
		fs = append(fs[:0], fs[len(fs)-t.max:]...)
	}
	t.failures[key] = fs
}

// Succeed forgets the failures of email after a successful login.
func (t *Throttle) Succeed(email string) {
	key := normalizeEmail(email)
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.failures, key)
}

// Len is how many emails are tracked, for tests and metrics.
func (t *Throttle) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.failures)
}

// makeRoom sweeps expired emails once per window or when full, then, if still full,
// evicts the email whose last failure is oldest. The caller holds mu.
func (t *Throttle) makeRoom(now time.Time) {
	limit := t.MaxTracked
	if limit < 1 {
		limit = DefaultMaxTracked
	}
	full := len(t.failures) >= limit
	if full || now.Sub(t.lastSweep) >= t.window {
		t.lastSweep = now
		for k, fs := range t.failures {
			if now.Sub(fs[len(fs)-1]) >= t.window {
				delete(t.failures, k)
			}
		}
	}
	for len(t.failures) >= limit {
		var oldestKey string
		var oldest time.Time
		for k, fs := range t.failures {
			if last := fs[len(fs)-1]; oldestKey == "" || last.Before(oldest) {
				oldestKey, oldest = k, last
			}
		}
		delete(t.failures, oldestKey)
	}
}

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
