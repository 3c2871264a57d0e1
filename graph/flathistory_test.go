package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/graph"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/internal/testserver"
	"github.com/sallyhq/sally/store"
)

// TestFlatHistoryMatchesGqlgen sends the same requests to two servers over one
// database, one with flatHistory and one without, and requires the same responses
// byte for byte: flat selections (aliases, repeats, __typename, nulls, strings that
// need escaping), every argument form, and the requests flatHistory hands to gqlgen
// (errors, nested selections, fragments, directives).
func TestFlatHistoryMatchesGqlgen(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		flat := testserver.New(t, s)
		plain := testserver.New(t, s, testserver.WithDeps(func(d *graph.Deps) { d.NoFlatHistory = true }))

		tenant, admin := flat.SeedTenant(t, "Flat Freight")
		dispatcher := flat.SeedUser(t, tenant, auth.RoleDispatcher)
		id := flat.CreateIntegration(t, admin, nil)
		empty := flat.CreateIntegration(t, admin, map[string]any{"displayName": "No history yet"})
		_, otherAdmin := flat.SeedTenant(t, "Other Freight")
		foreign := flat.CreateIntegration(t, otherAdmin, nil)

		start := time.Date(2026, 11, 26, 8, 0, 0, 123456000, time.UTC)
		var logs []testserver.SyncLog
		for i := range 30 {
			l := testserver.SyncLog{StartedAt: start.Add(time.Duration(i) * time.Minute), Duration: time.Duration(100+i) * time.Millisecond, Attempts: 1 + i%3}
			switch i % 5 {
			case 1:
				l.Status, l.Error = "FAILED", fmt.Sprintf("vendor said \"no\" (%d)\n\ttab <b>&amp; é ☃ \u2028 \x01", i)
			case 2:
				l.Trigger = "MANUAL"
			}
			logs = append(logs, l)
		}
		logs = append(logs, testserver.SyncLog{Status: "RUNNING", StartedAt: start.Add(time.Hour)})
		ids := flat.SeedSyncLogs(t, id, logs...)
		// Records and error classes, which the seeding helper leaves at their defaults.
		for i, lid := range ids {
			u := s.Client.SyncLog.UpdateOneID(uuid.MustParse(lid)).
				SetRecordsProcessed(i * 7).SetRecordsCreated(i % 4).SetRecordsUpdated(i % 3)
			if i%5 == 1 {
				u.SetErrorClass("unavailable")
			}
			require.NoError(t, u.Exec(testserver.System()))
		}

		all := `id integrationId syncType status trigger startedAt completedAt durationMs attempts
			recordsProcessed recordsCreated recordsUpdated error errorClass __typename`
		cases := []struct {
			name, token, query string
			vars               map[string]any
			flat               bool // flatHistory answers it (else gqlgen does)
		}{
			{"every field", admin, `query($id: ID!) { syncHistory(integrationId: $id) { ` + all + ` } }`, map[string]any{"id": id}, true},
			{"aliases and repeats", dispatcher.Token, `query($id: ID!) { a: syncHistory(integrationId: $id, limit: 3) { when: startedAt id id status s: status __typename t: __typename } }`, map[string]any{"id": id}, true},
			{"literal arguments", admin, fmt.Sprintf(`{ syncHistory(integrationId: %q, limit: 5, offset: 2, status: FAILED) { id error errorClass durationMs } }`, id), nil, true},
			{"variable arguments", admin, `query($id: ID!, $l: Int, $o: Int, $s: SyncStatus) { syncHistory(integrationId: $id, limit: $l, offset: $o, status: $s) { id status completedAt } }`, map[string]any{"id": id, "l": 4, "o": 1, "s": "SUCCESS"}, true},
			{"explicit nulls", admin, `query($id: ID!) { syncHistory(integrationId: $id, limit: null, offset: null, status: null) { id } }`, map[string]any{"id": id}, true},
			{"running sync", admin, `query($id: ID!) { syncHistory(integrationId: $id, status: RUNNING) { id status completedAt durationMs error } }`, map[string]any{"id": id}, true},
			{"past the end", admin, `query($id: ID!) { syncHistory(integrationId: $id, offset: 1000) { id } }`, map[string]any{"id": id}, true},
			{"no history", admin, `query($id: ID!) { syncHistory(integrationId: $id) { id } }`, map[string]any{"id": empty}, true},
			{"merged fields", admin, `query($id: ID!) { syncHistory(integrationId: $id, limit: 2) { id } syncHistory(integrationId: $id, limit: 2) { status id } }`, map[string]any{"id": id}, true},
			{"with other root fields", admin, `query($id: ID!) { me { email } syncHistory(integrationId: $id, limit: 2) { id } integrations { id } }`, map[string]any{"id": id}, true},
			{"other tenant", admin, `query($id: ID!) { syncHistory(integrationId: $id) { id } }`, map[string]any{"id": foreign}, false},
			{"unknown integration", admin, `query($id: ID!) { syncHistory(integrationId: $id) { id } }`, map[string]any{"id": uuid.NewString()}, false},
			{"malformed id", admin, `{ syncHistory(integrationId: "nope") { id } }`, nil, false},
			{"limit too large", admin, `query($id: ID!) { syncHistory(integrationId: $id, limit: 501) { id } }`, map[string]any{"id": id}, false},
			{"negative offset", admin, `query($id: ID!) { syncHistory(integrationId: $id, offset: -1) { id } }`, map[string]any{"id": id}, false},
			{"bad status", admin, `query($id: ID!, $s: SyncStatus) { syncHistory(integrationId: $id, status: $s) { id } }`, map[string]any{"id": id, "s": "BOGUS"}, false},
			{"no token", "", `query($id: ID!) { syncHistory(integrationId: $id) { id } }`, map[string]any{"id": id}, false},
			{"nested selection", admin, `query($id: ID!) { syncHistory(integrationId: $id, limit: 2) { id integration { displayName } } }`, map[string]any{"id": id}, false},
			{"fragment", admin, `query($id: ID!) { syncHistory(integrationId: $id, limit: 2) { ...F } } fragment F on SyncLog { id status }`, map[string]any{"id": id}, false},
			{"directive", admin, `query($id: ID!, $x: Boolean!) { syncHistory(integrationId: $id, limit: 2) { id status @include(if: $x) } }`, map[string]any{"id": id, "x": false}, false},
			{"on an integration", admin, `query($id: ID!) { integration(id: $id) { history(limit: 2) { id } } }`, map[string]any{"id": id}, false},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := flat.Resolver.FlatHistoryServed()
				want := plain.Do(t, c.token, c.query, c.vars)
				got := flat.Do(t, c.token, c.query, c.vars)
				require.Equal(t, want.Status, got.Status)
				require.Equal(t, string(want.Body), string(got.Body))
				served := flat.Resolver.FlatHistoryServed() - before
				if c.flat {
					require.EqualValues(t, 1, served, "flatHistory did not answer")
					require.Empty(t, got.Errors)
					require.True(t, bytes.HasPrefix(got.Body, []byte(`{"data":{`)), string(got.Body))
				} else {
					require.Zero(t, served, "flatHistory answered a request it should leave to gqlgen")
				}
			})
		}
		require.Zero(t, plain.Resolver.FlatHistoryServed())
	})
}

