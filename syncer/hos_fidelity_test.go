package syncer_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/fleetdriver"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/sandbox"
	"github.com/sallyhq/sally/store"
	"github.com/sallyhq/sally/syncer"
	"github.com/sallyhq/sally/vendors/samsara"
)

// storedDrivers returns the integration's drivers by vendor id.
func storedDrivers(t *testing.T, f *fixture, in *ent.Integration) map[string]*ent.FleetDriver {
	t.Helper()
	ds, err := f.store.Client.FleetDriver.Query().Where(fleetdriver.IntegrationID(in.ID)).All(sys())
	require.NoError(t, err)
	out := map[string]*ent.FleetDriver{}
	for _, d := range ds {
		out[d.DriverID] = d
	}
	return out
}

// TestHOSGapsKeptThroughStorage syncs a fleet with the gaps real vendors leave, and
// checks what is stored and served: a clock not reported is NULL (never 0) with a
// note, a disconnected app is UNKNOWN with its note, violations are kept; a later
// sync that reports the clocks fills them and drops the note, and one that stops
// reporting them makes them NULL again.
func TestHOSGapsKeptThroughStorage(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s, withFixedClock())
		gaps := sandbox.FleetSettings{Drivers: 10, Loads: 2, WithoutClocks: 2, Disconnected: 2, InViolation: 2}
		f.sandbox.SetFleetSettings(gaps)
		in := f.integration(t, integration.VendorSAMSARA_ELD, "gaps")
		requireSuccess(t, f.syncNow(t, f.engine, in.ID))

		clocks := func(d *ent.FleetDriver) []*float64 {
			return []*float64{d.HoursDriven, d.DriveRemainingHours, d.ShiftRemainingHours, d.CycleRemainingHours, d.TimeUntilBreakHours}
		}
		check := func(withGaps bool) {
			t.Helper()
			ds := storedDrivers(t, f, in)
			require.Len(t, ds, 10)
			for i := range 10 {
				d := ds[sandboxID(i)]
				require.NotNil(t, d, "driver %d", i)
				require.NotNil(t, d.DutyStatus, "driver %d: its clocks item came", i)
				switch {
				case withGaps && i < 2:
					for _, c := range clocks(d) {
						require.Nil(t, c, "driver %d: not reported, stored as NULL", i)
					}
					require.NotNil(t, d.HosNote)
					require.Contains(t, *d.HosNote, samsara.NoteNoClocks)
					h := syncer.HOSOf(d, in, time.Now())
					require.Nil(t, h.DriveRemainingHours)
					require.Equal(t, d.HosNote, h.Note)
				case withGaps && i < 4:
					require.Equal(t, "UNKNOWN", *d.DutyStatus, "driver %d", i)
					require.Equal(t, samsara.NoteDisconnected, *d.HosNote)
					for _, c := range clocks(d) {
						require.NotNil(t, c, "driver %d: a disconnected app still has clocks", i)
					}
				case withGaps && i < 6:
					require.InDelta(t, 1, *d.CycleViolationHours, 1e-9, "driver %d", i)
					require.InDelta(t, 1, *d.ShiftDrivingViolationHours, 1e-9, "driver %d", i)
				default:
					for _, c := range clocks(d) {
						require.NotNil(t, c, "driver %d", i)
					}
					require.NotNil(t, d.CycleViolationHours, "driver %d: the sandbox always reports violations", i)
					if d.HosNote != nil {
						require.Equal(t, samsara.NoteDisconnected, *d.HosNote, "driver %d: only the sandbox's flaky phones", i)
					}
				}
			}
		}
		check(true)

		f.sandbox.SetFleetSettings(sandbox.FleetSettings{Drivers: 10, Loads: 2})
		requireSuccess(t, f.syncNow(t, f.engine, in.ID))
		check(false)

		f.sandbox.SetFleetSettings(gaps)
		requireSuccess(t, f.syncNow(t, f.engine, in.ID))
		check(true)
	})
}

// sandboxID is the vendor id of the sandbox fleet's driver i (0-based).
func sandboxID(i int) string { return strconv.Itoa(52001 + i) }

