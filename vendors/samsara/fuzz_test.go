package samsara_test

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/sallyhq/sally/vendors"
	"github.com/sallyhq/sally/vendors/samsara"
)

// seeds returns every testdata file plus a few hand-written edge cases.
func seeds(f *testing.F) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*"))
	if err != nil {
		f.Fatal(err)
	}
	external, err := filepath.Glob(filepath.Join("..", "testdata", "external", "samsara", "*"))
	if err != nil {
		f.Fatal(err)
	}
	files = append(files, external...)
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		``, `null`, `[]`, `{}`, `{"data":null}`, `{"data":[null]}`,
		`{"data":[{"driver":{"id":"1"},"clocks":{"drive":{"driveRemainingDurationMs":"1e308"}}}]}`,
		`{"data":[{"driver":{"id":1e999}}]}`,
		`{"data":[],"pagination":{"endCursor":7,"hasNextPage":true}}`,
	} {
		f.Add([]byte(s))
	}
}

// FuzzDecodeClocksPage checks the clocks decoder never panics and never returns
// clocks outside the contract's ranges.
func FuzzDecodeClocksPage(f *testing.F) {
	seeds(f)
	duty := map[string]bool{
		vendors.DutyOffDuty: true, vendors.DutySleeperBerth: true, vendors.DutyDriving: true,
		vendors.DutyOnDuty: true, vendors.DutyYardMove: true, vendors.DutyPersonalConveyance: true,
		vendors.DutyUnknown: true,
	}
	// bad reports a value outside 0..hi; nil (not reported) is always fine.
	bad := func(v *float64, hi float64) bool { return v != nil && (*v < 0 || *v > hi || math.IsNaN(*v)) }
	f.Fuzz(func(t *testing.T, body []byte) {
		hos, _, err := samsara.DecodeClocksPage(body)
		if err != nil {
			return
		}
		for _, h := range hos {
			if h.DriverID == "" || !duty[h.DutyStatus] {
				t.Fatalf("bad HOS %+v", h)
			}
			inf := math.Inf(1)
			if bad(h.HoursDriven, 11) || bad(h.DriveRemainingHours, inf) || bad(h.ShiftRemainingHours, inf) ||
				bad(h.CycleRemainingHours, inf) || bad(h.TimeUntilBreakHours, inf) ||
				bad(h.CycleViolationHours, inf) || bad(h.ShiftDrivingViolationHours, inf) {
				t.Fatalf("hours out of range %+v", h)
			}
			if (h.HoursDriven == nil) != (h.DriveRemainingHours == nil) {
				t.Fatalf("hoursDriven known without the drive clock, or the reverse: %+v", h)
			}
			if h.DutyStatus == vendors.DutyUnknown && h.Note == "" {
				t.Fatalf("UNKNOWN without a note: %+v", h)
			}
		}
	})
}

// FuzzDecodeDriversPage checks the drivers decoder never panics and never returns a
// driver without an id.
func FuzzDecodeDriversPage(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		drivers, _, err := samsara.DecodeDriversPage(body)
		if err != nil {
			return
		}
		for _, d := range drivers {
			if d.ID == "" {
				t.Fatalf("driver without id %+v", d)
			}
		}
	})
}
