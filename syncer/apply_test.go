package syncer_test

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/fleetdriver"
	"github.com/sallyhq/sally/ent/fuelstation"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/ent/load"
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/ent/weatherreport"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/resilience"
	"github.com/sallyhq/sally/sandbox"
	"github.com/sallyhq/sally/store"
	"github.com/sallyhq/sally/syncer"
)

// requireSuccess checks that a sync succeeded and returns it.
func requireSuccess(t *testing.T, lg *ent.SyncLog) *ent.SyncLog {
	t.Helper()
	require.Equal(t, synclog.StatusSUCCESS, lg.Status, "error: %s", str(lg.Error))
	return lg
}

func TestSyncIsIdempotent(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		vendor integration.Vendor
		typ    synclog.SyncType
		count  func(t *testing.T, s *store.Store, in *ent.Integration) int
	}{
		{"HOS", integration.VendorSAMSARA_ELD, synclog.SyncTypeHOS_SYNC, func(t *testing.T, s *store.Store, in *ent.Integration) int {
			return s.Client.FleetDriver.Query().Where(fleetdriver.IntegrationID(in.ID)).CountX(sys())
		}},
		{"Loads", integration.VendorTRUCKBASE_TMS, synclog.SyncTypeLOAD_SYNC, func(t *testing.T, s *store.Store, in *ent.Integration) int {
			return s.Client.Load.Query().Where(load.IntegrationID(in.ID)).CountX(sys())
		}},
		{"Fuel", integration.VendorFUELFINDER, synclog.SyncTypeFUEL_SYNC, func(t *testing.T, s *store.Store, in *ent.Integration) int {
			return s.Client.FuelStation.Query().Where(fuelstation.IntegrationID(in.ID)).CountX(sys())
		}},
		{"Weather", integration.VendorOPENWEATHER, synclog.SyncTypeWEATHER_SYNC, func(t *testing.T, s *store.Store, in *ent.Integration) int {
			return s.Client.WeatherReport.Query().Where(weatherreport.IntegrationID(in.ID)).CountX(sys())
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, s *store.Store) {
				f := setup(t, s, withFixedClock())
				if tt.vendor == integration.VendorFUELFINDER || tt.vendor == integration.VendorOPENWEATHER {
					// Fuel and weather are fetched at the active loads' stops.
					requireSuccess(t, f.syncNow(t, f.engine, f.integration(t, integration.VendorTRUCKBASE_TMS, "idem-loads").ID))
				}
				in := f.integration(t, tt.vendor, "idem-key")

				first := requireSuccess(t, f.syncNow(t, f.engine, in.ID))
				require.Equal(t, tt.typ, first.SyncType)
				require.Positive(t, first.RecordsProcessed)
				require.Equal(t, first.RecordsProcessed, first.RecordsCreated)
				require.Zero(t, first.RecordsUpdated)
				n := tt.count(t, s, in)
				require.Equal(t, first.RecordsCreated, n)

				second := requireSuccess(t, f.syncNow(t, f.engine, in.ID))
				require.Equal(t, first.RecordsProcessed, second.RecordsProcessed)
				require.Zero(t, second.RecordsCreated, "nothing new the second time")
				require.Zero(t, second.RecordsUpdated, "nothing changed the second time")
				require.Equal(t, n, tt.count(t, s, in))
			})
		})
	}
}

