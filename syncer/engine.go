// Package syncer runs syncs: one sync is one SyncLog row, written RUNNING when it
// starts and finished with its outcome; every vendor call goes through the
// integration's resilience policy. The scheduler claims due integrations in the
// database, so several replicas sharing one PostgreSQL run each due sync once.
package syncer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/privacy"
	"github.com/google/uuid"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/resilience"
	"github.com/sallyhq/sally/store"
)

// Named defaults of the engine.
const (
	DefaultMaxConcurrent   = 64               // syncs at once, per process (SYNC_CONCURRENCY); they wait on vendors
	DefaultSyncTimeout     = 5 * time.Minute  // bound on one whole sync
	DefaultShutdownGrace   = 20 * time.Second // how long Run's end waits for running syncs
	DefaultHeartbeat       = 10 * time.Second // how often a running sync says it is alive
	DefaultAbandonedAfter  = 40 * time.Second // a RUNNING row this quiet belongs to a dead process
	DefaultJoinPoll        = 200 * time.Millisecond
	DefaultSchedulerTick   = time.Second
	DefaultReaperEvery     = 10 * time.Second
	DefaultRetentionEvery  = time.Hour
	DefaultRetentionBatch  = 5000
	DefaultHOSCacheMaxAge  = 5 * time.Minute
	DefaultMaxStops        = 25 // fuel and weather points refreshed per sync
	DefaultFuelRadiusMiles = 25
	DefaultFuelPerStop     = 10
)

// ErrDisabled refuses a manual sync of a disabled integration.
var ErrDisabled = errors.New("the integration is disabled: enable it to sync")

// Observer is told about every finished sync (the alert rules).
type Observer interface {
	AfterSync(ctx context.Context, in *ent.Integration, log *ent.SyncLog)
}

// VendorURLs are the base URLs of the vendors' APIs, by short name (Vendor.Name); a
// vendor without one calls its production API (its adapter's default).
type VendorURLs map[string]string

// Options configure an Engine; Store, Sealer and URLs are required.
type Options struct {
	Store         *store.Store
	Sealer        *auth.Sealer
	URLs          VendorURLs
	HTTPClient    *http.Client
	Settings      resilience.Settings
	Publisher     event.Publisher
	Observer      Observer
	Metrics       *Metrics
	Logger        *slog.Logger
	Instance      string // this process's name in sync logs; random when empty
	MaxConcurrent int
	SyncTimeout   time.Duration
	// ShutdownGrace is how long Run, once its context ends, lets running syncs
	// finish; then they are cancelled and recorded as FAILED, interrupted
	// (DefaultShutdownGrace when 0). Orchestrators kill a process that takes much
	// longer than 30 s to stop.
	ShutdownGrace time.Duration
	Now           func() time.Time
	// RetentionDays purges older sync logs (0 = keep forever).
	RetentionDays int
	// Health tunes vendor-wide health (see vendorhealth.go).
	Health HealthOptions
}

// Engine runs syncs, the scheduler and the janitors.
type Engine struct {
	opts      Options
	client    *ent.Client
	log       *slog.Logger
	policies  resilience.Registry
	bulkheads *resilience.Bulkheads
	slots     *slots
	health    *health

	// syncs counts the sync goroutines of this process, so Run can wait for them.
	syncs sync.WaitGroup
	// halt ends the vendor work of running syncs once Run's grace has passed.
	halt     context.Context
	haltSync context.CancelFunc
	// abandonedAfter is Run's SchedulerOptions.AbandonedAfter (0 before Run).
	abandonedAfter atomic.Int64
	// lastDBFailure is when (Unix ns) the database last failed this engine, 0 never:
	// silent runners are not dead while the database itself was away.
	lastDBFailure atomic.Int64

	mu       sync.Mutex
	inflight map[uuid.UUID]*flight
	cache    *ttlCache
}

type flight struct {
	done chan struct{}
	log  *ent.SyncLog
	err  error
}

// New returns an Engine.
func New(opts Options) *Engine {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = DefaultMaxConcurrent
	}
	if opts.SyncTimeout <= 0 {
		opts.SyncTimeout = DefaultSyncTimeout
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = DefaultShutdownGrace
	}
	if opts.Instance == "" {
		opts.Instance = "sally-" + uuid.NewString()[:8]
	}
	if opts.Settings.Default == (resilience.Config{}) {
		opts.Settings.Default = resilience.DefaultConfig()
	}
	if opts.Publisher == nil {
		opts.Publisher = event.NewBus(0)
	}
	halt, haltSync := context.WithCancel(context.Background())
	names := make([]string, len(vendorTable))
	for i, v := range vendorTable {
		names[i] = v.name
	}
	e := &Engine{
		halt:      halt,
		haltSync:  haltSync,
		opts:      opts,
		client:    opts.Store.Client,
		log:       opts.Logger,
		bulkheads: resilience.NewBulkheads(opts.Settings),
		slots:     newSlots(opts.MaxConcurrent, names),
		inflight:  map[uuid.UUID]*flight{},
		cache:     newTTLCache(),
	}
	e.health = newHealth(e.client, opts.Instance, names, opts.Health, e.now, opts.Logger, e.vendorChanged)
	for _, v := range names {
		opts.Metrics.vendorUp(v, true)
	}
	return e
}

