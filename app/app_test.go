package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/app"
	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/ent/integration"
	_ "github.com/sallyhq/sally/ent/runtime" // privacy policies and defaults
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/sandbox"
	"github.com/sallyhq/sally/syncer"
)

func getenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// The vendors' base URL variables keep the names and defaults the README documents
// (a vendor added later brings its own).
func TestLoadConfigVendorURLs(t *testing.T) {
	t.Parallel()
	cfg, err := app.LoadConfig(getenv(nil))
	require.NoError(t, err)
	require.Len(t, cfg.VendorURLs, len(syncer.Vendors()))
	for name, def := range map[string]string{
		"SAMSARA_API_URL":     "https://api.samsara.com",
		"TRUCKBASE_API_URL":   "https://api.truckbase.io/v1",
		"FUELFINDER_API_URL":  "https://api.fuelfinder.com/v1",
		"OPENWEATHER_API_URL": "https://api.openweathermap.org/data/2.5",
	} {
		require.Equal(t, def, cfg.VendorURLs[name], name)
	}

	_, err = app.LoadConfig(getenv(map[string]string{"OPENWEATHER_API_URL": "weather.example.com"}))
	require.ErrorContains(t, err, "OPENWEATHER_API_URL: want an absolute http(s) URL")
}

// Each vendor's variable reaches the engine: with every one pointing at a sandbox
// served under a prefix, a connection test of each vendor calls that sandbox once.
func TestVendorURLsReachTheEngine(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{})
	srv := httptest.NewServer(http.StripPrefix("/elsewhere", sb))
	t.Cleanup(srv.Close)
	env := map[string]string{
		"SANDBOX": "false", "DEMO": "false", "DATA_DIR": t.TempDir(),
		"JWT_SECRET": "0123456789abcdef0123456789abcdef-app", "CREDENTIALS_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
	}
	for _, v := range syncer.Vendors() {
		env[v.URLVar] = srv.URL + "/elsewhere/" + v.Name
	}
	cfg, err := app.LoadConfig(getenv(env))
	require.NoError(t, err)
	a, err := app.New(app.Options{Config: cfg, Store: testdb.Open(t, testdb.SQLite), SelfURL: "http://127.0.0.1:0"})
	require.NoError(t, err)

	for _, v := range syncer.Vendors() {
		res := a.Engine.TestCredentials(context.Background(), integration.Vendor(v.Enum), auth.Credentials{APIKey: "app-test-key"})
		require.True(t, res.Success, "%s: %s", v.Name, res.Message)
		require.Equal(t, int64(1), sb.Stats()[v.Name].Requests, v.Name)
	}
}
