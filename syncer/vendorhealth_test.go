package syncer_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/resilience"
	"github.com/sallyhq/sally/sandbox"
	"github.com/sallyhq/sally/store"
	"github.com/sallyhq/sally/syncer"
)

// vendorUp reads sally_vendor_up{vendor} from a registry.
func vendorUp(t *testing.T, reg *prometheus.Registry, vendor string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "sally_vendor_up" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "vendor" && l.GetValue() == vendor {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no sally_vendor_up{vendor=%q}", vendor)
	return 0
}

func status(t *testing.T, e *syncer.Engine, vendor string) syncer.VendorStatus {
	t.Helper()
	for _, st := range e.VendorStatuses() {
		if st.Vendor == vendor {
			return st
		}
	}
	t.Fatalf("no status of %s", vendor)
	return syncer.VendorStatus{}
}

// Two replicas judge a vendor together, through the database: auth errors never
// count, most recent calls failing take it down for everyone (once, one event), its
// syncs then fail at once without calling it, one probe at a time checks it, and
// the probe that finds it back closes the incident on every replica.
func TestVendorHealth(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		clk := newClock(time.Now().UTC())
		health := syncer.HealthOptions{Ratio: 0.8, MinCalls: 6, Window: time.Minute, ProbeInterval: 30 * time.Second, Every: time.Second}
		policy := fastPolicy()
		policy.FailureThreshold = 100 // the integrations' own breakers stay out of it
		f := setup(t, s, withPolicy(policy), withEngine(func(o *syncer.Options) {
			o.Instance, o.Now, o.Health = "replica-1", clk.Now, health
		}))
		reg := prometheus.NewRegistry()
		e1 := f.engine
		e2 := f.newEngine(t, s, func(o *syncer.Options) {
			o.Instance, o.Now, o.Health, o.Metrics = "replica-2", clk.Now, health, syncer.NewMetrics(reg)
		})
		ctx := context.Background()
		evs := f.subscribe(t)
		var ok []*ent.Integration
		for _, key := range []string{"down-1", "down-2", "down-3"} {
			ok = append(ok, f.integration(t, integration.VendorSAMSARA_ELD, key))
		}
		loads := f.integration(t, integration.VendorTRUCKBASE_TMS, "still-up")

		t.Run("AuthErrorsNeverCount", func(t *testing.T) {
			for i := range 8 {
				bad := f.integration(t, integration.VendorSAMSARA_ELD, "invalid-key-"+string(rune('a'+i)))
				lg := f.syncNow(t, []*syncer.Engine{e1, e2}[i%2], bad.ID)
				require.Equal(t, string(resilience.ClassAuth), str(lg.ErrorClass))
			}
			e1.CheckHealthOnce(ctx)
			e2.CheckHealthOnce(ctx)
			require.True(t, status(t, e1, "samsara").Up, "8 of 8 calls failed, all with 401: the vendor answered")
			require.True(t, status(t, e2, "samsara").Up)
			require.Equal(t, 1.0, vendorUp(t, reg, "samsara"))
		})

		t.Run("ReplicasAgreeItIsDown", func(t *testing.T) {
			clk.Add(2 * time.Minute) // the 401s leave the window
			f.setFault(t, sandbox.Samsara, sandbox.Fault{Status: 503})
			requireFailedWith(t, f.syncNow(t, e2, ok[0].ID), resilience.ClassUnavailable)
			e2.CheckHealthOnce(ctx)
			require.True(t, status(t, e2, "samsara").Up, "3 failed calls are fewer than VENDOR_DOWN_MIN_CALLS")

			requireFailedWith(t, f.syncNow(t, e1, ok[1].ID), resilience.ClassUnavailable)
			requireFailedWith(t, f.syncNow(t, e1, ok[2].ID), resilience.ClassUnavailable)
			e1.CheckHealthOnce(ctx) // 6 failed here + 3 on replica-2
			e2.CheckHealthOnce(ctx)
			for _, e := range []*syncer.Engine{e1, e2} {
				st := status(t, e, "samsara")
				require.False(t, st.Up)
				require.Contains(t, st.Reason, "100% of the last 9 calls to samsara failed")
				require.True(t, st.NextProbeAt.After(clk.Now()))
			}
			require.True(t, status(t, e2, "truckbase").Up, "other vendors are not concerned")
			require.Equal(t, 0.0, vendorUp(t, reg, "samsara"), "replica-2 reports what replica-1 recorded")

			down := evs.ofType(t, event.VendorDown)
			require.Len(t, down, 1, "one event per incident, from the replica that recorded it")
			require.Equal(t, "SAMSARA_ELD", down[0].Vendor)
			require.Equal(t, "OPEN", down[0].CircuitState)
			require.Empty(t, down[0].IntegrationID)
			require.Contains(t, str(down[0].Message), "samsara is down for everyone")
		})

		t.Run("ItsSyncsFailAtOnceWithoutCallingIt", func(t *testing.T) {
			before := f.requests(sandbox.Samsara)
			for _, e := range []*syncer.Engine{e1, e2} {
				lg := f.syncNow(t, e, ok[0].ID)
				requireFailedWith(t, lg, resilience.ClassCircuitOpen)
				require.Contains(t, str(lg.Error), "samsara is down for everyone")
				require.Zero(t, lg.Attempts)
			}
			// Scheduled runs too, with their due time; another vendor's still run.
			due := clk.Now().Add(-time.Second)
			for _, in := range []*ent.Integration{ok[1], loads} {
				require.NoError(t, s.Client.Integration.UpdateOneID(in.ID).SetNextSyncAt(due).Exec(sys()))
			}
			e2.ScheduleDue(ctx)
			e2.Idle()
			lg := lastLog(t, s, ok[1].ID)
			requireFailedWith(t, lg, resilience.ClassCircuitOpen)
			require.Equal(t, synclog.TriggerSCHEDULED, lg.Trigger)
			require.NotNil(t, lg.DueAt)
			require.WithinDuration(t, due, *lg.DueAt, time.Millisecond)
			requireSuccess(t, lastLog(t, s, loads.ID))
			require.Equal(t, before, f.requests(sandbox.Samsara), "no call reached the vendor")
		})

		t.Run("OneProbeAtATime", func(t *testing.T) {
			ctx := context.Background()
			won, err := e1.TakeProbe(ctx, "samsara")
			require.NoError(t, err)
			require.False(t, won, "not before VENDOR_PROBE_INTERVAL")

			clk.Add(31 * time.Second)
			w1, err := e1.TakeProbe(ctx, "samsara")
			require.NoError(t, err)
			w2, err := e2.TakeProbe(ctx, "samsara")
			require.NoError(t, err)
			require.True(t, w1 != w2, "exactly one replica probes (replica-1 %v, replica-2 %v)", w1, w2)
			winner := e1
			if w2 {
				winner = e2
			}
			again, err := winner.TakeProbe(ctx, "samsara")
			require.NoError(t, err)
			require.False(t, again, "one probe per interval, even for the winner")

			before := f.requests(sandbox.Samsara)
			winner.Probe(ctx, "samsara")
			require.Equal(t, before+1, f.requests(sandbox.Samsara), "a probe is one call")
			e1.CheckHealthOnce(ctx)
			require.False(t, status(t, e1, "samsara").Up, "the vendor still fails")
			require.Empty(t, evs.ofType(t, event.VendorUp))
		})

		t.Run("RecoveryClosesIt", func(t *testing.T) {
			f.sandbox.ClearFaults(sandbox.Samsara)
			clk.Add(31 * time.Second)
			won, err := e2.TakeProbe(ctx, "samsara")
			require.NoError(t, err)
			require.True(t, won)
			e2.Probe(ctx, "samsara")
			require.True(t, status(t, e2, "samsara").Up)
			require.Equal(t, 1.0, vendorUp(t, reg, "samsara"))
			e1.CheckHealthOnce(ctx)
			require.True(t, status(t, e1, "samsara").Up, "replica-1 reads it back up")

			up := evs.ofType(t, event.VendorUp)
			require.Len(t, up, 1)
			require.Equal(t, "CLOSED", up[0].CircuitState)
			requireSuccess(t, f.syncNow(t, e1, ok[2].ID))

			// Failures from before the recovery do not take it down again.
			e1.CheckHealthOnce(ctx)
			e2.CheckHealthOnce(ctx)
			require.True(t, status(t, e2, "samsara").Up)
		})
	})
}

