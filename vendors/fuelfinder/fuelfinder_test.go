package fuelfinder_test

import (
	"context"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/vendors"
	"github.com/sallyhq/sally/vendors/fuelfinder"
	"github.com/sallyhq/sally/vendors/internal/vendortest"
)

const testKey = "ff-key-789"

type setup struct {
	client *fuelfinder.Client
	rec    *vendortest.Recorder
}

func newSetup(t *testing.T, h http.Handler, mutate ...func(*fuelfinder.Config)) setup {
	t.Helper()
	rec := &vendortest.Recorder{Next: h}
	srv := vendortest.Server(t, rec)
	cfg := fuelfinder.Config{BaseURL: srv.URL, APIKey: testKey}
	for _, m := range mutate {
		m(&cfg)
	}
	return setup{client: fuelfinder.New(cfg), rec: rec}
}

func ptr[T any](v T) *T { return &v }

var exampleStation = vendors.FuelStation{
	ID: "FF-10293", Name: "Love's Travel Stop #262", Brand: "Love's",
	Address: "I-40 Exit 76", City: "Amarillo", State: "TX", Zip: "79118",
	Latitude: 35.1921, Longitude: -101.7542,
	RegularPrice: ptr(2.989), DieselPrice: ptr(3.689), DistanceMiles: ptr(3.8),
	Amenities: []string{"showers", "scales", "parking"},
	UpdatedAt: ptr(time.Date(2026, 11, 26, 13, 5, 0, 0, time.UTC)),
}

func TestStationsGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fixture string
		body    string
		want    []vendors.FuelStation
		kind    vendors.Kind
	}{
		{name: "StationsEnvelope", fixture: "stations.json", want: []vendors.FuelStation{exampleStation}},
		{name: "DataEnvelope", fixture: "stations_data.json", want: []vendors.FuelStation{exampleStation}},
		{name: "BareArray", fixture: "stations_bare.json", want: []vendors.FuelStation{exampleStation}},
		{name: "AlternativeNames", fixture: "stations_alternative.json", want: []vendors.FuelStation{
			{ID: "FF-20001", Name: "Pilot #401", Brand: "Pilot", Address: "2805 I-40 E", City: "Amarillo",
				State: "TX", Zip: "79104", Latitude: 35.1960, Longitude: -101.8, RegularPrice: ptr(3.019),
				DistanceMiles: ptr(5.0), Amenities: []string{"showers", "parking", "wifi"}},
			{ID: "20002", Latitude: 35, Longitude: -101},
		}},
		{name: "Empty", body: `{"stations":[]}`, want: []vendors.FuelStation{}},
		{name: "WrongFieldType", fixture: "stations_wrong_types.json", kind: vendors.KindBadResponse},
		{name: "Truncated", fixture: "stations_truncated.json", kind: vendors.KindBadResponse},
		{name: "Garbage", fixture: "garbage.bin", kind: vendors.KindBadResponse},
		{name: "NoList", body: `{"results":[]}`, kind: vendors.KindBadResponse},
		{name: "PriceNotANumber", body: `{"stations":[{"id":"1","lat":1,"lon":1,"price":"cheap"}]}`, kind: vendors.KindBadResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(tt.body)
			if tt.fixture != "" {
				body = vendortest.Fixture(t, tt.fixture)
			}
			s := newSetup(t, vendortest.Answer{Body: body})
			got, err := s.client.Stations(t.Context(), 35.2220, -101.8313, 25, 10)
			reqs := s.rec.Requests()
			require.Len(t, reqs, 1)
			require.Equal(t, "/stations", reqs[0].URL.Path)
			q := reqs[0].URL.Query()
			require.Equal(t, "35.222", q.Get("lat"))
			require.Equal(t, "-101.8313", q.Get("lon"))
			require.Equal(t, "25", q.Get("radius"))
			require.Equal(t, "10", q.Get("limit"))
			require.Equal(t, testKey, reqs[0].Header.Get("X-API-Key"))
			if tt.kind != "" {
				e := vendortest.RequireKind(t, err, tt.kind)
				require.Equal(t, fuelfinder.Vendor, e.Vendor)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestStationsCutToLimit(t *testing.T) {
	t.Parallel()
	s := newSetup(t, vendortest.Answer{Body: []byte(`[{"id":"1","lat":1,"lon":1},{"id":"2","lat":1,"lon":1},{"id":"3","lat":1,"lon":1}]`)})
	got, err := s.client.Stations(t.Context(), 1, 1, 10, 2)
	require.NoError(t, err)
	require.Len(t, got, 2)
}

func TestStationsValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		lat, lon, radius float64
		limit            int
	}{
		{"LatitudeTooHigh", 90.1, 0, 10, 10},
		{"LatitudeTooLow", -91, 0, 10, 10},
		{"LatitudeNaN", math.NaN(), 0, 10, 10},
		{"LongitudeTooHigh", 0, 180.5, 10, 10},
		{"LongitudeNaN", 0, math.NaN(), 10, 10},
		{"ZeroRadius", 0, 0, 0, 10},
		{"NegativeRadius", 0, 0, -1, 10},
		{"HugeRadius", 0, 0, 10000, 10},
		{"RadiusNaN", 0, 0, math.NaN(), 10},
		{"RadiusInf", 0, 0, math.Inf(1), 10},
		{"ZeroLimit", 0, 0, 10, 0},
		{"LimitTooHigh", 0, 0, 10, fuelfinder.MaxLimit + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSetup(t, vendortest.Answer{Body: []byte(`[]`)})
			_, err := s.client.Stations(t.Context(), tt.lat, tt.lon, tt.radius, tt.limit)
			vendortest.RequireKind(t, err, vendors.KindBadRequest)
			require.Empty(t, s.rec.Requests())
		})
	}
	t.Run("Bounds", func(t *testing.T) {
		t.Parallel()
		s := newSetup(t, vendortest.Answer{Body: []byte(`[]`)})
		_, err := s.client.Stations(t.Context(), -90, 180, fuelfinder.MaxRadiusMiles, fuelfinder.MaxLimit)
		require.NoError(t, err)
		_, err = s.client.Stations(t.Context(), 90, -180, 0.1, 1)
		require.NoError(t, err)
	})
}

