package resilience

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
	"github.com/failsafe-go/failsafe-go/timeout"

	"github.com/sallyhq/sally/vendors"
)

// State is a breaker state, spelled as the GraphQL CircuitState enum spells it so
// it can be stored and served as is.
type State string

// The breaker states.
const (
	StateClosed   State = "CLOSED"    // calls flow
	StateOpen     State = "OPEN"      // calls are refused without touching the vendor
	StateHalfOpen State = "HALF_OPEN" // one probe call decides between CLOSED and OPEN
)

func stateOf(s circuitbreaker.State) State {
	switch s {
	case circuitbreaker.OpenState:
		return StateOpen
	case circuitbreaker.HalfOpenState:
		return StateHalfOpen
	}
	return StateClosed
}

// Options configure one integration's Policy.
type Options struct {
	// Vendor names the vendor in errors and messages ("samsara").
	Vendor string
	// Config holds the settings; zero fields take the package defaults.
	Config Config
	// Bulkhead is shared by every Policy of the vendor (see Bulkheads); nil means
	// no bound.
	Bulkhead *Bulkhead
	// InitialState and OpenedAt restore a persisted breaker: OPEN stays open until
	// Config.OpenDelay after OpenedAt (a zero OpenedAt counts as now), HALF_OPEN lets
	// one probe through, anything else starts CLOSED. Restoring calls no callback.
	InitialState State
	OpenedAt     time.Time
	// OnStateChange is called on every breaker transition, synchronously in the
	// goroutine whose call caused it (the open → half-open one on the first call
	// after OpenDelay). It may call State and OpenedAt; it must not block for long.
	OnStateChange func(from, to State)
}

// Hooks observe one Do call. They are passed per call, not set on the Policy: the
// Policy is shared by everything that calls the integration's vendor (a sync, the
// live lookups), and what a try means belongs to the call that made it. Both run
// synchronously in Do's goroutine; either may be nil.
type Hooks struct {
	// OnRetry is called before each retry wait: attempt is the 1-based try that
	// failed, counted as Do counts tries (in requests: the Transport's re-sends
	// included), err its error and wait the time until the next try.
	OnRetry func(attempt int, err error, wait time.Duration)
	// OnTry is called after every try that ran (one the open breaker, a full
	// bulkhead or an ended context refused before it ran is not a try), before
	// OnRetry of the same try, with what the try was (see Try).
	OnTry func(Try)
}

// Try describes one try of a Do call, as Hooks.OnTry receives it (the record of
// SyncLog.tries).
type Try struct {
	// Attempt is the number of tries made so far, this one included, counted as Do
	// counts them (in requests); the Attempt of the last try is what Do returns.
	Attempt int
	// Requests is how many requests this try sent: 1, more when net/http's
	// Transport re-sent it, and 1 for a try that sent none (a failed dial).
	Requests int
	// Start is when the try began (after any retry wait, before the bulkhead);
	// Duration how long it took, up to the call's return.
	Start    time.Time
	Duration time.Duration
	// Status is the HTTP status of the last answer the try received (a 2xx on
	// success), or 0 when none arrived (network error, timeout) or the call sent
	// its requests without a vendors.Requester.
	Status int
	// Err is the try's error as Do's caller would see it, nil on success; Class is
	// Classify(Err) and Message Describe(Err) (safe to show), both empty on success.
	Err     error
	Class   Class
	Message string
	// Wait is the time until the next try when one is scheduled (OnRetry is then
	// called with the same wait), 0 when this was the last try.
	Wait time.Duration
}

