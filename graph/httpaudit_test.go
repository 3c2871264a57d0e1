package graph_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/internal/testserver"
)

// TestGraphQLOverHTTPAudits runs graphql-http's serverAudits (the GraphQL Foundation's
// reference implementation of the GraphQL-over-HTTP specification,
// internal/httpaudit/node) against the real handler and requires every audit, the
// SHOULDs and MAYs included, to pass, as the contract says.
func TestGraphQLOverHTTPAudits(t *testing.T) {
	t.Parallel()
	api := testserver.New(t, testdb.Open(t, testdb.SQLite))
	dir := npmPackage(t, filepath.Join("..", "internal", "httpaudit", "node"), "graphql-http")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "audit.mjs", api.URL)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "node audit.mjs: %s", stderr.String())

	type result struct {
		ID, Name, Status, Reason, Body string
		HTTPStatus                     int
	}
	var results []result
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var r result
		require.NoError(t, json.Unmarshal([]byte(l), &r), "line: %s", l)
		results = append(results, r)
	}
	require.Greater(t, len(results), 50, "the audits ran: %s", out)
	var failed []string
	for _, r := range results {
		if r.Status != "ok" {
			failed = append(failed, r.Status+": "+r.Name+": "+r.Reason+" (HTTP "+
				jsonInt(r.HTTPStatus)+" "+r.Body+")")
		}
	}
	require.Empty(t, failed, "%d of %d audits failed", len(failed), len(results))
}

func jsonInt(n int) string { b, _ := json.Marshal(n); return string(b) }

// npmPackage returns the absolute path of a test's npm package, running npm ci there
// when its dependency dep is not installed yet.
func npmPackage(t *testing.T, rel, dep string) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node (>= 20) is required by this test: apt-get install nodejs npm")
	}
	dir, err := filepath.Abs(rel)
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", dep)); err != nil {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "npm ci in %s: %s", dir, out)
	}
	return dir
}
