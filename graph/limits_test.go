package graph_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/graph"
	"github.com/sallyhq/sally/internal/testclock"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/internal/testserver"
	"github.com/sallyhq/sally/store"
)

// aliases repeats field n times under aliases a0, a1, …
func aliases(n int, field string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "a%d: %s\n", i, field)
	}
	return b.String()
}

func vendorRequests(api *testserver.API) int {
	n := 0
	for _, s := range api.Sandbox.Stats() {
		n += int(s.Requests)
	}
	return n
}

// TestSideEffectsPerRequest: one request makes at most 5 calls of testIntegration,
// testCredentials and syncIntegration; more are refused before any runs (no vendor
// call, no sync).
func TestSideEffectsPerRequest(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		api := testserver.New(t, s)
		tenantID, admin := api.SeedTenant(t, "Alias Freight")
		dispatcher := api.SeedUser(t, tenantID, "DISPATCHER")
		id := api.CreateIntegration(t, admin, nil)
		before := vendorRequests(api)
		for _, field := range []string{
			`testIntegration(id: $id) { success }`,
			`syncIntegration(id: $id) { status }`,
		} {
			r := api.Do(t, dispatcher.Token, `mutation($id: ID!) {`+aliases(6, field)+`}`, map[string]any{"id": id})
			requireCode(t, r, graph.CodeBadUserInput)
			require.Contains(t, r.Message(), "at most 5")
			require.NotContains(t, string(r.Body), `"data"`, "refused before any work")
		}
		mixed := `mutation($id: ID!) {` + aliases(3, `testIntegration(id: $id) { success }`) +
			strings.ReplaceAll(aliases(3, `syncIntegration(id: $id) { status }`), "a", "b") + `}`
		requireCode(t, api.Do(t, dispatcher.Token, mixed, map[string]any{"id": id}), graph.CodeBadUserInput)
		require.Equal(t, before, vendorRequests(api), "no vendor call")
		n, err := s.Client.SyncLog.Query().Count(testserver.System())
		require.NoError(t, err)
		require.Zero(t, n, "no sync")

		r := api.Do(t, dispatcher.Token, `mutation($id: ID!) {`+aliases(5, `testIntegration(id: $id) { success }`)+`}`, map[string]any{"id": id})
		requireCode(t, r, "")
	})
}

// TestCostCountsListItems: the selections under a list count once per item (limit,
// first, or the tenant's count for unbounded lists); an expensive request is refused
// before it runs, with its cost and the limit in the message.
func TestCostCountsListItems(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		api := testserver.New(t, s)
		tenantID, admin := api.SeedTenant(t, "Cost Freight")
		dispatcher := api.SeedUser(t, tenantID, "DISPATCHER")
		for i := range 50 {
			api.CreateIntegration(t, admin, map[string]any{"displayName": fmt.Sprintf("Fleet %02d", i)})
		}

		// The finding: 1,666 aliases of integrations { stats } on 50 integrations.
		start := time.Now()
		r := api.Do(t, dispatcher.Token, `{`+aliases(1666, `integrations { stats { totalSyncs } }`)+`}`, nil)
		t.Logf("1,666 aliases of integrations { stats } over 50 integrations: answered in %s", time.Since(start))
		requireCode(t, r, graph.CodeBadUserInput)
		require.Contains(t, r.Message(), fmt.Sprintf("the limit is %d", graph.MaxCost))
		require.Contains(t, r.Message(), fmt.Sprintf("it costs %d,", 1666*(1+50*(10+1))))

		// One dashboard of them is fine.
		requireCode(t, api.Do(t, dispatcher.Token, `{ integrations { id displayName stats { totalSyncs successRate p95DurationMs } history(limit: 10) { status } } }`, nil), "")

		tests := []struct {
			name, query string
			cost        int
		}{
			// Per alias: 1 + 500 × (edges 1 + node (1 + 14) + cursor 1 + totalCount 1 + pageInfo (1 + 2)).
			{"SyncLogsCountFirst", aliases(3, `syncLogs(first: 500) { edges { node { id status trigger startedAt completedAt durationMs attempts recordsProcessed recordsCreated recordsUpdated error errorClass integrationId syncType } cursor } totalCount pageInfo { hasNextPage endCursor } }`), 3 * (1 + 500*21)},
			{"SyncHistoryCountsLimit", aliases(6, `syncHistory(integrationId: "x", limit: 500) { id status startedAt durationMs error attempts recordsProcessed recordsCreated recordsUpdated }`), 6 * (1 + 500*9)},
			{"HistoryUnderIntegrations", `integrations { history(limit: 500) { id status } }`, 1 + 50*(1+500*2)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := api.Do(t, dispatcher.Token, `{`+tt.query+`}`, nil)
				requireCode(t, r, graph.CodeBadUserInput)
				require.Contains(t, r.Message(), fmt.Sprintf("it costs %d,", tt.cost))
			})
		}
	})
}

