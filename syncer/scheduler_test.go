package syncer_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/sandbox"
	"github.com/sallyhq/sally/store"
	"github.com/sallyhq/sally/syncer"
)

// schedule makes an integration due now and every intervalSeconds after (the API's
// minimum of 60 is the API's: the engine takes any interval).
func schedule(t *testing.T, s *store.Store, id uuid.UUID, intervalSeconds int) {
	t.Helper()
	require.NoError(t, s.Client.Integration.UpdateOneID(id).
		SetSyncIntervalSeconds(intervalSeconds).SetNextSyncAt(time.Now().UTC()).Exec(sys()))
}

// runEngines runs the engines' schedulers for d, then stops them and waits until
// they have returned. It returns when they started and when they were told to stop.
func runEngines(t *testing.T, d time.Duration, o syncer.SchedulerOptions, engines ...*syncer.Engine) (start, end time.Time) {
	t.Helper()
	deadline := time.Now().Add(d)
	return runEnginesUntil(t, func() bool { return !time.Now().Before(deadline) }, o, engines...)
}

// runEnginesUntil runs the engines' schedulers until done reports true (polled, for
// at most a minute: the test fails if it never does), then stops them and waits until
// they have returned. done runs on a goroutine of its own: it must not fail the test.
func runEnginesUntil(t *testing.T, done func() bool, o syncer.SchedulerOptions, engines ...*syncer.Engine) (start, end time.Time) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	start = time.Now()
	for _, e := range engines {
		wg.Go(func() { e.Run(ctx, o) })
	}
	// assert, not require: the engines are stopped either way.
	assert.Eventually(t, done, time.Minute, 10*time.Millisecond, "the engines' stop condition within a minute")
	cancel()
	end = time.Now()
	stopped := make(chan struct{})
	go func() { wg.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(time.Minute):
		t.Fatal("the engines did not stop within a minute of their context ending")
	}
	return start, end
}

// logsByIntegration returns every sync log, oldest first per integration.
func logsByIntegration(t *testing.T, s *store.Store) map[uuid.UUID][]*ent.SyncLog {
	t.Helper()
	all, err := s.Client.SyncLog.Query().Order(ent.Asc(synclog.FieldStartedAt)).All(sys())
	require.NoError(t, err)
	out := map[uuid.UUID][]*ent.SyncLog{}
	for _, lg := range all {
		out[lg.IntegrationID] = append(out[lg.IntegrationID], lg)
	}
	return out
}

// requireNoOverlap checks that each of an integration's syncs (oldest first)
// started after the one before had finished.
func requireNoOverlap(t *testing.T, logs []*ent.SyncLog) {
	t.Helper()
	for i, lg := range logs {
		require.NotEqual(t, synclog.StatusRUNNING, lg.Status, "sync %s still RUNNING after the engines stopped", lg.ID)
		require.NotNil(t, lg.CompletedAt)
		if i > 0 {
			prev := logs[i-1]
			require.False(t, lg.StartedAt.Before(*prev.CompletedAt),
				"sync %s (%s, started %s) overlaps sync %s (%s, %s – %s)", lg.ID, lg.Runner,
				lg.StartedAt.Format(time.StampMicro), prev.ID, prev.Runner,
				prev.StartedAt.Format(time.StampMicro), prev.CompletedAt.Format(time.StampMicro))
		}
	}
}

