package sandbox

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Fault is an injected failure for one vendor (PUT /_control/faults/{vendor}). At most
// one of Status, Reset and Malformed may be set; LatencyMs combines with any of them
// or stands alone (a slow but correct answer).
type Fault struct {
	// Status answers with this HTTP status (400..599) and the vendor's error body.
	Status int `json:"status,omitempty"`
	// RetryAfterSeconds adds a Retry-After header; only with Status 429 or 503. A 429
	// without it carries the vendor's usual Retry-After: 1 s for Samsara, Truckbase
	// and Fuel Finder, none for OpenWeather (as vendors.md says of each).
	// Samsara's keeps fractions ("0.40235"); the others round up to whole seconds.
	RetryAfterSeconds float64 `json:"retryAfterSeconds,omitempty"`
	// LatencyMs waits this long before answering (or until the client gives up).
	// Alone, it delays a correct answer; such requests still count as faulted.
	LatencyMs int `json:"latencyMs,omitempty"`
	// Reset closes the connection without answering. It hijacks the connection;
	// where that is impossible (HTTP/2, a wrapping ResponseWriter without Unwrap)
	// it panics with http.ErrAbortHandler, which net/http turns into an abort.
	Reset bool `json:"reset,omitempty"`
	// Malformed answers 200 with a body that is not valid JSON.
	Malformed bool `json:"malformed,omitempty"`
	// Count applies the fault to the next Count requests only, then clears it;
	// 0 means until cleared.
	Count int `json:"count,omitempty"`
	// Rate applies the fault to this fraction (0..1) of requests instead of all of
	// them, spread evenly and deterministically: 0 to none, 1 to all. Absent (nil),
	// every request.
	Rate *float64 `json:"rate,omitempty"`
}

// Fault bounds.
const (
	MaxLatencyMs         = 120_000
	MaxRetryAfterSeconds = 3600
)

// Errors SetFault returns; the control API answers 404 and 400 for them.
var (
	ErrUnknownVendor = errors.New("unknown vendor")
	ErrInvalidFault  = errors.New("invalid fault")
)

// VendorStats counts one vendor's requests since start or the last ResetStats.
type VendorStats struct {
	Requests int64 `json:"requests"` // every request the vendor received, faulted included
	Faulted  int64 `json:"faulted"`  // those a fault was applied to
}

// faultState is a Fault in force plus its progress.
type faultState struct {
	Fault
	left int   // requests still to fault, when Count > 0
	seen int64 // requests seen, for Rate
}

// validate checks a fault's values and combinations.
func (f Fault) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidFault, fmt.Sprintf(format, args...))
	}
	switch {
	case f.Status != 0 && (f.Status < 400 || f.Status > 599):
		return bad("status %d is not an HTTP error status (400..599)", f.Status)
	case math.IsNaN(f.RetryAfterSeconds) || f.RetryAfterSeconds < 0 || f.RetryAfterSeconds > MaxRetryAfterSeconds:
		return bad("retryAfterSeconds must be between 0 and %d", MaxRetryAfterSeconds)
	case f.RetryAfterSeconds > 0 && f.Status != http.StatusTooManyRequests && f.Status != http.StatusServiceUnavailable:
		return bad("retryAfterSeconds goes with status 429 or 503")
	case f.LatencyMs < 0 || f.LatencyMs > MaxLatencyMs:
		return bad("latencyMs must be between 0 and %d", MaxLatencyMs)
	case f.Count < 0:
		return bad("count must not be negative")
	case f.Rate != nil && (math.IsNaN(*f.Rate) || *f.Rate < 0 || *f.Rate > 1):
		return bad("rate must be between 0 and 1")
	case f.Count > 0 && f.Rate != nil:
		return bad("set count or rate, not both")
	}
	n := 0
	for _, set := range []bool{f.Status != 0, f.Reset, f.Malformed} {
		if set {
			n++
		}
	}
	if n > 1 {
		return bad("set only one of status, reset and malformed")
	}
	if n == 0 && f.LatencyMs == 0 {
		return bad("set at least one of status, latencyMs, reset and malformed")
	}
	return nil
}

