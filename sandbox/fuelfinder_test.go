package sandbox_test

import (
	"math"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/sandbox"
)

type station struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Brand        string   `json:"brand"`
	Address      string   `json:"address"`
	City         string   `json:"city"`
	State        string   `json:"state"`
	Zip          string   `json:"zip"`
	Lat          float64  `json:"lat"`
	Lon          float64  `json:"lon"`
	RegularPrice float64  `json:"regular_price"`
	DieselPrice  float64  `json:"diesel_price"`
	Distance     float64  `json:"distance"`
	Amenities    []string `json:"amenities"`
	UpdatedAt    string   `json:"updated_at"`
}

func stations(t *testing.T, e *env, key, query string) []station {
	t.Helper()
	a := e.vendor(t, sandbox.FuelFinder, key, "/stations"+query)
	require.Equal(t, http.StatusOK, a.status, "body: %s", a.body)
	var body struct {
		Stations []station `json:"stations"`
	}
	a.decode(t, &body)
	require.NotNil(t, body.Stations, "stations must be an array, never null")
	return body.Stations
}

func milesBetween(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	a := math.Pow(math.Sin((lat2-lat1)*rad/2), 2) +
		math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Pow(math.Sin((lon2-lon1)*rad/2), 2)
	return 2 * 3958.8 * math.Asin(math.Sqrt(a))
}

func TestFuelFinderStationsNearby(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		query            string
		lat, lon, radius float64
		limit            int
	}{
		{"Amarillo", "?lat=35.22&lon=-101.83&radius=25&limit=10", 35.22, -101.83, 25, 10},
		{"PhoenixDefaults", "?lat=33.4484&lon=-112.074", 33.4484, -112.074, 25, 10},
		{"ChicagoWide", "?lat=41.8781&lon=-87.6298&radius=100&limit=50", 41.8781, -87.6298, 100, 50},
		{"SmallRadius", "?lat=39.7392&lon=-104.9903&radius=5&limit=100", 39.7392, -104.9903, 5, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			got := stations(t, e, "acme", tt.query)
			if tt.radius >= 25 {
				require.NotEmpty(t, got)
			}
			require.LessOrEqual(t, len(got), tt.limit)
			require.True(t, slices.IsSortedFunc(got, func(a, b station) int { return cmpFloat(a.Distance, b.Distance) }), "not sorted by distance")
			ids := map[string]bool{}
			for _, s := range got {
				require.False(t, ids[s.ID], "duplicate %s", s.ID)
				ids[s.ID] = true
				require.LessOrEqual(t, s.Distance, tt.radius+0.05)
				require.InDelta(t, milesBetween(tt.lat, tt.lon, s.Lat, s.Lon), s.Distance, 0.06, "distance of %s", s.ID)
				require.Regexp(t, `^FF-\d+$`, s.ID)
				require.NotEmpty(t, s.Name)
				require.NotEmpty(t, s.Brand)
				require.NotEmpty(t, s.Address)
				require.Regexp(t, `^[A-Z]{2}$`, s.State)
				require.Regexp(t, `^\d{5}$`, s.Zip)
				require.NotNil(t, s.Amenities)
				require.True(t, s.RegularPrice > 2 && s.RegularPrice < 6, "regular %v", s.RegularPrice)
				require.Greater(t, s.DieselPrice, s.RegularPrice)
				require.Less(t, s.DieselPrice, 7.0)
				updated, err := time.Parse(time.RFC3339, s.UpdatedAt)
				require.NoError(t, err)
				now := e.clock.Now()
				require.False(t, updated.After(now))
				require.Less(t, now.Sub(updated), time.Hour)
			}
		})
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// The limit takes the nearest: a smaller limit is a prefix of a larger one.
func TestFuelFinderLimitTakesTheNearest(t *testing.T) {
	t.Parallel()
	e := setup(t)
	all := stations(t, e, "acme", "?lat=35.22&lon=-101.83&radius=60&limit=100")
	require.Greater(t, len(all), 5)
	require.Equal(t, all[:5], stations(t, e, "acme", "?lat=35.22&lon=-101.83&radius=60&limit=5"))
}

func TestFuelFinderOutsideTheUSIsEmpty(t *testing.T) {
	t.Parallel()
	e := setup(t)
	require.Empty(t, stations(t, e, "acme", "?lat=51.5&lon=-0.12&radius=50"))
}

func TestFuelFinderBadParams(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tests := []struct{ name, query string }{
		{"NoLat", "?lon=-101.83"},
		{"NoLon", "?lat=35.22"},
		{"LatOutOfRange", "?lat=91&lon=-101.83"},
		{"LonOutOfRange", "?lat=35&lon=-181"},
		{"LatNotANumber", "?lat=north&lon=-101.83"},
		{"RadiusZero", "?lat=35&lon=-101&radius=0"},
		{"RadiusTooBig", "?lat=35&lon=-101&radius=5000"},
		{"RadiusNaN", "?lat=35&lon=-101&radius=NaN"},
		{"LimitZero", "?lat=35&lon=-101&limit=0"},
		{"LimitTooBig", "?lat=35&lon=-101&limit=1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := e.vendor(t, sandbox.FuelFinder, "acme", "/stations"+tt.query)
			require.Equal(t, http.StatusBadRequest, a.status, "body: %s", a.body)
			require.Equal(t, "invalid_request", errorCode(t, a))
		})
	}
}

func TestFuelFinderAuth(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, key := range []string{"", "invalid", "invalid-key"} {
		a := e.vendor(t, sandbox.FuelFinder, key, okPath[sandbox.FuelFinder])
		require.Equal(t, http.StatusUnauthorized, a.status, "key %q", key)
		require.Equal(t, "unauthorized", errorCode(t, a))
	}
}

// Prices hold within the hour and drift slowly over days; the same key reads the
// same prices, another key other stations.
func TestFuelFinderPricesDrift(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const q = "?lat=35.22&lon=-101.83&radius=50&limit=20"
	e.clock.Set(start.Truncate(time.Hour))
	base := stations(t, e, "acme", q)
	require.Equal(t, base, stations(t, e, "acme", q), "same key, same time")

	other := setup(t)
	other.clock.Set(e.clock.Now())
	require.Equal(t, base, stations(t, other, "acme", q), "same key in another sandbox")
	require.NotEqual(t, base, stations(t, other, "globex", q), "another key")

	byID := func(list []station) map[string]station {
		m := map[string]station{}
		for _, s := range list {
			m[s.ID] = s
		}
		return m
	}
	prev := byID(base)
	changes := 0
	for range 72 {
		e.clock.Add(time.Hour)
		for id, s := range byID(stations(t, e, "acme", q)) {
			p, ok := prev[id]
			require.True(t, ok, "station %s appeared", id)
			require.Equal(t, p.Name, s.Name, "stations stay put")
			require.InDelta(t, p.RegularPrice, s.RegularPrice, 0.10, "%s jumped", id)
			if p.RegularPrice != s.RegularPrice || p.DieselPrice != s.DieselPrice {
				changes++
			}
			prev[id] = s
		}
	}
	require.Positive(t, changes, "no price moved in 3 days")
}