func TestScheduler(t *testing.T) {
	t.Parallel()
	t.Run("RunsDueIntegrations", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			f := setup(t, s)
			due := []*ent.Integration{
				f.integration(t, integration.VendorTRUCKBASE_TMS, "sched-loads"),
				f.integration(t, integration.VendorSAMSARA_ELD, "sched-hos"),
			}
			for _, in := range due {
				schedule(t, s, in.ID, 1)
			}
			later := f.integration(t, integration.VendorSAMSARA_ELD, "sched-later")
			require.NoError(t, s.Client.Integration.UpdateOneID(later.ID).
				SetSyncIntervalSeconds(1).SetNextSyncAt(time.Now().Add(time.Hour)).Exec(sys()))
			off := f.integration(t, integration.VendorTRUCKBASE_TMS, "sched-disabled")
			schedule(t, s, off.ID, 1)
			require.NoError(t, s.Client.Integration.UpdateOneID(off.ID).SetEnabled(false).Exec(sys()))

			// Until each due integration has synced twice (due every second).
			twice := func() bool {
				for _, in := range due {
					n := s.Client.SyncLog.Query().Where(synclog.IntegrationID(in.ID), synclog.StatusNEQ(synclog.StatusRUNNING)).CountX(sys())
					if n < 2 {
						return false
					}
				}
				return true
			}
			runEnginesUntil(t, twice, syncer.SchedulerOptions{Tick: 50 * time.Millisecond}, f.engine)

			logs := logsByIntegration(t, s)
			for _, in := range due {
				got := logs[in.ID]
				require.GreaterOrEqual(t, len(got), 2, "due every second")
				for _, lg := range got {
					require.Equal(t, synclog.TriggerSCHEDULED, lg.Trigger)
					requireSuccess(t, lg)
				}
				requireNoOverlap(t, got)
				stored := f.integrationNow(t, in.ID)
				require.True(t, stored.NextSyncAt.After(got[len(got)-1].StartedAt), "the next run is after the last")
				require.Equal(t, integration.LastSyncStatusSUCCESS, *stored.LastSyncStatus)
			}
			require.Empty(t, logs[later.ID], "not due yet")
			require.Empty(t, logs[off.ID], "disabled")
		})
	})

	t.Run("StopsWhenItsContextEnds", func(t *testing.T) {
		t.Parallel()
		s := testdb.Open(t, testdb.SQLite)
		f := setup(t, s)
		in := f.integration(t, integration.VendorTRUCKBASE_TMS, "stop")
		schedule(t, s, in.ID, 60)
		f.setFault(t, sandbox.Truckbase, sandbox.Fault{LatencyMs: 500})

		// Stopped while the sync is under way: Run waits for it to be recorded.
		running := func() bool {
			return s.Client.SyncLog.Query().Where(synclog.StatusEQ(synclog.StatusRUNNING)).CountX(sys()) > 0
		}
		runEnginesUntil(t, running, syncer.SchedulerOptions{Tick: 20 * time.Millisecond}, f.engine)

		lg, err := s.Client.SyncLog.Query().Only(sys())
		require.NoError(t, err)
		requireSuccess(t, lg)
	})
}

