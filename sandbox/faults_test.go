package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/sandbox"
)

// A status fault answers with that status and the vendor's own error body.
func TestFaultStatusAnswersWithVendorErrorBody(t *testing.T) {
	t.Parallel()
	codes := map[int]string{400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 429: "rate_limited", 500: "internal", 502: "internal", 503: "internal"}
	for _, vendor := range sandbox.Vendors {
		for _, status := range []int{400, 401, 403, 404, 429, 500, 502, 503} {
			t.Run(vendor+"/"+strconv.Itoa(status), func(t *testing.T) {
				t.Parallel()
				e := setup(t)
				require.NoError(t, e.sb.SetFault(vendor, sandbox.Fault{Status: status}))
				a := e.vendor(t, vendor, "acme", okPath[vendor])
				require.Equal(t, status, a.status)
				if status == 429 && vendor != sandbox.OpenWeather {
					require.Equal(t, "1", a.header.Get("Retry-After"), "the vendor's usual Retry-After")
				} else {
					require.Empty(t, a.header.Get("Retry-After"), "no Retry-After unless asked")
				}
				switch vendor {
				case sandbox.Samsara:
					if a.header.Get("Content-Type") == "text/plain; charset=utf-8" {
						require.Contains(t, []int{502, 503, 504}, status, "only gateway errors come as plain text")
						require.NotEmpty(t, a.body)
						require.False(t, json.Valid(a.body))
						return
					}
					requireSameShape(t, a.json(t), readGolden(t, "samsara_error.json"))
				case sandbox.Truckbase, sandbox.FuelFinder:
					require.Equal(t, codes[status], errorCode(t, a))
				case sandbox.OpenWeather:
					body := a.json(t).(map[string]any)
					require.NotEmpty(t, body["message"])
					if status == 400 || status == 404 || status == 403 {
						require.Equal(t, strconv.Itoa(status), body["cod"], "cod is a string for 4xx")
					} else {
						require.Equal(t, float64(status), body["cod"], "cod is a number for 401, 429 and 5xx")
					}
				}
			})
		}
	}
}

// Samsara's 5xx bodies are sometimes plain text; over a few 503s both kinds appear.
func TestFaultSamsaraPlainTextFiveHundreds(t *testing.T) {
	t.Parallel()
	e := setup(t)
	require.NoError(t, e.sb.SetFault(sandbox.Samsara, sandbox.Fault{Status: 503}))
	kinds := map[bool]int{}
	for range 4 {
		a := e.vendor(t, sandbox.Samsara, "acme", okPath[sandbox.Samsara])
		require.Equal(t, 503, a.status)
		kinds[json.Valid(a.body)]++
	}
	require.Positive(t, kinds[true], "no JSON 503")
	require.Positive(t, kinds[false], "no plain-text 503")
	require.NoError(t, e.sb.SetFault(sandbox.Samsara, sandbox.Fault{Status: 502}))
	a := e.vendor(t, sandbox.Samsara, "acme", okPath[sandbox.Samsara])
	require.Equal(t, "text/plain; charset=utf-8", a.header.Get("Content-Type"))
}

func TestFaultRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		vendor string
		fault  sandbox.Fault
		want   string
	}{
		{"SamsaraFractional", sandbox.Samsara, sandbox.Fault{Status: 429, RetryAfterSeconds: 0.40235}, "0.40235"},
		{"SamsaraWhole", sandbox.Samsara, sandbox.Fault{Status: 429, RetryAfterSeconds: 2}, "2"},
		{"Samsara503", sandbox.Samsara, sandbox.Fault{Status: 503, RetryAfterSeconds: 1.5}, "1.5"},
		{"TruckbaseRoundsUp", sandbox.Truckbase, sandbox.Fault{Status: 429, RetryAfterSeconds: 0.4}, "1"},
		{"TruckbaseWhole", sandbox.Truckbase, sandbox.Fault{Status: 429, RetryAfterSeconds: 3}, "3"},
		{"FuelFinder503", sandbox.FuelFinder, sandbox.Fault{Status: 503, RetryAfterSeconds: 2.5}, "3"},
		{"OpenWeather", sandbox.OpenWeather, sandbox.Fault{Status: 429, RetryAfterSeconds: 1}, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			require.NoError(t, e.sb.SetFault(tt.vendor, tt.fault))
			a := e.vendor(t, tt.vendor, "acme", okPath[tt.vendor])
			require.Equal(t, tt.fault.Status, a.status)
			require.Equal(t, tt.want, a.header.Get("Retry-After"))
		})
	}
}