// Policy runs one integration's vendor calls with a per-try timeout, retries, a
// circuit breaker and the vendor's bulkhead (see the package doc for how they
// compose). One Policy per integration, shared by everything that calls that
// integration's vendor (see Registry); it is safe for concurrent use.
type Policy struct {
	vendor        string
	cfg           Config
	bulkhead      *Bulkhead
	breaker       circuitbreaker.CircuitBreaker[any]
	timeout       timeout.Timeout[any]
	onStateChange func(from, to State)

	restoring atomic.Bool // suppresses callbacks while New restores a persisted state

	mu         sync.Mutex
	openedAt   time.Time // guarded by mu
	lastChange time.Time // the breaker's own last transition (or restore); guarded by mu
}

// restoreError drives a fresh breaker open with the remaining delay of a persisted
// OPEN state: failsafe consults a DelayFunc only for failures recorded through an
// execution, so New records FailureThreshold of these through failsafe.With.
type restoreError struct{ remaining time.Duration }

func (restoreError) Error() string { return "restoring a persisted open breaker" }

// New returns the Policy of one integration.
func New(opts Options) *Policy {
	cfg := opts.Config.withDefaults()
	p := &Policy{
		vendor:        opts.Vendor,
		cfg:           cfg,
		bulkhead:      opts.Bulkhead,
		timeout:       timeout.New[any](cfg.AttemptTimeout),
		onStateChange: opts.OnStateChange,
	}
	p.breaker = circuitbreaker.NewBuilder[any]().
		// Do records outcomes itself (see the package doc); this predicate says the
		// same for anything recorded through failsafe: only vendor-health failures.
		HandleIf(func(_ any, err error) bool {
			var r restoreError
			return errors.As(err, &r) || (err != nil && Classify(err).VendorHealth())
		}).
		WithFailureThreshold(uint(cfg.FailureThreshold)).
		// One probe in half-open: one success closes, one failure re-opens.
		WithSuccessThreshold(1).
		WithDelay(cfg.OpenDelay).
		WithDelayFunc(func(exec failsafe.ExecutionAttempt[any]) time.Duration {
			var r restoreError
			if errors.As(exec.LastError(), &r) {
				return r.remaining
			}
			return cfg.OpenDelay
		}).
		OnStateChanged(p.stateChanged).
		Build()
	p.restore(State(strings.ToUpper(string(opts.InitialState))), opts.OpenedAt)
	return p
}

func (p *Policy) restore(state State, openedAt time.Time) {
	p.restoring.Store(true)
	defer p.restoring.Store(false)
	if state == StateOpen || state == StateHalfOpen {
		p.mu.Lock()
		p.lastChange = time.Now()
		p.mu.Unlock()
	}
	switch state {
	case StateOpen:
		now := time.Now()
		if openedAt.IsZero() || openedAt.After(now) {
			openedAt = now
		}
		remaining := max(0, p.cfg.OpenDelay-now.Sub(openedAt))
		exec := failsafe.With[any](p.breaker)
		for range p.cfg.FailureThreshold {
			_ = exec.Run(func() error { return restoreError{remaining} })
		}
		p.setOpenedAt(openedAt)
	case StateHalfOpen:
		p.breaker.HalfOpen()
		p.setOpenedAt(openedAt)
	}
}

func (p *Policy) setOpenedAt(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.openedAt = t
}

// Follow adopts a breaker that another replica opened: given the state persisted on
// the integration, a CLOSED breaker opens (for what remains of OpenDelay after
// openedAt, without calling OnStateChange: the other replica has reported it) when
// that state is OPEN and was set after this breaker's own last change. Anything else
// is left to this breaker: an older OPEN is one it has since recovered from, and a
// breaker that is open here finds out for itself, with its probe, that the vendor
// is back.
func (p *Policy) Follow(state State, openedAt time.Time) {
	if State(strings.ToUpper(string(state))) != StateOpen || openedAt.IsZero() || p.State() != StateClosed {
		return
	}
	p.mu.Lock()
	newer := openedAt.After(p.lastChange)
	p.mu.Unlock()
	if newer && time.Since(openedAt) < p.cfg.OpenDelay {
		p.restore(StateOpen, openedAt)
	}
}