func TestErrors(t *testing.T) {
	t.Parallel()
	hang, _ := vendortest.Hang()
	date := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		name       string
		handler    http.Handler
		kind       vendors.Kind
		status     int
		retryAfter time.Duration
		message    string
	}{
		{name: "Unauthorized", handler: vendortest.Answer{Status: 401, Body: vendortest.Fixture(t, "error_401.json")},
			kind: vendors.KindUnauthorized, status: 401, message: "invalid API key"},
		{name: "Forbidden", handler: vendortest.Answer{Status: 403, Body: []byte(`{"error":{"code":"forbidden","message":"plan does not include diesel"}}`)},
			kind: vendors.KindForbidden, status: 403, message: "plan does not include diesel"},
		{name: "NotFound", handler: vendortest.Answer{Status: 404, Body: []byte(`{"error":{"code":"not_found","message":"no such endpoint"}}`)},
			kind: vendors.KindNotFound, status: 404, message: "no such endpoint"},
		{name: "RateLimitedWholeSeconds", handler: vendortest.Answer{Status: 429, Header: map[string]string{"Retry-After": "4"},
			Body: vendortest.Fixture(t, "error_429.json")},
			kind: vendors.KindRateLimited, status: 429, retryAfter: 4 * time.Second, message: "slow down"},
		{name: "RateLimitedHTTPDate", handler: vendortest.Answer{Status: 429, Header: map[string]string{"Retry-After": date}},
			kind: vendors.KindRateLimited, status: 429, retryAfter: vendors.MaxRetryAfter},
		{name: "Unavailable", handler: vendortest.Answer{Status: 503, Header: map[string]string{"Retry-After": "0.25"},
			Body: []byte(`{"error":{"code":"internal","message":"maintenance"}}`)},
			kind: vendors.KindUnavailable, status: 503, retryAfter: 250 * time.Millisecond, message: "maintenance"},
		{name: "Reset", handler: vendortest.Reset, kind: vendors.KindNetwork},
		{name: "TruncatedTransfer", handler: vendortest.Truncated, kind: vendors.KindNetwork},
		{name: "Oversized", handler: vendortest.Oversized, kind: vendors.KindBadResponse, status: 200},
		{name: "Timeout", handler: hang, kind: vendors.KindTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSetup(t, tt.handler, func(c *fuelfinder.Config) {
				if tt.name == "Timeout" {
					c.Timeout = 20 * time.Millisecond
				}
			})
			_, err := s.client.Stations(t.Context(), 35, -101, 25, 10)
			e := vendortest.RequireKind(t, err, tt.kind)
			require.Equal(t, fuelfinder.Vendor, e.Vendor)
			require.Equal(t, tt.status, e.Status)
			require.Equal(t, tt.retryAfter, e.RetryAfter)
			if tt.message != "" {
				require.Equal(t, tt.message, e.Message)
			}
			require.NotContains(t, err.Error(), testKey)
		})
	}
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
	_, err := s.client.Stations(ctx, 35, -101, 25, 10)
	vendortest.RequireKind(t, err, vendors.KindCanceled)
}

func TestDoHookAndTestConnection(t *testing.T) {
	t.Parallel()
	calls := 0
	s := newSetup(t, vendortest.Answer{Body: vendortest.Fixture(t, "stations.json")}, func(c *fuelfinder.Config) {
		c.Do = func(ctx context.Context, call func(context.Context) error) error {
			calls++
			return call(ctx)
		}
	})
	require.NoError(t, s.client.TestConnection(t.Context()))
	require.Equal(t, 1, calls)
	reqs := s.rec.Requests()
	require.Len(t, reqs, 1)
	require.Equal(t, "1", reqs[0].URL.Query().Get("limit"))
}

func TestMissingKey(t *testing.T) {
	t.Parallel()
	s := newSetup(t, vendortest.Answer{}, func(c *fuelfinder.Config) { c.APIKey = "" })
	_, err := s.client.Stations(t.Context(), 35, -101, 25, 10)
	vendortest.RequireKind(t, err, vendors.KindUnauthorized)
	require.Empty(t, s.rec.Requests())
}
