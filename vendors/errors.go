// Package vendors holds what the four vendor adapters share: the typed Error every
// adapter returns, the data types they map vendor JSON into, and a tuned http.Client.
// It imports nothing of ours; the resilience layer classifies its errors.
package vendors

import (
	"errors"
	"fmt"
	"time"
)

// Kind says what went wrong with a vendor call, in the words the resilience layer
// and dispatchers use. The resilience layer retries and trips breakers by Kind.
type Kind string

// The kinds of vendor failure.
const (
	KindUnauthorized Kind = "unauthorized" // 401: the vendor rejected the key
	KindForbidden    Kind = "forbidden"    // 403: the key lacks a scope
	KindNotFound     Kind = "not_found"    // 404
	KindBadRequest   Kind = "bad_request"  // 400 and other 4xx that retrying cannot fix
	KindRateLimited  Kind = "rate_limited" // 429 (RetryAfter set when the vendor said)
	KindUnavailable  Kind = "unavailable"  // 5xx
	KindNetwork      Kind = "network"      // refused, reset, DNS, truncated transfer
	KindTimeout      Kind = "timeout"      // the per-request timeout passed
	KindBadResponse  Kind = "bad_response" // 2xx with a body we cannot use
	KindCanceled     Kind = "canceled"     // the caller's context was canceled
)

// Sentinels for errors.Is: errors.Is(err, vendors.ErrRateLimited) is true for any
// *Error of that Kind.
var (
	ErrUnauthorized = &Error{Kind: KindUnauthorized}
	ErrForbidden    = &Error{Kind: KindForbidden}
	ErrNotFound     = &Error{Kind: KindNotFound}
	ErrBadRequest   = &Error{Kind: KindBadRequest}
	ErrRateLimited  = &Error{Kind: KindRateLimited}
	ErrUnavailable  = &Error{Kind: KindUnavailable}
	ErrNetwork      = &Error{Kind: KindNetwork}
	ErrTimeout      = &Error{Kind: KindTimeout}
	ErrBadResponse  = &Error{Kind: KindBadResponse}
	ErrCanceled     = &Error{Kind: KindCanceled}
)

// Error is the one error type every adapter returns. Its message is safe to show a
// dispatcher: it never contains credentials.
type Error struct {
	Kind       Kind
	Vendor     string        // "samsara", "truckbase", "fuelfinder", "openweather"
	Status     int           // HTTP status, 0 when no answer arrived
	RetryAfter time.Duration // from Retry-After; 0 when absent
	Message    string        // the vendor's message or our description, no secrets
	Err        error         // the cause, if any
}

func (e *Error) Error() string {
	var s string
	switch e.Kind {
	case KindUnauthorized:
		s = "unauthorized: the vendor rejected the API key"
	case KindForbidden:
		s = "forbidden: the API key lacks the permission for this request"
	case KindNotFound:
		s = "not found"
	case KindBadRequest:
		s = "bad request"
	case KindRateLimited:
		s = "rate limited by the vendor"
		if e.RetryAfter > 0 {
			s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
		}
	case KindUnavailable:
		s = "vendor unavailable"
	case KindNetwork:
		s = "network error reaching the vendor"
	case KindTimeout:
		s = "timeout: the vendor did not answer in time"
	case KindBadResponse:
		s = "bad response: the vendor's answer could not be read"
	case KindCanceled:
		s = "canceled"
	default:
		s = "vendor error"
	}
	if e.Vendor != "" {
		s = e.Vendor + ": " + s
	}
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches any *Error of the same Kind, so the sentinels above work with errors.Is.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && (t.Status == 0 || t.Status == e.Status)
}

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// KindOf returns the Kind of the *Error in err's chain, or "" when there is none.
func KindOf(err error) Kind {
	if e, ok := AsError(err); ok {
		return e.Kind
	}
	return ""
}
