package syncer_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/internal/testpg"
	"github.com/sallyhq/sally/sandbox"
	"github.com/sallyhq/sally/store"
	"github.com/sallyhq/sally/syncer"
)

// openPrivate opens and migrates a store on a private PostgreSQL cluster, which the
// test may stop and start (the shared one is left alone).
func openPrivate(t *testing.T) (*testpg.Cluster, *store.Store) {
	t.Helper()
	pg := testpg.Start(t, testpg.Options{})
	st, err := store.Open(context.Background(), "postgres", pg.URL())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	require.NoError(t, st.Migrate(context.Background()))
	return pg, st
}

// TestSyncRecordsItsEndAfterADatabaseOutage: PostgreSQL stops while a sync waits on
// its vendor and comes back seconds later. The vendor's data could not be saved
// meanwhile, and the sync, which kept trying to record its end, says exactly that:
// FAILED for that reason, not left RUNNING for the reaper to call "interrupted".
func TestSyncRecordsItsEndAfterADatabaseOutage(t *testing.T) {
	t.Parallel()
	pg, st := openPrivate(t)
	f := setup(t, st)
	in := f.integration(t, integration.VendorOPENWEATHER, "outage-key")
	require.NoError(t, f.sandbox.SetFault("openweather", sandbox.Fault{LatencyMs: 1500}))

	type outcome struct {
		lg  *ent.SyncLog
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		lg, err := f.engine.SyncNow(context.Background(), in.ID)
		done <- outcome{lg, err}
	}()
	require.Eventually(t, func() bool {
		n, err := st.Client.SyncLog.Query().Where(synclog.StatusEQ(synclog.StatusRUNNING)).Count(sys())
		return err == nil && n == 1
	}, 30*time.Second, 10*time.Millisecond)
	pg.Stop(t)
	time.Sleep(3 * time.Second) // the vendor answers meanwhile: the end cannot be recorded yet
	pg.Start(t)

	var got outcome
	select {
	case got = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the sync did not end within 2 minutes of the database's return")
	}
	require.NoError(t, got.err, "the end was recorded")
	stored, err := st.Client.SyncLog.Get(sys(), got.lg.ID)
	require.NoError(t, err)
	require.Equal(t, synclog.StatusFAILED, stored.Status)
	require.NotNil(t, stored.ErrorClass)
	require.NotEqual(t, string(syncer.ClassInterrupted), *stored.ErrorClass)
	require.Contains(t, *stored.Error, "could not be saved")

	// With the database back, the next sync succeeds.
	f.sandbox.ClearFaults("openweather")
	require.Equal(t, synclog.StatusSUCCESS, f.syncNow(t, f.engine, in.ID).Status)
}

// TestReaperWaitsOutADatabaseOutage: after the database was away, a RUNNING sync
// whose heartbeat is old is not closed as interrupted until the database has been
// back for the reaper's whole patience: its runner may be alive and have been unable
// to say so. Then it is.
func TestReaperWaitsOutADatabaseOutage(t *testing.T) {
	t.Parallel()
	pg, st := openPrivate(t)
	f := setup(t, st)
	in := f.integration(t, integration.VendorSAMSARA_ELD, "reaper-key")
	old := time.Now().Add(-time.Hour)
	lg, err := st.Client.SyncLog.Create().SetTenantID(in.TenantID).SetIntegrationID(in.ID).
		SetSyncType(synclog.SyncTypeHOS_SYNC).SetTrigger(synclog.TriggerSCHEDULED).
		SetStatus(synclog.StatusRUNNING).SetStartedAt(old).SetHeartbeatAt(old).SetRunner("elsewhere").Save(sys())
	require.NoError(t, err)
	status := func() synclog.Status {
		got, err := st.Client.SyncLog.Get(sys(), lg.ID)
		require.NoError(t, err)
		return got.Status
	}

	const patience = 2 * time.Second
	pg.Stop(t)
	f.engine.ReapAbandoned(context.Background(), patience) // fails: the database is away
	pg.Start(t)
	require.Eventually(t, func() bool { return st.Ping(context.Background()) == nil }, time.Minute, 50*time.Millisecond)
	f.engine.ReapAbandoned(context.Background(), patience)
	require.Equal(t, synclog.StatusRUNNING, status(), "closed right after the outage")

	time.Sleep(patience)
	f.engine.ReapAbandoned(context.Background(), patience)
	require.Equal(t, synclog.StatusFAILED, status(), "closed once the database has been back long enough")
}
