package syncer

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/store"
)

// SchedulerOptions tune the background loops (tests shorten them).
type SchedulerOptions struct {
	Tick           time.Duration // how often to look for due integrations
	ReaperEvery    time.Duration // how often to close abandoned RUNNING syncs
	AbandonedAfter time.Duration // heartbeat silence that means the runner died
	RetentionEvery time.Duration
}

// Run runs the scheduler, the reaper of abandoned syncs and the retention purge
// until ctx ends; it returns when they have stopped.
func (e *Engine) Run(ctx context.Context, o SchedulerOptions) {
	if o.Tick <= 0 {
		o.Tick = DefaultSchedulerTick
	}
	if o.ReaperEvery <= 0 {
		o.ReaperEvery = DefaultReaperEvery
	}
	if o.AbandonedAfter <= 0 {
		o.AbandonedAfter = DefaultAbandonedAfter
	}
	if o.RetentionEvery <= 0 {
		o.RetentionEvery = DefaultRetentionEvery
	}
	e.abandonedAfter.Store(int64(o.AbandonedAfter))
	ctx = System(ctx)
	done := make(chan struct{}, 4)
	go func() { e.every(ctx, o.Tick, e.scheduleDue); done <- struct{}{} }()
	go func() { e.every(ctx, e.health.opts.Every, e.checkHealth); done <- struct{}{} }()
	go func() {
		e.every(ctx, o.ReaperEvery, func(ctx context.Context) { e.reapAbandoned(ctx, o.AbandonedAfter) })
		done <- struct{}{}
	}()
	go func() { e.every(ctx, o.RetentionEvery, e.purgeOld); done <- struct{}{} }()
	for range 4 {
		<-done
	}
	// Let the syncs of this process finish, for ShutdownGrace; then cancel their
	// vendor work, which they record as interrupted.
	finished := make(chan struct{})
	go func() { e.syncs.Wait(); close(finished) }()
	grace := time.NewTimer(e.opts.ShutdownGrace)
	defer grace.Stop()
	select {
	case <-finished:
	case <-grace.C:
		e.log.Warn("stopping: cancelling the syncs still running", "grace", e.opts.ShutdownGrace)
		e.haltSync()
		<-finished
	}
}