func requireFailedWith(t *testing.T, lg *ent.SyncLog, class resilience.Class) {
	t.Helper()
	require.Equal(t, synclog.StatusFAILED, lg.Status)
	require.Equal(t, string(class), str(lg.ErrorClass), "error: %s", str(lg.Error))
}

func lastLog(t *testing.T, s *store.Store, id uuid.UUID) *ent.SyncLog {
	t.Helper()
	logs := logsByIntegration(t, s)[id]
	require.NotEmpty(t, logs, "no sync log of %s", id)
	return logs[len(logs)-1]
}

// Fair share: a vendor whose syncs hang, with more due than the server has slots,
// does not hold the slot another vendor's due sync needs: that one starts at the
// next tick and finishes while the hanging ones still hang.
func TestFairShare(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s, withEngine(func(o *syncer.Options) {
			o.MaxConcurrent = 8 // 7 scheduled slots, one kept for manual syncs
			o.ShutdownGrace = 10 * time.Millisecond
			o.Health = syncer.HealthOptions{MinCalls: 1_000_000} // no vendor-wide verdict here
		}))
		f.setFault(t, sandbox.Samsara, sandbox.Fault{LatencyMs: 60_000}) // hangs until the test stops it
		var hanging []*ent.Integration
		for i := range 10 {
			in := f.integration(t, integration.VendorSAMSARA_ELD, "hang-"+string(rune('a'+i)))
			schedule(t, s, in.ID, 3600)
			hanging = append(hanging, in)
		}
		other := f.integration(t, integration.VendorTRUCKBASE_TMS, "other")
		running := func(v integration.Vendor) int {
			return s.Client.SyncLog.Query().Where(synclog.StatusEQ(synclog.StatusRUNNING),
				synclog.HasIntegrationWith(integration.VendorEQ(v))).CountX(sys())
		}

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { f.engine.Run(ctx, syncer.SchedulerOptions{Tick: 20 * time.Millisecond}); close(done) }()
		defer func() { cancel(); <-done }()

		// Its share of the 7 is one slot, as every vendor's; beyond it, every slot but
		// the one kept for each other vendor.
		share := 7 - (len(syncer.Vendors()) - 1)
		require.Eventually(t, func() bool { return running(integration.VendorSAMSARA_ELD) == share }, time.Minute, 10*time.Millisecond,
			"samsara takes its share and the idle slots beyond the ones kept for the others")
		// More samsara syncs stay due, and the other vendor's sync becomes due.
		schedule(t, s, other.ID, 3600)
		require.Eventually(t, func() bool {
			return s.Client.SyncLog.Query().Where(synclog.IntegrationID(other.ID), synclog.StatusEQ(synclog.StatusSUCCESS)).ExistX(sys())
		}, time.Minute, 10*time.Millisecond)
		require.Equal(t, share, running(integration.VendorSAMSARA_ELD), "it ran while every samsara sync still hung")
		stillDue := s.Client.Integration.Query().Where(integration.VendorEQ(integration.VendorSAMSARA_ELD),
			integration.NextSyncAtLTE(time.Now())).CountX(sys())
		require.Equal(t, len(hanging)-share, stillDue, "samsara still had due work it was not given slots for")

		// A manual sync never waits behind the scheduled ones either.
		manual := f.integration(t, integration.VendorFUELFINDER, "manual")
		requireSuccess(t, f.syncNow(t, f.engine, manual.ID))
	})
}