// TestFlatHistoryConcurrent: pages served at once (their buffers pooled and reused)
// each come out whole and as gqlgen writes them.
func TestFlatHistoryConcurrent(t *testing.T) {
	s := testdb.Open(t, testdb.SQLite)
	flat := testserver.New(t, s)
	plain := testserver.New(t, s, testserver.WithDeps(func(d *graph.Deps) { d.NoFlatHistory = true }))
	_, admin := flat.SeedTenant(t, "Busy Freight")
	start := time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)
	type request struct {
		vars map[string]any
		want string
	}
	var requests []request
	const query = `query($id: ID!, $l: Int, $o: Int) { syncHistory(integrationId: $id, limit: $l, offset: $o) {
		id status startedAt durationMs error } }`
	for i := range 3 {
		id := flat.CreateIntegration(t, admin, map[string]any{"displayName": fmt.Sprintf("Samsara %d", i)})
		var logs []testserver.SyncLog
		for j := range 20 * (i + 1) {
			l := testserver.SyncLog{StartedAt: start.Add(time.Duration(j) * time.Minute), Duration: time.Duration(j) * time.Millisecond}
			if j%3 == 0 {
				l.Status, l.Error = "FAILED", fmt.Sprintf("integration %d, try %d", i, j)
			}
			logs = append(logs, l)
		}
		flat.SeedSyncLogs(t, id, logs...)
		for _, page := range []struct{ l, o int }{{5, 0}, {50, 0}, {7, 3}} {
			vars := map[string]any{"id": id, "l": page.l, "o": page.o}
			r := plain.Do(t, admin, query, vars)
			require.Empty(t, r.Errors)
			requests = append(requests, request{vars, string(r.Body)})
		}
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 40 {
				req := requests[(w+i)%len(requests)]
				body, err := json.Marshal(map[string]any{"query": query, "variables": req.vars})
				if err != nil {
					t.Error(err)
					return
				}
				if got := flat.Post(t, admin, body); string(got.Body) != req.want {
					t.Errorf("worker %d request %d: got %s, want %s", w, i, got.Body, req.want)
					return
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, int64(8*40), flat.Resolver.FlatHistoryServed())
}
