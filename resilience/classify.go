package resilience

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/failsafe-go/failsafe-go/bulkhead"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/failsafe-go/failsafe-go/timeout"

	"github.com/sallyhq/sally/vendors"
)

// Class says what a failed vendor call means for the policies and for the people
// who read about it. Every error is classified once, by Classify; retrying,
// breaker counting and messages all follow from the Class.
type Class string

// The classes of failure.
const (
	// ClassAuth is an auth or configuration problem that needs a person: 401, 403,
	// 404, 400 and other 4xx that retrying cannot fix.
	ClassAuth Class = "auth"
	// ClassRateLimited is a 429.
	ClassRateLimited Class = "rate_limited"
	// ClassUnavailable is a 5xx.
	ClassUnavailable Class = "unavailable"
	// ClassNetwork is a failure to get an answer: refused, reset, DNS, truncated.
	ClassNetwork Class = "network"
	// ClassTimeout is an attempt that ran out of time.
	ClassTimeout Class = "timeout"
	// ClassBadResponse is a 2xx with a body we cannot use.
	ClassBadResponse Class = "bad_response"
	// ClassCircuitOpen is a call refused by an open breaker; the vendor was not called.
	ClassCircuitOpen Class = "circuit_open"
	// ClassCanceled is a call whose caller's context was canceled.
	ClassCanceled Class = "canceled"
	// ClassBusy is a call that found the vendor's bulkhead full for its whole wait;
	// the vendor was not called.
	ClassBusy Class = "busy"
	// ClassUnknown is an error none of the above recognise. It is neither retried
	// nor counted by the breaker: retrying what we do not understand could hammer
	// a vendor over our own bug.
	ClassUnknown Class = "unknown"
)

// VendorHealth reports whether failures of this class say the vendor is unwell, so
// they count toward opening the breaker (runtime.md: network, timeout, 429, 5xx —
// never auth/config, never a bad body).
func (c Class) VendorHealth() bool {
	switch c {
	case ClassNetwork, ClassTimeout, ClassRateLimited, ClassUnavailable:
		return true
	}
	return false
}

// Retryable reports whether another try may succeed where this one failed. It is
// the same set as VendorHealth today, kept apart because the two questions differ.
func (c Class) Retryable() bool {
	switch c {
	case ClassNetwork, ClassTimeout, ClassRateLimited, ClassUnavailable:
		return true
	}
	return false
}

// Error is an error this package produces itself: a call refused by an open breaker
// or a full bulkhead, or a try that ran out of time. It carries the vendor's name so
// Describe can say which vendor, and unwraps to failsafe's own sentinel
// (circuitbreaker.ErrOpen, bulkhead.ErrFull, timeout.ErrExceeded).
type Error struct {
	Class   Class
	Vendor  string
	RetryAt time.Time     // ClassCircuitOpen: when a probe will be let through; zero while one is under way
	Limit   time.Duration // ClassTimeout: the attempt timeout; ClassBusy: the wait for a slot
	Err     error
}

// Error returns the same dispatcher-safe sentence as Describe.
func (e *Error) Error() string { return Describe(e) }

// Unwrap returns failsafe's sentinel, so errors.Is(err, circuitbreaker.ErrOpen) works.
func (e *Error) Unwrap() error { return e.Err }

// Classify returns the Class of err, or "" for nil. It understands vendors.Error
// (by Kind, else by Status), this package's Error, failsafe's ErrOpen, ErrFull and
// timeout ErrExceeded, context errors, net and url errors, and JSON decoding errors.
func Classify(err error) Class {
	if err == nil {
		return ""
	}
	var re *Error
	if errors.As(err, &re) && re.Class != "" {
		return re.Class
	}
	switch {
	case errors.Is(err, circuitbreaker.ErrOpen):
		return ClassCircuitOpen
	case errors.Is(err, bulkhead.ErrFull):
		return ClassBusy
	case errors.Is(err, timeout.ErrExceeded):
		return ClassTimeout
	}
	if ve, ok := vendors.AsError(err); ok {
		if c := classOfVendorError(ve); c != "" {
			return c
		}
	}
	return classOfPlain(err)
}

func classOfVendorError(e *vendors.Error) Class {
	switch e.Kind {
	case vendors.KindUnauthorized, vendors.KindForbidden, vendors.KindNotFound, vendors.KindBadRequest:
		return ClassAuth
	case vendors.KindRateLimited:
		return ClassRateLimited
	case vendors.KindUnavailable:
		return ClassUnavailable
	case vendors.KindNetwork:
		return ClassNetwork
	case vendors.KindTimeout:
		return ClassTimeout
	case vendors.KindBadResponse:
		return ClassBadResponse
	case vendors.KindCanceled:
		return ClassCanceled
	}
	switch s := e.Status; {
	case s == 408:
		return ClassTimeout
	case s == 429:
		return ClassRateLimited
	case s >= 500:
		return ClassUnavailable
	case s >= 400:
		return ClassAuth
	case s >= 200 && s < 300:
		return ClassBadResponse
	}
	if e.Err != nil {
		return classOfPlain(e.Err)
	}
	return ""
}

