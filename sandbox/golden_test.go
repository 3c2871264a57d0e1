package sandbox_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/sandbox"
)

// The sandbox's answers have exactly the keys and JSON types of the examples in the
// vendor notes (copied into testdata/).
func TestWireFormatsMatchVendorDocs(t *testing.T) {
	t.Parallel()
	first := func(list string) func(any) any {
		return func(v any) any {
			items := v.(map[string]any)[list].([]any)
			if len(items) == 0 {
				return nil
			}
			return items[0]
		}
	}
	whole := func(v any) any { return v }
	tests := []struct {
		name     string
		vendor   string
		key      string
		path     string
		status   int
		pick     func(any) any
		golden   string
		optional []string
	}{
		{"SamsaraClocksItem", sandbox.Samsara, "acme", "/fleet/hos/clocks", 200, first("data"), "samsara_hos_clock.json", []string{"currentVehicle"}},
		{"SamsaraClocksEmptyFirstPage", sandbox.Samsara, "initech", "/fleet/hos/clocks", 200, func(v any) any {
			m := v.(map[string]any)
			return map[string]any{"data": m["data"], "pagination": m["pagination"]}
		}, "samsara_list.json", nil},
		{"SamsaraClocksList", sandbox.Samsara, "acme", "/fleet/hos/clocks?limit=3", 200, func(v any) any {
			m := v.(map[string]any)
			return map[string]any{"data": []any{}, "pagination": m["pagination"], "_": m["data"]}
		}, "samsara_list.json", []string{"_"}},
		{"SamsaraDriversItem", sandbox.Samsara, "acme", "/fleet/drivers?driverActivationStatus=active", 200, first("data"), "samsara_driver.json", []string{"staticAssignedVehicle"}},
		{"SamsaraDriversList", sandbox.Samsara, "acme", "/fleet/drivers?limit=2", 200, func(v any) any {
			m := v.(map[string]any)
			return map[string]any{"data": []any{}, "pagination": m["pagination"], "_": m["data"]}
		}, "samsara_list.json", []string{"_"}},
		{"Samsara401", sandbox.Samsara, "invalid-token", "/fleet/drivers", 401, whole, "samsara_error.json", nil},
		{"Samsara404", sandbox.Samsara, "acme", "/fleet/vehicles/nope", 404, whole, "samsara_error.json", nil},
		{"Samsara400", sandbox.Samsara, "acme", "/fleet/hos/clocks?limit=513", 400, whole, "samsara_error.json", nil},
		{"TruckbaseLoadsItem", sandbox.Truckbase, "acme", "/loads?status=active", 200, first("loads"), "truckbase_load.json", nil},
		{"TruckbaseLoad", sandbox.Truckbase, "acme", "/loads/TB-001-000000", 200, whole, "truckbase_load.json", nil},
		{"Truckbase401", sandbox.Truckbase, "invalid", "/loads", 401, whole, "coded_error.json", nil},
		{"Truckbase404", sandbox.Truckbase, "acme", "/loads/TB-999-000001", 404, whole, "coded_error.json", nil},
		{"Truckbase400", sandbox.Truckbase, "acme", "/loads?status=lost", 400, whole, "coded_error.json", nil},
		{"FuelFinderStation", sandbox.FuelFinder, "acme", "/stations?lat=35.22&lon=-101.83&radius=25&limit=10", 200, first("stations"), "fuelfinder_station.json", nil},
		{"FuelFinder401", sandbox.FuelFinder, "", "/stations?lat=35.22&lon=-101.83", 401, whole, "coded_error.json", nil},
		{"FuelFinder400", sandbox.FuelFinder, "acme", "/stations?lat=135.22&lon=-101.83", 400, whole, "coded_error.json", nil},
		{"OpenWeather", sandbox.OpenWeather, "acme", "/weather?lat=35.22&lon=-101.83&units=imperial", 200, whole, "openweather_weather.json", []string{"wind.gust", "rain", "snow"}},
		{"OpenWeather401", sandbox.OpenWeather, "invalidkey", "/weather?lat=35.22&lon=-101.83", 401, whole, "openweather_401.json", nil},
		{"OpenWeather400", sandbox.OpenWeather, "acme", "/weather?lat=95&lon=-101.83", 400, whole, "openweather_400.json", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			a := e.vendor(t, tt.vendor, tt.key, tt.path)
			require.Equal(t, tt.status, a.status, "body: %s", a.body)
			require.Contains(t, a.header.Get("Content-Type"), "application/json")
			got := tt.pick(a.json(t))
			require.NotNil(t, got, "no item to compare: %s", a.body)
			requireSameShape(t, got, readGolden(t, tt.golden), tt.optional...)
		})
	}
}

// The OpenWeather error bodies the notes quote are reproduced byte for byte (in
// meaning): cod is a number for 401 and 429 and a string for 400.
func TestOpenWeatherErrorBodiesAreTheVendors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		key    string
		path   string
		fault  *sandbox.Fault
		status int
		golden string
	}{
		{"Unauthorized", "invalid-key", "/weather?lat=35&lon=-101", nil, 401, "openweather_401.json"},
		{"WrongLatitude", "k", "/weather?lat=-91&lon=-101", nil, 400, "openweather_400.json"},
		{"RateLimited", "k", "/weather?lat=35&lon=-101", &sandbox.Fault{Status: 429}, 429, "openweather_429.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			if tt.fault != nil {
				require.NoError(t, e.sb.SetFault(sandbox.OpenWeather, *tt.fault))
			}
			a := e.vendor(t, sandbox.OpenWeather, tt.key, tt.path)
			require.Equal(t, tt.status, a.status)
			require.Equal(t, readGolden(t, tt.golden), a.json(t))
		})
	}
}

// Every vendor answers an unknown path with a 404 in its own format, and a method it
// does not serve with a 405 in its own format.
func TestUnknownPathsAnswerInVendorFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		vendor, golden string
	}{
		{sandbox.Samsara, "samsara_error.json"},
		{sandbox.Truckbase, "coded_error.json"},
		{sandbox.FuelFinder, "coded_error.json"},
		{sandbox.OpenWeather, "openweather_400.json"}, // cod "404" is a string like 400's
	}
	for _, tt := range tests {
		t.Run(tt.vendor, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			a := e.vendor(t, tt.vendor, "k", "/no/such/path")
			require.Equal(t, http.StatusNotFound, a.status)
			requireSameShape(t, a.json(t), readGolden(t, tt.golden))

			h := http.Header{"Authorization": {"Bearer k"}, "X-Api-Key": {"k"}}
			a = e.do(t, http.MethodPost, "/"+tt.vendor+okPath[tt.vendor]+"&appid=k", h, "{}")
			require.Equal(t, http.StatusMethodNotAllowed, a.status)
			requireSameShape(t, a.json(t), readGolden(t, tt.golden))
		})
	}
}

// A path outside the four vendors and the control API is a plain JSON 404.
func TestUnknownVendor(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.do(t, http.MethodGet, "/motive/v1/users", nil, "")
	require.Equal(t, http.StatusNotFound, a.status)
	require.Contains(t, a.json(t).(map[string]any)["error"], "no sandbox vendor")
}
