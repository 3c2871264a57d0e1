package sandbox_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/sandbox"
)

func TestControlValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		status int
	}{
		{"UnknownVendor", "PUT", "/faults/motive", `{"status":503}`, 404},
		{"UnknownVendorDelete", "DELETE", "/faults/motive", ``, 404},
		{"BadJSON", "PUT", "/faults/samsara", `{"status":`, 400},
		{"EmptyBody", "PUT", "/faults/samsara", ``, 400},
		{"NotAnObject", "PUT", "/faults/samsara", `[503]`, 400},
		{"UnknownField", "PUT", "/faults/samsara", `{"status":503,"retry_after":2}`, 400},
		{"TrailingData", "PUT", "/faults/samsara", `{"status":503} {"status":500}`, 400},
		{"WrongType", "PUT", "/faults/samsara", `{"status":"503"}`, 400},
		{"NoEffect", "PUT", "/faults/samsara", `{}`, 400},
		{"OnlyCount", "PUT", "/faults/samsara", `{"count":3}`, 400},
		{"StatusNotAnError", "PUT", "/faults/samsara", `{"status":200}`, 400},
		{"StatusTooHigh", "PUT", "/faults/samsara", `{"status":600}`, 400},
		{"RetryAfterWithout429", "PUT", "/faults/samsara", `{"status":500,"retryAfterSeconds":1}`, 400},
		{"RetryAfterAlone", "PUT", "/faults/samsara", `{"retryAfterSeconds":1}`, 400},
		{"RetryAfterNegative", "PUT", "/faults/samsara", `{"status":429,"retryAfterSeconds":-1}`, 400},
		{"LatencyNegative", "PUT", "/faults/truckbase", `{"latencyMs":-5}`, 400},
		{"LatencyTooLong", "PUT", "/faults/truckbase", `{"latencyMs":3600000}`, 400},
		{"RateAboveOne", "PUT", "/faults/fuelfinder", `{"status":503,"rate":1.5}`, 400},
		{"RateNegative", "PUT", "/faults/fuelfinder", `{"status":503,"rate":-0.1}`, 400},
		{"CountNegative", "PUT", "/faults/openweather", `{"status":503,"count":-1}`, 400},
		{"CountAndRate", "PUT", "/faults/openweather", `{"status":503,"count":2,"rate":0.5}`, 400},
		{"ResetAndStatus", "PUT", "/faults/openweather", `{"status":503,"reset":true}`, 400},
		{"MalformedAndReset", "PUT", "/faults/openweather", `{"malformed":true,"reset":true}`, 400},
		{"FaultOK", "PUT", "/faults/openweather", `{"status":503,"retryAfterSeconds":2,"latencyMs":10,"rate":0.5}`, 200},
		{"LatencyOnlyOK", "PUT", "/faults/samsara", `{"latencyMs":50}`, 200},
		{"RateZeroOK", "PUT", "/faults/truckbase", `{"status":500,"rate":0}`, 200},
		{"FaultsWrongMethod", "POST", "/faults", `{}`, 405},
		{"FaultWrongMethod", "POST", "/faults/samsara", `{"status":503}`, 405},
		{"NoFaultToGet", "GET", "/faults/samsara", ``, 404},
		{"FleetNegativeDrivers", "PUT", "/fleet", `{"drivers":-1,"loads":10}`, 400},
		{"FleetTooManyDrivers", "PUT", "/fleet", `{"drivers":100001}`, 400},
		{"FleetTooManyLoads", "PUT", "/fleet", `{"loads":100001}`, 400},
		{"FleetEmptyIsTheDefault", "PUT", "/fleet", `{}`, 200},
		{"FleetNegativeGap", "PUT", "/fleet", `{"withoutClocks":-1}`, 400},
		{"FleetGapTooLarge", "PUT", "/fleet", `{"inViolation":100001}`, 400},
		{"FleetBadJSON", "PUT", "/fleet", `{"drivers":1000,`, 400},
		{"FleetFractional", "PUT", "/fleet", `{"drivers":10.5}`, 400},
		{"FleetUnknownField", "PUT", "/fleet", `{"trucks":10}`, 400},
		{"FleetOK", "PUT", "/fleet", `{"drivers":1000,"loads":200}`, 200},
		{"FleetWrongMethod", "POST", "/fleet", `{"drivers":1}`, 405},
		{"StatsWrongMethod", "PUT", "/stats", `{}`, 405},
		{"UnknownControlPath", "GET", "/nope", ``, 404},
		{"ControlRoot", "GET", "", ``, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			a := e.control(t, tt.method, tt.path, tt.body)
			require.Equal(t, tt.status, a.status, "body: %s", a.body)
			require.Contains(t, a.header.Get("Content-Type"), "application/json")
			if tt.status >= 400 {
				var body struct {
					Error string `json:"error"`
				}
				a.decode(t, &body)
				require.NotEmpty(t, body.Error)
			}
			if tt.status == 405 {
				require.NotEmpty(t, a.header.Get("Allow"))
			}
			if tt.status == 400 {
				require.Empty(t, e.sb.Faults(), "a rejected fault must not be set")
				d, l := e.sb.Fleet()
				require.Equal(t, []int{sandbox.DefaultDrivers, sandbox.DefaultLoads}, []int{d, l}, "a rejected fleet must not be set")
			}
		})
	}
}