func (p *Policy) stateChanged(e circuitbreaker.StateChangedEvent) {
	if p.restoring.Load() {
		return
	}
	from, to := stateOf(e.OldState), stateOf(e.NewState)
	p.mu.Lock()
	p.lastChange = time.Now()
	switch to {
	case StateOpen:
		p.openedAt = p.lastChange
	case StateClosed:
		p.openedAt = time.Time{}
	}
	p.mu.Unlock()
	if p.onStateChange != nil {
		p.onStateChange(from, to)
	}
}

// State returns the breaker's state. An OPEN breaker whose delay has passed still
// reports OPEN until the next call makes it HALF_OPEN (failsafe keeps no timer).
func (p *Policy) State() State { return stateOf(p.breaker.State()) }

// OpenedAt returns when the breaker last opened, the value to persist beside State
// for Options.OpenedAt; zero while CLOSED.
func (p *Policy) OpenedAt() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.openedAt
}

// Do runs one vendor call with the per-try timeout, retries, breaker and bulkhead.
// call must use the context it is given and return a vendors.Error (or any error
// Classify understands). attempts is the number of tries, in requests sent: a try
// whose request net/http's Transport re-sent counts once per send, as
// vendors.Requester counts them under the try's context, and a try that sent nothing
// (a failed dial) or sends without a Requester counts as one. It never passes
// Config.MaxAttempts, and is 0 when the open breaker, a full bulkhead or an ended
// ctx refused the first try.
// err is the last try's error as call returned it, or this package's *Error
// (circuit open, busy, timeout), or ctx's error once the caller gave up.
// hooks observe this call only (see Hooks); the zero Hooks observes nothing.
func (p *Policy) Do(ctx context.Context, call func(ctx context.Context) error, hooks Hooks) (attempts int, err error) {
	start := time.Now()
	var (
		wait time.Duration // after the last failed try, set before the retry policy asks
		stop bool          // the last failed try may not be retried
	)
	retry := retrypolicy.NewBuilder[any]().
		HandleIf(func(_ any, err error) bool { return err != nil && Classify(err).Retryable() }).
		AbortOnErrors(circuitbreaker.ErrOpen).
		AbortIf(func(any, error) bool { return stop }).
		WithMaxAttempts(p.cfg.MaxAttempts).
		// Our DelayFunc adds positive jitter itself; none is configured here, because
		// failsafe would apply it after this and could cut a Retry-After short.
		WithDelayFunc(func(failsafe.ExecutionAttempt[any]) time.Duration { return wait }).
		ReturnLastFailure().
		OnRetryScheduled(func(e failsafe.ExecutionScheduledEvent[any]) {
			if hooks.OnRetry != nil {
				hooks.OnRetry(attempts, e.LastError(), e.Delay)
			}
		}).
		Build()
	err = failsafe.With[any](retry).WithContext(ctx).RunWithExecution(func(exec failsafe.Execution[any]) error {
		// The try may send what is left of the budget, the Transport's re-sends
		// included; a try that sent none (a failed dial) still costs one.
		tryCtx, requests := vendors.WithRequestCounter(exec.Context(), p.cfg.MaxAttempts-attempts)
		tryStart := time.Now()
		tried, err := p.attempt(tryCtx, call, true)
		if tried {
			attempts += max(requests.Requests(), 1)
		}
		wait, stop = 0, false
		if err != nil && Classify(err).Retryable() {
			if attempts >= p.cfg.MaxAttempts {
				stop = true // failsafe counts tries, not the requests they sent
			} else {
				wait = p.cfg.Delay(attempts, err)
				stop = p.breaker.IsOpen() || // the next try would be refused: keep the real error
					time.Since(start)+wait > p.cfg.MaxTotal ||
					pastDeadline(exec.Context(), wait)
			}
		}
		if tried && hooks.OnTry != nil {
			t := Try{
				Attempt: attempts, Requests: max(requests.Requests(), 1),
				Start: tryStart, Duration: time.Since(tryStart), Status: requests.Status(), Err: err,
			}
			if err != nil {
				t.Class, t.Message = Classify(err), Describe(err)
				if Classify(err).Retryable() && !stop {
					t.Wait = wait
				}
			}
			hooks.OnTry(t)
		}
		return err
	})
	return attempts, err
}

