package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The vendor names used in control paths, Stats and SetFault.
const (
	Samsara     = "samsara"
	Truckbase   = "truckbase"
	FuelFinder  = "fuelfinder"
	OpenWeather = "openweather"
)

// Vendors lists the vendor names in a fixed order.
var Vendors = []string{Samsara, Truckbase, FuelFinder, OpenWeather}

// Fleet size defaults and bounds (SetFleet, PUT /_control/fleet).
const (
	DefaultDrivers = 25
	DefaultLoads   = 10
	MaxDrivers     = 100000
	MaxLoads       = 100000
)

// Options configures a Sandbox.
type Options struct {
	Now    func() time.Time // default time.Now; data moves with this clock
	Logger *slog.Logger     // may be nil
}

// Sandbox is the fake vendor APIs plus their control API; see the package comment.
type Sandbox struct {
	now    func() time.Time
	log    *slog.Logger
	fleet  atomic.Pointer[FleetSettings]
	reqSeq atomic.Uint64

	samsara503 atomic.Uint64 // alternates JSON and plain-text 503 bodies

	vendors map[string]*vendorAPI
}

var _ http.Handler = (*Sandbox)(nil)

// FleetSettings is the fleet every key sees, and the gaps real vendors leave in it
// (PUT /_control/fleet). The gap counts are counts of drivers taken in the fleet's
// driver order: the first WithoutClocks drivers' clocks items carry no clocks object,
// the next Disconnected carry hosStatusType "" (the driver app disconnected) with
// their clocks, and the next InViolation carry violations of one hour each.
type FleetSettings struct {
	Drivers       int `json:"drivers"`
	Loads         int `json:"loads"`
	WithoutClocks int `json:"withoutClocks"`
	Disconnected  int `json:"disconnected"`
	InViolation   int `json:"inViolation"`
}

// gap is what the fleet settings make of the driver at index i (0-based).
type gap int

const (
	gapNone gap = iota
	gapWithoutClocks
	gapDisconnected
	gapInViolation
)

func (f *FleetSettings) gapOf(i int) gap {
	switch {
	case i < f.WithoutClocks:
		return gapWithoutClocks
	case i < f.WithoutClocks+f.Disconnected:
		return gapDisconnected
	case i < f.WithoutClocks+f.Disconnected+f.InViolation:
		return gapInViolation
	}
	return gapNone
}

// vendorAPI is one fake vendor: its counters, its fault and its behaviour.
type vendorAPI struct {
	name      string
	requests  atomic.Int64
	faulted   atomic.Int64
	mu        sync.Mutex
	fault     *faultState // nil: none in force
	retryFrac bool        // Retry-After keeps fractional seconds (Samsara)
	// rateLimitRetryAfter is the Retry-After of a 429 whose fault sets none: the
	// vendors that document one always send it; OpenWeather never does (0).
	rateLimitRetryAfter float64
	// secret, when set, reads a second credential header (Truckbase's X-API-Secret).
	secret func(r *http.Request) string

	// auth returns the API key of a request, or "" when it has none.
	auth func(r *http.Request) string
	// serve answers an authenticated request for a path below the vendor's prefix.
	serve func(w http.ResponseWriter, r *http.Request, key, path string, now time.Time)
	// writeError answers with the vendor's error body for a status.
	writeError func(w http.ResponseWriter, status int, msg string)
	// malformed is a 200 body that is not valid JSON.
	malformed string
}

// New returns a Sandbox with the default fleet and no faults.
func New(opts Options) *Sandbox {
	s := &Sandbox{now: opts.Now, log: opts.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.fleet.Store(&FleetSettings{Drivers: DefaultDrivers, Loads: DefaultLoads})
	s.vendors = map[string]*vendorAPI{
		Samsara: {
			name: Samsara, retryFrac: true, rateLimitRetryAfter: 1,
			auth:       bearerToken,
			serve:      s.serveSamsara,
			writeError: s.samsaraError,
			malformed:  `{"data":[{"driver":{"id":"52001","name":"Maria Lo`,
		},
		Truckbase: {
			name:                Truckbase,
			auth:                headerKey,
			secret:              func(r *http.Request) string { return strings.TrimSpace(r.Header.Get("X-API-Secret")) },
			rateLimitRetryAfter: 1,
			serve:               s.serveTruckbase,
			writeError:          codedError,
			malformed:           `{"loads":[{"id":"TB-001-000001","pickup":{"address":"4200 Amarillo Blvd E","ci`,
		},
		FuelFinder: {
			name:                FuelFinder,
			auth:                headerKey,
			rateLimitRetryAfter: 1,
			serve:               s.serveFuelFinder,
			writeError:          codedError,
			malformed:           `{"stations":[{"id":"FF-10293","name":"Love's Travel Stop #262","regular_price":2.9`,
		},
		OpenWeather: {
			name:       OpenWeather,
			auth:       func(r *http.Request) string { return r.URL.Query().Get("appid") },
			serve:      s.serveOpenWeather,
			writeError: openWeatherError,
			malformed:  `{"coord":{"lon":-101.83,"lat":35.22},"weather":[{"id":601,"main":"Sn`,
		},
	}
	return s
}

// FromLoopback reports whether the request's peer (its RemoteAddr, not a header a
// client could write) is a loopback address.
func FromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// ServeHTTP routes /{vendor}/… to the fake vendors and /_control/… to the control
// API. Paths carry no mount prefix: mount with http.StripPrefix("/sandbox", sb).
// The control API answers only requests from loopback addresses (127.0.0.0/8,
// ::1): a fault set there breaks every integration; others get 403.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	first, rest := splitFirst(r.URL.Path)
	if first == "_control" {
		if !FromLoopback(r) {
			writeJSON(w, http.StatusForbidden, controlError{Error: "the sandbox control API answers only requests from this machine (loopback addresses)"})
			return
		}
		s.serveControl(w, r, rest)
		return
	}
	v, ok := s.vendors[first]
	if !ok {
		writeJSON(w, http.StatusNotFound, controlError{Error: fmt.Sprintf("no sandbox vendor at %q; want one of %s or _control", r.URL.Path, strings.Join(Vendors, ", "))})
		return
	}
	v.requests.Add(1)
	if f, ok := v.takeFault(); ok {
		v.faulted.Add(1)
		if s.applyFault(w, r, v, f) {
			return
		}
	}
	key := v.auth(r)
	// A key is required; Truckbase's secret is checked only when sent (the API's
	// apiSecret is optional), with the same invalid… rule.
	if key == "" || strings.HasPrefix(key, "invalid") || (v.secret != nil && strings.HasPrefix(v.secret(r), "invalid")) {
		v.writeError(w, http.StatusUnauthorized, "")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		v.writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed on "+rest)
		return
	}
	v.serve(w, r, key, rest, s.now().UTC())
}

