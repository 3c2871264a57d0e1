package openweather_test

import (
	"context"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/vendors"
	"github.com/sallyhq/sally/vendors/internal/vendortest"
	"github.com/sallyhq/sally/vendors/openweather"
)

// testKey has characters that change when query-escaped, to prove both forms are
// kept out of errors.
const testKey = "ow key+/=Zq9X"

type setup struct {
	client *openweather.Client
	rec    *vendortest.Recorder
}

func newSetup(t *testing.T, h http.Handler, mutate ...func(*openweather.Config)) setup {
	t.Helper()
	rec := &vendortest.Recorder{Next: h}
	srv := vendortest.Server(t, rec)
	cfg := openweather.Config{BaseURL: srv.URL, APIKey: testKey}
	for _, m := range mutate {
		m(&cfg)
	}
	return setup{client: openweather.New(cfg), rec: rec}
}

func ptr[T any](v T) *T { return &v }

// requireNoKey asserts that neither the key nor the URL carrying it is in err.
func requireNoKey(t *testing.T, err error) {
	t.Helper()
	for _, s := range []string{err.Error(), errorsChain(err)} {
		require.NotContains(t, s, "appid")
		require.NotContains(t, s, "Zq9X")
		require.NotContains(t, s, "ow+key")
	}
}

func errorsChain(err error) string {
	var b strings.Builder
	for ; err != nil; err = unwrap(err) {
		b.WriteString(err.Error())
		b.WriteString(" | ")
	}
	return b.String()
}

func unwrap(err error) error {
	u, ok := err.(interface{ Unwrap() error })
	if !ok {
		return nil
	}
	return u.Unwrap()
}

func TestCurrentGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fixture string
		body    string
		want    vendors.Weather
		kind    vendors.Kind
		status  int
	}{
		{name: "VendorsMdExample", fixture: "weather.json", want: vendors.Weather{
			Latitude: 35.22, Longitude: -101.83, TemperatureF: 28.4, FeelsLikeF: ptr(17.9),
			Humidity: ptr(71), WindSpeedMph: ptr(21.9), Conditions: "Snow", Description: "snow",
			ObservedAt: time.Date(2026, 11, 26, 14, 10, 0, 0, time.UTC), LocationName: "Amarillo",
		}},
		{name: "MissingOptionalParts", fixture: "weather_minimal.json", want: vendors.Weather{
			Latitude: 35.2, Longitude: -101.8, TemperatureF: -4.5,
			ObservedAt: time.Date(2026, 11, 26, 14, 10, 0, 0, time.UTC),
		}},
		{name: "WrongFieldType", fixture: "weather_wrong_types.json", kind: vendors.KindBadResponse},
		{name: "Truncated", fixture: "weather_truncated.json", kind: vendors.KindBadResponse},
		{name: "Garbage", fixture: "garbage.bin", kind: vendors.KindBadResponse},
		{name: "NoTemperature", body: `{"main":{},"dt":1795702200}`, kind: vendors.KindBadResponse},
		{name: "NoTime", body: `{"main":{"temp":1}}`, kind: vendors.KindBadResponse},
		{name: "CodSaysNotFound", body: `{"cod":"404","message":"city not found"}`, kind: vendors.KindNotFound, status: 404},
		{name: "CodSaysRateLimited", body: `{"cod":429,"message":"blocked"}`, kind: vendors.KindRateLimited, status: 429},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(tt.body)
			if tt.fixture != "" {
				body = vendortest.Fixture(t, tt.fixture)
			}
			s := newSetup(t, vendortest.Answer{Body: body})
			got, err := s.client.Current(t.Context(), 35.2, -101.8)
			reqs := s.rec.Requests()
			require.Len(t, reqs, 1)
			require.Equal(t, "/weather", reqs[0].URL.Path)
			q := reqs[0].URL.Query()
			require.Equal(t, "35.2", q.Get("lat"))
			require.Equal(t, "-101.8", q.Get("lon"))
			require.Equal(t, "imperial", q.Get("units"))
			require.Equal(t, testKey, q.Get("appid"))
			if tt.kind != "" {
				e := vendortest.RequireKind(t, err, tt.kind)
				require.Equal(t, openweather.Vendor, e.Vendor)
				require.Equal(t, tt.status, e.Status)
				requireNoKey(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestCurrentValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		lat, lon float64
	}{
		{"LatitudeTooHigh", 91, 0},
		{"LatitudeNaN", math.NaN(), 0},
		{"LongitudeTooLow", 0, -181},
		{"LongitudeInf", 0, math.Inf(-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSetup(t, vendortest.Answer{})
			_, err := s.client.Current(t.Context(), tt.lat, tt.lon)
			vendortest.RequireKind(t, err, vendors.KindBadRequest)
			require.Empty(t, s.rec.Requests())
		})
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	hang, _ := vendortest.Hang()
	tests := []struct {
		name       string
		handler    http.Handler
		kind       vendors.Kind
		status     int
		retryAfter time.Duration
		message    string
	}{
		{name: "UnauthorizedNumberCod", handler: vendortest.Answer{Status: 401, Body: vendortest.Fixture(t, "error_401.json")},
			kind: vendors.KindUnauthorized, status: 401,
			message: "Invalid API key. Please see https://openweathermap.org/faq#error401 for more info."},
		{name: "BadRequestStringCod", handler: vendortest.Answer{Status: 400, Body: vendortest.Fixture(t, "error_400.json")},
			kind: vendors.KindBadRequest, status: 400, message: "wrong latitude"},
		{name: "NotFoundStringCod", handler: vendortest.Answer{Status: 404, Body: vendortest.Fixture(t, "error_404.json")},
			kind: vendors.KindNotFound, status: 404, message: "city not found"},
		{name: "RateLimitedNumberCod", handler: vendortest.Answer{Status: 429, Body: vendortest.Fixture(t, "error_429.json")},
			kind: vendors.KindRateLimited, status: 429,
			message: "Your account is temporary blocked due to exceeding of requests limitation of your subscription type."},
		{name: "RateLimitedWithRetryAfter", handler: vendortest.Answer{Status: 429, Header: map[string]string{"Retry-After": "1.5"}},
			kind: vendors.KindRateLimited, status: 429, retryAfter: 1500 * time.Millisecond},
		{name: "CodOnly", handler: vendortest.Answer{Status: 500, Body: []byte(`{"cod":500}`)},
			kind: vendors.KindUnavailable, status: 500, message: "code 500"},
		{name: "UnavailablePlainText", handler: vendortest.Answer{Status: 502, Body: []byte("Bad Gateway")},
			kind: vendors.KindUnavailable, status: 502, message: "Bad Gateway"},
		{name: "KeyEchoed", handler: vendortest.Answer{Status: 401, Body: []byte(`{"cod":401,"message":"key ow key+/=Zq9X unknown"}`)},
			kind: vendors.KindUnauthorized, status: 401, message: "key [REDACTED] unknown"},
		{name: "Reset", handler: vendortest.Reset, kind: vendors.KindNetwork},
		{name: "TruncatedTransfer", handler: vendortest.Truncated, kind: vendors.KindNetwork},
		{name: "Oversized", handler: vendortest.Oversized, kind: vendors.KindBadResponse, status: 200},
		{name: "Timeout", handler: hang, kind: vendors.KindTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSetup(t, tt.handler, func(c *openweather.Config) {
				if tt.name == "Timeout" {
					c.Timeout = 20 * time.Millisecond
				}
			})
			_, err := s.client.Current(t.Context(), 35, -101)
			e := vendortest.RequireKind(t, err, tt.kind)
			require.Equal(t, openweather.Vendor, e.Vendor)
			require.Equal(t, tt.status, e.Status)
			require.Equal(t, tt.retryAfter, e.RetryAfter)
			if tt.message != "" {
				require.Equal(t, tt.message, e.Message)
			}
			requireNoKey(t, err)
		})
	}
}

func TestNetworkErrorHidesTheKey(t *testing.T) {
	t.Parallel()
	srv := vendortest.Server(t, vendortest.Answer{})
	base := srv.URL
	srv.Close() // connection refused: net/http's error names the URL, appid included
	c := openweather.New(openweather.Config{BaseURL: base, APIKey: testKey})
	_, err := c.Current(t.Context(), 35, -101)
	vendortest.RequireKind(t, err, vendors.KindNetwork)
	requireNoKey(t, err)
}

func TestCanceled(t *testing.T) {
	t.Parallel()
	hang, arrived := vendortest.Hang()
	s := newSetup(t, hang)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := s.client.Current(ctx, 35, -101)
	vendortest.RequireKind(t, err, vendors.KindCanceled)
	requireNoKey(t, err)
}

func TestDoHookAndTestConnection(t *testing.T) {
	t.Parallel()
	calls := 0
	s := newSetup(t, vendortest.Answer{Body: vendortest.Fixture(t, "weather.json")}, func(c *openweather.Config) {
		c.Do = func(ctx context.Context, call func(context.Context) error) error {
			calls++
			return call(ctx)
		}
	})
	require.NoError(t, s.client.TestConnection(t.Context()))
	require.Equal(t, 1, calls)
	require.Len(t, s.rec.Requests(), 1)
}

func TestMissingKey(t *testing.T) {
	t.Parallel()
	s := newSetup(t, vendortest.Answer{}, func(c *openweather.Config) { c.APIKey = "" })
	_, err := s.client.Current(t.Context(), 35, -101)
	vendortest.RequireKind(t, err, vendors.KindUnauthorized)
	require.Empty(t, s.rec.Requests())
}