// SetFault puts a fault in force for a vendor (samsara, truckbase, fuelfinder or
// openweather), replacing the one it had.
func (s *Sandbox) SetFault(vendor string, f Fault) error {
	v, ok := s.vendors[vendor]
	if !ok {
		return fmt.Errorf("%w %q: want one of samsara, truckbase, fuelfinder, openweather", ErrUnknownVendor, vendor)
	}
	if err := f.validate(); err != nil {
		return err
	}
	v.mu.Lock()
	v.fault = &faultState{Fault: f, left: f.Count}
	v.mu.Unlock()
	s.log.Info("sandbox fault set", "vendor", vendor, "fault", f)
	return nil
}

// Faults returns the faults in force by vendor (with Count as the requests left).
func (s *Sandbox) Faults() map[string]Fault {
	out := map[string]Fault{}
	for name, v := range s.vendors {
		v.mu.Lock()
		if v.fault != nil {
			f := v.fault.Fault
			if f.Count > 0 {
				f.Count = v.fault.left
			}
			out[name] = f
		}
		v.mu.Unlock()
	}
	return out
}

// ClearFaults removes a vendor's fault, or every vendor's for "".
func (s *Sandbox) ClearFaults(vendor string) {
	for name, v := range s.vendors {
		if vendor == "" || vendor == name {
			v.mu.Lock()
			v.fault = nil
			v.mu.Unlock()
		}
	}
	s.log.Info("sandbox faults cleared", "vendor", vendor)
}

// Stats returns the request counters of all four vendors.
func (s *Sandbox) Stats() map[string]VendorStats {
	out := make(map[string]VendorStats, len(s.vendors))
	for name, v := range s.vendors {
		out[name] = VendorStats{Requests: v.requests.Load(), Faulted: v.faulted.Load()}
	}
	return out
}

// ResetStats sets every counter back to zero.
func (s *Sandbox) ResetStats() {
	for _, v := range s.vendors {
		v.requests.Store(0)
		v.faulted.Store(0)
	}
}

// takeFault decides whether the fault in force applies to this request, and uses it
// up when it has a count.
func (v *vendorAPI) takeFault() (Fault, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	fs := v.fault
	if fs == nil {
		return Fault{}, false
	}
	if fs.Rate != nil {
		// Apply on the requests where the running total of rate crosses an integer:
		// exactly rate of them, evenly spread (none with 0).
		rate, n := *fs.Rate, fs.seen
		fs.seen++
		if math.Floor(float64(n+1)*rate) == math.Floor(float64(n)*rate) {
			return Fault{}, false
		}
	}
	if fs.Count > 0 {
		fs.left--
		if fs.left <= 0 {
			v.fault = nil
		}
	}
	return fs.Fault, true
}

// applyFault carries out a fault. It reports whether the request is answered; a
// latency-only fault returns false so that the normal answer follows the wait.
func (s *Sandbox) applyFault(w http.ResponseWriter, r *http.Request, v *vendorAPI, f Fault) bool {
	s.log.Debug("sandbox fault applied", "vendor", v.name, "path", r.URL.Path, "fault", f)
	if f.LatencyMs > 0 {
		t := time.NewTimer(time.Duration(f.LatencyMs) * time.Millisecond)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true // the client is gone: nobody to answer
		}
	}
	switch {
	case f.Reset:
		resetConnection(w)
		return true
	case f.Malformed:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(v.malformed))
		return true
	case f.Status != 0:
		ra := f.RetryAfterSeconds
		if ra == 0 && f.Status == http.StatusTooManyRequests {
			ra = v.rateLimitRetryAfter
		}
		if ra > 0 {
			w.Header().Set("Retry-After", retryAfter(ra, v.retryFrac))
		}
		v.writeError(w, f.Status, "")
		return true
	}
	return false
}

// retryAfter formats a Retry-After value: fractional seconds when the vendor sends
// them (Samsara), else whole seconds rounded up.
func retryAfter(sec float64, fractional bool) string {
	if fractional && sec != math.Trunc(sec) {
		return strconv.FormatFloat(sec, 'f', -1, 64)
	}
	return strconv.FormatFloat(math.Ceil(sec), 'f', 0, 64)
}

// resetConnection drops the connection without writing an answer.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2 or a recorder: abort the handler, which resets the stream.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
