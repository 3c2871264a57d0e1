package sandbox_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/sandbox"
)

type owWeather struct {
	Coord struct {
		Lon float64 `json:"lon"`
		Lat float64 `json:"lat"`
	} `json:"coord"`
	Weather []struct {
		ID          int    `json:"id"`
		Main        string `json:"main"`
		Description string `json:"description"`
		Icon        string `json:"icon"`
	} `json:"weather"`
	Main struct {
		Temp      float64 `json:"temp"`
		FeelsLike float64 `json:"feels_like"`
		TempMin   float64 `json:"temp_min"`
		TempMax   float64 `json:"temp_max"`
		Pressure  int     `json:"pressure"`
		Humidity  int     `json:"humidity"`
	} `json:"main"`
	Visibility int `json:"visibility"`
	Wind       struct {
		Speed float64  `json:"speed"`
		Deg   int      `json:"deg"`
		Gust  *float64 `json:"gust"`
	} `json:"wind"`
	Rain   *map[string]float64 `json:"rain"`
	Snow   *map[string]float64 `json:"snow"`
	Clouds struct {
		All int `json:"all"`
	} `json:"clouds"`
	Dt  int64 `json:"dt"`
	Sys struct {
		Country string `json:"country"`
		Sunrise int64  `json:"sunrise"`
		Sunset  int64  `json:"sunset"`
	} `json:"sys"`
	Timezone int    `json:"timezone"`
	ID       int    `json:"id"`
	Name     string `json:"name"`
	Cod      int    `json:"cod"`
}

func weather(t *testing.T, e *env, query string) owWeather {
	t.Helper()
	a := e.vendor(t, sandbox.OpenWeather, "acme", "/weather"+query)
	require.Equal(t, http.StatusOK, a.status, "body: %s", a.body)
	var w owWeather
	a.decode(t, &w)
	return w
}

func TestOpenWeatherAnswer(t *testing.T) {
	t.Parallel()
	e := setup(t)
	w := weather(t, e, "?lat=35.22&lon=-101.83&units=imperial")
	require.Equal(t, 35.22, w.Coord.Lat)
	require.Equal(t, -101.83, w.Coord.Lon)
	require.Equal(t, "Amarillo", w.Name)
	require.Equal(t, 5516233, w.ID)
	require.Equal(t, 200, w.Cod)
	require.Equal(t, "US", w.Sys.Country)
	require.Equal(t, -21600, w.Timezone, "Amarillo in November is UTC-6")
	now := e.clock.Now()
	require.LessOrEqual(t, w.Dt, now.Unix())
	require.Greater(t, w.Dt, now.Add(-15*time.Minute).Unix())
	require.Less(t, w.Sys.Sunrise, w.Sys.Sunset)
	// Amarillo, late November: sunrise about 13:50 UTC, sunset about 23:50 UTC.
	require.InDelta(t, 1795699380, w.Sys.Sunrise, 30*60)
	require.InDelta(t, 1795736580, w.Sys.Sunset, 30*60)
}

// Across the country and the year, every answer is plausible and well-formed.
func TestOpenWeatherValuesArePlausible(t *testing.T) {
	t.Parallel()
	e := setup(t)
	places := [][2]float64{{35.22, -101.83}, {25.76, -80.19}, {46.88, -96.79}, {47.61, -122.33}, {33.45, -112.07}, {44.98, -93.27}, {40.74, -74.17}}
	conditions := map[string]bool{}
	for day := 0; day < 365; day += 11 {
		e.clock.Set(start.AddDate(0, 0, day).Add(time.Duration(day%24) * time.Hour))
		for _, p := range places {
			w := weather(t, e, fmt.Sprintf("?lat=%v&lon=%v&units=imperial", p[0], p[1]))
			at := fmt.Sprintf("%v at %s", p, e.clock.Now())
			require.Len(t, w.Weather, 1, at)
			c := w.Weather[0]
			conditions[c.Main] = true
			require.True(t, strings.HasSuffix(c.Icon, "d") || strings.HasSuffix(c.Icon, "n"), at)
			require.Len(t, c.Icon, 3, at)
			require.NotEmpty(t, c.Description, at)
			require.True(t, w.Main.Temp > -40 && w.Main.Temp < 120, "%s: %v°F", at, w.Main.Temp)
			require.True(t, w.Main.TempMin <= w.Main.Temp && w.Main.Temp <= w.Main.TempMax, at)
			require.True(t, w.Main.Humidity >= 0 && w.Main.Humidity <= 100, at)
			require.True(t, w.Main.Pressure > 950 && w.Main.Pressure < 1060, at)
			require.True(t, w.Clouds.All >= 0 && w.Clouds.All <= 100, at)
			require.True(t, w.Visibility > 0 && w.Visibility <= 10000, at)
			require.True(t, w.Wind.Speed >= 0 && w.Wind.Speed < 80, at)
			require.True(t, w.Wind.Deg >= 0 && w.Wind.Deg < 360, at)
			if w.Wind.Gust != nil {
				require.Greater(t, *w.Wind.Gust, w.Wind.Speed, at)
			}
			if w.Rain != nil {
				require.Positive(t, (*w.Rain)["1h"], at)
			}
			if w.Snow != nil {
				require.Positive(t, (*w.Snow)["1h"], at)
				require.Less(t, w.Main.Temp, 40.0, "%s: snow at %v°F", at, w.Main.Temp)
			}
		}
	}
	require.Greater(t, len(conditions), 2, "the weather never changes: %v", conditions)
}

