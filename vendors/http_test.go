package vendors_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/vendors"
	"github.com/sallyhq/sally/vendors/internal/vendortest"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 13, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header string
		want   time.Duration
		ok     bool
	}{
		{"Empty", "", 0, false},
		{"Blank", "   ", 0, false},
		{"WholeSeconds", "5", 5 * time.Second, true},
		{"FractionalSeconds", "0.40235", 402350 * time.Microsecond, true},
		{"Zero", "0", 0, true},
		{"PaddedFraction", " 1.5 ", 1500 * time.Millisecond, true},
		{"CappedSeconds", "3600", vendors.MaxRetryAfter, true},
		{"HugeSeconds", "1e300", vendors.MaxRetryAfter, true},
		{"Infinity", "+Inf", vendors.MaxRetryAfter, true},
		{"Negative", "-1", 0, false},
		{"NaN", "NaN", 0, false},
		{"Garbage", "soon", 0, false},
		{"HTTPDate", now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{"HTTPDateCapped", now.Add(2 * time.Hour).Format(http.TimeFormat), vendors.MaxRetryAfter, true},
		{"HTTPDateInThePast", now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"RFC850Date", now.Add(10 * time.Second).Format("Monday, 02-Jan-06 15:04:05 GMT"), 10 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := vendors.ParseRetryAfter(tt.header, now)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestKindForStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		want   vendors.Kind
	}{
		{400, vendors.KindBadRequest},
		{401, vendors.KindUnauthorized},
		{403, vendors.KindForbidden},
		{404, vendors.KindNotFound},
		{405, vendors.KindBadRequest},
		{408, vendors.KindTimeout},
		{409, vendors.KindBadRequest},
		{422, vendors.KindBadRequest},
		{429, vendors.KindRateLimited},
		{500, vendors.KindUnavailable},
		{502, vendors.KindUnavailable},
		{503, vendors.KindUnavailable},
		{504, vendors.KindUnavailable},
		{304, vendors.KindBadResponse},
		{199, vendors.KindBadResponse},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, vendors.KindForStatus(tt.status))
		})
	}
}

func TestErrorBodyMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, want string
	}{
		{"Samsara", `{"message":"Invalid token","requestId":"abc"}`, "Invalid token"},
		{"OpenWeatherNumberCod", `{"cod":401,"message":"Invalid API key."}`, "Invalid API key."},
		{"OpenWeatherStringCod", `{"cod":"400","message":"wrong latitude"}`, "wrong latitude"},
		{"NestedError", `{"error":{"code":"not_found","message":"load not found"}}`, "load not found"},
		{"NestedErrorCodeOnly", `{"error":{"code":"internal"}}`, "internal"},
		{"StringError", `{"error":"boom"}`, "boom"},
		{"PlainText", "upstream connect error\n", "upstream connect error"},
		{"HTML", "<html><body>Bad Gateway</body></html>", ""},
		{"Empty", "", ""},
		{"BrokenJSON", `{"message":`, ""},
		{"WrongTypes", `{"message":{"x":1},"error":[1]}`, ""},
		{"UnknownArray", `[1,2]`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, vendors.ErrorBodyMessage([]byte(tt.body)))
		})
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	require.Equal(t, "https://api.openweathermap.org/data/2.5/weather",
		vendors.RedactURL("https://user:pw@api.openweathermap.org/data/2.5/weather?lat=1&appid=SECRET#x"))
	require.Equal(t, "%zz", vendors.RedactURL("%zz?appid=SECRET"))
}

// requester returns a Requester for srv with a recognisable secret.
func requester(srv string, timeout time.Duration) (*vendors.Requester, string) {
	return &vendors.Requester{
		Vendor:  "acme",
		Timeout: timeout,
		Header:  http.Header{"X-Api-Key": {"s3cr3t-key"}},
		Secrets: []string{"s3cr3t-key"},
	}, srv + "/things?appid=s3cr3t-key"
}