// TestReplicas runs several replicas (separate engines, each with its own
// connection pool) on one PostgreSQL: every due run happens once, never two at a
// time for one integration, and none is lost.
//
// A trigger records every claim (each change of next_sync_at), so "none is lost"
// is counted exactly — every claimed run became a sync of its own, none was
// swallowed by another — rather than guessed from timing, which a busy machine
// stretches. It does not run in parallel with other tests (Go runs the parallel ones
// after the others).
func TestReplicas(t *testing.T) {
	dsn := testdb.PostgresURL(t)
	stores := make([]*store.Store, 3)
	for i := range stores {
		st, err := store.Open(context.Background(), "postgres", dsn)
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.Close() })
		stores[i] = st
	}
	require.NoError(t, stores[0].Migrate(context.Background()))
	_, err := stores[0].DB.Exec(`
CREATE TABLE claims (integration_id uuid NOT NULL, next_sync_at timestamptz, at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE FUNCTION record_claim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO claims (integration_id, next_sync_at) VALUES (NEW.id, NEW.next_sync_at);
  RETURN NEW;
END $$;
CREATE TRIGGER record_claim AFTER UPDATE OF next_sync_at ON integrations
  FOR EACH ROW WHEN (OLD.next_sync_at IS DISTINCT FROM NEW.next_sync_at) EXECUTE FUNCTION record_claim();`)
	require.NoError(t, err)

	f := setup(t, stores[0])
	vendors := []integration.Vendor{
		integration.VendorTRUCKBASE_TMS, integration.VendorSAMSARA_ELD,
		integration.VendorFUELFINDER, integration.VendorOPENWEATHER,
	}
	var ids []uuid.UUID
	for i := range 10 {
		in := f.integration(t, vendors[i%len(vendors)], "replica-"+string(rune('a'+i)))
		ids = append(ids, in.ID)
	}
	// Give every sync some vendor time, so that replicas race for real, and make
	// the loads syncs outlast the interval: their next run falls due while they run.
	for _, v := range sandbox.Vendors {
		f.setFault(t, v, sandbox.Fault{LatencyMs: 20})
	}
	f.setFault(t, sandbox.Truckbase, sandbox.Fault{LatencyMs: 1300})
	const interval = time.Second
	for _, id := range ids {
		schedule(t, stores[0], id, int(interval/time.Second))
	}
	_, err = stores[0].DB.Exec(`DELETE FROM claims`) // making them due was not a claim
	require.NoError(t, err)
	engines := make([]*syncer.Engine, len(stores))
	for i, st := range stores {
		engines[i] = f.newEngine(t, st, func(o *syncer.Options) { o.Instance = "replica-" + string(rune('1'+i)) })
	}

	start, end := runEngines(t, 6*time.Second, syncer.SchedulerOptions{Tick: 50 * time.Millisecond}, engines...)

	type claim struct{ next, at time.Time }
	claims := map[uuid.UUID][]claim{}
	rows, err := stores[0].DB.Query(`SELECT integration_id, next_sync_at, at FROM claims ORDER BY at`)
	require.NoError(t, err)
	for rows.Next() {
		var (
			id uuid.UUID
			c  claim
		)
		require.NoError(t, rows.Scan(&id, &c.next, &c.at))
		claims[id] = append(claims[id], c)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())

	logs := logsByIntegration(t, stores[0])
	runners := map[string]int{}
	for _, id := range ids {
		got := logs[id]
		var timeline []string
		for _, lg := range got {
			runners[lg.Runner]++
			timeline = append(timeline, fmt.Sprintf("%s@%s+%dms", lg.Runner, lg.StartedAt.Sub(start).Round(time.Millisecond), *lg.DurationMs))
			requireSuccess(t, lg)
			require.Equal(t, synclog.TriggerSCHEDULED, lg.Trigger)
		}
		t.Logf("integration %s: %d claims, %d syncs in %s: %v", id, len(claims[id]), len(got), end.Sub(start).Round(time.Millisecond), timeline)
		requireNoOverlap(t, got)
		require.Len(t, got, len(claims[id]), "every claimed run of %s is a sync of its own: none lost, none joined to another", id)
		// Each claim came when the run was due, not before: one claim per due run.
		for i := 1; i < len(claims[id]); i++ {
			require.False(t, claims[id][i].at.Before(claims[id][i-1].next),
				"claim %d of %s came before the run was due", i, id)
		}
		require.GreaterOrEqual(t, len(got), 3, "due every %s for %s", interval, end.Sub(start))
	}
	t.Logf("syncs per replica: %v", runners)
	require.Greater(t, len(runners), 1, "more than one replica ran syncs")
}