// TestRateLimitsPerUser: at most 30 testIntegration/testCredentials and 30
// syncIntegration calls a minute per user; then RATE_LIMITED with
// extensions.retryAfterSeconds, and another user is not affected. The API's clock
// stands still, so that no token comes back while the test runs; then it moves a
// minute and the user may again.
func TestRateLimitsPerUser(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		clock := testclock.New(time.Now())
		api := testserver.New(t, s, testserver.WithDeps(func(d *graph.Deps) { d.Now = clock.Now }))
		tenantID, admin := api.SeedTenant(t, "Busy Freight")
		dispatcher := api.SeedUser(t, tenantID, "DISPATCHER")
		id := api.CreateIntegration(t, admin, nil)
		for _, field := range []string{`testIntegration(id: $id) { success }`, `syncIntegration(id: $id) { status }`} {
			q := `mutation($id: ID!) {` + aliases(5, field) + `}`
			for range 6 { // 30 calls
				requireCode(t, api.Do(t, dispatcher.Token, q, map[string]any{"id": id}), "")
			}
			r := api.Do(t, dispatcher.Token, `mutation($id: ID!) {`+field+`}`, map[string]any{"id": id})
			requireCode(t, r, graph.CodeRateLimited)
			var body struct {
				Errors []struct {
					Extensions struct{ RetryAfterSeconds int }
				}
			}
			require.NoError(t, json.Unmarshal(r.Body, &body))
			require.GreaterOrEqual(t, body.Errors[0].Extensions.RetryAfterSeconds, 1, "body: %s", r.Body)
			require.LessOrEqual(t, body.Errors[0].Extensions.RetryAfterSeconds, 60, "body: %s", r.Body)
			// Another user of the same tenant still may.
			requireCode(t, api.Do(t, admin, `mutation($id: ID!) {`+field+`}`, map[string]any{"id": id}), "")
		}
		clock.Add(time.Minute)
		requireCode(t, api.Do(t, dispatcher.Token, `mutation($id: ID!) { syncIntegration(id: $id) { status } }`, map[string]any{"id": id}), "")
	})
}

// TestRateLimitsAcrossReplicas: two servers over one database are two replicas
// behind a load balancer: a user's calls on both count toward the one limit of 30 a
// minute (before, each server counted its own, so two let 60 through).
func TestRateLimitsAcrossReplicas(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		clock := testclock.New(time.Now())
		a := testserver.New(t, s, testserver.WithDeps(func(d *graph.Deps) { d.Now = clock.Now }))
		b := testserver.New(t, s, testserver.WithDeps(func(d *graph.Deps) { d.Now = clock.Now }))
		tenantID, admin := a.SeedTenant(t, "Two Replicas Freight")
		dispatcher := a.SeedUser(t, tenantID, "DISPATCHER")
		id := a.CreateIntegration(t, admin, nil)
		q := `mutation($id: ID!) {` + aliases(5, `testIntegration(id: $id) { success }`) + `}`
		for i := range 6 { // 30 calls, alternating replicas
			api := a
			if i%2 == 1 {
				api = b
			}
			requireCode(t, api.Do(t, dispatcher.Token, q, map[string]any{"id": id}), "")
		}
		one := `mutation($id: ID!) { testIntegration(id: $id) { success } }`
		requireCode(t, a.Do(t, dispatcher.Token, one, map[string]any{"id": id}), graph.CodeRateLimited)
		requireCode(t, b.Do(t, dispatcher.Token, one, map[string]any{"id": id}), graph.CodeRateLimited)
		clock.Add(time.Minute)
		requireCode(t, b.Do(t, dispatcher.Token, one, map[string]any{"id": id}), "")
	})
}
