package truckbase_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/vendors"
	"github.com/sallyhq/sally/vendors/internal/vendortest"
	"github.com/sallyhq/sally/vendors/truckbase"
)

const (
	testKey    = "tb-key-123"
	testSecret = "tb-secret-456"
)

type setup struct {
	client *truckbase.Client
	rec    *vendortest.Recorder
}

func newSetup(t *testing.T, h http.Handler, mutate ...func(*truckbase.Config)) setup {
	t.Helper()
	rec := &vendortest.Recorder{Next: h}
	srv := vendortest.Server(t, rec)
	cfg := truckbase.Config{BaseURL: srv.URL, APIKey: testKey, APISecret: testSecret}
	for _, m := range mutate {
		m(&cfg)
	}
	return setup{client: truckbase.New(cfg), rec: rec}
}

func ptr[T any](v T) *T { return &v }

func at(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return ptr(t.UTC())
}

// exampleLoad is the load of vendors.md, mapped.
var exampleLoad = vendors.Load{
	ID: "TB-LOAD-001",
	Pickup: vendors.Location{Address: "4200 Amarillo Blvd E", City: "Amarillo", State: "TX", Zip: "79107",
		Latitude: ptr(35.2220), Longitude: ptr(-101.8313)},
	Delivery: vendors.Location{Address: "1800 W Commerce St", City: "Dallas", State: "TX", Zip: "75208",
		Latitude: ptr(32.7767), Longitude: ptr(-96.8300)},
	PickupAppointment:   at("2026-11-26T13:00:00Z"),
	DeliveryAppointment: at("2026-11-26T22:00:00Z"),
	DriverID:            "52001",
	Status:              vendors.LoadInTransit,
	Miles:               ptr(380.4),
}