// pastDeadline reports whether ctx's deadline comes before a wait would end: waiting
// would only turn the vendor's error into context.DeadlineExceeded.
func pastDeadline(ctx context.Context, wait time.Duration) bool {
	d, ok := ctx.Deadline()
	return ok && time.Until(d) < wait
}

// TestOnce makes exactly one try of one request, with the per-try timeout and the
// bulkhead but without retries, and bypasses the breaker without recording into it:
// "test connection" must work while the breaker is open (a dispatcher has just fixed
// the key) and must not move the breaker that the syncs rely on.
func (p *Policy) TestOnce(ctx context.Context, call func(ctx context.Context) error) error {
	ctx, _ = vendors.WithRequestCounter(ctx, 1)
	_, err := p.attempt(ctx, call, false)
	return err
}

// attempt makes one try. tried reports whether call ran.
func (p *Policy) attempt(ctx context.Context, call func(ctx context.Context) error, useBreaker bool) (tried bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	// Refuse at once while open, rather than after waiting for a bulkhead slot.
	if useBreaker && p.breaker.IsOpen() {
		if rem := p.breaker.RemainingDelay(); rem > 0 {
			return false, p.openError(rem)
		}
	}
	if p.bulkhead != nil {
		if err := p.bulkhead.acquire(ctx, p.vendor); err != nil {
			return false, err
		}
		defer p.bulkhead.release()
	}
	// After the bulkhead: a half-open permit must be released by a record, and a
	// full bulkhead could not record anything meaningful.
	if useBreaker {
		if !p.breaker.TryAcquirePermit() {
			return false, p.openError(p.breaker.RemainingDelay())
		}
		completed := false
		defer func() {
			if !completed && p.breaker.IsHalfOpen() {
				p.breaker.RecordFailure() // call panicked: release the probe, stay cautious
			}
		}()
		err = p.timed(ctx, call)
		completed = true
		p.record(ctx, err)
		return true, err
	}
	return true, p.timed(ctx, call)
}

// timed runs call under the per-try timeout.
func (p *Policy) timed(ctx context.Context, call func(ctx context.Context) error) error {
	err := failsafe.With[any](p.timeout).WithContext(ctx).RunWithExecution(func(exec failsafe.Execution[any]) error {
		return call(exec.Context())
	})
	// failsafe returns the bare sentinel when its timer fired first.
	if err == timeout.ErrExceeded {
		return &Error{Class: ClassTimeout, Vendor: p.vendor, Limit: p.cfg.AttemptTimeout, Err: err}
	}
	return err
}

// record tells the breaker what one completed try says about the vendor (see the
// package doc for why non-health errors are not simply successes).
func (p *Policy) record(ctx context.Context, err error) {
	switch {
	case err == nil:
		p.breaker.RecordSuccess()
	case ctx.Err() != nil:
		// The caller gave up: nothing learned. A half-open probe must still release
		// its permit; count it as failed and wait another OpenDelay.
		if p.breaker.IsHalfOpen() {
			p.breaker.RecordFailure()
		}
	case Classify(err).VendorHealth():
		p.breaker.RecordFailure()
	case p.breaker.IsHalfOpen():
		// The vendor answered (401, 404, bad body…): it is up.
		p.breaker.RecordSuccess()
	}
}

func (p *Policy) openError(remaining time.Duration) *Error {
	e := &Error{Class: ClassCircuitOpen, Vendor: p.vendor, Err: circuitbreaker.ErrOpen}
	if remaining > 0 {
		e.RetryAt = time.Now().Add(remaining)
	}
	return e
}