func TestHOSSync(t *testing.T) {
	t.Parallel()
	t.Run("StoresDriversAndClocks", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			f := setup(t, s, withFixedClock())
			in := f.integration(t, integration.VendorSAMSARA_ELD, "hos-store")
			before := time.Now().Add(-time.Second)
			requireSuccess(t, f.syncNow(t, f.engine, in.ID))

			drivers := s.Client.FleetDriver.Query().Where(fleetdriver.IntegrationID(in.ID)).
				Order(ent.Asc(fleetdriver.FieldDriverID)).AllX(sys())
			require.Len(t, drivers, 25)
			require.Equal(t, "52001", drivers[0].DriverID)
			withClock := 0
			for _, d := range drivers {
				require.Equal(t, f.tenantID, d.TenantID)
				require.True(t, d.Active)
				require.NotNil(t, d.Name)
				if d.DutyStatus != nil {
					withClock++
					require.NotNil(t, d.HosSyncedAt)
					require.True(t, d.HosSyncedAt.After(before))
					require.NotNil(t, d.DriveRemainingHours)
					require.GreaterOrEqual(t, *d.DriveRemainingHours, 0.0)
					require.LessOrEqual(t, *d.DriveRemainingHours, 11.0)
				}
			}
			require.Positive(t, withClock)
		})
	})

	t.Run("DeactivatesDriversTheELDNoLongerLists", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			f := setup(t, s, withFixedClock())
			in := f.integration(t, integration.VendorSAMSARA_ELD, "hos-shrink")
			requireSuccess(t, f.syncNow(t, f.engine, in.ID))
			f.sandbox.SetFleet(20, sandbox.DefaultLoads)

			lg := requireSuccess(t, f.syncNow(t, f.engine, in.ID))

			require.Equal(t, 20, lg.RecordsProcessed)
			require.Zero(t, lg.RecordsCreated)
			require.Equal(t, 5, lg.RecordsUpdated)
			inactive := s.Client.FleetDriver.Query().Where(fleetdriver.IntegrationID(in.ID), fleetdriver.Active(false)).CountX(sys())
			require.Equal(t, 5, inactive)
		})
	})

	// Changed drivers are written with multi-row upserts: they must not touch the
	// dispatcher's overrides.
	t.Run("KeepsOverrides", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			c := newClock(fixedNow)
			f := setup(t, s, withClock(c))
			in := f.integration(t, integration.VendorSAMSARA_ELD, "hos-keep")
			requireSuccess(t, f.syncNow(t, f.engine, in.ID))
			drivers := s.Client.FleetDriver.Query().Where(fleetdriver.IntegrationID(in.ID)).AllX(sys())
			ctx := viewer(f.tenantID)
			for _, d := range drivers {
				_, err := f.engine.OverrideHOS(ctx, f.tenantID, d.DriverID, syncer.Override{Reason: new("paper log checked"), DutyStatus: "SLEEPER_BERTH", CycleRemaining: 33})
				require.NoError(t, err)
			}
			c.Add(3 * time.Hour)

			lg := requireSuccess(t, f.syncNow(t, f.engine, in.ID))

			require.Positive(t, lg.RecordsUpdated)
			moved := 0
			for _, before := range drivers {
				d := s.Client.FleetDriver.GetX(sys(), before.ID)
				require.True(t, d.HosManualOverride)
				require.Equal(t, "SLEEPER_BERTH", *d.OverrideDutyStatus)
				require.InDelta(t, 33, *d.OverrideCycleRemainingHours, 1e-9)
				require.NotNil(t, d.OverrideAt)
				require.Equal(t, before.CreatedAt.Unix(), d.CreatedAt.Unix(), "the row was updated, not replaced")
				if !eqFloat(before.HoursDriven, d.HoursDriven) || !eqFloat(before.DriveRemainingHours, d.DriveRemainingHours) ||
					!eqFloat(before.ShiftRemainingHours, d.ShiftRemainingHours) || !eqFloat(before.CycleRemainingHours, d.CycleRemainingHours) ||
					!eqFloat(before.TimeUntilBreakHours, d.TimeUntilBreakHours) || *before.DutyStatus != *d.DutyStatus {
					moved++
				}
			}
			require.Equal(t, lg.RecordsUpdated, moved, "the cached clocks did move")
		})
	})

	t.Run("MovingClocksAreUpdated", func(t *testing.T) {
		t.Parallel()
		c := newClock(fixedNow)
		f := setup(t, testdb.Open(t, testdb.SQLite), withClock(c))
		in := f.integration(t, integration.VendorSAMSARA_ELD, "hos-move")
		requireSuccess(t, f.syncNow(t, f.engine, in.ID))
		c.Add(3 * time.Hour)
		lg := requireSuccess(t, f.syncNow(t, f.engine, in.ID))
		require.Zero(t, lg.RecordsCreated)
		require.Positive(t, lg.RecordsUpdated)
	})
}

func eqFloat(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return math.Abs(*a-*b) < 1e-9
}

