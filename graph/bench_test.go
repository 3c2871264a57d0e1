package graph_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
	"github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/graph"
	"github.com/sallyhq/sally/graph/model"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/internal/testserver"
	"github.com/sallyhq/sally/store"
)

// Size of the benchmark's history: 1,000,000 sync logs over 100 integrations.
const (
	benchIntegrations = 100
	benchLogsEach     = 10_000
)

// benchSeed fills sync_logs in one statement: every integration gets benchLogsEach
// finished syncs, five minutes apart going back from now, one in ten failed, lasting
// 100–999 ms. Ids are time-ordered like the UUIDv7 the service writes.
const benchSeed = `
INSERT INTO sync_logs (id, tenant_id, integration_id, sync_type, status, trigger,
                       started_at, completed_at, duration_ms, attempts,
                       records_processed, records_created, records_updated, error, error_class)
SELECT (lpad(to_hex(i.n), 8, '0') || '-0000-7000-8000-' || lpad(to_hex(1000000 - g), 12, '0'))::uuid,
       i.tenant_id, i.id, 'HOS_SYNC',
       CASE WHEN g % 10 = 0 THEN 'FAILED' ELSE 'SUCCESS' END,
       CASE WHEN g % 50 = 0 THEN 'MANUAL' ELSE 'SCHEDULED' END,
       $1::timestamptz - g * interval '5 minutes',
       $1::timestamptz - g * interval '5 minutes' + (100 + (g * 7919) % 900) * interval '1 millisecond',
       100 + (g * 7919) % 900,
       CASE WHEN g % 10 = 0 THEN 3 ELSE 1 END,
       g % 40, g % 7, g % 11,
       CASE WHEN g % 10 = 0 THEN 'The vendor is unavailable (HTTP 503); retried 3 times.' END,
       CASE WHEN g % 10 = 0 THEN 'unavailable' END
FROM (SELECT id, tenant_id, row_number() OVER (ORDER BY id) AS n FROM integrations) i
CROSS JOIN generate_series(1, $2::int) g`

// seedBench creates a tenant with a dispatcher and benchIntegrations integrations,
// fills their history (benchSeed) and returns the integration the benchmark reads.
func seedBench(tb testing.TB, api *testserver.API) (tenantID string, dispatcher testserver.User, target *ent.Integration) {
	s := api.Store
	tenantID, _ = api.SeedTenant(tb, "Benchmark Freight")
	dispatcher = api.SeedUser(tb, tenantID, auth.RoleDispatcher)
	sealed, err := api.Sealer.SealCredentials(auth.Credentials{APIKey: "bench-key-0001"})
	require.NoError(tb, err)
	creates := make([]*ent.IntegrationCreate, benchIntegrations)
	for i := range creates {
		creates[i] = s.Client.Integration.Create().SetTenantID(uuid.MustParse(tenantID)).
			SetIntegrationType(integration.IntegrationTypeHOS_ELD).SetVendor(integration.VendorSAMSARA_ELD).
			SetDisplayName("Samsara ELD").SetCredentials(sealed).SetCredentialsHint(auth.Hint("bench-key-0001"))
	}
	ins, err := s.Client.Integration.CreateBulk(creates...).Save(testserver.System())
	require.NoError(tb, err)

	start := time.Now()
	n := fillSyncLogs(tb, s)
	tb.Logf("seeded %d sync logs in %s", n, time.Since(start).Round(time.Millisecond))
	return tenantID, dispatcher, ins[benchIntegrations/2]
}

