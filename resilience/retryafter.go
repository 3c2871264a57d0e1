package resilience

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ParseRetryAfter reads a Retry-After header value: delay-seconds, fractional ones
// included (Samsara sends "0.40235", which failsafehttp would read as nothing), or
// an HTTP-date relative to now. The result is capped at DefaultMaxRetryAfter; a
// date in the past means "now" (0, true). ok is false for an empty, negative or
// unreadable value, so the caller falls back to its own backoff.
func ParseRetryAfter(h string, now time.Time) (d time.Duration, ok bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if isDecimal(h) {
		secs, err := strconv.ParseFloat(h, 64)
		if err != nil || math.IsNaN(secs) || math.IsInf(secs, 0) {
			return 0, false
		}
		if secs >= DefaultMaxRetryAfter.Seconds() {
			return DefaultMaxRetryAfter, true
		}
		return time.Duration(math.Round(secs * float64(time.Second))), true
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), DefaultMaxRetryAfter), true
}

// isDecimal reports whether s is digits with at most one decimal point and at least
// one digit: no sign, exponent, hex or "Inf", which ParseFloat would accept.
func isDecimal(s string) bool {
	digits, dots := 0, 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}
