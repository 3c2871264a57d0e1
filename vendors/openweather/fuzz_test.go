package openweather_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sallyhq/sally/vendors/openweather"
)

// FuzzDecodeWeather checks the weather decoder never panics and keeps humidity a
// percentage.
func FuzzDecodeWeather(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*"))
	if err != nil {
		f.Fatal(err)
	}
	external, err := filepath.Glob(filepath.Join("..", "testdata", "external", "openweather", "*"))
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
	for _, s := range []string{``, `null`, `{}`, `{"cod":"abc"}`, `{"cod":99999}`, `{"main":{"temp":1,"humidity":1e300},"dt":-1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		w, err := openweather.DecodeWeather(body, 1, 2)
		if err != nil {
			return
		}
		if w.Humidity != nil && (*w.Humidity < 0 || *w.Humidity > 100) {
			t.Fatalf("humidity %d", *w.Humidity)
		}
	})
}