func TestRequesterGet(t *testing.T) {
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
		{"BadRequest", vendortest.Answer{Status: 400, Body: []byte(`{"message":"limit must be 1..512"}`)},
			vendors.KindBadRequest, 400, 0, "limit must be 1..512"},
		{"Unauthorized", vendortest.Answer{Status: 401, Body: []byte(`{"message":"bad key s3cr3t-key"}`)},
			vendors.KindUnauthorized, 401, 0, "bad key [REDACTED]"},
		{"Forbidden", vendortest.Answer{Status: 403, Body: []byte(`{"error":{"code":"forbidden","message":"missing scope"}}`)},
			vendors.KindForbidden, 403, 0, "missing scope"},
		{"NotFound", vendortest.Answer{Status: 404, Body: []byte(`404 page not found`)},
			vendors.KindNotFound, 404, 0, "404 page not found"},
		{"RateLimitedFractional", vendortest.Answer{Status: 429, Header: map[string]string{"Retry-After": "0.40235"}},
			vendors.KindRateLimited, 429, 402350 * time.Microsecond, ""},
		{"RateLimitedCapped", vendortest.Answer{Status: 429, Header: map[string]string{"Retry-After": "600"}},
			vendors.KindRateLimited, 429, vendors.MaxRetryAfter, ""},
		{"Unavailable", vendortest.Answer{Status: 503, Header: map[string]string{"Retry-After": "2"}, Body: []byte("service unavailable")},
			vendors.KindUnavailable, 503, 2 * time.Second, "service unavailable"},
		{"InternalHTML", vendortest.Answer{Status: 500, Body: []byte("<html>oops</html>")},
			vendors.KindUnavailable, 500, 0, ""},
		{"RequestTimeout", vendortest.Answer{Status: 408},
			vendors.KindTimeout, 408, 0, ""},
		{"Reset", vendortest.Reset, vendors.KindNetwork, 0, 0, ""},
		{"TruncatedTransfer", vendortest.Truncated, vendors.KindNetwork, 0, 0, "truncated response: connection closed early"},
		{"Oversized", vendortest.Oversized, vendors.KindBadResponse, 200, 0, "response body larger than 10485760 bytes"},
		{"OversizedDeclared", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "20000000")
			w.WriteHeader(http.StatusOK)
		}), vendors.KindBadResponse, 200, 0, "response body larger than 10485760 bytes"},
		{"Garbage", vendortest.Answer{Body: []byte("<html>")}, vendors.KindBadResponse, 0, 0, ""},
		{"Timeout", hang, vendors.KindTimeout, 0, 0, "no answer within the per-request timeout"},
		{"CrossHostRedirect", http.RedirectHandler("http://example.invalid/x?appid=s3cr3t-key", http.StatusFound),
			vendors.KindBadResponse, 302, 0, "unexpected redirect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := vendortest.Server(t, tt.handler)
			r, u := requester(srv.URL, 50*time.Millisecond)
			if tt.name != "Timeout" {
				r.Timeout = 0 // the default: no test here may depend on speed
			}
			err := r.Get(t.Context(), u, func(body []byte) error {
				var v struct{ Data []int }
				return json.Unmarshal(body, &v)
			})
			e := vendortest.RequireKind(t, err, tt.kind)
			require.Equal(t, "acme", e.Vendor)
			require.Equal(t, tt.status, e.Status)
			require.Equal(t, tt.retryAfter, e.RetryAfter)
			if tt.message != "" {
				require.Equal(t, tt.message, e.Message)
			}
			requireNoSecret(t, err)
		})
	}
}

func TestRequesterGetOK(t *testing.T) {
	t.Parallel()
	rec := &vendortest.Recorder{Next: vendortest.Answer{Body: []byte(`{"data":[1,2,3]}`)}}
	srv := vendortest.Server(t, rec)
	r, u := requester(srv.URL, 0)
	var got []int
	err := r.Get(t.Context(), u, func(body []byte) error {
		var v struct{ Data []int }
		err := json.Unmarshal(body, &v)
		got = v.Data
		return err
	})
	require.NoError(t, err)
	require.Equal(t, []int{1, 2, 3}, got)
	reqs := rec.Requests()
	require.Len(t, reqs, 1)
	require.Equal(t, "s3cr3t-key", reqs[0].Header.Get("X-Api-Key"))
	require.Equal(t, "application/json", reqs[0].Header.Get("Accept"))
}

func TestRequesterGetCanceled(t *testing.T) {
	t.Parallel()
	t.Run("InFlight", func(t *testing.T) {
		t.Parallel()
		hang, arrived := vendortest.Hang()
		srv := vendortest.Server(t, hang)
		r, u := requester(srv.URL, time.Hour)
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			<-arrived
			cancel()
		}()
		err := r.Get(ctx, u, func([]byte) error { return nil })
		vendortest.RequireKind(t, err, vendors.KindCanceled)
		require.ErrorIs(t, err, vendors.ErrCanceled)
		require.ErrorIs(t, err, context.Canceled)
		requireNoSecret(t, err)
	})
	t.Run("Before", func(t *testing.T) {
		t.Parallel()
		srv := vendortest.Server(t, vendortest.Answer{Body: []byte(`{}`)})
		r, u := requester(srv.URL, 0)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := r.Get(ctx, u, func([]byte) error { return nil })
		vendortest.RequireKind(t, err, vendors.KindCanceled)
	})
	t.Run("CallerDeadline", func(t *testing.T) {
		t.Parallel()
		hang, _ := vendortest.Hang()
		srv := vendortest.Server(t, hang)
		r, u := requester(srv.URL, time.Hour)
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		defer cancel()
		err := r.Get(ctx, u, func([]byte) error { return nil })
		vendortest.RequireKind(t, err, vendors.KindTimeout)
	})
}