func TestSetFaultErrors(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{})
	err := sb.SetFault("motive", sandbox.Fault{Status: 503})
	require.ErrorIs(t, err, sandbox.ErrUnknownVendor)
	err = sb.SetFault(sandbox.Samsara, sandbox.Fault{Status: 503, Reset: true})
	require.ErrorIs(t, err, sandbox.ErrInvalidFault)
	require.False(t, errors.Is(err, sandbox.ErrUnknownVendor))
	require.NoError(t, sb.SetFault(sandbox.Samsara, sandbox.Fault{Status: 503}))
}

func TestControlFleet(t *testing.T) {
	t.Parallel()
	e := setup(t)
	fleet := func(d, l, w, dis, v float64) map[string]any {
		return map[string]any{"drivers": d, "loads": l, "withoutClocks": w, "disconnected": dis, "inViolation": v}
	}
	a := e.control(t, http.MethodGet, "/fleet", "")
	require.Equal(t, fleet(25, 10, 0, 0, 0), a.json(t))

	a = e.control(t, http.MethodPut, "/fleet", `{"drivers":1000,"loads":200,"withoutClocks":3,"disconnected":2,"inViolation":1}`)
	require.Equal(t, http.StatusOK, a.status)
	require.Equal(t, fleet(1000, 200, 3, 2, 1), a.json(t))
	require.Equal(t, fleet(1000, 200, 3, 2, 1), e.control(t, http.MethodGet, "/fleet", "").json(t))
	a = e.control(t, http.MethodPut, "/fleet", `{"loads":3}`)
	require.Equal(t, fleet(25, 3, 0, 0, 0), a.json(t), "a PUT replaces the whole setting: absent fields return to their defaults")
	require.Len(t, loads(t, e, "acme", "?status=active"), 3)

	// SetFleet clamps instead of failing.
	e.sb.SetFleet(-5, sandbox.MaxLoads+1)
	d, l := e.sb.Fleet()
	require.Equal(t, []int{0, sandbox.MaxLoads}, []int{d, l})
}

