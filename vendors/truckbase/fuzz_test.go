package truckbase_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sallyhq/sally/vendors"
	"github.com/sallyhq/sally/vendors/truckbase"
)

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
		``, `null`, `[]`, `{}`, `[null]`, `{"loads":null}`, `{"data":{"id":"x"}}`, `{"load":[1]}`,
		`{"loads":[{"id":"1","miles":"1e999"}]}`, `{"loads":[{"id":"1","pickup":{"lat":"NaN"}}]}`,
		`{"loads":[{"loadId":1.5e2,"status":7}]}`,
	} {
		f.Add([]byte(s))
	}
}

var loadStatuses = map[string]bool{
	vendors.LoadAssigned: true, vendors.LoadInTransit: true, vendors.LoadDelivered: true, vendors.LoadCancelled: true,
}

// FuzzDecodeLoads checks the list decoder never panics and every load it returns
// has an id and a contract status.
func FuzzDecodeLoads(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		loads, err := truckbase.DecodeLoads(body)
		if err != nil {
			return
		}
		for _, l := range loads {
			if l.ID == "" || !loadStatuses[l.Status] {
				t.Fatalf("bad load %+v", l)
			}
		}
	})
}

// FuzzDecodeLoad does the same for the single-load decoder.
func FuzzDecodeLoad(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		l, err := truckbase.DecodeLoad(body)
		if err != nil {
			return
		}
		if l.ID == "" || !loadStatuses[l.Status] {
			t.Fatalf("bad load %+v", l)
		}
	})
}