func classOfPlain(err error) Class {
	if errors.Is(err, context.Canceled) {
		return ClassCanceled
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return ClassTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ClassTimeout
	}
	var (
		dnsErr *net.DNSError
		opErr  *net.OpError
		urlErr *url.Error
	)
	if errors.As(err, &dnsErr) || errors.As(err, &opErr) || errors.As(err, &urlErr) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return ClassNetwork
	}
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	if errors.As(err, &syntaxErr) || errors.As(err, &typeErr) {
		return ClassBadResponse
	}
	return ClassUnknown
}

// Describe returns a sentence a dispatcher understands, starting with what
// happened ("unauthorized: the vendor rejected the API key", "circuit open: calls to
// samsara are paused after repeated failures; next try after 12:34:56Z"). It never
// contains a secret: it uses only the vendor's name, the HTTP status, Retry-After and
// vendors.Error.Message, never the raw text of other errors (a url.Error carries the
// request URL, and OpenWeather's key travels in it). It returns "" for nil.
func Describe(err error) string {
	if err == nil {
		return ""
	}
	var (
		re  *Error
		ve  *vendors.Error
		who = "the vendor"
	)
	if errors.As(err, &re) && re.Vendor != "" {
		who = re.Vendor
	}
	if e, ok := vendors.AsError(err); ok {
		ve = e
		if who == "the vendor" && e.Vendor != "" {
			who = e.Vendor
		}
	}
	switch Classify(err) {
	case ClassAuth:
		return describeAuth(ve, who)
	case ClassRateLimited:
		s := "rate limited: " + who + " is refusing calls for making too many"
		if ve != nil && ve.RetryAfter > 0 {
			s += fmt.Sprintf("; it asked to wait %s", ve.RetryAfter.Round(time.Millisecond))
		}
		return s
	case ClassUnavailable:
		return "vendor unavailable: " + who + " answered with a server error" + status(ve) + message(ve)
	case ClassNetwork:
		if d := networkDetail(err); d != "" {
			return "network error: could not reach " + who + d
		}
		return "network error: could not reach " + who + message(ve)
	case ClassTimeout:
		s := "timeout: " + who + " did not answer in time"
		if re != nil && re.Limit > 0 {
			s += fmt.Sprintf(" (no answer within %s)", re.Limit)
		}
		return s
	case ClassBadResponse:
		return "bad response: the answer from " + who + " could not be read" + status(ve) + message(ve)
	case ClassCircuitOpen:
		s := "circuit open: calls to " + who + " are paused after repeated failures"
		switch {
		case re != nil && !re.RetryAt.IsZero():
			s += "; next try after " + re.RetryAt.UTC().Format("15:04:05Z07:00")
		case re != nil:
			s += "; a trial call is under way"
		}
		return s
	case ClassCanceled:
		return "canceled: the call to " + who + " was stopped before it finished"
	case ClassBusy:
		return "busy: too many calls to " + who + " are already in flight; try again shortly"
	}
	return "error: the call to " + who + " failed unexpectedly"
}

func describeAuth(ve *vendors.Error, who string) string {
	kind, st := vendors.Kind(""), 0
	if ve != nil {
		kind, st = ve.Kind, ve.Status
	}
	switch {
	case kind == vendors.KindUnauthorized || (kind == "" && st == 401):
		// Exactly the contract's example (ConnectionTestResult.message).
		return "unauthorized: the vendor rejected the API key"
	case kind == vendors.KindForbidden || (kind == "" && st == 403):
		return "forbidden: the API key lacks a permission this call to " + who + " needs" + message(ve)
	case kind == vendors.KindNotFound || (kind == "" && st == 404):
		return "not found: " + who + " does not know what was asked for; check the integration's settings" + message(ve)
	}
	return "bad request: " + who + " refused the request; check the integration's settings" + status(ve) + message(ve)
}

func status(ve *vendors.Error) string {
	if ve == nil || ve.Status == 0 {
		return ""
	}
	return fmt.Sprintf(" (HTTP %d)", ve.Status)
}

// message returns the vendor's message, trimmed to one short line.
func message(ve *vendors.Error) string {
	if ve == nil {
		return ""
	}
	m := strings.Join(strings.FieldsFunc(ve.Message, unicode.IsSpace), " ")
	if m == "" {
		return ""
	}
	if r := []rune(m); len(r) > 200 {
		m = string(r[:200]) + "…"
	}
	return ": " + m
}

// networkDetail names the network failure in plain words, without the error's text.
func networkDetail(err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		return " (its host name could not be resolved)"
	case errors.Is(err, syscall.ECONNREFUSED):
		return " (connection refused)"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE):
		return " (connection reset)"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return " (connection closed before the answer was complete)"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return " (no route to its servers)"
	}
	return ""
}