func TestControlStats(t *testing.T) {
	t.Parallel()
	e := setup(t)
	zero := map[string]any{}
	for _, v := range sandbox.Vendors {
		zero[v] = map[string]any{"requests": 0.0, "faulted": 0.0}
	}
	a := e.control(t, http.MethodGet, "/stats", "")
	require.Equal(t, http.StatusOK, a.status)
	require.Equal(t, zero, a.json(t), "all four vendors, always")

	e.vendor(t, sandbox.Samsara, "acme", okPath[sandbox.Samsara])
	e.vendor(t, sandbox.Samsara, "invalid", okPath[sandbox.Samsara]) // 401s count
	e.vendor(t, sandbox.Samsara, "acme", "/no/such/path")            // 404s count
	e.vendor(t, sandbox.Truckbase, "acme", okPath[sandbox.Truckbase])
	require.NoError(t, e.sb.SetFault(sandbox.Truckbase, sandbox.Fault{Status: 503, Count: 1}))
	e.vendor(t, sandbox.Truckbase, "acme", okPath[sandbox.Truckbase])
	e.control(t, http.MethodGet, "/fleet", "") // control requests are not counted

	want := map[string]sandbox.VendorStats{
		sandbox.Samsara:     {Requests: 3},
		sandbox.Truckbase:   {Requests: 2, Faulted: 1},
		sandbox.FuelFinder:  {},
		sandbox.OpenWeather: {},
	}
	require.Equal(t, want, e.sb.Stats())
	var got map[string]sandbox.VendorStats
	e.control(t, http.MethodGet, "/stats", "").decode(t, &got)
	require.Equal(t, want, got)

	require.Equal(t, http.StatusNoContent, e.control(t, http.MethodDelete, "/stats", "").status)
	require.Equal(t, zero, e.control(t, http.MethodGet, "/stats", "").json(t))
	e.vendor(t, sandbox.OpenWeather, "acme", okPath[sandbox.OpenWeather])
	require.Equal(t, int64(1), e.sb.Stats()[sandbox.OpenWeather].Requests)
	e.sb.ResetStats()
	require.Equal(t, int64(0), e.sb.Stats()[sandbox.OpenWeather].Requests)
}

// Many clients at once (run with -race): counters stay exact and count faults
// hit exactly their count.
func TestConcurrentRequests(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.sb.SetFleet(200, 50)
	require.NoError(t, e.sb.SetFault(sandbox.Samsara, sandbox.Fault{Status: 429, Count: 7}))
	const workers, each = 8, 10
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := range each {
				vendor := sandbox.Vendors[(w+i)%len(sandbox.Vendors)]
				if w%2 == 0 {
					vendor = sandbox.Samsara
				}
				req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.base+"/"+vendor+okPath[vendor]+"&appid=acme", nil)
				if err != nil {
					errs <- err
					return
				}
				req.Header.Set("Authorization", "Bearer acme")
				req.Header.Set("X-API-Key", "acme")
				req.Header.Set("X-API-Secret", "acme-secret")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err
					return
				}
				resp.Body.Close()
			}
			errs <- nil
		}()
	}
	for range workers {
		require.NoError(t, <-errs)
	}
	var total int64
	for _, s := range e.sb.Stats() {
		total += s.Requests
	}
	require.Equal(t, int64(workers*each), total)
	require.Equal(t, int64(7), e.sb.Stats()[sandbox.Samsara].Faulted)
}

// TestControlOnlyFromLoopback: the control API answers 403 to any peer that is not a
// loopback address (the vendors' own paths answer everyone).
func TestControlOnlyFromLoopback(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{})
	for _, tt := range []struct {
		remote string
		status int
	}{
		{"127.0.0.1:5000", http.StatusOK},
		{"127.8.9.10:5000", http.StatusOK},
		{"[::1]:5000", http.StatusOK},
		{"[::ffff:127.0.0.1]:5000", http.StatusOK},
		{"192.0.2.1:1234", http.StatusForbidden},
		{"10.0.0.7:80", http.StatusForbidden},
		{"[2001:db8::1]:443", http.StatusForbidden},
		{"", http.StatusForbidden},
	} {
		req := httptest.NewRequest(http.MethodGet, "/_control/stats", nil)
		req.RemoteAddr = tt.remote
		req.Header.Set("X-Forwarded-For", "127.0.0.1") // a header proves nothing
		rec := httptest.NewRecorder()
		sb.ServeHTTP(rec, req)
		require.Equal(t, tt.status, rec.Code, "from %q: %s", tt.remote, rec.Body)
		if tt.status == http.StatusForbidden {
			require.Contains(t, rec.Body.String(), "loopback")
		}
	}
	// The fake vendors themselves answer any peer.
	req := httptest.NewRequest(http.MethodGet, "/openweather/weather?lat=35&lon=-101&appid=key-1", nil)
	req.RemoteAddr = "192.0.2.1:1234"
	rec := httptest.NewRecorder()
	sb.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
}
