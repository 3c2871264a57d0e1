package syncer_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/sandbox"
)

func TestFuelStations(t *testing.T) {
	t.Parallel()
	f := setup(t, testdb.Open(t, testdb.SQLite))
	ctx := viewer(f.tenantID)

	_, err := f.engine.FuelStations(ctx, f.tenantID, 35.2, -101.8, 25, 10)
	requireCode(t, err, "NOT_FOUND")

	in := f.integration(t, integration.VendorFUELFINDER, "query-fuel")
	st, err := f.engine.FuelStations(ctx, f.tenantID, 35.2, -101.8, 25, 5)
	require.NoError(t, err)
	require.NotEmpty(t, st)
	require.LessOrEqual(t, len(st), 5)
	for _, s := range st {
		require.LessOrEqual(t, miles(35.2, -101.8, s.Latitude, s.Longitude), 25.5)
	}
	require.Equal(t, int64(1), f.requests(sandbox.FuelFinder))

	again, err := f.engine.FuelStations(ctx, f.tenantID, 35.2, -101.8, 25, 5)
	require.NoError(t, err)
	require.Equal(t, st, again)
	require.Equal(t, int64(1), f.requests(sandbox.FuelFinder), "answered from the cache")

	for name, q := range map[string][4]float64{
		"LatitudeOutOfRange":  {91, 0, 25, 10},
		"LongitudeOutOfRange": {0, -181, 25, 10},
		"NaN":                 {math.NaN(), 0, 25, 10},
		"RadiusZero":          {35, -101, 0, 10},
		"RadiusTooLarge":      {35, -101, 101, 10},
		"LimitZero":           {35, -101, 25, 0},
		"LimitTooLarge":       {35, -101, 25, 51},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.engine.FuelStations(ctx, f.tenantID, q[0], q[1], q[2], int(q[3]))
			requireCode(t, err, "BAD_USER_INPUT")
		})
	}

	f.setFault(t, sandbox.FuelFinder, sandbox.Fault{Status: 401})
	_, err = f.engine.FuelStations(ctx, f.tenantID, 40, -100, 25, 5)
	ce := requireCode(t, err, "INTERNAL")
	require.Equal(t, "unauthorized: the vendor rejected the API key", ce.Message)

	require.NoError(t, f.store.Client.Integration.UpdateOneID(in.ID).SetEnabled(false).Exec(sys()))
	_, err = f.engine.FuelStations(ctx, f.tenantID, 35.2, -101.8, 25, 5)
	requireCode(t, err, "BAD_USER_INPUT")
}

func TestWeather(t *testing.T) {
	t.Parallel()
	f := setup(t, testdb.Open(t, testdb.SQLite))
	ctx := viewer(f.tenantID)

	_, err := f.engine.Weather(ctx, f.tenantID, 35.2, -101.8)
	requireCode(t, err, "NOT_FOUND")

	f.integration(t, integration.VendorOPENWEATHER, "query-weather")
	w, err := f.engine.Weather(ctx, f.tenantID, 35.2, -101.8)
	require.NoError(t, err)
	require.NotEmpty(t, w.Conditions)
	// The same place to within ~1 km is answered from the cache.
	again, err := f.engine.Weather(ctx, f.tenantID, 35.201, -101.799)
	require.NoError(t, err)
	require.Equal(t, w, again)
	require.Equal(t, int64(1), f.requests(sandbox.OpenWeather))

	_, err = f.engine.Weather(ctx, f.tenantID, -91, 0)
	requireCode(t, err, "BAD_USER_INPUT")

	// Another tenant has no weather integration.
	other := f.tenant(t, "Other Freight")
	_, err = f.engine.Weather(viewer(other), other, 35.2, -101.8)
	requireCode(t, err, "NOT_FOUND")
}
