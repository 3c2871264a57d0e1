package resilience_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go/bulkhead"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
	"github.com/failsafe-go/failsafe-go/timeout"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/resilience"
	"github.com/sallyhq/sally/vendors"
)

func TestClassify(t *testing.T) {
	t.Parallel()

	var syntaxErr *json.SyntaxError
	require.ErrorAs(t, json.Unmarshal([]byte("{"), &struct{}{}), &syntaxErr)

	tests := []struct {
		name string
		err  error
		want resilience.Class
	}{
		{"Nil", nil, ""},
		{"Unauthorized", &vendors.Error{Kind: vendors.KindUnauthorized, Status: 401}, resilience.ClassAuth},
		{"Forbidden", &vendors.Error{Kind: vendors.KindForbidden, Status: 403}, resilience.ClassAuth},
		{"NotFound", &vendors.Error{Kind: vendors.KindNotFound, Status: 404}, resilience.ClassAuth},
		{"BadRequest", &vendors.Error{Kind: vendors.KindBadRequest, Status: 400}, resilience.ClassAuth},
		{"RateLimited", &vendors.Error{Kind: vendors.KindRateLimited, Status: 429}, resilience.ClassRateLimited},
		{"Unavailable", &vendors.Error{Kind: vendors.KindUnavailable, Status: 503}, resilience.ClassUnavailable},
		{"VendorNetwork", &vendors.Error{Kind: vendors.KindNetwork}, resilience.ClassNetwork},
		{"VendorTimeout", &vendors.Error{Kind: vendors.KindTimeout}, resilience.ClassTimeout},
		{"BadResponse", &vendors.Error{Kind: vendors.KindBadResponse, Status: 200}, resilience.ClassBadResponse},
		{"VendorCanceled", &vendors.Error{Kind: vendors.KindCanceled}, resilience.ClassCanceled},
		{"Wrapped", fmt.Errorf("list drivers: %w", &vendors.Error{Kind: vendors.KindRateLimited}), resilience.ClassRateLimited},
		{"StatusOnly401", &vendors.Error{Status: 401}, resilience.ClassAuth},
		{"StatusOnly408", &vendors.Error{Status: 408}, resilience.ClassTimeout},
		{"StatusOnly429", &vendors.Error{Status: 429}, resilience.ClassRateLimited},
		{"StatusOnly502", &vendors.Error{Status: 502}, resilience.ClassUnavailable},
		{"CauseOnly", &vendors.Error{Err: syscall.ECONNREFUSED}, resilience.ClassNetwork},
		{"CircuitOpen", circuitbreaker.ErrOpen, resilience.ClassCircuitOpen},
		{"CircuitOpenWrapped", fmt.Errorf("sync: %w", circuitbreaker.ErrOpen), resilience.ClassCircuitOpen},
		{"BulkheadFull", bulkhead.ErrFull, resilience.ClassBusy},
		{"TimeoutExceeded", timeout.ErrExceeded, resilience.ClassTimeout},
		{"RetriesExceeded", retrypolicy.ExceededError{LastError: &vendors.Error{Kind: vendors.KindUnavailable}}, resilience.ClassUnavailable},
		{"OwnError", &resilience.Error{Class: resilience.ClassCircuitOpen, Err: circuitbreaker.ErrOpen}, resilience.ClassCircuitOpen},
		{"ContextCanceled", context.Canceled, resilience.ClassCanceled},
		{"ContextDeadline", context.DeadlineExceeded, resilience.ClassTimeout},
		{"URLTimeout", &url.Error{Op: "Get", URL: "https://x", Err: context.DeadlineExceeded}, resilience.ClassTimeout},
		{"URLCanceled", &url.Error{Op: "Get", URL: "https://x", Err: context.Canceled}, resilience.ClassCanceled},
		{"ConnectionRefused", &url.Error{Op: "Get", URL: "https://x", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, resilience.ClassNetwork},
		{"ConnectionReset", syscall.ECONNRESET, resilience.ClassNetwork},
		{"DNS", &net.DNSError{Err: "no such host", Name: "api.samsara.com", IsNotFound: true}, resilience.ClassNetwork},
		{"UnexpectedEOF", io.ErrUnexpectedEOF, resilience.ClassNetwork},
		{"JSONSyntax", syntaxErr, resilience.ClassBadResponse},
		{"JSONType", &json.UnmarshalTypeError{Value: "string"}, resilience.ClassBadResponse},
		{"Unknown", errors.New("something else"), resilience.ClassUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, resilience.Classify(tt.err))
		})
	}
}