// A latency fault delays a correct answer.
func TestFaultLatency(t *testing.T) {
	t.Parallel()
	for _, vendor := range sandbox.Vendors {
		t.Run(vendor, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			want := e.vendor(t, vendor, "acme", okPath[vendor])
			require.NoError(t, e.sb.SetFault(vendor, sandbox.Fault{LatencyMs: 150}))
			began := time.Now()
			a := e.vendor(t, vendor, "acme", okPath[vendor])
			require.GreaterOrEqual(t, time.Since(began), 150*time.Millisecond)
			require.Equal(t, http.StatusOK, a.status)
			require.Equal(t, string(want.body), string(a.body))
			require.Equal(t, sandbox.VendorStats{Requests: 2, Faulted: 1}, e.sb.Stats()[vendor])
		})
	}
}

// Latency combines with a status: the error comes late.
func TestFaultLatencyWithStatus(t *testing.T) {
	t.Parallel()
	e := setup(t)
	require.NoError(t, e.sb.SetFault(sandbox.Truckbase, sandbox.Fault{Status: 503, LatencyMs: 100, RetryAfterSeconds: 1}))
	began := time.Now()
	a := e.vendor(t, sandbox.Truckbase, "acme", okPath[sandbox.Truckbase])
	require.GreaterOrEqual(t, time.Since(began), 100*time.Millisecond)
	require.Equal(t, 503, a.status)
	require.Equal(t, "1", a.header.Get("Retry-After"))
}

// A client that gives up during the wait frees the handler at once instead of
// holding it for the whole latency.
func TestFaultLatencyRespectsCancellation(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{Logger: testLogger(t)})
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		sb.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	require.NoError(t, sb.SetFault(sandbox.Samsara, sandbox.Fault{LatencyMs: sandbox.MaxLatencyMs}))

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/samsara/fleet/drivers", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer acme")
	_, err = http.DefaultClient.Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	select {
	case <-done:
	case <-time.After(10 * time.Second): // far below the 120 s latency
		t.Fatal("the handler kept waiting after the client left")
	}
}

// A reset fault drops the connection: the client sees a network error, no answer.
func TestFaultReset(t *testing.T) {
	t.Parallel()
	for _, vendor := range sandbox.Vendors {
		t.Run(vendor, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			require.NoError(t, e.sb.SetFault(vendor, sandbox.Fault{Reset: true}))
			// A fresh connection per request, or net/http would retry the idempotent GET
			// on a reused connection by itself.
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.base+"/"+vendor+okPath[vendor]+"&appid=k", nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer acme")
			req.Header.Set("X-API-Key", "acme")
			req.Header.Set("X-API-Secret", "acme-secret")
			resp, err := client.Do(req)
			if resp != nil {
				resp.Body.Close()
			}
			require.Error(t, err)
			require.False(t, errors.Is(err, context.DeadlineExceeded))
			require.Equal(t, sandbox.VendorStats{Requests: 1, Faulted: 1}, e.sb.Stats()[vendor])
		})
	}
}

// A malformed fault answers 200 with a body that is not JSON.
func TestFaultMalformed(t *testing.T) {
	t.Parallel()
	for _, vendor := range sandbox.Vendors {
		t.Run(vendor, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			require.NoError(t, e.sb.SetFault(vendor, sandbox.Fault{Malformed: true}))
			a := e.vendor(t, vendor, "acme", okPath[vendor])
			require.Equal(t, http.StatusOK, a.status)
			require.Contains(t, a.header.Get("Content-Type"), "application/json")
			require.NotEmpty(t, a.body)
			require.False(t, json.Valid(a.body), "body: %s", a.body)
		})
	}
}

// A count fault hits the next N requests, then clears itself.
func TestFaultCount(t *testing.T) {
	t.Parallel()
	e := setup(t)
	require.NoError(t, e.sb.SetFault(sandbox.FuelFinder, sandbox.Fault{Status: 500, Count: 2}))
	require.Equal(t, 2, e.sb.Faults()[sandbox.FuelFinder].Count)
	var statuses []int
	for range 4 {
		statuses = append(statuses, e.vendor(t, sandbox.FuelFinder, "acme", okPath[sandbox.FuelFinder]).status)
	}
	require.Equal(t, []int{500, 500, 200, 200}, statuses)
	require.NotContains(t, e.sb.Faults(), sandbox.FuelFinder, "the fault clears itself")
	require.Equal(t, sandbox.VendorStats{Requests: 4, Faulted: 2}, e.sb.Stats()[sandbox.FuelFinder])
}