// Routes below each vendor's prefix. Every vendor answers unknown paths with its
// own 404 body.
func (s *Sandbox) serveSamsara(w http.ResponseWriter, r *http.Request, key, path string, now time.Time) {
	switch path {
	case "/fleet/drivers":
		s.samsaraDrivers(w, r, key)
	case "/fleet/hos/clocks":
		s.samsaraClocks(w, r, key, now)
	default:
		s.samsaraError(w, http.StatusNotFound, "")
	}
}

func (s *Sandbox) serveTruckbase(w http.ResponseWriter, r *http.Request, key, path string, now time.Time) {
	switch {
	case path == "/loads":
		s.truckbaseLoads(w, r, key, now)
	case strings.HasPrefix(path, "/loads/") && !strings.Contains(path[len("/loads/"):], "/"):
		s.truckbaseLoad(w, key, path[len("/loads/"):], now)
	default:
		codedError(w, http.StatusNotFound, "no such endpoint: "+path)
	}
}

func (s *Sandbox) serveFuelFinder(w http.ResponseWriter, r *http.Request, key, path string, now time.Time) {
	if path != "/stations" {
		codedError(w, http.StatusNotFound, "no such endpoint: "+path)
		return
	}
	s.fuelStations(w, r, key, now)
}

func (s *Sandbox) serveOpenWeather(w http.ResponseWriter, r *http.Request, _, path string, now time.Time) {
	if path != "/weather" {
		openWeatherError(w, http.StatusNotFound, "")
		return
	}
	s.openWeather(w, r, now)
}

// Fleet returns the fleet size every key sees.
func (s *Sandbox) Fleet() (drivers, loads int) {
	f := s.fleet.Load()
	return f.Drivers, f.Loads
}

// FleetSettings returns the whole fleet setting.
func (s *Sandbox) FleetSettings() FleetSettings { return *s.fleet.Load() }

// SetFleet sets the number of drivers and active loads every key sees, clamped to
// 0..MaxDrivers and 0..MaxLoads, with no gaps.
func (s *Sandbox) SetFleet(drivers, loads int) {
	s.SetFleetSettings(FleetSettings{Drivers: drivers, Loads: loads})
}

// SetFleetSettings replaces the whole fleet setting; sizes are clamped to
// 0..MaxDrivers and 0..MaxLoads and gap counts to 0..MaxDrivers.
func (s *Sandbox) SetFleetSettings(f FleetSettings) {
	f.Drivers = min(max(f.Drivers, 0), MaxDrivers)
	f.Loads = min(max(f.Loads, 0), MaxLoads)
	for _, n := range []*int{&f.WithoutClocks, &f.Disconnected, &f.InViolation} {
		*n = min(max(*n, 0), MaxDrivers)
	}
	s.fleet.Store(&f)
	s.log.Info("sandbox fleet set", "drivers", f.Drivers, "loads", f.Loads,
		"withoutClocks", f.WithoutClocks, "disconnected", f.Disconnected, "inViolation", f.InViolation)
}

// splitFirst splits "/a/b/c" into "a" and "/b/c".
func splitFirst(p string) (first, rest string) {
	p = strings.TrimPrefix(p, "/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i], p[i:]
	}
	return p, ""
}

// bearerToken reads Samsara's "Authorization: Bearer <token>".
func bearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return ""
	}
	return strings.TrimSpace(h[len(prefix):])
}

// headerKey reads the X-API-Key header (Truckbase also sends X-API-Secret: see
// vendorAPI.secret).
func headerKey(r *http.Request) string { return strings.TrimSpace(r.Header.Get("X-API-Key")) }

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		http.Error(w, "sandbox: encode answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// requestID makes a Samsara-style request id, unique within the process.
func (s *Sandbox) requestID() string {
	n := s.reqSeq.Add(1)
	a, b := mix64(seedOf(domRequestID, n)), mix64(seedOf(domRequestID, n, 1))
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, a>>16&0xffff, (a&0x0fff)|0x4000, (b>>48&0x3fff)|0x8000, b&0xffffffffffff)
}
