package resilience

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/failsafe-go/failsafe-go/bulkhead"
)

// Bulkhead bounds the calls in flight to one vendor. Every integration of the vendor
// shares it, so a tenant with many integrations cannot exhaust the vendor's rate
// limit for the others. A slot is held for one try only, never during a retry wait.
// It is safe for concurrent use.
type Bulkhead struct {
	bh      bulkhead.Bulkhead[any]
	max     int
	maxWait time.Duration
}

// NewBulkhead returns a Bulkhead with maxConcurrent slots (DefaultMaxConcurrent when
// not positive) where a call waits at most maxWait (DefaultMaxWait when not
// positive), or until its context ends, for a free slot.
func NewBulkhead(maxConcurrent int, maxWait time.Duration) *Bulkhead {
	if maxConcurrent <= 0 {
		maxConcurrent = DefaultMaxConcurrent
	}
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	return &Bulkhead{
		bh:      bulkhead.New[any](uint(maxConcurrent)),
		max:     maxConcurrent,
		maxWait: maxWait,
	}
}

// MaxConcurrent returns the number of slots.
func (b *Bulkhead) MaxConcurrent() int { return b.max }

// acquire takes a slot, waiting up to maxWait or until ctx ends. A full bulkhead
// yields an *Error of ClassBusy; an ended ctx yields ctx.Err().
func (b *Bulkhead) acquire(ctx context.Context, vendor string) error {
	err := b.bh.AcquirePermitWithMaxWait(ctx, b.maxWait)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bulkhead.ErrFull):
		return &Error{Class: ClassBusy, Vendor: vendor, Limit: b.maxWait, Err: err}
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return err
}

func (b *Bulkhead) release() { b.bh.ReleasePermit() }

// Bulkheads keeps one Bulkhead per vendor name, sized by Settings.For(vendor), so
// every Policy of a vendor can be handed the same one. It is safe for concurrent use.
type Bulkheads struct {
	settings Settings
	mu       sync.Mutex
	byVendor map[string]*Bulkhead
}

// NewBulkheads returns an empty registry that sizes bulkheads from s.
func NewBulkheads(s Settings) *Bulkheads {
	return &Bulkheads{settings: s, byVendor: make(map[string]*Bulkhead)}
}

// For returns vendor's Bulkhead, creating it on first use.
func (b *Bulkheads) For(vendor string) *Bulkhead {
	b.mu.Lock()
	defer b.mu.Unlock()
	bh, ok := b.byVendor[vendor]
	if !ok {
		c := b.settings.For(vendor)
		bh = NewBulkhead(c.MaxConcurrent, c.MaxWait)
		b.byVendor[vendor] = bh
	}
	return bh
}