// A rate fault hits that fraction of requests, spread evenly.
func TestFaultRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rate     float64
		requests int
		want     int
	}{
		{0.25, 40, 10},
		{0.5, 10, 5},
		{1, 7, 7},
		{0.1, 30, 3},
		{0, 10, 0}, // set to 0, unlike absent: none
	}
	for _, tt := range tests {
		t.Run(strconv.FormatFloat(tt.rate, 'f', -1, 64), func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			require.NoError(t, e.sb.SetFault(sandbox.OpenWeather, sandbox.Fault{Status: 429, Rate: &tt.rate}))
			faulted, run, longest := 0, 0, 0
			for range tt.requests {
				if e.vendor(t, sandbox.OpenWeather, "acme", okPath[sandbox.OpenWeather]).status == 429 {
					faulted++
					run++
					longest = max(longest, run)
				} else {
					run = 0
				}
			}
			require.Equal(t, tt.want, faulted)
			if tt.rate > 0 && tt.rate <= 0.5 {
				require.Equal(t, 1, longest, "faults should be spread out")
			}
			require.Equal(t, sandbox.VendorStats{Requests: int64(tt.requests), Faulted: int64(tt.want)}, e.sb.Stats()[sandbox.OpenWeather])
			require.Contains(t, e.sb.Faults(), sandbox.OpenWeather, "a rate fault stays until cleared")
		})
	}
}

// Faults apply before authentication (they are the network's), to one vendor only,
// and clearing them restores normal answers.
func TestFaultsArePerVendorAndClear(t *testing.T) {
	t.Parallel()
	e := setup(t)
	require.NoError(t, e.sb.SetFault(sandbox.Samsara, sandbox.Fault{Status: 503}))
	require.NoError(t, e.sb.SetFault(sandbox.Truckbase, sandbox.Fault{Status: 429}))
	require.Equal(t, 503, e.vendor(t, sandbox.Samsara, "invalid-key", okPath[sandbox.Samsara]).status)
	require.Equal(t, 429, e.vendor(t, sandbox.Truckbase, "acme", okPath[sandbox.Truckbase]).status)
	require.Equal(t, 200, e.vendor(t, sandbox.FuelFinder, "acme", okPath[sandbox.FuelFinder]).status)

	e.sb.ClearFaults(sandbox.Samsara)
	require.Equal(t, 200, e.vendor(t, sandbox.Samsara, "acme", okPath[sandbox.Samsara]).status)
	require.Equal(t, 429, e.vendor(t, sandbox.Truckbase, "acme", okPath[sandbox.Truckbase]).status)
	e.sb.ClearFaults("")
	require.Equal(t, 200, e.vendor(t, sandbox.Truckbase, "acme", okPath[sandbox.Truckbase]).status)
	require.Empty(t, e.sb.Faults())
}

// Faults set through the control API behave the same, and replace each other.
func TestFaultsThroughControlAPI(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.control(t, http.MethodPut, "/faults/samsara", `{"status":429,"retryAfterSeconds":0.5,"count":1}`)
	require.Equal(t, http.StatusOK, a.status, "body: %s", a.body)
	a = e.control(t, http.MethodGet, "/faults", "")
	require.Equal(t, map[string]any{"samsara": map[string]any{"status": 429.0, "retryAfterSeconds": 0.5, "count": 1.0}}, a.json(t))
	r := e.vendor(t, sandbox.Samsara, "acme", okPath[sandbox.Samsara])
	require.Equal(t, 429, r.status)
	require.Equal(t, "0.5", r.header.Get("Retry-After"))
	require.Equal(t, 200, e.vendor(t, sandbox.Samsara, "acme", okPath[sandbox.Samsara]).status)

	require.Equal(t, http.StatusOK, e.control(t, http.MethodPut, "/faults/truckbase", `{"status":500}`).status)
	require.Equal(t, http.StatusOK, e.control(t, http.MethodPut, "/faults/truckbase", `{"malformed":true}`).status)
	r = e.vendor(t, sandbox.Truckbase, "acme", okPath[sandbox.Truckbase])
	require.Equal(t, 200, r.status)
	require.False(t, json.Valid(r.body), "the second fault replaced the first")

	require.Equal(t, http.StatusNoContent, e.control(t, http.MethodDelete, "/faults/truckbase", "").status)
	require.Equal(t, 200, e.vendor(t, sandbox.Truckbase, "acme", okPath[sandbox.Truckbase]).status)
	require.Equal(t, http.StatusOK, e.control(t, http.MethodPut, "/faults/fuelfinder", `{"status":502}`).status)
	require.Equal(t, http.StatusNoContent, e.control(t, http.MethodDelete, "/faults", "").status)
	require.Equal(t, 200, e.vendor(t, sandbox.FuelFinder, "acme", okPath[sandbox.FuelFinder]).status)
}