// System returns ctx with the tenant privacy rules lifted: the engine works for every
// tenant and names tenants explicitly.
func System(ctx context.Context) context.Context {
	return privacy.DecisionContext(ctx, privacy.Allow)
}

// now is the engine's clock in microseconds, the precision PostgreSQL keeps: a time
// the engine stores is the time it reports.
func (e *Engine) now() time.Time { return e.opts.Now().UTC().Truncate(time.Microsecond) }

// Forget drops what the engine caches about an integration (its breaker, cached
// vendor answers) after its settings or credentials changed or it was deleted.
func (e *Engine) Forget(id string) {
	e.policies.Drop(id)
	e.cache.dropPrefix(id)
}

// SyncNow runs a sync of the integration now and returns it finished. While a sync
// of the same integration is already running (here or on another replica) it waits
// for that one and returns it instead, whose trigger stays what it was. A sync it
// starts records ctx's viewer as the one who triggered it.
func (e *Engine) SyncNow(ctx context.Context, id uuid.UUID) (*ent.SyncLog, error) {
	return e.sync(ctx, id, synclog.TriggerMANUAL, nil)
}

// triggeredBy is the user id of ctx's viewer, for a MANUAL sync's triggered_by_id.
func triggeredBy(ctx context.Context, trigger synclog.Trigger) *uuid.UUID {
	if trigger != synclog.TriggerMANUAL {
		return nil
	}
	v, ok := auth.FromContext(ctx)
	if !ok || v == nil {
		return nil
	}
	id, err := uuid.Parse(v.UserID)
	if err != nil {
		return nil
	}
	return &id
}

// sync runs a sync of the integration: a manual one (due is nil), or the scheduled
// run due at due, whose slot the scheduler holds. While the integration's vendor is
// down for everyone it is recorded as failed at once, without calling the vendor.
func (e *Engine) sync(ctx context.Context, id uuid.UUID, trigger synclog.Trigger, due *time.Time) (*ent.SyncLog, error) {
	by := triggeredBy(ctx, trigger)
	sys := System(ctx)
	in, err := e.client.Integration.Get(sys, id)
	if err != nil {
		return nil, err
	}
	if !in.Enabled && trigger == synclog.TriggerMANUAL {
		return nil, ErrDisabled
	}
	if in.NeedsCredentials {
		if trigger == synclog.TriggerMANUAL {
			return nil, ErrNeedsCredentials
		}
		return nil, nil // a due run is skipped without a SyncLog: no vendor call
	}
	if st, down := e.health.down(vendorName(in.Vendor)); down {
		return e.failFast(sys, in, trigger, due, by, st)
	}
	asked := e.now()
	e.mu.Lock()
	for {
		f, ok := e.inflight[id]
		if !ok {
			break
		}
		e.mu.Unlock()
		// The sync in flight may still be finishing its bookkeeping here after its row
		// already says it is done (and its end was published): a manual request joins
		// it only if it had not ended before the request came; a claimed scheduled run
		// is a run of its own either way.
		lg, err := waitFlight(ctx, f)
		if trigger == synclog.TriggerMANUAL && !endedBefore(lg, err, asked) {
			return lg, err // a manual request joins the running sync
		}
		if err != nil && ctx.Err() != nil {
			return nil, err
		}
		e.mu.Lock()
	}
	f := &flight{done: make(chan struct{})}
	e.inflight[id] = f
	e.mu.Unlock()

	// The sync outlives a caller who goes away: it is recorded either way.
	e.syncs.Add(1)
	go func() {
		defer e.syncs.Done()
		defer func() {
			e.mu.Lock()
			delete(e.inflight, id)
			e.mu.Unlock()
			close(f.done)
		}()
		f.log, f.err = e.runExclusive(context.WithoutCancel(sys), in, trigger, due, by)
	}()
	return waitFlight(ctx, f)
}

// endedBefore tells a sync that had ended before t (so a request made at t did not
// find it running).
func endedBefore(lg *ent.SyncLog, err error, t time.Time) bool {
	return err == nil && lg != nil && lg.CompletedAt != nil && lg.CompletedAt.Before(t)
}

