package testdb_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"

	"entgo.io/ent/dialect"
	"entgo.io/ent/privacy"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/store"
)

func TestEach(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		seen []string
	)
	t.Run("RunsBothDialects", func(t *testing.T) {
		testdb.Each(t, func(t *testing.T, s *store.Store) {
			mu.Lock()
			seen = append(seen, s.Dialect)
			mu.Unlock()
			// Fresh: migrated and empty.
			require.Zero(t, testdb.Count(t, s, "SELECT count(*) FROM tenants"))
			ctx := privacy.DecisionContext(context.Background(), privacy.Allow)
			_, err := s.Client.Tenant.Create().SetName("T").Save(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, testdb.Count(t, s, "SELECT count(*) FROM tenants"))
		})
	})
	require.ElementsMatch(t, []string{dialect.SQLite, dialect.Postgres}, seen)
}

func TestSQLiteForeignKeys(t *testing.T) {
	t.Parallel()
	s := testdb.Open(t, testdb.SQLite)
	require.Equal(t, 1, testdb.Count(t, s, "PRAGMA foreign_keys"))
	require.Equal(t, "wal", testdb.String(t, s, "PRAGMA journal_mode"))
}

func TestPostgresSchemaDropped(t *testing.T) {
	t.Parallel()
	var schema string
	t.Run("UsesItsOwnSchema", func(t *testing.T) {
		s := testdb.Open(t, testdb.Postgres)
		schema = testdb.String(t, s, "SELECT current_schema()")
		require.Regexp(t, `^t_[0-9a-f]{16}$`, schema)
		require.Equal(t, 1, testdb.Count(t, s,
			"SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = 'sync_logs'", schema))
	})
	db, err := sql.Open("postgres", testdb.BaseURL())
	require.NoError(t, err)
	defer db.Close()
	var n int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1", schema).Scan(&n))
	require.Zero(t, n, "schema %s should be dropped when its test ends", schema)
}

func TestPostgresURLsAreDistinct(t *testing.T) {
	t.Parallel()
	a, b := testdb.PostgresURL(t), testdb.PostgresURL(t)
	require.NotEqual(t, a, b)
	require.Contains(t, a, "search_path=t_")
}