func TestClassPredicates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		class     resilience.Class
		health    bool
		retryable bool
	}{
		{resilience.ClassAuth, false, false},
		{resilience.ClassRateLimited, true, true},
		{resilience.ClassUnavailable, true, true},
		{resilience.ClassNetwork, true, true},
		{resilience.ClassTimeout, true, true},
		{resilience.ClassBadResponse, false, false},
		{resilience.ClassCircuitOpen, false, false},
		{resilience.ClassCanceled, false, false},
		{resilience.ClassBusy, false, false},
		{resilience.ClassUnknown, false, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.class), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.health, tt.class.VendorHealth())
			require.Equal(t, tt.retryable, tt.class.Retryable())
		})
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	retryAt := time.Date(2025, 3, 1, 12, 34, 56, 0, time.UTC)
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"Nil", nil, ""},
		{"Unauthorized", &vendors.Error{Kind: vendors.KindUnauthorized, Vendor: "samsara", Status: 401, Message: "Invalid token"},
			"unauthorized: the vendor rejected the API key"},
		{"Forbidden", &vendors.Error{Kind: vendors.KindForbidden, Vendor: "samsara", Status: 403, Message: "missing scope Read Drivers"},
			"forbidden: the API key lacks a permission this call to samsara needs: missing scope Read Drivers"},
		{"NotFound", &vendors.Error{Kind: vendors.KindNotFound, Vendor: "truckbase", Status: 404},
			"not found: truckbase does not know what was asked for; check the integration's settings"},
		{"BadRequest", &vendors.Error{Kind: vendors.KindBadRequest, Vendor: "fuelfinder", Status: 422},
			"bad request: fuelfinder refused the request; check the integration's settings (HTTP 422)"},
		{"RateLimited", &vendors.Error{Kind: vendors.KindRateLimited, Vendor: "samsara", Status: 429, RetryAfter: 402350 * time.Microsecond},
			"rate limited: samsara is refusing calls for making too many; it asked to wait 402ms"},
		{"RateLimitedWithoutRetryAfter", &vendors.Error{Kind: vendors.KindRateLimited, Vendor: "openweather", Status: 429},
			"rate limited: openweather is refusing calls for making too many"},
		{"Unavailable", &vendors.Error{Kind: vendors.KindUnavailable, Vendor: "samsara", Status: 503, Message: "upstream\n  maintenance"},
			"vendor unavailable: samsara answered with a server error (HTTP 503): upstream maintenance"},
		{"NetworkReset", &vendors.Error{Kind: vendors.KindNetwork, Vendor: "samsara", Err: syscall.ECONNRESET},
			"network error: could not reach samsara (connection reset)"},
		{"NetworkNoVendor", &url.Error{Op: "Get", URL: "https://api.openweathermap.org/data/2.5/weather?appid=SECRET", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}},
			"network error: could not reach the vendor (connection refused)"},
		{"DNS", &net.DNSError{Err: "no such host", Name: "api.samsara.com", IsNotFound: true},
			"network error: could not reach the vendor (its host name could not be resolved)"},
		{"VendorTimeout", &vendors.Error{Kind: vendors.KindTimeout, Vendor: "samsara"},
			"timeout: samsara did not answer in time"},
		{"AttemptTimeout", &resilience.Error{Class: resilience.ClassTimeout, Vendor: "samsara", Limit: 15 * time.Second, Err: timeout.ErrExceeded},
			"timeout: samsara did not answer in time (no answer within 15s)"},
		{"BadResponse", &vendors.Error{Kind: vendors.KindBadResponse, Vendor: "truckbase", Status: 200},
			"bad response: the answer from truckbase could not be read (HTTP 200)"},
		{"CircuitOpen", &resilience.Error{Class: resilience.ClassCircuitOpen, Vendor: "samsara", RetryAt: retryAt, Err: circuitbreaker.ErrOpen},
			"circuit open: calls to samsara are paused after repeated failures; next try after 12:34:56Z"},
		{"CircuitOpenProbing", &resilience.Error{Class: resilience.ClassCircuitOpen, Vendor: "samsara", Err: circuitbreaker.ErrOpen},
			"circuit open: calls to samsara are paused after repeated failures; a trial call is under way"},
		{"CircuitOpenBare", circuitbreaker.ErrOpen,
			"circuit open: calls to the vendor are paused after repeated failures"},
		{"Canceled", context.Canceled, "canceled: the call to the vendor was stopped before it finished"},
		{"Busy", &resilience.Error{Class: resilience.ClassBusy, Vendor: "samsara", Err: bulkhead.ErrFull},
			"busy: too many calls to samsara are already in flight; try again shortly"},
		{"Unknown", errors.New("token=SECRET exploded"), "error: the call to the vendor failed unexpectedly"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := resilience.Describe(tt.err)
			require.Equal(t, tt.want, got)
			require.NotContains(t, got, "SECRET")
		})
	}
}
