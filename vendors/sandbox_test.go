package vendors_test

// The adapters against the sandbox over real HTTP: each works unchanged against a
// stand-in that follows vendors.md on its own, and every fault class the sandbox can
// inject comes out as the right vendors.Kind.

import (
	"cmp"
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/sandbox"
	"github.com/sallyhq/sally/vendors"
	"github.com/sallyhq/sally/vendors/fuelfinder"
	"github.com/sallyhq/sally/vendors/internal/vendortest"
	"github.com/sallyhq/sally/vendors/openweather"
	"github.com/sallyhq/sally/vendors/samsara"
	"github.com/sallyhq/sally/vendors/truckbase"
)

// sandboxNow is the sandbox's fixed clock, so that every run sees the same data.
var sandboxNow = time.Date(2026, 11, 26, 15, 30, 0, 0, time.UTC)

// sandboxSetup is one sandbox on its own httptest server plus clients of it.
type sandboxSetup struct {
	sb          *sandbox.Sandbox
	url         string
	samsara     *samsara.Client
	truckbase   *truckbase.Client
	fuelfinder  *fuelfinder.Client
	openweather *openweather.Client
}

// clientOptions tweak the clients a setup makes.
type clientOptions struct {
	key     string
	timeout time.Duration
	do      vendors.DoFunc
}

func newSandbox(t *testing.T) *sandboxSetup {
	t.Helper()
	sb := sandbox.New(sandbox.Options{Now: func() time.Time { return sandboxNow }})
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	s := &sandboxSetup{sb: sb, url: srv.URL}
	s.clients(clientOptions{key: "key-" + t.Name()})
	return s
}

// clients (re)makes the four clients with o.
func (s *sandboxSetup) clients(o clientOptions) {
	s.samsara = samsara.New(samsara.Config{BaseURL: s.url + "/samsara", APIKey: o.key, Timeout: o.timeout, Do: o.do})
	s.truckbase = truckbase.New(truckbase.Config{BaseURL: s.url + "/truckbase", APIKey: o.key, APISecret: "secret-" + o.key, Timeout: o.timeout, Do: o.do})
	s.fuelfinder = fuelfinder.New(fuelfinder.Config{BaseURL: s.url + "/fuelfinder", APIKey: o.key, Timeout: o.timeout, Do: o.do})
	s.openweather = openweather.New(openweather.Config{BaseURL: s.url + "/openweather", APIKey: o.key, Timeout: o.timeout, Do: o.do})
}

// call makes one representative call of vendor's adapter.
func (s *sandboxSetup) call(ctx context.Context, vendor string) error {
	var err error
	switch vendor {
	case sandbox.Samsara:
		_, err = s.samsara.Drivers(ctx)
	case sandbox.Truckbase:
		_, err = s.truckbase.ActiveLoads(ctx)
	case sandbox.FuelFinder:
		_, err = s.fuelfinder.Stations(ctx, 35.222, -101.8313, 25, 10)
	case sandbox.OpenWeather:
		_, err = s.openweather.Current(ctx, 35.222, -101.8313)
	default:
		panic("unknown vendor " + vendor)
	}
	return err
}

var dutyStatuses = []string{
	vendors.DutyOffDuty, vendors.DutySleeperBerth, vendors.DutyDriving,
	vendors.DutyOnDuty, vendors.DutyYardMove, vendors.DutyPersonalConveyance,
}

func TestSandboxSamsara(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	ctx := t.Context()

	require.NoError(t, s.samsara.TestConnection(ctx))
	drivers, err := s.samsara.Drivers(ctx)
	require.NoError(t, err)
	require.Len(t, drivers, sandbox.DefaultDrivers)
	for _, d := range drivers {
		require.NotEmpty(t, d.ID)
		require.NotEmpty(t, d.Name)
		require.True(t, d.Active)
	}

	clocks, err := s.samsara.HOSClocks(ctx, nil)
	require.NoError(t, err)
	require.Len(t, clocks, sandbox.DefaultDrivers)
	for _, h := range clocks {
		if h.DutyStatus == vendors.DutyUnknown {
			require.Equal(t, samsara.NoteDisconnected, h.Note, "the sandbox's flaky phones")
		} else {
			require.Contains(t, dutyStatuses, h.DutyStatus)
			require.Empty(t, h.Note)
		}
		for _, v := range []*float64{h.HoursDriven, h.DriveRemainingHours, h.ShiftRemainingHours, h.CycleRemainingHours,
			h.TimeUntilBreakHours, h.CycleViolationHours, h.ShiftDrivingViolationHours} {
			require.NotNil(t, v, "the sandbox reports every clock unless told otherwise")
		}
		require.InDelta(t, 11, *h.HoursDriven+*h.DriveRemainingHours, 1e-9)
		require.GreaterOrEqual(t, *h.DriveRemainingHours, 0.0)
		require.LessOrEqual(t, *h.DriveRemainingHours, 11.0)
		require.LessOrEqual(t, *h.ShiftRemainingHours, 14.0)
		require.LessOrEqual(t, *h.TimeUntilBreakHours, 8.0)
		require.LessOrEqual(t, *h.CycleRemainingHours, 70.0)
	}

	one, err := s.samsara.HOS(ctx, drivers[3].ID)
	require.NoError(t, err)
	require.Equal(t, drivers[3].ID, one.DriverID)
	require.Equal(t, drivers[3].Name, one.DriverName)

	_, err = s.samsara.HOS(ctx, "1")
	vendortest.RequireKind(t, err, vendors.KindNotFound)
}

