package syncer

import "context"

// Test hooks: one pass of a background loop, run by the test itself.

// CheckHealthOnce shares this server's vendor call window and reads the verdict
// (and starts a probe when one is due and this server wins it).
func (e *Engine) CheckHealthOnce(ctx context.Context) { e.checkHealth(System(ctx)) }

// TakeProbe tries to claim the vendor's probe for this server.
func (e *Engine) TakeProbe(ctx context.Context, vendor string) (bool, error) {
	return e.health.takeProbe(System(ctx), vendor)
}

// Probe runs the probe this server has taken.
func (e *Engine) Probe(ctx context.Context, vendor string) { e.probe(System(ctx), vendor) }
