package fuelfinder_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sallyhq/sally/vendors/fuelfinder"
)

// FuzzDecodeStations checks the stations decoder never panics and returns only
// stations with an id.
func FuzzDecodeStations(f *testing.F) {
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
	for _, s := range []string{``, `null`, `[]`, `[null]`, `{"stations":null}`, `{"data":[{"id":1,"lat":"1","lon":"2","amenities":","}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		stations, err := fuelfinder.DecodeStations(body)
		if err != nil {
			return
		}
		for _, s := range stations {
			if s.ID == "" {
				t.Fatalf("station without id %+v", s)
			}
		}
	})
}
