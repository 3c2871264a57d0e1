package graph_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/graph"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/internal/testpg"
	"github.com/sallyhq/sally/internal/testserver"
	"github.com/sallyhq/sally/store"
)

// logBuffer collects a logger's lines (and copies them to the test log).
type logBuffer struct {
	t  *testing.T
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.Log(strings.TrimSpace(string(p)))
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// internalError is an INTERNAL answer as a client sees it.
type internalAnswer struct {
	Errors []struct {
		Message    string
		Extensions struct {
			Code      string
			RequestID string
		}
	}
}

// requireInternal checks that r is INTERNAL with a request id, that the message says
// nothing of the cause, and that the id is in exactly one log line, with the cause.
func requireInternal(t *testing.T, r testserver.Response, logs *logBuffer, cause string) {
	t.Helper()
	var a internalAnswer
	require.NoError(t, json.Unmarshal(r.Body, &a), "body: %s", r.Body)
	require.NotEmpty(t, a.Errors, "body: %s", r.Body)
	e := a.Errors[0]
	require.Equal(t, graph.CodeInternal, e.Extensions.Code, "body: %s", r.Body)
	require.NotEmpty(t, e.Extensions.RequestID, "body: %s", r.Body)
	for _, leak := range []string{"dial", "127.0.0.1", "pq:", "sql:", "connection", "database"} {
		require.NotContains(t, strings.ToLower(string(r.Body)), leak)
	}
	var lines []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, e.Extensions.RequestID) {
			lines = append(lines, l)
		}
	}
	require.Len(t, lines, 1, "one log line carries request id %s: %s", e.Extensions.RequestID, logs.String())
	require.Contains(t, lines[0], cause)
}

// TestDatabaseFailuresAreInternal: with the database gone (a private PostgreSQL
// cluster stopped; a closed SQLite handle), every operation answers INTERNAL with a
// request id, never BAD_USER_INPUT with the driver's text, and the cause is logged
// once under that id.
func TestDatabaseFailuresAreInternal(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{testdb.SQLite, testdb.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			var (
				s    *store.Store
				down func()
			)
			cause := "database is closed"
			if dialect == testdb.Postgres {
				pg := testpg.Start(t, testpg.Options{})
				var err error
				s, err = store.Open(context.Background(), "postgres", pg.URL())
				require.NoError(t, err)
				t.Cleanup(func() { _ = s.Close() })
				require.NoError(t, s.Migrate(context.Background()))
				down = func() { pg.Stop(t) }
				cause = "connect"
			} else {
				s = testdb.Open(t, testdb.SQLite)
				down = func() { _ = s.DB.Close() }
			}
			logs := &logBuffer{t: t}
			api := testserver.New(t, s, testserver.WithDeps(func(d *graph.Deps) {
				d.Logger = slog.New(slog.NewTextHandler(logs, nil))
				d.ViewerTTL = -1 // ask the database on every request
			}))
			tenantID, admin := api.SeedTenant(t, "Outage Freight")
			user := api.SeedUser(t, tenantID, "DISPATCHER")
			down()

			requireInternal(t, api.Do(t, admin, `{ integrations { id } }`, nil), logs, cause)
			requireInternal(t, api.Do(t, "", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
				map[string]any{"e": user.Email, "p": testserver.Password}), logs, cause)
		})
	}
}

// TestControlCharactersAreBadInput: a NUL or another control character in any string
// argument is refused before anything runs, naming the argument; other Unicode is
// text.
func TestControlCharactersAreBadInput(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		api := testserver.New(t, s)
		_, admin := api.SeedTenant(t, "Control Freight")
		id := api.CreateIntegration(t, admin, nil)
		tests := []struct {
			name, query string
			vars        map[string]any
			field       string
		}{
			{"NULInDisplayName", `mutation($id: ID!, $n: String!) { updateIntegration(id: $id, input: {displayName: $n}) { id } }`,
				map[string]any{"id": id, "n": "Fleet\x00One"}, "input.displayName"},
			{"EscapeInDisplayName", `mutation($id: ID!) { updateIntegration(id: $id, input: {displayName: "Fleet\u001b[31m"}) { id } }`,
				map[string]any{"id": id}, "input.displayName"},
			{"NewlineInDisplayName", `mutation($id: ID!, $n: String!) { updateIntegration(id: $id, input: {displayName: $n}) { id } }`,
				map[string]any{"id": id, "n": "Fleet\nOne"}, "input.displayName"},
			{"NULInAPIKey", `mutation($id: ID!, $k: String!) { updateIntegration(id: $id, input: {credentials: {apiKey: $k}}) { id } }`,
				map[string]any{"id": id, "k": "key\x00"}, "input.credentials.apiKey"},
			{"NULInEmail", `mutation($e: String!) { login(email: $e, password: "x") { token } }`,
				map[string]any{"e": "a\x00@example.com"}, "email"},
			{"C1InID", `query($id: ID!) { integration(id: $id) { id } }`,
				map[string]any{"id": "\u0085"}, "id"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := api.Do(t, admin, tt.query, tt.vars)
				requireCode(t, r, graph.CodeBadUserInput)
				require.Equal(t, tt.field+" must not contain control characters", r.Message())
			})
		}
		t.Run("OKUnicode", func(t *testing.T) {
			r := api.Do(t, admin, `mutation($id: ID!, $n: String!) { updateIntegration(id: $id, input: {displayName: $n}) { displayName } }`,
				map[string]any{"id": id, "n": "Fleet — été 🚚"})
			requireCode(t, r, "")
		})
	})
}