// every runs fn now and then every d until ctx ends.
func (e *Engine) every(ctx context.Context, d time.Duration, fn func(context.Context)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		fn(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// scheduleDue claims due integrations and starts their syncs, each vendor within
// its fair share of this server's slots (see slots). The claim is a compare-and-set
// of next_sync_at in the database, so among replicas exactly one wins each due run.
// An integration whose sync is still running (on any replica) is not claimed:
// claiming it would only join the running sync and lose the due run; left due, it
// is claimed at the first tick after that sync ends. A RUNNING row whose runner went
// silent does not hold it back: the claimed sync takes it over. Due runs of a vendor
// that is down for everyone take no slot: they are recorded as failed at once.
func (e *Engine) scheduleDue(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	now := e.now()
	free := e.slots.free()
	found := map[string][]*ent.Integration{}
	wanted := map[string]int{}
	var downs []*vendorEntry
	for _, v := range vendorTable {
		_, down := e.health.down(v.name)
		limit := free
		if down {
			limit = downBatch
			downs = append(downs, v)
		}
		if limit <= 0 {
			continue
		}
		due, err := e.dueOf(ctx, v, now, limit)
		if err != nil {
			if ctx.Err() == nil {
				e.log.Error("scheduler: find due integrations", "vendor", v.name, "err", err)
			}
			return
		}
		found[v.name] = due
		if !down {
			wanted[v.name] = len(due)
		}
	}
	grant := e.slots.plan(wanted)
	for _, v := range vendorTable {
		if _, down := e.health.down(v.name); down {
			continue
		}
		n := grant[v.name]
		for _, in := range found[v.name] {
			if n == 0 {
				break
			}
			due, ok := e.claim(ctx, in, now)
			if !ok {
				continue
			}
			n--
			e.syncs.Add(1) // before Run can stop waiting
			go func(id uuid.UUID, vendor string) {
				defer e.syncs.Done()
				defer e.slots.releaseScheduled(vendor)
				if _, err := e.sync(context.WithoutCancel(ctx), id, synclog.TriggerSCHEDULED, &due); err != nil && !ent.IsNotFound(err) {
					e.log.Error("scheduled sync", "integration", id, "err", err)
				}
			}(in.ID, v.name)
		}
		for range n {
			e.slots.releaseScheduled(v.name) // granted, but claimed elsewhere
		}
	}
	// The due runs of vendors that are down fail at once, one after another and
	// without a slot: they make no vendor call.
	var fails []*ent.Integration
	var dues []time.Time
	for _, v := range downs {
		for _, in := range found[v.name] {
			if due, ok := e.claim(ctx, in, now); ok {
				fails, dues = append(fails, in), append(dues, due)
			}
		}
	}
	if len(fails) > 0 {
		e.syncs.Add(1)
		go func() {
			defer e.syncs.Done()
			for i, in := range fails {
				if _, err := e.sync(context.WithoutCancel(ctx), in.ID, synclog.TriggerSCHEDULED, &dues[i]); err != nil && !ent.IsNotFound(err) {
					e.log.Error("scheduled sync", "integration", in.ID, "err", err)
				}
			}
		}()
	}
}

// downBatch bounds how many due runs of a vendor that is down one tick fails.
const downBatch = 200

// dueOf returns up to limit due integrations of vendor v, the longest due first.
func (e *Engine) dueOf(ctx context.Context, v *vendorEntry, now time.Time, limit int) ([]*ent.Integration, error) {
	return e.client.Integration.Query().
		Where(integration.VendorEQ(v.vendor), integration.Enabled(true), integration.NeedsCredentials(false),
			integration.NextSyncAtLTE(now),
			integration.Not(integration.HasSyncLogsWith(
				synclog.StatusEQ(synclog.StatusRUNNING),
				synclog.HeartbeatAtGTE(now.Add(-e.abandonAfter()))))).
		Order(ent.Asc(integration.FieldNextSyncAt)).Limit(limit).All(ctx)
}

// claim moves the integration's next_sync_at on by one interval if no other
// replica did first, and returns the due time it claimed.
func (e *Engine) claim(ctx context.Context, in *ent.Integration, now time.Time) (time.Time, bool) {
	due := *in.NextSyncAt
	next := store.NextSyncAfter(now, in.SyncIntervalSeconds)
	n, err := e.client.Integration.Update().
		Where(integration.ID(in.ID), integration.NextSyncAtEQ(due), integration.Enabled(true),
			integration.NeedsCredentials(false)).
		SetNextSyncAt(next).Save(ctx)
	if err != nil || n != 1 {
		return time.Time{}, false // another replica claimed it, or it changed
	}
	return due, true
}

// reapAbandoned closes RUNNING syncs whose runner stopped sending heartbeats (the
// process died): FAILED, "interrupted".
func (e *Engine) reapAbandoned(ctx context.Context, after time.Duration) {
	now := e.now()
	stale, err := e.client.SyncLog.Query().
		Where(synclog.StatusEQ(synclog.StatusRUNNING), synclog.HeartbeatAtLT(now.Add(-after))).
		Limit(100).All(ctx)
	if err != nil {
		if ctx.Err() == nil {
			e.dbFailed()
			e.log.Error("reaper: find abandoned syncs", "err", err)
		}
		return
	}
	if up := e.dbUpFor(now); len(stale) > 0 && up < after {
		// The database was away lately: the runners' silence may be the outage's,
		// not their death. Live runners refresh their heartbeats meanwhile.
		e.log.Info("reaper: waiting for the database to be back for longer before closing silent syncs",
			"silent", len(stale), "back for", up.Round(time.Second), "want", after)
		return
	}
	for _, lg := range stale {
		if err := e.closeAbandoned(ctx, lg, now); err != nil && ctx.Err() == nil {
			e.log.Error("reaper: close abandoned sync", "sync", lg.ID, "err", err)
		}
	}
}

// closeAbandoned closes a RUNNING sync whose runner died as FAILED, "interrupted",
// unless it has finished meanwhile, and tells subscribers and the observer.
func (e *Engine) closeAbandoned(ctx context.Context, lg *ent.SyncLog, now time.Time) error {
	const msg = "interrupted: the server running this sync stopped before it finished"
	n, err := e.client.SyncLog.Update().
		Where(synclog.ID(lg.ID), synclog.StatusEQ(synclog.StatusRUNNING)).
		SetStatus(synclog.StatusFAILED).SetCompletedAt(now).
		SetDurationMs(max(now.Sub(lg.StartedAt).Milliseconds(), 0)).
		SetError(msg).SetErrorClass(string(ClassInterrupted)).Save(ctx)
	if err != nil || n != 1 {
		return err
	}
	e.log.Warn("closed an abandoned sync", "sync", lg.ID, "integration", lg.IntegrationID, "runner", lg.Runner)
	e.markIntegration(ctx, lg.IntegrationID, now, synclog.StatusFAILED)
	in, err := e.client.Integration.Get(ctx, lg.IntegrationID)
	if err != nil {
		return nil // deleted meanwhile: nobody to tell
	}
	finished, err := e.client.SyncLog.Get(ctx, lg.ID)
	if err != nil {
		return nil
	}
	e.publishSync(ctx, in, event.SyncFailed, finished, nil)
	if e.opts.Observer != nil {
		e.opts.Observer.AfterSync(ctx, in, finished)
	}
	return nil
}

// purgeOld deletes sync logs older than the retention in small batches, so history
// stays fast for years without one long-locking delete.
func (e *Engine) purgeOld(ctx context.Context) {
	if e.opts.RetentionDays <= 0 {
		return
	}
	cutoff := e.now().AddDate(0, 0, -e.opts.RetentionDays)
	total := 0
	for ctx.Err() == nil {
		ids, err := e.client.SyncLog.Query().
			Where(synclog.StartedAtLT(cutoff), synclog.StatusNEQ(synclog.StatusRUNNING)).
			Limit(DefaultRetentionBatch).IDs(ctx)
		if err != nil || len(ids) == 0 {
			if err != nil && ctx.Err() == nil {
				e.log.Error("retention: find old sync logs", "err", err)
			}
			break
		}
		n, err := e.client.SyncLog.Delete().Where(synclog.IDIn(ids...)).Exec(ctx)
		total += n
		if err != nil {
			e.log.Error("retention: delete old sync logs", "err", err)
			break
		}
		if len(ids) < DefaultRetentionBatch {
			break
		}
	}
	if total > 0 {
		e.log.Info("purged old sync logs", "count", total, "olderThanDays", e.opts.RetentionDays)
	}
}

// PurgeOld runs one retention pass now (for tests and operators).
func (e *Engine) PurgeOld(ctx context.Context) { e.purgeOld(System(ctx)) }

// ReapAbandoned runs one reaper pass now (for tests and operators).
func (e *Engine) ReapAbandoned(ctx context.Context, after time.Duration) {
	e.reapAbandoned(System(ctx), after)
}