func waitFlight(ctx context.Context, f *flight) (*ent.SyncLog, error) {
	select {
	case <-f.done:
		return f.log, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// runExclusive starts the sync unless another replica runs one of this integration
// (the partial unique index on RUNNING rows says so), in which case it waits for
// that one. A RUNNING row whose runner has stopped sending heartbeats belongs to a
// dead process: it is closed as interrupted and this sync starts instead, rather
// than waiting for the reaper.
func (e *Engine) runExclusive(ctx context.Context, in *ent.Integration, trigger synclog.Trigger, due *time.Time, by *uuid.UUID) (*ent.SyncLog, error) {
	if trigger == synclog.TriggerMANUAL {
		// Scheduled runs come with a slot the scheduler took for them.
		if err := e.slots.acquireManual(ctx); err != nil {
			return nil, err
		}
		defer e.slots.releaseManual()
	}
	for try := 0; ; try++ {
		started := e.now()
		if due != nil && try == 0 {
			e.opts.Metrics.lag(vendorName(in.Vendor), started.Sub(*due))
		}
		lg, err := e.client.SyncLog.Create().
			SetNillableDueAt(due).
			SetTenantID(in.TenantID).SetIntegrationID(in.ID).
			SetSyncType(vendorOf(in.Vendor).syncType).SetTrigger(trigger).
			SetStatus(synclog.StatusRUNNING).SetStartedAt(started).
			SetRunner(e.opts.Instance).SetHeartbeatAt(started).
			SetNillableTriggeredByID(by).
			Save(ctx)
		if ent.IsConstraintError(err) {
			lg, took, err := e.joinRunning(ctx, in.ID, try == 0)
			if took {
				continue
			}
			return lg, err
		}
		if err != nil {
			return nil, fmt.Errorf("record sync start: %w", err)
		}
		return e.execute(ctx, in, lg)
	}
}

// joinRunning waits for the RUNNING sync of the integration (started elsewhere).
// With takeOver, an abandoned one is closed instead and took is true: the caller
// may start its own.
func (e *Engine) joinRunning(ctx context.Context, id uuid.UUID, takeOver bool) (lg *ent.SyncLog, took bool, err error) {
	var runningID uuid.UUID
	t := time.NewTicker(DefaultJoinPoll)
	defer t.Stop()
	deadline := time.After(e.opts.SyncTimeout + DefaultAbandonedAfter)
	for {
		q := e.client.SyncLog.Query().Where(synclog.IntegrationID(id))
		if runningID == uuid.Nil {
			q.Where(synclog.StatusEQ(synclog.StatusRUNNING))
		} else {
			q.Where(synclog.ID(runningID))
		}
		lg, err := q.Only(ctx)
		switch {
		case ent.IsNotFound(err) && runningID == uuid.Nil:
			// It finished between our insert and this look: take the newest.
			lg, err := e.client.SyncLog.Query().Where(synclog.IntegrationID(id)).
				Order(ent.Desc(synclog.FieldStartedAt)).First(ctx)
			return lg, false, err
		case err != nil:
			return nil, false, err
		case lg.Status != synclog.StatusRUNNING:
			return lg, false, nil
		case takeOver && abandoned(lg, e.now(), e.abandonAfter()) && e.dbUpFor(e.now()) >= e.abandonAfter():
			if err := e.closeAbandoned(ctx, lg, e.now()); err != nil {
				return nil, false, err
			}
			return nil, true, nil
		}
		runningID = lg.ID
		select {
		case <-ctx.Done():
			return nil, false, ctx.Err()
		case <-deadline:
			return lg, false, nil
		case <-t.C:
		}
	}
}

// abandonAfter is how long a RUNNING sync's runner may be silent before the sync
// counts as abandoned.
func (e *Engine) abandonAfter() time.Duration {
	if d := time.Duration(e.abandonedAfter.Load()); d > 0 {
		return d
	}
	return DefaultAbandonedAfter
}

// abandoned reports whether a RUNNING sync's runner has been silent for longer than after.
func abandoned(lg *ent.SyncLog, now time.Time, after time.Duration) bool {
	hb := lg.StartedAt
	if lg.HeartbeatAt != nil {
		hb = *lg.HeartbeatAt
	}
	return hb.Before(now.Add(-after))
}

// result is what one sync did.
type result struct {
	processed, created, updated int
}

// tracker counts the tries of the calls of one sync (SyncLog.attempts is the most
// any one call needed).
type tracker struct {
	mu       sync.Mutex
	attempts int
	// tries are the sync's vendor requests (SyncLog.tries).
	tries tryLog
}

func (t *tracker) observe(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.attempts = max(t.attempts, n)
}

func (t *tracker) max() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.attempts
}

// execute runs the started sync to its end and records the outcome.
func (e *Engine) execute(ctx context.Context, in *ent.Integration, lg *ent.SyncLog) (*ent.SyncLog, error) {
	e.publishSync(ctx, in, event.SyncStarted, lg, nil)
	hbCtx, stopHB := context.WithCancel(ctx)
	go e.heartbeat(hbCtx, lg.ID)

	// The hooks go with this sync's own calls: a live lookup of the same
	// integration, sharing its policy, is not part of this sync.
	tr := &tracker{}
	if creds, err := e.opts.Sealer.OpenCredentials(in.Credentials); err == nil {
		tr.tries.secrets = []string{creds.APIKey, creds.APISecret}
	}
	hooks := resilience.Hooks{
		OnRetry: func(attempt int, err error, wait time.Duration) {
			tr.observe(attempt) // the tries so far: the next one has not started
			msg := fmt.Sprintf("try %d failed (%s); retrying in %s", attempt, resilience.Describe(err), wait.Round(time.Millisecond))
			snap := *lg
			snap.Attempts = max(tr.max(), attempt)
			snap.Tries = tr.tries.snapshot()
			e.publishSync(ctx, in, event.SyncRetrying, &snap, &retryInfo{attempt: attempt, wait: wait, msg: msg})
		},
	}
	runCtx, cancel := context.WithTimeout(ctx, e.opts.SyncTimeout)
	stopHalt := context.AfterFunc(e.halt, cancel)
	res, err := e.run(runCtx, in, e.doFunc(in, tr, hooks))
	stopHalt()
	cancel()
	if err != nil && e.halt.Err() != nil {
		err = errStopped
	}

	done := e.now()
	dur := done.Sub(lg.StartedAt).Milliseconds()
	status := synclog.StatusSUCCESS
	var errText, class string
	if err != nil {
		status = synclog.StatusFAILED
		class = string(classOf(err))
		errText = truncate(describe(err), 2000)
		e.log.Warn("sync failed", "integration", in.ID, "vendor", in.Vendor, "class", class, "err", describe(err))
	}
	// Record the end, retrying while the database is away (the heartbeat goes on
	// meanwhile, so that no reaper takes this live sync for a dead one).
	var finished *ent.SyncLog
	deadline := later(lg.StartedAt.Add(e.opts.SyncTimeout), time.Now().Add(DefaultRecordEndFor))
	uerr := e.persist(ctx, "record sync end", deadline, func(ctx context.Context) error {
		u := e.client.SyncLog.UpdateOneID(lg.ID).
			SetCompletedAt(done).SetDurationMs(dur).SetAttempts(tr.max()).SetTries(tr.tries.snapshot()).
			SetRecordsProcessed(res.processed).SetRecordsCreated(res.created).SetRecordsUpdated(res.updated).
			SetStatus(status)
		if err != nil {
			u.SetError(errText).SetErrorClass(class)
		}
		var serr error
		finished, serr = u.Save(ctx)
		return serr
	})
	stopHB()
	if uerr != nil {
		return nil, fmt.Errorf("record sync end: %w", uerr)
	}
	e.markIntegration(ctx, in.ID, done, status)
	e.opts.Metrics.sync(vendorName(in.Vendor), string(status), time.Duration(dur)*time.Millisecond)
	typ := event.SyncSucceeded
	if status == synclog.StatusFAILED {
		typ = event.SyncFailed
	}
	e.publishSync(ctx, in, typ, finished, nil)
	if e.opts.Observer != nil {
		e.opts.Observer.AfterSync(ctx, in, finished)
	}
	return finished, nil
}

func (e *Engine) markIntegration(ctx context.Context, id uuid.UUID, at time.Time, status synclog.Status) {
	err := e.client.Integration.UpdateOneID(id).
		SetLastSyncAt(at).SetLastSyncStatus(integration.LastSyncStatus(status)).Exec(ctx)
	if err != nil && !ent.IsNotFound(err) {
		e.log.Error("record last sync on integration", "integration", id, "err", err)
	}
}

// heartbeat says every DefaultHeartbeat that the sync is alive; while the database
// is away it tries every second, so that the row is fresh again as soon as the
// database is back (before any reaper's patience ends).
func (e *Engine) heartbeat(ctx context.Context, id uuid.UUID) {
	t := time.NewTimer(DefaultHeartbeat)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := e.client.SyncLog.UpdateOneID(id).SetHeartbeatAt(e.now()).Exec(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if !failing {
				e.log.Warn("sync heartbeat: retrying every second", "sync", id, "err", err)
			}
			failing = true
			if transient(err) {
				e.dbFailed()
			}
			t.Reset(heartbeatRetry)
		default:
			if failing {
				e.log.Info("sync heartbeat: recorded again", "sync", id)
			}
			failing = false
			t.Reset(DefaultHeartbeat)
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