func TestLoadSync(t *testing.T) {
	t.Parallel()
	t.Run("MarksVanishedLoadsInactive", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			f := setup(t, s, withFixedClock())
			in := f.integration(t, integration.VendorTRUCKBASE_TMS, "vanish")
			first := requireSuccess(t, f.syncNow(t, f.engine, in.ID))
			require.Equal(t, 10, first.RecordsCreated)

			f.sandbox.SetFleet(sandbox.DefaultDrivers, 6)
			lg := requireSuccess(t, f.syncNow(t, f.engine, in.ID))

			require.Equal(t, 6, lg.RecordsProcessed)
			require.Zero(t, lg.RecordsCreated)
			require.Equal(t, 4, lg.RecordsUpdated)
			// As the loads query reads them: the tenant's viewer, filtered on active.
			ctx := viewer(f.tenantID)
			gone := s.Client.Load.Query().Where(load.Active(false)).AllX(ctx)
			require.Len(t, gone, 4)
			require.Equal(t, 6, s.Client.Load.Query().Where(load.Active(true)).CountX(ctx))
			for _, l := range gone {
				require.Contains(t, []string{"TB-007", "TB-008", "TB-009", "TB-010"}, l.LoadID[:6])
			}

			// Back in the list: active again.
			f.sandbox.SetFleet(sandbox.DefaultDrivers, sandbox.DefaultLoads)
			lg = requireSuccess(t, f.syncNow(t, f.engine, in.ID))
			require.Zero(t, lg.RecordsCreated)
			require.Equal(t, 4, lg.RecordsUpdated)
			require.Equal(t, 10, s.Client.Load.Query().Where(load.Active(true)).CountX(ctx))
		})
	})

	t.Run("StoresLoadFields", func(t *testing.T) {
		t.Parallel()
		s := testdb.Open(t, testdb.SQLite)
		f := setup(t, s, withFixedClock())
		in := f.integration(t, integration.VendorTRUCKBASE_TMS, "fields")
		requireSuccess(t, f.syncNow(t, f.engine, in.ID))
		loads := s.Client.Load.Query().Where(load.IntegrationID(in.ID)).AllX(sys())
		require.Len(t, loads, 10)
		for _, l := range loads {
			require.True(t, l.Active)
			require.Contains(t, []load.Status{load.StatusASSIGNED, load.StatusIN_TRANSIT}, l.Status)
			require.NotNil(t, l.PickupLatitude)
			require.NotNil(t, l.DeliveryLongitude)
			require.NotNil(t, l.PickupAppointment)
			require.Equal(t, "truckbase_tms", l.DataSource)
		}
	})
}

// stopsOf returns the distinct stops ("lat,lon" to two decimals) of the tenant's
// active loads, as the engine picks them.
func stopsOf(t *testing.T, s *store.Store, f *fixture) map[string][2]float64 {
	t.Helper()
	loads := s.Client.Load.Query().
		Where(load.TenantID(f.tenantID), load.Active(true), load.StatusIn(load.StatusASSIGNED, load.StatusIN_TRANSIT)).AllX(sys())
	require.NotEmpty(t, loads)
	out := map[string][2]float64{}
	add := func(lat, lon *float64) {
		if lat != nil && lon != nil {
			la, lo := math.Round(*lat*100)/100, math.Round(*lon*100)/100
			out[fmt.Sprintf("%.2f,%.2f", la, lo)] = [2]float64{la, lo}
		}
	}
	for _, l := range loads {
		add(l.PickupLatitude, l.PickupLongitude)
		add(l.DeliveryLatitude, l.DeliveryLongitude)
	}
	require.LessOrEqual(t, len(out), 25, "the test assumes every stop is refreshed")
	return out
}

// miles is the great-circle distance.
func miles(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 3958.8
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}

