// Package testdb gives each test a fresh, migrated database: a SQLite file in the
// test's temp directory, or a PostgreSQL schema of its own that is dropped when the
// test ends (River's TestSchema). Tests that touch storage run under both with Each.
//
// PostgreSQL comes from TEST_DATABASE_URL, or the local default DefaultPostgresURL. When
// it cannot be reached the test fails and says how to start it; it never skips, so a
// green run always means both dialects were tested.
//
// Packages using it must blank-import github.com/sallyhq/sally/ent/runtime (the privacy
// policies and defaults live there); this package does it for them.
package testdb

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/lib/pq" // the "postgres" driver for the admin connection

	_ "github.com/sallyhq/sally/ent/runtime" // privacy policies and defaults
	"github.com/sallyhq/sally/store"
)

// Dialects Each runs under, in order.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// DefaultPostgresURL is the local PostgreSQL used when TEST_DATABASE_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// howToStart is appended to every "PostgreSQL unreachable" failure.
const howToStart = `PostgreSQL is required by the storage tests (they never skip).
Start the local cluster with:
    pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start
or point TEST_DATABASE_URL at a server where schemas may be created, e.g.
    TEST_DATABASE_URL='postgres://user@host:5432/db?sslmode=disable'`

// Each runs fn as two subtests, "sqlite" and "postgres", each on a fresh migrated
// database. The subtests call t.Parallel: code after Each in the caller runs before
// them, so put assertions inside fn.
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, d := range []string{SQLite, Postgres} {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, Open(t, d))
		})
	}
}

// Open returns a fresh, migrated store of the dialect (SQLite or Postgres), closed
// (and for PostgreSQL, dropped) when the test ends.
func Open(tb testing.TB, dialect string) *store.Store {
	tb.Helper()
	var driver, dsn string
	switch dialect {
	case SQLite:
		driver = "sqlite"
		// A file, not shared-cache memory: shared-cache table locks ignore busy_timeout.
		path := filepath.Join(tb.TempDir(), "test.db")
		dsn = "file:" + path + "?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate"
	case Postgres:
		driver = "postgres"
		dsn = PostgresURL(tb)
	default:
		tb.Fatalf("testdb: unknown dialect %q (want %q or %q)", dialect, SQLite, Postgres)
	}
	ctx := context.Background()
	s, err := store.Open(ctx, driver, dsn)
	if err != nil {
		tb.Fatalf("testdb: open %s: %v", dialect, err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(ctx); err != nil {
		tb.Fatalf("testdb: migrate %s: %v", dialect, err)
	}
	return s
}

// BaseURL is the PostgreSQL server the tests use: TEST_DATABASE_URL or
// DefaultPostgresURL.
func BaseURL() string {
	return cmp.Or(os.Getenv("TEST_DATABASE_URL"), DefaultPostgresURL)
}

// PostgresURL creates an empty schema of its own and returns a URL whose connections
// use it (search_path), for tests that open the database themselves, e.g. through
// another process. The schema is dropped, with everything in it, when the test ends.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	schema := "t_" + randomHex(8)
	if err := adminExec("CREATE SCHEMA " + schema); err != nil {
		tb.Fatalf("testdb: cannot create a schema in PostgreSQL at %s: %v\n%s", redact(BaseURL()), err, howToStart)
	}
	tb.Cleanup(func() {
		if err := adminExec("DROP SCHEMA IF EXISTS " + schema + " CASCADE"); err != nil {
			tb.Errorf("testdb: drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(BaseURL())
	if err != nil {
		tb.Fatalf("testdb: TEST_DATABASE_URL does not parse: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema) // lib/pq sends unknown parameters as run-time settings
	u.RawQuery = q.Encode()
	return u.String()
}

// adminExec runs one statement on a connection of its own, closed right after, so that
// no pool outlives the tests (their goroutine-leak checks would see it).
func adminExec(stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := sql.Open("postgres", BaseURL())
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

// redact hides a password in a URL before it reaches a log.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(TEST_DATABASE_URL, unparsable)"
	}
	return u.Redacted()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Count runs a SELECT count(*) … query (with ? placeholders, rebound for PostgreSQL)
// on s, for assertions on raw rows.
func Count(tb testing.TB, s *store.Store, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := s.DB.QueryRowContext(context.Background(), s.Rebind(query), args...).Scan(&n); err != nil {
		tb.Fatalf("testdb: %s: %v", query, err)
	}
	return n
}

// String is Count for a query returning one text value.
func String(tb testing.TB, s *store.Store, query string, args ...any) string {
	tb.Helper()
	var v string
	if err := s.DB.QueryRowContext(context.Background(), s.Rebind(query), args...).Scan(&v); err != nil {
		tb.Fatalf("testdb: %s: %v", query, err)
	}
	return v
}
