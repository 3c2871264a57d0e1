package syncer

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/google/uuid"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/load"
	"github.com/sallyhq/sally/resilience"
)

// stop is a point where fuel and weather matter: a pickup or delivery of an active load.
type stop struct{ lat, lon float64 }

// key rounds to ~1 km, the cache key OpenWeather asks for.
func (s stop) key() string { return fmt.Sprintf("%.2f,%.2f", s.lat, s.lon) }

// stops returns the distinct pickup and delivery points of the tenant's active loads.
func (e *Engine) stops(ctx context.Context, tenantID uuid.UUID) ([]stop, error) {
	loads, err := e.client.Load.Query().
		Where(load.TenantID(tenantID), load.Active(true), load.StatusIn(load.StatusASSIGNED, load.StatusIN_TRANSIT)).
		Order(ent.Asc(load.FieldLoadID)).All(ctx)
	if err != nil {
		return nil, internalError{err}
	}
	seen := map[string]bool{}
	var out []stop
	add := func(lat, lon *float64) {
		if lat == nil || lon == nil || len(out) >= DefaultMaxStops {
			return
		}
		s := stop{math.Round(*lat*100) / 100, math.Round(*lon*100) / 100}
		if !seen[s.key()] {
			seen[s.key()] = true
			out = append(out, s)
		}
	}
	for _, l := range loads {
		add(l.PickupLatitude, l.PickupLongitude)
		add(l.DeliveryLatitude, l.DeliveryLongitude)
	}
	return out, nil
}

// each runs fn for every stop, four at a time. The first failure stops the calls
// not yet started (every stop must succeed for the sync to, so the rest would only
// load a vendor that is failing) and is the error returned: the root cause, not the
// open-breaker or canceled errors of the calls it took down with it. Calls under way
// are canceled only by a root cause, so that one still retrying is not cut short
// before it can report what really failed.
func each[T any](ctx context.Context, stops []stop, fn func(ctx context.Context, s stop) (T, error)) ([]T, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make([]T, len(stops))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil || (consequential(firstErr) && !consequential(err)) {
			firstErr = err
		}
		if !consequential(err) {
			cancel()
		}
	}
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return firstErr != nil
	}
	sem := make(chan struct{}, 4)
	for i, s := range stops {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil || failed() {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			v, err := fn(ctx, s)
			if err != nil {
				fail(err)
				return
			}
			out[i] = v
		})
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err() // the sync's own deadline passed before every stop started
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// consequential reports whether err only follows from another failure: a call refused
// by the breaker another call opened, or stopped because another call failed.
func consequential(err error) bool {
	switch resilience.Classify(err) {
	case resilience.ClassCircuitOpen, resilience.ClassCanceled:
		return true
	}
	return false
}