func TestRequesterGetNetwork(t *testing.T) {
	t.Parallel()
	srv := vendortest.Server(t, vendortest.Answer{})
	url := srv.URL
	srv.Close() // nothing listens there any more: connection refused
	r, u := requester(url, 0)
	err := r.Get(t.Context(), u, func([]byte) error { return nil })
	e := vendortest.RequireKind(t, err, vendors.KindNetwork)
	require.Zero(t, e.Status)
	requireNoSecret(t, err)
	// The cause is kept for errors.As, with the URL redacted.
	require.NotContains(t, e.Err.Error(), "s3cr3t-key")
	require.NotContains(t, e.Err.Error(), "appid")
}

func TestRequesterDoHook(t *testing.T) {
	t.Parallel()
	t.Run("RetriesThroughTheHook", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int32
		srv := vendortest.Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			_, _ = w.Write([]byte(`{}`))
		}))
		r, u := requester(srv.URL, 0)
		hooked := 0
		r.Do = func(ctx context.Context, call func(context.Context) error) error {
			hooked++
			err := call(ctx)
			if errors.Is(err, vendors.ErrUnavailable) {
				err = call(ctx)
			}
			return err
		}
		require.NoError(t, r.Get(t.Context(), u, func([]byte) error { return nil }))
		require.Equal(t, 1, hooked)
		require.Equal(t, int32(2), calls.Load())
	})
	t.Run("HookErrorKeepsItsCause", func(t *testing.T) {
		t.Parallel()
		errOpen := errors.New("circuit open")
		r, u := requester("http://127.0.0.1:1", 0)
		r.Do = func(context.Context, func(context.Context) error) error { return errOpen }
		err := r.Get(t.Context(), u, func([]byte) error { return nil })
		vendortest.RequireKind(t, err, vendors.KindUnavailable)
		require.ErrorIs(t, err, errOpen)
	})
	t.Run("DecodeErrorIsBadResponse", func(t *testing.T) {
		t.Parallel()
		srv := vendortest.Server(t, vendortest.Answer{Body: []byte(`{}`)})
		r, u := requester(srv.URL, 0)
		var seen error
		r.Do = func(ctx context.Context, call func(context.Context) error) error {
			seen = call(ctx)
			return seen
		}
		err := r.Get(t.Context(), u, func([]byte) error { return errors.New("no s3cr3t-key here") })
		e := vendortest.RequireKind(t, err, vendors.KindBadResponse)
		require.Equal(t, "no [REDACTED] here", e.Message)
		vendortest.RequireKind(t, seen, vendors.KindBadResponse)
	})
}

func TestNewHTTPClient(t *testing.T) {
	t.Parallel()
	c := vendors.NewHTTPClient()
	require.Zero(t, c.Timeout)
	tr, ok := c.Transport.(*http.Transport)
	require.True(t, ok)
	require.Equal(t, 100, tr.MaxIdleConnsPerHost)
	require.NotZero(t, tr.IdleConnTimeout)
	require.NotZero(t, tr.TLSHandshakeTimeout)
	require.Same(t, vendors.SharedHTTPClient(), vendors.SharedHTTPClient())

	// Same-host redirects are followed.
	mux := http.NewServeMux()
	mux.Handle("/old", http.RedirectHandler("/new", http.StatusMovedPermanently))
	mux.Handle("/new", vendortest.Answer{Body: []byte(`{"ok":true}`)})
	srv := vendortest.Server(t, mux)
	r := &vendors.Requester{Vendor: "acme", Client: c}
	require.NoError(t, r.Get(t.Context(), srv.URL+"/old", func([]byte) error { return nil }))
}

func requireNoSecret(t *testing.T, err error) {
	t.Helper()
	require.NotContains(t, err.Error(), "s3cr3t-key")
	require.NotContains(t, err.Error(), "appid")
	if e, ok := vendors.AsError(err); ok && e.Err != nil {
		require.NotContains(t, e.Err.Error(), "s3cr3t-key")
	}
}

func TestErrorMessageIsSafe(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 1000)
	srv := vendortest.Server(t, vendortest.Answer{Status: 500, Body: []byte(long + "\n\x00\t s3cr3t-key")})
	r, u := requester(srv.URL, 0)
	err := r.Get(t.Context(), u, func([]byte) error { return nil })
	e := vendortest.RequireKind(t, err, vendors.KindUnavailable)
	require.LessOrEqual(t, len(e.Message), 304)
	requireNoSecret(t, err)
}

func TestRequesterGetInvalidURL(t *testing.T) {
	t.Parallel()
	r := &vendors.Requester{Vendor: "acme", Secrets: []string{"s3cr3t-key"}}
	err := r.Get(t.Context(), "://bad?appid=s3cr3t-key", func([]byte) error { return nil })
	vendortest.RequireKind(t, err, vendors.KindBadRequest)
	requireNoSecret(t, err)
}
