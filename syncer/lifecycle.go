package syncer

import (
	"context"
	"errors"
	"time"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/resilience"
)

// ErrNeedsCredentials refuses a manual sync of an integration whose credentials the
// vendor kept rejecting (state NEEDS_CREDENTIALS): no vendor call is made for it until
// its credentials change.
var ErrNeedsCredentials = errors.New("the integration needs new credentials: the vendor rejected its key; update its credentials to sync (testIntegration still works)")

// DefaultTestTimeout bounds the one vendor call of TestCredentials: one try's bound.
const DefaultTestTimeout = resilience.DefaultAttemptTimeout

// TestCredentials calls the vendor once with credentials that are not stored (the
// add-integration and rotate-key forms test before they save): no retries, no
// breaker, nothing written. The result never carries the secret.
func (e *Engine) TestCredentials(ctx context.Context, vendor integration.Vendor, creds auth.Credentials) TestResult {
	v, ok := vendorsByEnum[vendor]
	if !ok {
		return TestResult{Message: "unknown vendor"}
	}
	c := v.client(conn{baseURL: e.opts.URLs[v.name], creds: creds, http: e.opts.HTTPClient})
	ctx, cancel := context.WithTimeout(ctx, DefaultTestTimeout)
	defer cancel()
	start := time.Now()
	err := v.test(c, ctx)
	r := TestResult{Success: err == nil, Latency: time.Since(start)}
	if err != nil {
		r.Message = describe(err)
	}
	return r
}

// ScheduleDue runs one scheduler pass now: it claims the due integrations and starts
// their syncs (for tests and operators; Run does it every tick).
func (e *Engine) ScheduleDue(ctx context.Context) { e.scheduleDue(System(ctx)) }

// Idle waits until no sync of this process is running.
func (e *Engine) Idle() { e.syncs.Wait() }