func TestActiveLoadsGolden(t *testing.T) {
	t.Parallel()
	alt := exampleLoad
	alt.ID, alt.DriverID, alt.Status = "TB-LOAD-002", "52002", vendors.LoadDelivered
	tests := []struct {
		name    string
		fixture string
		body    string
		want    []vendors.Load
		kind    vendors.Kind
	}{
		{name: "LoadsEnvelope", fixture: "loads.json", want: []vendors.Load{exampleLoad}},
		{name: "DataEnvelope", fixture: "loads_data.json", want: []vendors.Load{exampleLoad}},
		{name: "BareArray", fixture: "loads_bare.json", want: []vendors.Load{exampleLoad}},
		{name: "AlternativeNamesAndStatuses", fixture: "loads_alternative.json", want: []vendors.Load{
			alt,
			{ID: "3", Status: vendors.LoadCancelled},
			{ID: "TB-LOAD-004", Status: vendors.LoadCancelled},
			{ID: "TB-LOAD-005", Status: vendors.LoadInTransit},
			{ID: "TB-LOAD-006", Status: vendors.LoadAssigned},
			{ID: "TB-LOAD-007", Status: vendors.LoadAssigned},
		}},
		{name: "Empty", body: `{"loads":[]}`, want: []vendors.Load{}},
		{name: "NullList", body: `{"loads":null}`, want: []vendors.Load{}},
		{name: "WrongFieldType", fixture: "loads_wrong_types.json", kind: vendors.KindBadResponse},
		{name: "UnreadableTime", fixture: "loads_bad_time.json", kind: vendors.KindBadResponse},
		{name: "Truncated", fixture: "loads_truncated.json", kind: vendors.KindBadResponse},
		{name: "Garbage", fixture: "garbage.bin", kind: vendors.KindBadResponse},
		{name: "NoList", body: `{"items":[]}`, kind: vendors.KindBadResponse},
		{name: "ListOfStrings", body: `["TB-1"]`, kind: vendors.KindBadResponse},
		{name: "EmptyBody", body: ``, kind: vendors.KindBadResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(tt.body)
			if tt.fixture != "" {
				body = vendortest.Fixture(t, tt.fixture)
			}
			s := newSetup(t, vendortest.Answer{Body: body})
			got, err := s.client.ActiveLoads(t.Context())
			reqs := s.rec.Requests()
			require.Len(t, reqs, 1)
			require.Equal(t, "/loads", reqs[0].URL.Path)
			require.Equal(t, "active", reqs[0].URL.Query().Get("status"))
			require.Equal(t, testKey, reqs[0].Header.Get("X-API-Key"))
			require.Equal(t, testSecret, reqs[0].Header.Get("X-API-Secret"))
			if tt.kind != "" {
				e := vendortest.RequireKind(t, err, tt.kind)
				require.Equal(t, truckbase.Vendor, e.Vendor)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	example := string(vendortest.Fixture(t, "load.json"))
	tests := []struct {
		name    string
		id      string
		handler http.Handler
		path    string // the escaped path requested; "" = no request
		want    vendors.Load
		kind    vendors.Kind
		message string
	}{
		{name: "OK", id: "TB-LOAD-001", handler: vendortest.Answer{Body: []byte(example)},
			path: "/loads/TB-LOAD-001", want: exampleLoad},
		{name: "WrappedInLoad", id: "TB-LOAD-001", handler: vendortest.Answer{Body: []byte(`{"load":` + example + `}`)},
			path: "/loads/TB-LOAD-001", want: exampleLoad},
		{name: "WrappedInData", id: "TB-LOAD-001", handler: vendortest.Answer{Body: []byte(`{"data":` + example + `}`)},
			path: "/loads/TB-LOAD-001", want: exampleLoad},
		{name: "IDIsPathEscaped", id: "TB/1 2?x#y", handler: vendortest.Answer{Body: []byte(example)},
			path: "/loads/TB%2F1%202%3Fx%23y", want: exampleLoad},
		{name: "NotFound", id: "TB-LOAD-999", handler: vendortest.Answer{Status: 404, Body: vendortest.Fixture(t, "error_404.json")},
			path: "/loads/TB-LOAD-999", kind: vendors.KindNotFound, message: "load TB-LOAD-999 not found"},
		{name: "NoIDInTheAnswer", id: "TB-LOAD-001", handler: vendortest.Answer{Body: []byte(`{"status":"assigned"}`)},
			path: "/loads/TB-LOAD-001", kind: vendors.KindBadResponse},
		{name: "ArrayAnswer", id: "TB-LOAD-001", handler: vendortest.Answer{Body: []byte(`[` + example + `]`)},
			path: "/loads/TB-LOAD-001", kind: vendors.KindBadResponse},
		{name: "EmptyID", id: "  ", handler: vendortest.Answer{}, kind: vendors.KindBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSetup(t, tt.handler)
			got, err := s.client.Load(t.Context(), tt.id)
			reqs := s.rec.Requests()
			if tt.path == "" {
				require.Empty(t, reqs)
			} else {
				require.Len(t, reqs, 1)
				require.Equal(t, tt.path, reqs[0].URL.EscapedPath())
			}
			if tt.kind != "" {
				e := vendortest.RequireKind(t, err, tt.kind)
				if tt.message != "" {
					require.Equal(t, tt.message, e.Message)
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestMapStatus(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"assigned": vendors.LoadAssigned, "ASSIGNED": vendors.LoadAssigned,
		"in_transit": vendors.LoadInTransit, "In Transit": vendors.LoadInTransit, "in-transit": vendors.LoadInTransit,
		"IN_TRANSIT": vendors.LoadInTransit, "delivered": vendors.LoadDelivered, " Delivered ": vendors.LoadDelivered,
		"cancelled": vendors.LoadCancelled, "CANCELED": vendors.LoadCancelled,
		"": vendors.LoadAssigned, "tendered": vendors.LoadAssigned,
	}
	for in, want := range tests {
		require.Equal(t, want, truckbase.MapStatus(in), "status %q", in)
	}
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
			kind: vendors.KindUnauthorized, status: 401, message: "invalid API key or secret"},
		{name: "Forbidden", handler: vendortest.Answer{Status: 403, Body: []byte(`{"error":{"code":"forbidden","message":"no access to loads"}}`)},
			kind: vendors.KindForbidden, status: 403, message: "no access to loads"},
		{name: "InvalidRequest", handler: vendortest.Answer{Status: 400, Body: []byte(`{"error":{"code":"invalid_request","message":"bad status"}}`)},
			kind: vendors.KindBadRequest, status: 400, message: "bad status"},
		{name: "RateLimitedWholeSeconds", handler: vendortest.Answer{Status: 429, Header: map[string]string{"Retry-After": "2"},
			Body: vendortest.Fixture(t, "error_429.json")},
			kind: vendors.KindRateLimited, status: 429, retryAfter: 2 * time.Second, message: "too many requests"},
		{name: "RateLimitedFractional", handler: vendortest.Answer{Status: 429, Header: map[string]string{"Retry-After": "0.5"}},
			kind: vendors.KindRateLimited, status: 429, retryAfter: 500 * time.Millisecond},
		{name: "RateLimitedHTTPDate", handler: vendortest.Answer{Status: 429, Header: map[string]string{"Retry-After": date}},
			kind: vendors.KindRateLimited, status: 429, retryAfter: vendors.MaxRetryAfter},
		{name: "Internal", handler: vendortest.Answer{Status: 500, Body: vendortest.Fixture(t, "error_500.json")},
			kind: vendors.KindUnavailable, status: 500, message: "internal error"},
		{name: "UnavailableWithRetryAfter", handler: vendortest.Answer{Status: 503, Header: map[string]string{"Retry-After": "7"}},
			kind: vendors.KindUnavailable, status: 503, retryAfter: 7 * time.Second},
		{name: "Reset", handler: vendortest.Reset, kind: vendors.KindNetwork},
		{name: "TruncatedTransfer", handler: vendortest.Truncated, kind: vendors.KindNetwork},
		{name: "Oversized", handler: vendortest.Oversized, kind: vendors.KindBadResponse, status: 200},
		{name: "Timeout", handler: hang, kind: vendors.KindTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSetup(t, tt.handler, func(c *truckbase.Config) {
				if tt.name == "Timeout" {
					c.Timeout = 20 * time.Millisecond
				}
			})
			_, err := s.client.ActiveLoads(t.Context())
			e := vendortest.RequireKind(t, err, tt.kind)
			require.Equal(t, truckbase.Vendor, e.Vendor)
			require.Equal(t, tt.status, e.Status)
			require.Equal(t, tt.retryAfter, e.RetryAfter)
			if tt.message != "" {
				require.Equal(t, tt.message, e.Message)
			}
			require.NotContains(t, err.Error(), testKey)
			require.NotContains(t, err.Error(), testSecret)
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
	_, err := s.client.Load(ctx, "TB-1")
	vendortest.RequireKind(t, err, vendors.KindCanceled)
}

func TestDoHook(t *testing.T) {
	t.Parallel()
	calls := 0
	mux := http.NewServeMux()
	mux.Handle("GET /loads", vendortest.Answer{Body: vendortest.Fixture(t, "loads.json")})
	mux.Handle("GET /loads/{id}", vendortest.Answer{Body: vendortest.Fixture(t, "load.json")})
	s := newSetup(t, mux, func(c *truckbase.Config) {
		c.Do = func(ctx context.Context, call func(context.Context) error) error {
			calls++
			return call(ctx)
		}
	})
	_, err := s.client.ActiveLoads(t.Context())
	require.NoError(t, err)
	_, err = s.client.Load(t.Context(), "TB-LOAD-001")
	require.NoError(t, err)
	require.Equal(t, 2, calls)
}

func TestTestConnection(t *testing.T) {
	t.Parallel()
	s := newSetup(t, vendortest.Answer{Body: vendortest.Fixture(t, "loads.json")})
	require.NoError(t, s.client.TestConnection(t.Context()))
	require.Len(t, s.rec.Requests(), 1)

	s = newSetup(t, vendortest.Answer{Status: 401, Body: vendortest.Fixture(t, "error_401.json")})
	err := s.client.TestConnection(t.Context())
	vendortest.RequireKind(t, err, vendors.KindUnauthorized)
	require.Contains(t, err.Error(), "unauthorized")
}

func TestMissingKey(t *testing.T) {
	t.Parallel()
	s := newSetup(t, vendortest.Answer{}, func(c *truckbase.Config) { c.APIKey = "" })
	_, err := s.client.ActiveLoads(t.Context())
	vendortest.RequireKind(t, err, vendors.KindUnauthorized)
	_, err = s.client.Load(t.Context(), "TB-1")
	vendortest.RequireKind(t, err, vendors.KindUnauthorized)
	require.Empty(t, s.rec.Requests())
}