// TestSandboxSamsaraGaps reads the gaps the fleet control puts in the clocks through
// the adapter: missing clocks stay unknown (never 0) with a note, a disconnected app is
// UNKNOWN with its note and its clocks, violations are read.
func TestSandboxSamsaraGaps(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.sb.SetFleetSettings(sandbox.FleetSettings{Drivers: 8, Loads: 2, WithoutClocks: 2, Disconnected: 2, InViolation: 2})
	clocks, err := s.samsara.HOSClocks(t.Context(), nil)
	require.NoError(t, err)
	require.Len(t, clocks, 8)
	for i, h := range clocks {
		switch {
		case i < 2:
			require.Contains(t, h.Note, samsara.NoteNoClocks, "driver %d", i)
			for _, v := range []*float64{h.HoursDriven, h.DriveRemainingHours, h.ShiftRemainingHours, h.CycleRemainingHours, h.TimeUntilBreakHours} {
				require.Nil(t, v, "driver %d: no clocks reported, so none is known (never 0)", i)
			}
		case i < 4:
			require.Equal(t, vendors.DutyUnknown, h.DutyStatus, "driver %d", i)
			require.Equal(t, samsara.NoteDisconnected, h.Note, "driver %d", i)
			require.NotNil(t, h.DriveRemainingHours, "driver %d: the clocks come with a disconnected app", i)
		case i < 6:
			require.NotNil(t, h.CycleViolationHours)
			require.InDelta(t, 1, *h.CycleViolationHours, 1e-9, "driver %d", i)
			require.InDelta(t, 1, *h.ShiftDrivingViolationHours, 1e-9, "driver %d", i)
		default:
			require.NotNil(t, h.DriveRemainingHours, "driver %d", i)
		}
	}
}

func TestSandboxSamsaraPagination(t *testing.T) {
	t.Parallel()
	const fleet = 1200
	s := newSandbox(t)
	s.sb.SetFleet(fleet, 10)
	ctx := t.Context()

	drivers, err := s.samsara.Drivers(ctx)
	require.NoError(t, err)
	require.Len(t, drivers, fleet)
	ids := make([]string, len(drivers))
	for i, d := range drivers {
		ids[i] = d.ID
	}
	require.Len(t, uniq(ids), fleet, "no driver twice")
	require.Greater(t, s.sb.Stats()[sandbox.Samsara].Requests, int64(fleet/samsara.PageLimit), "several pages")

	all, err := s.samsara.HOSClocks(ctx, nil)
	require.NoError(t, err)
	require.ElementsMatch(t, ids, hosIDs(all))

	// Batched by id: every driver's clocks, in the order of the batches; the sandbox
	// answers each batch in fleet order.
	slices.Reverse(ids)
	s.sb.ResetStats()
	byID, err := s.samsara.HOSClocks(ctx, ids)
	require.NoError(t, err)
	var want []string
	for start := 0; start < len(ids); start += samsara.BatchSize {
		batch := slices.Clone(ids[start:min(start+samsara.BatchSize, len(ids))])
		slices.SortFunc(batch, func(a, b string) int { return cmp.Compare(atoi(t, a), atoi(t, b)) })
		want = append(want, batch...)
	}
	require.Equal(t, want, hosIDs(byID))
	require.GreaterOrEqual(t, s.sb.Stats()[sandbox.Samsara].Requests, int64(fleet/samsara.BatchSize))
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

func uniq(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return slices.Compact(out)
}

func hosIDs(hs []vendors.HOS) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.DriverID
	}
	return out
}