// TestOverrideAudit checks an override's reason, author and expiry: stored, served,
// and an expired override never served (the vendor's data is, and the drivers list
// says there is no override).
func TestOverrideAudit(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		clk := newClock(time.Now().UTC().Truncate(time.Microsecond))
		f := setup(t, s, withEngine(func(o *syncer.Options) { o.Now = clk.Now }))
		in := f.integration(t, integration.VendorSAMSARA_ELD, "audit")
		requireSuccess(t, f.syncNow(t, f.engine, in.ID))
		d, err := f.store.Client.FleetDriver.Query().Where(fleetdriver.IntegrationID(in.ID)).
			Order(ent.Asc(fleetdriver.FieldDriverID)).First(sys())
		require.NoError(t, err)
		ctx := viewer(f.tenantID)
		by := uuid.New()
		until := clk.Now().Add(2 * time.Hour)

		set, err := f.engine.OverrideHOS(ctx, f.tenantID, d.DriverID, syncer.Override{
			DutyStatus: "OFF_DUTY", CycleRemaining: 50, Reason: new("  ELD unit replaced, paper log checked  "),
			ExpiresAt: &until, By: &by,
		})
		require.NoError(t, err)
		require.Equal(t, syncer.SourceManualOverride, set.DataSource)
		require.Equal(t, "ELD unit replaced, paper log checked", *set.OverrideReason)
		require.Equal(t, by, *set.OverriddenBy)
		require.WithinDuration(t, until, *set.OverrideExpiresAt, time.Millisecond)
		require.WithinDuration(t, clk.Now(), *set.OverriddenAt, time.Second)

		got, err := f.engine.DriverHOS(ctx, f.tenantID, d.DriverID)
		require.NoError(t, err)
		require.Equal(t, syncer.SourceManualOverride, got.DataSource)
		require.Equal(t, "ELD unit replaced, paper log checked", *got.OverrideReason)

		// Past its expiry, the override ends by itself.
		clk.Add(2*time.Hour + time.Second)
		got, err = f.engine.DriverHOS(ctx, f.tenantID, d.DriverID)
		require.NoError(t, err)
		require.Equal(t, syncer.SourceSamsara, got.DataSource, "an expired override is never served")
		require.Nil(t, got.OverrideReason)
		stored, err := f.store.Client.FleetDriver.Get(sys(), d.ID)
		require.NoError(t, err)
		require.False(t, syncer.OverrideActive(stored, clk.Now()))
		require.Equal(t, syncer.SourceSamsara, syncer.HOSOf(stored, in, clk.Now()).DataSource)

		// Until cleared: no expiry.
		set, err = f.engine.OverrideHOS(ctx, f.tenantID, d.DriverID, syncer.Override{DutyStatus: "ON_DUTY", Reason: new("r")})
		require.NoError(t, err)
		require.Nil(t, set.OverrideExpiresAt)
		clk.Add(30 * 24 * time.Hour)
		got, err = f.engine.DriverHOS(ctx, f.tenantID, d.DriverID)
		require.NoError(t, err)
		require.Equal(t, syncer.SourceManualOverride, got.DataSource)
		cleared, err := f.engine.ClearOverride(ctx, f.tenantID, d.DriverID)
		require.NoError(t, err)
		require.Nil(t, cleared.OverriddenBy)
		stored, err = f.store.Client.FleetDriver.Get(sys(), d.ID)
		require.NoError(t, err)
		require.Nil(t, stored.OverrideReason)
		require.Nil(t, stored.OverrideBy)
		require.Nil(t, stored.OverrideExpiresAt)
	})
}

func TestOverrideValidation(t *testing.T) {
	t.Parallel()
	clk := newClock(time.Now().UTC().Truncate(time.Microsecond))
	f := setup(t, testdb.Open(t, testdb.SQLite), withEngine(func(o *syncer.Options) { o.Now = clk.Now }))
	in := f.integration(t, integration.VendorSAMSARA_ELD, "validation")
	requireSuccess(t, f.syncNow(t, f.engine, in.ID))
	d, err := f.store.Client.FleetDriver.Query().Where(fleetdriver.IntegrationID(in.ID)).First(sys())
	require.NoError(t, err)
	past := clk.Now().Add(-time.Minute)
	now := clk.Now()
	tooFar := clk.Now().Add(14*24*time.Hour + time.Minute)
	limit := clk.Now().Add(14 * 24 * time.Hour)
	for _, tt := range []struct {
		name   string
		o      syncer.Override
		wantOK bool
	}{
		{"NoReason", syncer.Override{DutyStatus: "ON_DUTY"}, true}, // nullable in the contract: v1 clients send none
		{"BlankReason", syncer.Override{DutyStatus: "ON_DUTY", Reason: new(" \t ")}, false},
		{"ReasonOf501", syncer.Override{DutyStatus: "ON_DUTY", Reason: new(strings.Repeat("é", 501))}, false},
		{"ReasonOf500", syncer.Override{DutyStatus: "ON_DUTY", Reason: new(strings.Repeat("é", 500))}, true},
		{"ExpiryPast", syncer.Override{DutyStatus: "ON_DUTY", Reason: new("r"), ExpiresAt: &past}, false},
		{"ExpiryNow", syncer.Override{DutyStatus: "ON_DUTY", Reason: new("r"), ExpiresAt: &now}, false},
		{"ExpiryBeyond14Days", syncer.Override{DutyStatus: "ON_DUTY", Reason: new("r"), ExpiresAt: &tooFar}, false},
		{"ExpiryAt14Days", syncer.Override{DutyStatus: "ON_DUTY", Reason: new("r"), ExpiresAt: &limit}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.engine.OverrideHOS(viewer(f.tenantID), f.tenantID, d.DriverID, tt.o)
			if tt.wantOK {
				require.NoError(t, err)
				return
			}
			requireCode(t, err, "BAD_USER_INPUT")
		})
	}
}

// TestDriversListStale flags a cached HOS the vendor has not confirmed for two sync
// intervals and a minute, and says why.
func TestDriversListStale(t *testing.T) {
	t.Parallel()
	f := setup(t, testdb.Open(t, testdb.SQLite))
	in := f.integration(t, integration.VendorSAMSARA_ELD, "stale")
	requireSuccess(t, f.syncNow(t, f.engine, in.ID))
	d, err := f.store.Client.FleetDriver.Query().Where(fleetdriver.IntegrationID(in.ID)).First(sys())
	require.NoError(t, err)
	synced := *d.HosSyncedAt
	limit := syncer.StaleAfter(in)
	require.Equal(t, 2*time.Duration(in.SyncIntervalSeconds)*time.Second+time.Minute, limit)

	require.False(t, syncer.HOSOf(d, in, synced.Add(limit)).Stale)
	h := syncer.HOSOf(d, in, synced.Add(limit+time.Second))
	require.True(t, h.Stale)
	require.Contains(t, *h.Error, "not confirmed by the vendor")

	f.setFault(t, sandbox.Samsara, sandbox.Fault{Status: 503})
	lg := f.syncNow(t, f.engine, in.ID)
	require.Equal(t, "FAILED", string(lg.Status))
	in, err = f.store.Client.Integration.Get(sys(), in.ID)
	require.NoError(t, err)
	h = syncer.HOSOf(d, in, synced.Add(limit+time.Minute))
	require.True(t, h.Stale)
	require.Contains(t, *h.Error, "the last HOS sync failed")
}
