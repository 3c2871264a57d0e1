package sandbox_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/internal/testclock"
	"github.com/sallyhq/sally/internal/testkit"
	"github.com/sallyhq/sally/sandbox"
)

// start is the fake clock's default: the day of the vendor notes' examples.
var start = time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)

// clock is a settable Options.Now.
type clock = testclock.Clock

// env is one test's sandbox, served over real HTTP the way the server mounts it.
type env struct {
	sb    *sandbox.Sandbox
	clock *clock
	root  string // the server's root; vendors live under root+"/sandbox/…"
	base  string // root + "/sandbox"
}

func setup(t *testing.T) *env {
	t.Helper()
	c := testclock.New(start)
	sb := sandbox.New(sandbox.Options{Now: c.Now, Logger: testLogger(t)})
	mux := http.NewServeMux()
	mux.Handle("/sandbox/", http.StripPrefix("/sandbox", sb))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{sb: sb, clock: c, root: srv.URL, base: srv.URL + "/sandbox"}
}

// answer is a response read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(a.body, &v), "body: %s", a.body)
	return v
}

func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(a.body, v), "body: %s", a.body)
}

// do sends a request to base+path with the given headers.
func (e *env) do(t *testing.T, method, path string, header http.Header, body string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.base+path, strings.NewReader(body))
	require.NoError(t, err)
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// vendor calls a vendor endpoint with a key, the way its adapter authenticates:
// path is relative to the vendor, e.g. "/fleet/drivers?limit=5".
func (e *env) vendor(t *testing.T, vendor, key, path string) answer {
	t.Helper()
	h := http.Header{}
	switch vendor {
	case sandbox.Samsara:
		if key != "" {
			h.Set("Authorization", "Bearer "+key)
		}
	case sandbox.Truckbase:
		h.Set("X-API-Key", key)
		h.Set("X-API-Secret", "secret-"+key)
	case sandbox.FuelFinder:
		h.Set("X-API-Key", key)
	case sandbox.OpenWeather:
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "appid=" + url.QueryEscape(key)
	}
	return e.do(t, http.MethodGet, "/"+vendor+path, h, "")
}

// control calls the control API.
func (e *env) control(t *testing.T, method, path, body string) answer {
	t.Helper()
	return e.do(t, method, "/_control"+path, http.Header{"Content-Type": {"application/json"}}, body)
}

// A path per vendor that answers 200 with a valid key.
var okPath = map[string]string{
	sandbox.Samsara:     "/fleet/hos/clocks?limit=5",
	sandbox.Truckbase:   "/loads?status=active",
	sandbox.FuelFinder:  "/stations?lat=35.22&lon=-101.83&radius=25&limit=5",
	sandbox.OpenWeather: "/weather?lat=35.22&lon=-101.83&units=imperial",
}

func readGolden(t *testing.T, name string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	var v any
	require.NoError(t, json.Unmarshal(b, &v), name)
	return v
}

// requireSameShape fails unless got has the keys and JSON types of want, recursively
// (array elements are compared with want's first element). Paths in optional, such
// as "wind.gust" or "data[].currentVehicle", may be missing or extra.
func requireSameShape(t *testing.T, got, want any, optional ...string) {
	t.Helper()
	opt := map[string]bool{}
	for _, p := range optional {
		opt[p] = true
	}
	var problems []string
	var walk func(path string, got, want any)
	walk = func(path string, got, want any) {
		join := func(k string) string {
			if path == "" {
				return k
			}
			return path + "." + k
		}
		switch w := want.(type) {
		case map[string]any:
			g, ok := got.(map[string]any)
			if !ok {
				problems = append(problems, path+": want an object, got "+jsonType(got))
				return
			}
			for k, wv := range w {
				gv, ok := g[k]
				if !ok {
					if !opt[join(k)] {
						problems = append(problems, join(k)+": missing")
					}
					continue
				}
				walk(join(k), gv, wv)
			}
			for k := range g {
				if _, ok := w[k]; !ok && !opt[join(k)] {
					problems = append(problems, join(k)+": not in the vendor's format")
				}
			}
		case []any:
			g, ok := got.([]any)
			if !ok {
				problems = append(problems, path+": want an array, got "+jsonType(got))
				return
			}
			if len(w) > 0 {
				for _, gv := range g {
					walk(path+"[]", gv, w[0])
				}
			}
		default:
			if jsonType(got) != jsonType(want) {
				problems = append(problems, path+": want "+jsonType(want)+", got "+jsonType(got))
			}
		}
	}
	walk("", got, want)
	require.Empty(t, problems, "shape differs from the vendor's format")
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

// testLogger sends the sandbox's logs to t.Log.
func testLogger(t *testing.T) *slog.Logger { return testkit.Logger(t, slog.LevelInfo) }
