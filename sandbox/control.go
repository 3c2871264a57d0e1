package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// serveControl answers /_control/…; control requests are not counted in Stats.
func (s *Sandbox) serveControl(w http.ResponseWriter, r *http.Request, path string) {
	switch {
	case path == "/faults":
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, s.Faults())
		case http.MethodDelete:
			s.ClearFaults("")
			w.WriteHeader(http.StatusNoContent)
		default:
			methodNotAllowed(w, r, "GET, DELETE")
		}
	case strings.HasPrefix(path, "/faults/"):
		s.controlFault(w, r, strings.TrimPrefix(path, "/faults/"))
	case path == "/fleet":
		switch r.Method {
		case http.MethodGet:
			s.writeFleet(w)
		case http.MethodPut:
			s.controlFleet(w, r)
		default:
			methodNotAllowed(w, r, "GET, PUT")
		}
	case path == "/stats":
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, s.Stats())
		case http.MethodDelete:
			s.ResetStats()
			w.WriteHeader(http.StatusNoContent)
		default:
			methodNotAllowed(w, r, "GET, DELETE")
		}
	default:
		writeJSON(w, http.StatusNotFound, controlError{Error: "no control endpoint at " + path + "; want /_control/faults[/{vendor}], /_control/fleet or /_control/stats"})
	}
}

func (s *Sandbox) controlFault(w http.ResponseWriter, r *http.Request, vendor string) {
	if _, ok := s.vendors[vendor]; !ok {
		writeJSON(w, http.StatusNotFound, controlError{Error: fmt.Sprintf("unknown vendor %q: want one of %s", vendor, strings.Join(Vendors, ", "))})
		return
	}
	switch r.Method {
	case http.MethodGet:
		f, ok := s.Faults()[vendor]
		if !ok {
			writeJSON(w, http.StatusNotFound, controlError{Error: "no fault in force for " + vendor})
			return
		}
		writeJSON(w, http.StatusOK, f)
	case http.MethodPut:
		var f Fault
		if err := decodeStrict(r.Body, &f); err != nil {
			writeJSON(w, http.StatusBadRequest, controlError{Error: "fault: " + err.Error()})
			return
		}
		if err := s.SetFault(vendor, f); err != nil {
			status := http.StatusBadRequest
			if errors.Is(err, ErrUnknownVendor) {
				status = http.StatusNotFound
			}
			writeJSON(w, status, controlError{Error: err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, f)
	case http.MethodDelete:
		s.ClearFaults(vendor)
		w.WriteHeader(http.StatusNoContent)
	default:
		methodNotAllowed(w, r, "GET, PUT, DELETE")
	}
}

// fleetBody is the body of PUT /_control/fleet. A PUT replaces the whole setting:
// an absent field returns to its default (the default sizes, no gaps).
type fleetBody struct {
	Drivers       *int `json:"drivers"`
	Loads         *int `json:"loads"`
	WithoutClocks *int `json:"withoutClocks"`
	Disconnected  *int `json:"disconnected"`
	InViolation   *int `json:"inViolation"`
}

func (s *Sandbox) controlFleet(w http.ResponseWriter, r *http.Request) {
	var b fleetBody
	if err := decodeStrict(r.Body, &b); err != nil {
		writeJSON(w, http.StatusBadRequest, controlError{Error: "fleet: " + err.Error()})
		return
	}
	f := FleetSettings{Drivers: DefaultDrivers, Loads: DefaultLoads}
	fields := []struct {
		name string
		in   *int
		out  *int
		max  int
	}{
		{"drivers", b.Drivers, &f.Drivers, MaxDrivers},
		{"loads", b.Loads, &f.Loads, MaxLoads},
		{"withoutClocks", b.WithoutClocks, &f.WithoutClocks, MaxDrivers},
		{"disconnected", b.Disconnected, &f.Disconnected, MaxDrivers},
		{"inViolation", b.InViolation, &f.InViolation, MaxDrivers},
	}
	for _, fl := range fields {
		if fl.in == nil {
			continue
		}
		if *fl.in < 0 || *fl.in > fl.max {
			writeJSON(w, http.StatusBadRequest, controlError{Error: fmt.Sprintf("fleet: %s must be between 0 and %d", fl.name, fl.max)})
			return
		}
		*fl.out = *fl.in
	}
	s.SetFleetSettings(f)
	s.writeFleet(w)
}

func (s *Sandbox) writeFleet(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, s.FleetSettings())
}

// decodeStrict decodes one JSON object and rejects unknown fields and trailing data,
// so that a typo in a control call fails loudly instead of doing nothing.
func decodeStrict(r io.Reader, v any) error {
	dec := json.NewDecoder(io.LimitReader(r, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty body: want a JSON object")
		}
		return fmt.Errorf("bad JSON: %w", err)
	}
	if dec.More() {
		return errors.New("bad JSON: trailing data after the object")
	}
	return nil
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeJSON(w, http.StatusMethodNotAllowed, controlError{Error: "method " + r.Method + " not allowed; allowed: " + allow})
}