// units: imperial (°F, mph), metric (°C, m/s), standard (K, m/s) — also the default,
// as on the real API.
func TestOpenWeatherUnits(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const at = "?lat=41.88&lon=-87.63"
	f := weather(t, e, at+"&units=imperial")
	c := weather(t, e, at+"&units=metric")
	k := weather(t, e, at+"&units=standard")
	d := weather(t, e, at)
	require.InDelta(t, c.Main.Temp*9/5+32, f.Main.Temp, 0.03)
	require.InDelta(t, c.Main.FeelsLike*9/5+32, f.Main.FeelsLike, 0.03)
	require.InDelta(t, c.Main.Temp+273.15, k.Main.Temp, 0.02)
	require.InDelta(t, c.Wind.Speed*2.236936, f.Wind.Speed, 0.03)
	require.Equal(t, c.Wind.Speed, k.Wind.Speed)
	require.Equal(t, k, d, "no units means standard")
	require.Equal(t, c.Main.Humidity, f.Main.Humidity)
}

// The same place reads the same within a 10-minute bucket, and the weather changes
// over hours.
func TestOpenWeatherMovesWithTime(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const q = "?lat=35.22&lon=-101.83&units=imperial"
	e.clock.Set(start.Add(time.Minute))
	a := weather(t, e, q)
	e.clock.Add(5 * time.Minute)
	require.Equal(t, a, weather(t, e, q))
	other := setup(t)
	other.clock.Set(e.clock.Now())
	require.Equal(t, a, weather(t, other, q), "another sandbox")

	temps := map[float64]bool{}
	for range 12 {
		e.clock.Add(time.Hour)
		w := weather(t, e, q)
		require.Greater(t, w.Dt, a.Dt)
		temps[w.Main.Temp] = true
	}
	require.Greater(t, len(temps), 6, "temperature barely moves over 12 hours")
}

func TestOpenWeatherBadParams(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tests := []struct{ name, query, message string }{
		{"LatTooHigh", "?lat=90.5&lon=-101.83", "wrong latitude"},
		{"LatTooLow", "?lat=-91&lon=-101.83", "wrong latitude"},
		{"LatNotANumber", "?lat=abc&lon=-101.83", "wrong latitude"},
		{"LonOutOfRange", "?lat=35&lon=181", "wrong longitude"},
		{"Nothing", "", "Nothing to geocode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := e.vendor(t, sandbox.OpenWeather, "acme", "/weather"+tt.query)
			require.Equal(t, http.StatusBadRequest, a.status)
			require.Equal(t, map[string]any{"cod": "400", "message": tt.message}, a.json(t))
		})
	}
}

func TestOpenWeatherAuth(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, path := range []string{"/openweather/weather?lat=35&lon=-101", "/openweather/weather?lat=35&lon=-101&appid=", "/openweather/weather?lat=35&lon=-101&appid=invalid123"} {
		a := e.do(t, http.MethodGet, path, nil, "")
		require.Equal(t, http.StatusUnauthorized, a.status, path)
		require.Equal(t, readGolden(t, "openweather_401.json"), a.json(t))
	}
}
