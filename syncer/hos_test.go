package syncer_test

import (
	"context"
	"errors"
	"github.com/sallyhq/sally/apierr"
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
)

// hosFixture is a tenant whose HOS integration has synced its 25 drivers.
type hosFixture struct {
	*fixture
	in *ent.Integration
}

func setupHOS(t *testing.T, s *store.Store) *hosFixture {
	t.Helper()
	f := setup(t, s)
	in := f.integration(t, integration.VendorSAMSARA_ELD, "hos-query")
	requireSuccess(t, f.syncNow(t, f.engine, in.ID))
	return &hosFixture{fixture: f, in: in}
}

// driver returns a synced driver that has clocks.
func (h *hosFixture) driver(t *testing.T) *ent.FleetDriver {
	t.Helper()
	d, err := h.store.Client.FleetDriver.Query().
		Where(fleetdriver.IntegrationID(h.in.ID), fleetdriver.DutyStatusNotNil()).
		Order(ent.Asc(fleetdriver.FieldDriverID)).First(sys())
	require.NoError(t, err)
	return d
}

// ageCache makes the driver's cached clocks look synced ago.
func (h *hosFixture) ageCache(t *testing.T, d *ent.FleetDriver, ago time.Duration) {
	t.Helper()
	require.NoError(t, h.store.Client.FleetDriver.UpdateOne(d).SetHosSyncedAt(time.Now().UTC().Add(-ago)).Exec(sys()))
}

func (h *hosFixture) driverHOS(t *testing.T, driverID string) (syncer.HOS, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(viewer(h.tenantID), time.Minute)
	defer cancel()
	return h.engine.DriverHOS(ctx, h.tenantID, driverID)
}

// requireCode checks that err is an apierr.Error with the code.
func requireCode(t *testing.T, err error, code string) *apierr.Error {
	t.Helper()
	var ce *apierr.Error
	require.True(t, errors.As(err, &ce), "want a %s apierr.Error, got %v", code, err)
	require.Equal(t, code, ce.Code, "message: %s", ce.Message)
	return ce
}