func TestSandboxTruckbase(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	ctx := t.Context()

	require.NoError(t, s.truckbase.TestConnection(ctx))
	loads, err := s.truckbase.ActiveLoads(ctx)
	require.NoError(t, err)
	require.Len(t, loads, sandbox.DefaultLoads)
	drivers, err := s.samsara.Drivers(ctx)
	require.NoError(t, err)
	var driverIDs []string
	for _, d := range drivers {
		driverIDs = append(driverIDs, d.ID)
	}
	for _, l := range loads {
		require.NotEmpty(t, l.ID)
		require.Contains(t, []string{vendors.LoadAssigned, vendors.LoadInTransit}, l.Status)
		require.NotNil(t, l.Pickup.Latitude)
		require.NotNil(t, l.Delivery.Longitude)
		require.NotEmpty(t, l.Pickup.City)
		if l.DriverID != "" {
			require.Contains(t, driverIDs, l.DriverID, "loads link to Samsara drivers")
		}
	}

	one, err := s.truckbase.Load(ctx, loads[0].ID)
	require.NoError(t, err)
	require.Equal(t, loads[0], one)

	_, err = s.truckbase.Load(ctx, "TB-999-000001")
	e := vendortest.RequireKind(t, err, vendors.KindNotFound)
	require.Equal(t, 404, e.Status)
	_, err = s.truckbase.Load(ctx, "no/such load")
	vendortest.RequireKind(t, err, vendors.KindNotFound)
}

func TestSandboxFuelFinder(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	ctx := t.Context()

	require.NoError(t, s.fuelfinder.TestConnection(ctx))
	stations, err := s.fuelfinder.Stations(ctx, 35.222, -101.8313, 25, 10)
	require.NoError(t, err)
	require.NotEmpty(t, stations)
	require.LessOrEqual(t, len(stations), 10)
	for _, st := range stations {
		require.NotEmpty(t, st.ID)
		require.NotEmpty(t, st.Name)
		require.InDelta(t, 35.222, st.Latitude, 1)
		require.InDelta(t, -101.8313, st.Longitude, 1)
		require.NotNil(t, st.DistanceMiles)
		require.LessOrEqual(t, *st.DistanceMiles, 25.0)
		if st.DieselPrice != nil {
			require.Greater(t, *st.DieselPrice, 0.0)
		}
	}
}

func TestSandboxOpenWeather(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	ctx := t.Context()

	require.NoError(t, s.openweather.TestConnection(ctx))
	w, err := s.openweather.Current(ctx, 35.222, -101.8313)
	require.NoError(t, err)
	require.InDelta(t, 35.222, w.Latitude, 0.01)
	require.InDelta(t, -101.8313, w.Longitude, 0.01)
	require.InDelta(t, 40, w.TemperatureF, 80, "a plausible temperature in °F")
	require.NotEmpty(t, w.Conditions)
	require.False(t, w.ObservedAt.IsZero())
	require.WithinDuration(t, sandboxNow, w.ObservedAt, 3*time.Hour)
}

func TestSandboxInvalidKey(t *testing.T) {
	t.Parallel()
	for _, vendor := range sandbox.Vendors {
		t.Run(vendor, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			s.clients(clientOptions{key: "invalid-key-42"})
			err := s.call(t.Context(), vendor)
			e := vendortest.RequireKind(t, err, vendors.KindUnauthorized)
			require.Equal(t, 401, e.Status)
			require.Equal(t, vendor, e.Vendor)
			require.Contains(t, err.Error(), "unauthorized")
			require.NotContains(t, err.Error(), "invalid-key-42")
			require.ErrorIs(t, err, vendors.ErrUnauthorized)
		})
	}
}

func TestSandboxFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault sandbox.Fault
		kind  vendors.Kind
		// status and retryAfter by vendor; "" is the value for every vendor.
		status     int
		retryAfter map[string]time.Duration
	}{
		{name: "BadRequest", fault: sandbox.Fault{Status: 400}, kind: vendors.KindBadRequest, status: 400},
		{name: "Unauthorized", fault: sandbox.Fault{Status: 401}, kind: vendors.KindUnauthorized, status: 401},
		{name: "Forbidden", fault: sandbox.Fault{Status: 403}, kind: vendors.KindForbidden, status: 403},
		{name: "NotFound", fault: sandbox.Fault{Status: 404}, kind: vendors.KindNotFound, status: 404},
		{name: "RateLimitedFractional", fault: sandbox.Fault{Status: 429, RetryAfterSeconds: 0.40235},
			kind: vendors.KindRateLimited, status: 429, retryAfter: map[string]time.Duration{
				sandbox.Samsara: 402350 * time.Microsecond, "": time.Second}},
		{name: "RateLimitedCapped", fault: sandbox.Fault{Status: 429, RetryAfterSeconds: 3600},
			kind: vendors.KindRateLimited, status: 429, retryAfter: map[string]time.Duration{"": vendors.MaxRetryAfter}},
		// Without a Retry-After of its own, a 429 carries the vendor's usual one (none
		// from OpenWeather).
		{name: "RateLimitedWithoutRetryAfter", fault: sandbox.Fault{Status: 429}, kind: vendors.KindRateLimited, status: 429,
			retryAfter: map[string]time.Duration{sandbox.Samsara: time.Second, sandbox.Truckbase: time.Second, sandbox.FuelFinder: time.Second}},
		{name: "Internal", fault: sandbox.Fault{Status: 500}, kind: vendors.KindUnavailable, status: 500},
		{name: "BadGateway", fault: sandbox.Fault{Status: 502}, kind: vendors.KindUnavailable, status: 502},
		{name: "UnavailableWithRetryAfter", fault: sandbox.Fault{Status: 503, RetryAfterSeconds: 2},
			kind: vendors.KindUnavailable, status: 503, retryAfter: map[string]time.Duration{"": 2 * time.Second}},
		{name: "Reset", fault: sandbox.Fault{Reset: true}, kind: vendors.KindNetwork},
		{name: "Malformed", fault: sandbox.Fault{Malformed: true}, kind: vendors.KindBadResponse},
		{name: "Slow", fault: sandbox.Fault{LatencyMs: sandbox.MaxLatencyMs}, kind: vendors.KindTimeout},
	}
	for _, tt := range tests {
		for _, vendor := range sandbox.Vendors {
			t.Run(tt.name+"/"+vendor, func(t *testing.T) {
				t.Parallel()
				s := newSandbox(t)
				if tt.fault.LatencyMs > 0 {
					s.clients(clientOptions{key: "key-" + t.Name(), timeout: 50 * time.Millisecond})
				}
				require.NoError(t, s.sb.SetFault(vendor, tt.fault))

				err := s.call(t.Context(), vendor)
				e := vendortest.RequireKind(t, err, tt.kind)
				require.Equal(t, vendor, e.Vendor)
				require.Equal(t, tt.status, e.Status)
				want, ok := tt.retryAfter[vendor]
				if !ok {
					want = tt.retryAfter[""]
				}
				require.Equal(t, want, e.RetryAfter)
				require.NotContains(t, err.Error(), "key-")
				require.NotContains(t, err.Error(), "appid")
				require.Equal(t, int64(1), s.sb.Stats()[vendor].Faulted)

				// Cleared, the same call works.
				s.sb.ClearFaults(vendor)
				s.clients(clientOptions{key: "key-" + t.Name()})
				require.NoError(t, s.call(t.Context(), vendor))
			})
		}
	}
}

// TestSandboxCountedFaultThroughDo shows the Do hook at work: a policy that retries an
// unavailable vendor once rides out a fault on the next request only.
func TestSandboxCountedFaultThroughDo(t *testing.T) {
	t.Parallel()
	for _, vendor := range sandbox.Vendors {
		t.Run(vendor, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			retryOnce := func(ctx context.Context, call func(context.Context) error) error {
				err := call(ctx)
				if errors.Is(err, vendors.ErrUnavailable) || errors.Is(err, vendors.ErrNetwork) {
					err = call(ctx)
				}
				return err
			}
			s.clients(clientOptions{key: "key-" + t.Name(), do: retryOnce})
			require.NoError(t, s.sb.SetFault(vendor, sandbox.Fault{Status: 503, Count: 1}))
			require.NoError(t, s.call(t.Context(), vendor))
			st := s.sb.Stats()[vendor]
			require.Equal(t, int64(1), st.Faulted)
			require.GreaterOrEqual(t, st.Requests, int64(2))

			require.NoError(t, s.sb.SetFault(vendor, sandbox.Fault{Reset: true, Count: 1}))
			require.NoError(t, s.call(t.Context(), vendor))
		})
	}
}

func TestSandboxCanceled(t *testing.T) {
	t.Parallel()
	for _, vendor := range sandbox.Vendors {
		t.Run(vendor, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			require.NoError(t, s.sb.SetFault(vendor, sandbox.Fault{LatencyMs: sandbox.MaxLatencyMs}))
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			// Cancel once the sandbox has the request: an event, not a sleep.
			go func() {
				for s.sb.Stats()[vendor].Requests == 0 {
					select {
					case <-ctx.Done():
						return
					case <-time.After(time.Millisecond):
					}
				}
				cancel()
			}()
			err := s.call(ctx, vendor)
			vendortest.RequireKind(t, err, vendors.KindCanceled)
			require.ErrorIs(t, err, context.Canceled)
		})
	}
}