func TestFuelAndWeatherSync(t *testing.T) {
	t.Parallel()
	t.Run("WeatherAtEveryStop", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			c := newClock(fixedNow)
			f := setup(t, s, withClock(c))
			requireSuccess(t, f.syncNow(t, f.engine, f.integration(t, integration.VendorTRUCKBASE_TMS, "wx-loads").ID))
			stops := stopsOf(t, s, f)
			in := f.integration(t, integration.VendorOPENWEATHER, "wx")

			lg := requireSuccess(t, f.syncNow(t, f.engine, in.ID))

			require.Equal(t, len(stops), lg.RecordsProcessed)
			require.Equal(t, int64(len(stops)), f.requests(sandbox.OpenWeather))
			reports := s.Client.WeatherReport.Query().Where(weatherreport.IntegrationID(in.ID)).AllX(sys())
			var keys []string
			for _, w := range reports {
				keys = append(keys, w.LocationKey)
				p := stops[w.LocationKey]
				require.InDelta(t, p[0], w.Latitude, 1e-9)
				require.InDelta(t, p[1], w.Longitude, 1e-9)
				require.NotEmpty(t, w.Conditions)
				require.Equal(t, f.tenantID, w.TenantID)
			}
			want := make([]string, 0, len(stops))
			for k := range stops {
				want = append(want, k)
			}
			slices.Sort(keys)
			slices.Sort(want)
			require.Equal(t, want, keys)

			// Later the weather has changed: the same places are refreshed.
			firstSync := reports[0].SyncedAt
			c.Add(3 * time.Hour)
			lg = requireSuccess(t, f.syncNow(t, f.engine, in.ID))
			require.Zero(t, lg.RecordsCreated)
			require.Positive(t, lg.RecordsUpdated)
			changed := s.Client.WeatherReport.Query().
				Where(weatherreport.IntegrationID(in.ID), weatherreport.SyncedAtGT(firstSync)).CountX(sys())
			require.Equal(t, lg.RecordsUpdated, changed)
		})
	})

	t.Run("FuelNearEveryStop", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			c := newClock(fixedNow)
			f := setup(t, s, withClock(c))
			requireSuccess(t, f.syncNow(t, f.engine, f.integration(t, integration.VendorTRUCKBASE_TMS, "fuel-loads").ID))
			stops := stopsOf(t, s, f)
			in := f.integration(t, integration.VendorFUELFINDER, "fuel")

			lg := requireSuccess(t, f.syncNow(t, f.engine, in.ID))

			require.Equal(t, int64(len(stops)), f.requests(sandbox.FuelFinder), "one call per stop")
			stations := s.Client.FuelStation.Query().Where(fuelstation.IntegrationID(in.ID)).AllX(sys())
			require.Len(t, stations, lg.RecordsCreated)
			near := map[string]bool{}
			for _, st := range stations {
				closest := math.Inf(1)
				for k, p := range stops {
					d := miles(p[0], p[1], st.Latitude, st.Longitude)
					if d <= 25.5 {
						near[k] = true
					}
					closest = min(closest, d)
				}
				require.LessOrEqual(t, closest, 25.5, "station %s is near no stop", st.StationID)
				require.NotNil(t, st.DieselPrice)
				require.Equal(t, "fuelfinder", st.DataSource)
			}
			require.Len(t, near, len(stops), "every stop has stations")

			// Prices move by the hour: the next sync updates them.
			c.Add(2 * time.Hour)
			lg = requireSuccess(t, f.syncNow(t, f.engine, in.ID))
			require.Positive(t, lg.RecordsUpdated)
		})
	})

	t.Run("NoActiveLoadsChecksTheKey", func(t *testing.T) {
		// With no stops to look up, a sync still makes one call, so that a wrong key
		// fails it rather than passing unnoticed until the first load.
		t.Parallel()
		f := setup(t, testdb.Open(t, testdb.SQLite))
		for _, v := range []struct {
			vendor integration.Vendor
			name   string
		}{{integration.VendorFUELFINDER, sandbox.FuelFinder}, {integration.VendorOPENWEATHER, sandbox.OpenWeather}} {
			in := f.integration(t, v.vendor, "no-loads")
			lg := requireSuccess(t, f.syncNow(t, f.engine, in.ID))
			require.Zero(t, lg.RecordsProcessed)
			require.Equal(t, int64(1), f.requests(v.name))

			bad := f.integration(t, v.vendor, "invalid-key")
			lg = f.syncNow(t, f.engine, bad.ID)
			require.Equal(t, synclog.StatusFAILED, lg.Status, v.name)
			require.Equal(t, string(resilience.ClassAuth), str(lg.ErrorClass), v.name)
		}
	})
}

// The fuel and weather syncs write changed rows in multi-row upserts; a field the
// vendor stopped sending is left out of its row's insert and must come out NULL
// (excluded.x), on both databases, even when no row of the batch sets it.
func TestBulkUpsertClearsWhatTheVendorStoppedSending(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		in := f.integration(t, integration.VendorFUELFINDER, "clears")
		c := s.Client
		now := time.Now().UTC()
		row := func(brand *string, price *float64) *ent.FuelStationCreate {
			return c.FuelStation.Create().SetTenantID(in.TenantID).SetIntegrationID(in.ID).SetStationID("st-1").
				SetName("Stop 1").SetNillableBrand(brand).SetLatitude(1).SetLongitude(2).
				SetNillablePricePerGallon(price).SetAmenities([]string{}).SetSyncedAt(now)
		}
		brand, price := "Pilot", 3.19
		require.NoError(t, row(&brand, &price).Exec(sys()))
		err := c.FuelStation.CreateBulk(row(nil, nil)).
			OnConflictColumns(fuelstation.FieldIntegrationID, fuelstation.FieldStationID).
			Update(func(u *ent.FuelStationUpsert) { u.UpdateBrand().UpdatePricePerGallon().UpdateSyncedAt() }).
			Exec(sys())
		require.NoError(t, err)
		got := c.FuelStation.Query().Where(fuelstation.IntegrationID(in.ID)).OnlyX(sys())
		require.Nil(t, got.Brand)
		require.Nil(t, got.PricePerGallon)
		require.Equal(t, "Stop 1", got.Name, "one row, updated in place")
	})
}
