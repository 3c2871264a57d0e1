package samsara_test

import (
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
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		hos, _, err := samsara.DecodeClocksPage(body)
		if err != nil {
			return
		}
		for _, h := range hos {
			if h.DriverID == "" || !duty[h.DutyStatus] {
				t.Fatalf("bad HOS %+v", h)
			}
			if h.HoursDriven < 0 || h.HoursDriven > 11 || h.DriveRemainingHours < 0 ||
				h.ShiftRemainingHours < 0 || h.CycleRemainingHours < 0 || h.TimeUntilBreakHours < 0 {
				t.Fatalf("hours out of range %+v", h)
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