func TestReapAbandoned(t *testing.T) {
	t.Parallel()
	t.Run("ClosesSyncsOfDeadRunners", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			f := setup(t, s)
			dead := f.integration(t, integration.VendorSAMSARA_ELD, "dead")
			alive := f.integration(t, integration.VendorSAMSARA_ELD, "alive")
			ev := f.subscribe(t)
			now := time.Now().UTC()
			// A process that died two minutes ago, mid-sync, and one still running.
			deadLog := runningLog(t, s, dead, "crashed-replica", now.Add(-3*time.Minute), now.Add(-2*time.Minute))
			aliveLog := runningLog(t, s, alive, "live-replica", now.Add(-time.Minute), now.Add(-time.Second))

			f.engine.ReapAbandoned(context.Background(), syncer.DefaultAbandonedAfter)

			got, err := s.Client.SyncLog.Get(sys(), deadLog.ID)
			require.NoError(t, err)
			require.Equal(t, synclog.StatusFAILED, got.Status)
			require.True(t, strings.HasPrefix(str(got.Error), "interrupted"), "error: %s", str(got.Error))
			require.Equal(t, "interrupted", str(got.ErrorClass))
			require.NotNil(t, got.CompletedAt)
			require.GreaterOrEqual(t, *got.DurationMs, int64(3*time.Minute/time.Millisecond))
			require.Equal(t, integration.LastSyncStatusFAILED, *f.integrationNow(t, dead.ID).LastSyncStatus)
			failed := ev.ofType(t, event.SyncFailed)
			require.Len(t, failed, 1)
			require.Equal(t, deadLog.ID.String(), failed[0].SyncLog.ID)
			require.Equal(t, "interrupted", *failed[0].SyncLog.ErrorClass)

			still, err := s.Client.SyncLog.Get(sys(), aliveLog.ID)
			require.NoError(t, err)
			require.Equal(t, synclog.StatusRUNNING, still.Status, "its runner is alive")

			// The integration syncs again.
			requireSuccess(t, f.syncNow(t, f.engine, dead.ID))
		})
	})

	t.Run("ReaperRunsInTheBackground", func(t *testing.T) {
		t.Parallel()
		s := testdb.Open(t, testdb.SQLite)
		f := setup(t, s)
		in := f.integration(t, integration.VendorSAMSARA_ELD, "bg-reaper")
		now := time.Now().UTC()
		lg := runningLog(t, s, in, "crashed", now.Add(-time.Minute), now.Add(-time.Minute))

		closed := func() bool {
			return s.Client.SyncLog.Query().Where(synclog.StatusEQ(synclog.StatusRUNNING)).CountX(sys()) == 0
		}
		runEnginesUntil(t, closed, syncer.SchedulerOptions{
			Tick: time.Hour, ReaperEvery: 50 * time.Millisecond, AbandonedAfter: 30 * time.Second,
		}, f.engine)

		got, err := s.Client.SyncLog.Get(sys(), lg.ID)
		require.NoError(t, err)
		require.Equal(t, "interrupted", str(got.ErrorClass))
	})

	// A manual sync does not wait behind a dead process's RUNNING row: it closes it
	// as interrupted and runs.
	t.Run("SyncNowTakesOverAnAbandonedSync", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			f := setup(t, s)
			in := f.integration(t, integration.VendorTRUCKBASE_TMS, "take-over")
			now := time.Now().UTC()
			old := runningLog(t, s, in, "crashed", now.Add(-5*time.Minute), now.Add(-4*time.Minute))

			lg := requireSuccess(t, f.syncNow(t, f.engine, in.ID))

			require.NotEqual(t, old.ID, lg.ID)
			got, err := s.Client.SyncLog.Get(sys(), old.ID)
			require.NoError(t, err)
			require.Equal(t, synclog.StatusFAILED, got.Status)
			require.Equal(t, "interrupted", str(got.ErrorClass))
		})
	})
}

// runningLog inserts a RUNNING sync log as a runner would have left it.
func runningLog(t *testing.T, s *store.Store, in *ent.Integration, runner string, started, heartbeat time.Time) *ent.SyncLog {
	t.Helper()
	lg, err := s.Client.SyncLog.Create().SetTenantID(in.TenantID).SetIntegrationID(in.ID).
		SetSyncType(synclog.SyncTypeHOS_SYNC).SetTrigger(synclog.TriggerSCHEDULED).
		SetStatus(synclog.StatusRUNNING).SetStartedAt(started).SetRunner(runner).SetHeartbeatAt(heartbeat).
		Save(sys())
	require.NoError(t, err)
	return lg
}