func TestDriverHOS(t *testing.T) {
	t.Parallel()
	t.Run("ManualOverrideComesFirst", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			h := setupHOS(t, s)
			d := h.driver(t)
			ctx := viewer(h.tenantID)
			o := syncer.Override{Reason: new("paper log checked"), DutyStatus: "ON_DUTY", HoursDriven: 6.5, DriveRemaining: 4.5, ShiftRemaining: 7, CycleRemaining: 40, TimeUntilBreak: 1.5}

			set, err := h.engine.OverrideHOS(ctx, h.tenantID, d.DriverID, o)
			require.NoError(t, err)
			require.Equal(t, syncer.SourceManualOverride, set.DataSource)
			before := h.requests(sandbox.Samsara)
			h.ageCache(t, d, time.Hour) // even a stale cache does not matter

			got, err := h.driverHOS(t, d.DriverID)

			require.NoError(t, err)
			require.Equal(t, syncer.SourceManualOverride, got.DataSource)
			require.Equal(t, "ON_DUTY", got.DutyStatus)
			require.InDelta(t, 6.5, *got.HoursDriven, 1e-9)
			require.InDelta(t, 4.5, *got.DriveRemainingHours, 1e-9)
			require.InDelta(t, 7, *got.ShiftRemainingHours, 1e-9)
			require.InDelta(t, 40, *got.CycleRemainingHours, 1e-9)
			require.InDelta(t, 1.5, *got.TimeUntilBreakHours, 1e-9)
			require.NotNil(t, got.SyncedAt)
			require.Equal(t, before, h.requests(sandbox.Samsara), "an override needs no vendor call")
			require.Equal(t, d.DriverID, got.DriverID)
			require.Equal(t, *d.Name, got.DriverName)

			// A sync keeps the override.
			requireSuccess(t, h.syncNow(t, h.engine, h.in.ID))
			got, err = h.driverHOS(t, d.DriverID)
			require.NoError(t, err)
			require.Equal(t, syncer.SourceManualOverride, got.DataSource)
		})
	})

	t.Run("FreshCacheIsServed", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			h := setupHOS(t, s)
			d := h.driver(t)
			h.ageCache(t, d, 2*time.Minute)
			before := h.requests(sandbox.Samsara)

			got, err := h.driverHOS(t, d.DriverID)

			require.NoError(t, err)
			require.True(t, got.Cached)
			require.False(t, got.Stale)
			require.Nil(t, got.Error)
			require.Equal(t, syncer.SourceSamsara, got.DataSource)
			require.Equal(t, *d.DutyStatus, got.DutyStatus)
			require.InDelta(t, *d.DriveRemainingHours, *got.DriveRemainingHours, 1e-9)
			require.NotNil(t, got.CacheAgeSeconds)
			require.InDelta(t, 120, *got.CacheAgeSeconds, 30)
			require.Equal(t, before, h.requests(sandbox.Samsara), "a fresh cache needs no vendor call")
		})
	})

	t.Run("OldCacheIsRefreshed", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			h := setupHOS(t, s)
			d := h.driver(t)
			h.ageCache(t, d, 10*time.Minute)
			before := h.requests(sandbox.Samsara)
			// The fetch goes through the integration's policies: one 503 is retried.
			h.setFault(t, sandbox.Samsara, sandbox.Fault{Status: 503, Count: 1})

			got, err := h.driverHOS(t, d.DriverID)

			require.NoError(t, err)
			require.False(t, got.Cached)
			require.False(t, got.Stale)
			require.Equal(t, syncer.SourceSamsara, got.DataSource)
			require.Equal(t, 0, *got.CacheAgeSeconds)
			require.Equal(t, before+2, h.requests(sandbox.Samsara), "one failed try and one good one")
			refreshed, err := s.Client.FleetDriver.Get(sys(), d.ID)
			require.NoError(t, err)
			require.WithinDuration(t, time.Now(), *refreshed.HosSyncedAt, time.Minute, "the cache was refreshed")

			// Now it is fresh: served from the cache.
			again, err := h.driverHOS(t, d.DriverID)
			require.NoError(t, err)
			require.True(t, again.Cached)
			require.Equal(t, before+2, h.requests(sandbox.Samsara))
		})
	})

	t.Run("VendorFailingServesStaleCache", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			h := setupHOS(t, s)
			d := h.driver(t)
			h.ageCache(t, d, 10*time.Minute)
			h.setFault(t, sandbox.Samsara, sandbox.Fault{Status: 503})

			got, err := h.driverHOS(t, d.DriverID)

			require.NoError(t, err)
			require.True(t, got.Stale)
			require.True(t, got.Cached)
			require.NotNil(t, got.Error)
			require.Contains(t, *got.Error, "vendor unavailable")
			require.Equal(t, *d.DutyStatus, got.DutyStatus)
			require.InDelta(t, 600, *got.CacheAgeSeconds, 60)
		})
	})

	t.Run("NoCacheAndVendorFailingIsNotFound", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			f := setup(t, s)
			f.integration(t, integration.VendorSAMSARA_ELD, "never-synced")
			f.setFault(t, sandbox.Samsara, sandbox.Fault{Status: 503})
			h := &hosFixture{fixture: f}

			_, err := h.driverHOS(t, "52001")

			ce := requireCode(t, err, "NOT_FOUND")
			require.Contains(t, ce.Message, "52001")
			require.Contains(t, ce.Message, "vendor unavailable")
			require.Positive(t, f.requests(sandbox.Samsara), "the vendor was asked")
		})
	})

	t.Run("UnknownDriverIsNotFound", func(t *testing.T) {
		t.Parallel()
		h := setupHOS(t, testdb.Open(t, testdb.SQLite))
		_, err := h.driverHOS(t, "99999999")
		requireCode(t, err, "NOT_FOUND")
	})

	t.Run("NoCacheFetchesAndStores", func(t *testing.T) {
		t.Parallel()
		s := testdb.Open(t, testdb.SQLite)
		f := setup(t, s)
		in := f.integration(t, integration.VendorSAMSARA_ELD, "first-ask")
		h := &hosFixture{fixture: f, in: in}

		got, err := h.driverHOS(t, "52003")

		require.NoError(t, err)
		require.False(t, got.Cached)
		require.Equal(t, "52003", got.DriverID)
		d, err := s.Client.FleetDriver.Query().Where(fleetdriver.DriverID("52003")).Only(sys())
		require.NoError(t, err)
		require.Equal(t, in.ID, d.IntegrationID)
		require.Equal(t, got.DutyStatus, *d.DutyStatus)
	})

	t.Run("NoHOSIntegrationIsNotFound", func(t *testing.T) {
		t.Parallel()
		f := setup(t, testdb.Open(t, testdb.SQLite))
		h := &hosFixture{fixture: f}
		_, err := h.driverHOS(t, "52001")
		requireCode(t, err, "NOT_FOUND")
	})

	t.Run("OtherTenantsDriversAreNotFound", func(t *testing.T) {
		t.Parallel()
		h := setupHOS(t, testdb.Open(t, testdb.SQLite))
		d := h.driver(t)
		other := h.tenant(t, "Other Freight")
		before := h.requests(sandbox.Samsara)

		// A viewer of the other tenant, asking about this tenant's driver, both with
		// its own tenant id and with this one's.
		for _, tid := range []uuid.UUID{other, h.tenantID} {
			_, err := h.engine.DriverHOS(viewer(other), tid, d.DriverID)
			requireCode(t, err, "NOT_FOUND")
			_, err = h.engine.OverrideHOS(viewer(other), tid, d.DriverID, syncer.Override{Reason: new("paper log checked"), DutyStatus: "OFF_DUTY"})
			requireCode(t, err, "NOT_FOUND")
		}
		require.Equal(t, before, h.requests(sandbox.Samsara))
		got, err := h.driverHOS(t, d.DriverID)
		require.NoError(t, err)
		require.Equal(t, syncer.SourceSamsara, got.DataSource, "the override did not land")
	})

	t.Run("ClearOverride", func(t *testing.T) {
		t.Parallel()
		h := setupHOS(t, testdb.Open(t, testdb.SQLite))
		d := h.driver(t)
		ctx := viewer(h.tenantID)
		_, err := h.engine.OverrideHOS(ctx, h.tenantID, d.DriverID, syncer.Override{Reason: new("paper log checked"), DutyStatus: "OFF_DUTY", CycleRemaining: 70})
		require.NoError(t, err)

		got, err := h.engine.ClearOverride(ctx, h.tenantID, d.DriverID)

		require.NoError(t, err)
		require.Equal(t, syncer.SourceSamsara, got.DataSource)
		require.Equal(t, *d.DutyStatus, got.DutyStatus)
		require.True(t, got.Cached)
		stored, err := h.store.Client.FleetDriver.Get(sys(), d.ID)
		require.NoError(t, err)
		require.False(t, stored.HosManualOverride)
		require.Nil(t, stored.OverrideDutyStatus)
		require.Nil(t, stored.OverrideAt)

		_, err = h.engine.ClearOverride(ctx, h.tenantID, "no-such-driver")
		requireCode(t, err, "NOT_FOUND")
	})

	t.Run("BadInput", func(t *testing.T) {
		t.Parallel()
		h := setupHOS(t, testdb.Open(t, testdb.SQLite))
		d := h.driver(t)
		ctx := viewer(h.tenantID)
		for name, o := range map[string]syncer.Override{
			"NegativeHours":        {Reason: new("paper log checked"), DutyStatus: "ON_DUTY", HoursDriven: -1},
			"DriveAboveEleven":     {Reason: new("paper log checked"), DutyStatus: "ON_DUTY", DriveRemaining: 11.5},
			"ShiftAboveFourteen":   {Reason: new("paper log checked"), DutyStatus: "ON_DUTY", ShiftRemaining: 15},
			"CycleAboveSeventy":    {Reason: new("paper log checked"), DutyStatus: "ON_DUTY", CycleRemaining: 71},
			"BreakAboveEight":      {Reason: new("paper log checked"), DutyStatus: "ON_DUTY", TimeUntilBreak: 9},
			"NegativeCycle":        {Reason: new("paper log checked"), DutyStatus: "ON_DUTY", CycleRemaining: -0.5},
			"HoursDrivenAboveADay": {Reason: new("paper log checked"), DutyStatus: "ON_DUTY", HoursDriven: 25},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := h.engine.OverrideHOS(ctx, h.tenantID, d.DriverID, o)
				requireCode(t, err, "BAD_USER_INPUT")
			})
		}
		for name, id := range map[string]string{"EmptyDriverID": "", "LongDriverID": string(make([]byte, 129))} {
			t.Run(name, func(t *testing.T) {
				_, err := h.engine.DriverHOS(ctx, h.tenantID, id)
				requireCode(t, err, "BAD_USER_INPUT")
			})
		}
		stored, err := h.store.Client.FleetDriver.Get(sys(), d.ID)
		require.NoError(t, err)
		require.False(t, stored.HosManualOverride, "nothing was stored")
	})
}
