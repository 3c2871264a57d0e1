package graph_test

import (
	"bytes"
	"fmt"
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

// TestFlatSyncLogsMatchGqlgen: syncLogs pages written by flatSyncLogs are gqlgen's
// bytes, and every selection or argument it does not handle goes to gqlgen.
func TestFlatSyncLogsMatchGqlgen(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		flat := testserver.New(t, s)
		plain := testserver.New(t, s, testserver.WithDeps(func(d *graph.Deps) { d.NoFlatHistory = true }))
		tenant, admin := flat.SeedTenant(t, "Flat Freight")
		dispatcher := flat.SeedUser(t, tenant, auth.RoleDispatcher)
		id := flat.CreateIntegration(t, admin, nil)
		start := time.Date(2026, 11, 26, 8, 0, 0, 123456000, time.UTC)
		var logs []testserver.SyncLog
		for i := range 30 {
			l := testserver.SyncLog{StartedAt: start.Add(time.Duration(i) * time.Minute), Duration: time.Duration(100+i) * time.Millisecond}
			if i%4 == 1 {
				l.Status, l.Error = "FAILED", fmt.Sprintf("vendor said \"no\" (%d)\n\ttab <b>&amp; é ☃ \u2028 \x01", i)
			}
			logs = append(logs, l)
		}
		flat.SeedSyncLogs(t, id, logs...)
		var first struct {
			SyncLogs struct{ PageInfo struct{ EndCursor string } }
		}
		plain.Do(t, admin, `{ syncLogs(first: 7) { pageInfo { endCursor } } }`, nil).Decode(t, &first)
		cursor := first.SyncLogs.PageInfo.EndCursor

		all := `id integrationId syncType status trigger startedAt completedAt durationMs attempts
			recordsProcessed recordsCreated recordsUpdated error errorClass __typename`
		cases := []struct {
			name, token, query string
			vars               map[string]any
			flat               bool
		}{
			{"every field", admin, `{ syncLogs { edges { cursor node { ` + all + ` } __typename } pageInfo { hasNextPage endCursor __typename } __typename } }`, nil, true},
			{"aliases", dispatcher.Token, `{ l: syncLogs(first: 3) { e: edges { n: node { id s: status } c: cursor } p: pageInfo { more: hasNextPage } } }`, nil, true},
			{"variables", admin, `query($f: SyncLogFilter, $n: Int, $a: String) { syncLogs(filter: $f, first: $n, after: $a) { edges { cursor node { id status error } } pageInfo { hasNextPage endCursor } } }`,
				map[string]any{"f": map[string]any{"statuses": []string{"FAILED"}, "vendors": []string{"SAMSARA_ELD"}, "integrationIds": []string{id},
					"from": start.Add(2 * time.Minute).Format(time.RFC3339Nano), "to": start.Add(20 * time.Minute).Format(time.RFC3339Nano)}, "n": 2, "a": nil}, true},
			{"after a cursor", admin, `query($a: String) { syncLogs(first: 5, after: $a) { edges { node { id } } pageInfo { endCursor hasNextPage } } }`, map[string]any{"a": cursor}, true},
			{"literal filter", admin, `{ syncLogs(filter: {statuses: [SUCCESS], triggers: [SCHEDULED]}, first: 4) { edges { node { id trigger } } } }`, nil, true},
			{"empty page", admin, `{ syncLogs(filter: {errorClasses: ["none"]}) { edges { cursor } pageInfo { hasNextPage endCursor } } }`, nil, true},
			{"totalCount", admin, `{ syncLogs(first: 2) { totalCount edges { node { id } } } }`, nil, false},
			{"nested", admin, `{ syncLogs(first: 2) { edges { node { id integration { displayName } } } } }`, nil, false},
			{"tries", admin, `{ syncLogs(first: 2) { edges { node { id tries { call } } } } }`, nil, false},
			{"fragment", admin, `{ syncLogs(first: 2) { ...C } } fragment C on SyncLogConnection { edges { cursor } }`, nil, false},
			{"forged cursor", admin, `{ syncLogs(after: "AAAA") { edges { cursor } } }`, nil, false},
			{"first too large", admin, `{ syncLogs(first: 501) { edges { cursor } } }`, nil, false},
			{"bad id", admin, `{ syncLogs(filter: {integrationIds: ["x"]}) { edges { cursor } } }`, nil, false},
			{"single value for a list", admin, `{ syncLogs(filter: {statuses: FAILED}, first: 2) { edges { node { id } } } }`, nil, false},
			{"unknown integration matches nothing", admin, fmt.Sprintf(`{ syncLogs(filter: {integrationIds: [%q]}) { edges { cursor } } }`, uuid.NewString()), nil, true},
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
					require.EqualValues(t, 1, served, "flatSyncLogs did not answer")
					require.Empty(t, got.Errors)
					require.True(t, bytes.HasPrefix(got.Body, []byte(`{"data":{`)), string(got.Body))
				} else {
					require.Zero(t, served, "flatSyncLogs answered a request it should leave to gqlgen")
				}
			})
		}
	})
}