// fillSyncLogs runs benchSeed the fast way a bulk load is done: the secondary indexes
// are dropped first and built again after, and (when the role may) foreign-key
// triggers are off for the one statement, whose rows all point at existing
// integrations. VACUUM ANALYZE leaves the table as autovacuum would in production:
// statistics gathered, visibility map set.
func fillSyncLogs(tb testing.TB, s *store.Store) int64 {
	ctx := context.Background()
	tx, err := s.DB.BeginTx(ctx, nil)
	require.NoError(tb, err)
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT indexname, indexdef FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename = 'sync_logs' AND indexname <> 'sync_logs_pkey'`)
	require.NoError(tb, err)
	var names, defs []string
	for rows.Next() {
		var name, def string
		require.NoError(tb, rows.Scan(&name, &def))
		names, defs = append(names, name), append(defs, def)
	}
	require.NoError(tb, rows.Err())
	require.NotEmpty(tb, defs)
	for _, name := range names {
		_, err := tx.ExecContext(ctx, "DROP INDEX "+pq.QuoteIdentifier(name))
		require.NoError(tb, err)
	}
	_, err = tx.ExecContext(ctx, "SAVEPOINT fk")
	require.NoError(tb, err)
	if _, err := tx.ExecContext(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
		tb.Logf("foreign-key checks stay on (%v): seeding takes longer", err)
		_, err = tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT fk")
		require.NoError(tb, err)
	}
	_, err = tx.ExecContext(ctx, "SET LOCAL maintenance_work_mem = '256MB'")
	require.NoError(tb, err)
	res, err := tx.ExecContext(ctx, benchSeed, time.Now().UTC(), benchLogsEach)
	require.NoError(tb, err)
	n, err := res.RowsAffected()
	require.NoError(tb, err)
	require.EqualValues(tb, benchIntegrations*benchLogsEach, n)
	for _, def := range defs {
		_, err := tx.ExecContext(ctx, def)
		require.NoError(tb, err)
	}
	require.NoError(tb, tx.Commit())
	_, err = s.DB.ExecContext(ctx, "VACUUM ANALYZE sync_logs")
	require.NoError(tb, err)
	// Write the load out now, not in a checkpoint during the measurements.
	if _, err := s.DB.ExecContext(ctx, "CHECKPOINT"); err != nil {
		tb.Logf("no checkpoint after seeding (%v): the first measurements may be noisier", err)
	}
	return n
}

// capturingDriver records the last query ent sends, so that the raw-SQL benchmark runs
// exactly what ent generates for a history page.
type capturingDriver struct {
	dialect.Driver
	query string
	args  []any
	all   []capturedQuery // every query, in order
	page  []*ent.SyncLog
}

type capturedQuery struct {
	query string
	args  []any
}

func (d *capturingDriver) Query(ctx context.Context, query string, args, v any) error {
	d.query, d.args = query, args.([]any)
	d.all = append(d.all, capturedQuery{query, d.args})
	return d.Driver.Query(ctx, query, args, v)
}

// BenchmarkHistoryAndStats measures a 50-row history page and the stats of an
// integration with 10,000 sync logs, in a PostgreSQL holding 1,000,000: through the
// GraphQL handler and as the bare SQL. The target is a GraphQL page within
// 1.5× the raw SQL and both under 10 ms. Seeding takes tens of seconds, so it happens
// only when the benchmark runs (go test -run '^$' -bench HistoryAndStats ./graph/).
func BenchmarkHistoryAndStats(b *testing.B) {
	s := testdb.Open(b, testdb.Postgres)
	api := testserver.New(b, s)
	tenantID, dispatcher, target := seedBench(b, api)
	benchHistoryAndStats(b, api, tenantID, dispatcher, target)
}

// benchHistoryAndStats runs the sub-benchmarks on a seeded database.
func benchHistoryAndStats(b *testing.B, api *testserver.API, tenantID string, dispatcher testserver.User, target *ent.Integration) {
	s := api.Store
	capture := captureOf(b, api, tenantID, dispatcher, target)
	h := &historyBench{api: api, s: s, token: dispatcher.Token, target: target, capture: capture}

	history := h.graphql(b, `query($id: ID!) { syncHistory(integrationId: $id, limit: 50) {
		id syncType status trigger startedAt completedAt durationMs attempts
		recordsProcessed recordsCreated recordsUpdated error } }`,
		func(data []byte) {
			var out struct{ SyncHistory []syncLogJSON }
			require.NoError(b, json.Unmarshal(data, &out))
			require.Len(b, out.SyncHistory, 50)
			require.Equal(b, capture.page[0].ID.String(), out.SyncHistory[0].ID)
		})
	stats := h.graphql(b, `query($id: ID!) { syncStats(integrationId: $id) {
		totalSyncs successfulSyncs failedSyncs successRate averageDurationMs p95DurationMs
		lastSuccessAt lastFailureAt } }`,
		func(data []byte) {
			var out struct {
				SyncStats struct{ TotalSyncs, FailedSyncs int }
			}
			require.NoError(b, json.Unmarshal(data, &out))
			require.Equal(b, benchLogsEach, out.SyncStats.TotalSyncs)
			require.Equal(b, benchLogsEach/10, out.SyncStats.FailedSyncs)
		})

	for _, m := range []struct {
		name string
		run  func() error
	}{
		{"GraphQL/syncHistory", history}, {"SQL/syncHistory", h.sqlHistory},
		{"GraphQL/syncStats", stats}, {"SQL/syncStats", h.sqlStats},
	} {
		b.Run(m.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := m.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// The paired runs alternate a GraphQL request and its SQL one by one and report
	// both times and their ratio: the machine's drifts (the database's background
	// work, the VM's neighbours, GC) then touch both alike, which separate runs do not.
	paired(b, "Paired/syncHistory", history, h.sqlHistory)
	paired(b, "Paired/syncStats", stats, h.sqlStats)
}

// captureOf runs the resolver's history query through ent, as the dispatcher, and
// returns the SQL ent generated for it (privacy adds the tenant) and the page.
func captureOf(b *testing.B, api *testserver.API, tenantID string, dispatcher testserver.User, target *ent.Integration) *capturingDriver {
	capture := &capturingDriver{Driver: entsql.OpenDB(dialect.Postgres, api.Store.DB)}
	viewer := auth.NewContext(context.Background(), &auth.Viewer{
		UserID: dispatcher.ID, TenantID: tenantID, Email: dispatcher.Email, Role: auth.RoleDispatcher})
	page, err := ent.NewClient(ent.Driver(capture)).SyncLog.Query().
		Where(synclog.IntegrationID(target.ID)).
		Order(ent.Desc(synclog.FieldStartedAt), ent.Desc(synclog.FieldID)).
		Limit(50).Offset(0).Select(graph.SyncLogColumnsWithoutTries...).All(viewer)
	require.NoError(b, err)
	require.Len(b, page, 50)
	capture.page = page
	b.Logf("history page SQL: %s %v", capture.query, capture.args)
	return capture
}

// paired measures graphql and sql alternately (see benchHistoryAndStats).
func paired(b *testing.B, name string, graphql, sql func() error) {
	b.Run(name, func(b *testing.B) {
		var inGraphQL, inSQL time.Duration
		for b.Loop() {
			t0 := time.Now()
			if err := graphql(); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if err := sql(); err != nil {
				b.Fatal(err)
			}
			inGraphQL, inSQL = inGraphQL+t1.Sub(t0), inSQL+time.Since(t1)
		}
		n := float64(b.N)
		b.ReportMetric(float64(inGraphQL.Microseconds())/n, "graphql-µs/op")
		b.ReportMetric(float64(inSQL.Microseconds())/n, "sql-µs/op")
		b.ReportMetric(float64(inGraphQL)/float64(inSQL), "graphql/sql")
	})
}

// historyBench runs the benchmark's requests.
type historyBench struct {
	api     *testserver.API
	s       *store.Store
	token   string
	target  *ent.Integration
	capture *capturingDriver
}

// graphql returns a function that posts one operation straight into the handler (no
// network); it checks the answer once, here.
func (h *historyBench) graphql(b *testing.B, query string, check func(data []byte)) func() error {
	return postFunc(b, h.api, h.token, query, map[string]any{"id": h.target.ID.String()}, check)
}

// postFunc returns a function that posts one operation straight into the handler (no
// network) as token's user; it checks the answer once, here.
func postFunc(b *testing.B, api *testserver.API, token, query string, vars map[string]any, check func(data []byte)) func() error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(b, err)
	request := func() *http.Request {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		return req
	}
	var r testserver.Response
	rec := httptest.NewRecorder()
	api.Handler.ServeHTTP(rec, request())
	require.NoError(b, json.Unmarshal(rec.Body.Bytes(), &r))
	require.Empty(b, r.Errors, rec.Body.String())
	check(r.Data)
	// From now on the response goes where a server's goes: written, not kept.
	var w sink
	return func() error {
		w.reset()
		api.Handler.ServeHTTP(&w, request())
		if w.status != http.StatusOK || w.n == 0 {
			return fmt.Errorf("HTTP %d, %d bytes", w.status, w.n)
		}
		return nil
	}
}

// sink is an http.ResponseWriter that counts what it is sent, as a connection would
// take it, instead of keeping it like httptest.ResponseRecorder.
type sink struct {
	header http.Header
	status int
	n      int
}

func (s *sink) reset() { s.header, s.status, s.n = http.Header{}, 0, 0 }

func (s *sink) Header() http.Header { return s.header }

func (s *sink) WriteHeader(status int) {
	if s.status == 0 {
		s.status = status
	}
}

func (s *sink) Write(p []byte) (int, error) {
	s.WriteHeader(http.StatusOK)
	s.n += len(p)
	return len(p), nil
}

// sqlHistory runs the page's SQL and scans every column of its rows.
func (h *historyBench) sqlHistory() error {
	return scanPage(h.s.DB, h.capture.query, h.capture.args, 50)
}

// scanPage runs a page's SQL and scans every column of its rows into typed values,
// as a hand-written reader of sync_logs would; want is the number of rows.
func scanPage(db *sql.DB, query string, args []any, want int) error {
	rows, err := db.QueryContext(context.Background(), query, args...)
	if err != nil {
		return err
	}
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		return err
	}
	var (
		id, tenant, integ                     uuid.UUID
		syncType, status, trigger             string
		started                               time.Time
		completed, heartbeat, due             sql.NullTime
		duration                              sql.NullInt64
		attempts, processed, created, updated int64
		errText, errClass, runner             sql.NullString
		triggeredBy                           uuid.NullUUID
		tries                                 []byte
	)
	dest := make([]any, len(cols))
	for i, c := range cols {
		dest[i] = map[string]any{
			"id": &id, "tenant_id": &tenant, "integration_id": &integ, "sync_type": &syncType,
			"status": &status, "trigger": &trigger, "started_at": &started, "completed_at": &completed,
			"duration_ms": &duration, "attempts": &attempts, "records_processed": &processed,
			"records_created": &created, "records_updated": &updated, "error": &errText,
			"error_class": &errClass, "runner": &runner, "heartbeat_at": &heartbeat,
			"triggered_by_id": &triggeredBy, "tries": &tries, "due_at": &due,
		}[c]
		if dest[i] == nil {
			rows.Close()
			return fmt.Errorf("unexpected column %q", c)
		}
	}
	got := 0
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return err
		}
		got++
	}
	if err := rows.Close(); err != nil || got != want {
		return fmt.Errorf("page of %d rows: %v", got, err)
	}
	return nil
}

// sqlStats runs the stats' aggregate query (store.Stats) directly.
func (h *historyBench) sqlStats() error {
	st, err := h.s.Stats(context.Background(), h.target.TenantID, h.target.ID, time.Time{})
	if err != nil || st.Total != benchLogsEach {
		return fmt.Errorf("stats %+v: %v", st, err)
	}
	return nil
}

// BenchmarkSyncLogs measures the sync log explorer on the same 1,000,000 logs: a
// 50-row syncLogs page filtered by status, vendor and a date range, through the
// GraphQL handler and as the SQL the resolver runs; and totalCount (the filter's
// count) on its own, as GraphQL and SQL. The target is the page within 1.5×
// the SQL and under 10 ms (go test -run '^$' -bench SyncLogs ./graph/).
func BenchmarkSyncLogs(b *testing.B) {
	s := testdb.Open(b, testdb.Postgres)
	api := testserver.New(b, s)
	tenantID, dispatcher, _ := seedBench(b, api)
	now := time.Now().UTC()
	from, to := now.Add(-10*24*time.Hour), now.Add(-24*time.Hour)
	filter := &model.SyncLogFilter{Statuses: []model.SyncStatus{model.SyncStatusFailed},
		Vendors: []model.Vendor{model.VendorSamsaraEld}, From: &from, To: &to}
	vars := map[string]any{"f": map[string]any{"statuses": []string{"FAILED"}, "vendors": []string{"SAMSARA_ELD"},
		"from": from.Format(time.RFC3339Nano), "to": to.Format(time.RFC3339Nano)}}

	// The resolver's SQL, as ent generates it for the dispatcher (privacy adds the tenant).
	viewer := auth.NewContext(context.Background(), &auth.Viewer{
		UserID: dispatcher.ID, TenantID: tenantID, Email: dispatcher.Email, Role: auth.RoleDispatcher})
	capture := &capturingDriver{Driver: entsql.OpenDB(dialect.Postgres, s.DB)}
	client := ent.NewClient(ent.Driver(capture))
	// The vendor filter is first a lookup of the tenant's integrations of the vendor.
	q, err := graph.SyncLogsPageQuery(viewer, client, filter, 50)
	require.NoError(b, err)
	page, err := q.All(viewer)
	require.NoError(b, err)
	require.Len(b, page, 51)
	require.Len(b, capture.all, 2)
	lookup, pageSQL := capture.all[0], capture.all[1]
	b.Logf("syncLogs SQL: %s %v; then %s %v", lookup.query, lookup.args, pageSQL.query, pageSQL.args)
	capture.all = nil
	cq, err := graph.SyncLogsCountQuery(viewer, client, filter)
	require.NoError(b, err)
	total, err := cq.Count(viewer)
	require.NoError(b, err)
	require.Len(b, capture.all, 2)
	countSQL := capture.all[1]
	b.Logf("totalCount SQL: %s %v (%d syncs)", countSQL.query, countSQL.args, total)
	explain(b, s.DB, pageSQL)
	explain(b, s.DB, countSQL)

	pageQuery := `query($f: SyncLogFilter) { syncLogs(filter: $f, first: 50) {
		edges { cursor node { id integrationId syncType status trigger startedAt completedAt durationMs
			attempts recordsProcessed recordsCreated recordsUpdated error errorClass } }
		pageInfo { hasNextPage endCursor } } }`
	gqlPage := postFunc(b, api, dispatcher.Token, pageQuery, vars, func(data []byte) {
		var out struct {
			SyncLogs struct {
				Edges    []struct{ Node struct{ ID, Status string } }
				PageInfo struct{ HasNextPage bool }
			}
		}
		require.NoError(b, json.Unmarshal(data, &out))
		require.Len(b, out.SyncLogs.Edges, 50)
		require.Equal(b, page[0].ID.String(), out.SyncLogs.Edges[0].Node.ID)
		require.Equal(b, "FAILED", out.SyncLogs.Edges[0].Node.Status)
		require.True(b, out.SyncLogs.PageInfo.HasNextPage)
	})
	gqlCount := postFunc(b, api, dispatcher.Token, `query($f: SyncLogFilter) { syncLogs(filter: $f, first: 1) { totalCount } }`, vars,
		func(data []byte) {
			var out struct{ SyncLogs struct{ TotalCount int } }
			require.NoError(b, json.Unmarshal(data, &out))
			require.Equal(b, total, out.SyncLogs.TotalCount)
		})
	// The SQL side runs what the resolver runs: the lookup, then the page or count.
	sqlLookup := func() error {
		rows, err := s.DB.QueryContext(context.Background(), lookup.query, lookup.args...)
		if err != nil {
			return err
		}
		n := 0
		for rows.Next() {
			var id uuid.UUID
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			n++
		}
		if err := rows.Close(); err != nil || n != benchIntegrations {
			return fmt.Errorf("lookup of %d integrations: %v", n, err)
		}
		return nil
	}
	sqlPage := func() error {
		if err := sqlLookup(); err != nil {
			return err
		}
		return scanPage(s.DB, pageSQL.query, pageSQL.args, 51)
	}
	sqlCount := func() error {
		if err := sqlLookup(); err != nil {
			return err
		}
		var n int
		if err := s.DB.QueryRowContext(context.Background(), countSQL.query, countSQL.args...).Scan(&n); err != nil {
			return err
		}
		if n != total {
			return fmt.Errorf("count %d, want %d", n, total)
		}
		return nil
	}
	for _, m := range []struct {
		name string
		run  func() error
	}{
		{"GraphQL/syncLogsPage", gqlPage}, {"SQL/syncLogsPage", sqlPage},
		{"GraphQL/totalCount", gqlCount}, {"SQL/totalCount", sqlCount},
	} {
		b.Run(m.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := m.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	paired(b, "Paired/syncLogsPage", gqlPage, sqlPage)
	paired(b, "Paired/totalCount", gqlCount, sqlCount)
}

// explain logs PostgreSQL's plan of a captured query.
func explain(b *testing.B, db *sql.DB, q capturedQuery) {
	rows, err := db.QueryContext(context.Background(), "EXPLAIN (ANALYZE, BUFFERS) "+q.query, q.args...)
	require.NoError(b, err)
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		require.NoError(b, rows.Scan(&line))
		plan = append(plan, line)
	}
	b.Logf("plan:\n%s", strings.Join(plan, "\n"))
}