func TestPurgeOld(t *testing.T) {
	t.Parallel()
	t.Run("DeletesOnlyLogsOlderThanTheRetention", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			f := setup(t, s, withEngine(func(o *syncer.Options) { o.RetentionDays = 30 }))
			in := f.integration(t, integration.VendorTRUCKBASE_TMS, "retention")
			now := time.Now().UTC()
			for _, age := range []time.Duration{40 * 24 * time.Hour, 31 * 24 * time.Hour, 365 * 24 * time.Hour} {
				finishedLog(s, in, now.Add(-age)).ExecX(sys())
			}
			keep := []*ent.SyncLog{
				finishedLog(s, in, now.AddDate(0, 0, -29)).SaveX(sys()),
				finishedLog(s, in, now.Add(-time.Hour)).SaveX(sys()),
			}

			// Without a retention, nothing goes.
			f.newEngine(t, s, nil).PurgeOld(context.Background())
			require.Equal(t, 3+len(keep), s.Client.SyncLog.Query().CountX(sys()))

			f.engine.PurgeOld(context.Background())

			left := s.Client.SyncLog.Query().Order(ent.Asc(synclog.FieldStartedAt)).AllX(sys())
			require.Len(t, left, len(keep))
			for i, lg := range left {
				require.Equal(t, keep[i].ID, lg.ID)
			}
		})
	})

	// More old rows than one purge batch: the purge loops until all are gone.
	t.Run("DeletesInBatches", func(t *testing.T) {
		t.Parallel()
		s := testdb.Open(t, testdb.Postgres)
		f := setup(t, s, withEngine(func(o *syncer.Options) { o.RetentionDays = 1 }))
		in := f.integration(t, integration.VendorTRUCKBASE_TMS, "retention-batches")
		const old = 2*syncer.DefaultRetentionBatch + 10
		_, err := s.DB.Exec(`INSERT INTO sync_logs (id, tenant_id, integration_id, sync_type, status, trigger,
			started_at, completed_at, duration_ms, attempts, records_processed, records_created, records_updated, runner)
			SELECT gen_random_uuid(), $1, $2, 'LOAD_SYNC', 'SUCCESS', 'SCHEDULED',
			       now() - interval '10 days' - n * interval '1 second', now() - interval '10 days', 1000, 1, 0, 0, 0, 'test'
			FROM generate_series(1, $3) AS n`, in.TenantID, in.ID, old)
		require.NoError(t, err)
		recent := finishedLog(s, in, time.Now().UTC()).SaveX(sys())

		f.engine.PurgeOld(context.Background())

		left := s.Client.SyncLog.Query().AllX(sys())
		require.Len(t, left, 1)
		require.Equal(t, recent.ID, left[0].ID)
	})
}

func finishedLog(s *store.Store, in *ent.Integration, started time.Time) *ent.SyncLogCreate {
	done := started.Add(time.Second)
	return s.Client.SyncLog.Create().SetTenantID(in.TenantID).SetIntegrationID(in.ID).
		SetSyncType(synclog.SyncTypeLOAD_SYNC).SetTrigger(synclog.TriggerSCHEDULED).
		SetStatus(synclog.StatusSUCCESS).SetStartedAt(started).SetCompletedAt(done).SetDurationMs(1000)
}

// TestStopCancelsSyncsAfterGrace: when Run's context ends, running syncs get
// ShutdownGrace to finish; a sync still waiting on its vendor then is cancelled and
// recorded as FAILED, interrupted, instead of holding the process up to SyncTimeout.
func TestStopCancelsSyncsAfterGrace(t *testing.T) {
	t.Parallel()
	f := setup(t, testdb.Open(t, testdb.SQLite), withEngine(func(o *syncer.Options) {
		o.ShutdownGrace = 200 * time.Millisecond
	}))
	in := f.integration(t, integration.VendorSAMSARA_ELD, "stopping")
	f.setFault(t, sandbox.Samsara, sandbox.Fault{LatencyMs: 60_000}) // a vendor that hangs

	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); f.engine.Run(ctx, syncer.SchedulerOptions{Tick: time.Hour}) }()
	synced := make(chan *ent.SyncLog, 1)
	go func() {
		lg, err := f.engine.SyncNow(context.Background(), in.ID)
		if err != nil {
			t.Errorf("SyncNow: %v", err)
		}
		synced <- lg
	}()
	require.Eventually(t, func() bool {
		n, err := f.store.Client.SyncLog.Query().Where(synclog.IntegrationID(in.ID), synclog.StatusEQ(synclog.StatusRUNNING)).Count(sys())
		return err == nil && n == 1 && f.requests(sandbox.Samsara) > 0
	}, 10*time.Second, 10*time.Millisecond, "the sync is waiting on the vendor")

	stop()
	select {
	case <-ran:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its grace: it is waiting for the hung sync")
	}
	lg := <-synced
	require.NotNil(t, lg)
	require.Equal(t, synclog.StatusFAILED, lg.Status)
	require.Equal(t, string(syncer.ClassInterrupted), str(lg.ErrorClass))
	require.Contains(t, str(lg.Error), "the server stopped while this sync ran")
	require.NotNil(t, lg.CompletedAt)
}
