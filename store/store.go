// Package store opens the database (SQLite or PostgreSQL), migrates the ent schema and
// runs the few queries that need hand-written SQL (aggregates ent cannot express).
package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	"entgo.io/ent/privacy"
	_ "github.com/lib/pq" // the PostgreSQL driver, registered as "postgres"
	"modernc.org/sqlite"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/integration"
)

func init() {
	// ent opens SQLite as "sqlite3"; modernc (pure Go, no cgo) registers "sqlite".
	sql.Register(dialect.SQLite, &sqlite.Driver{})
}

// Store is the opened database: the ent client for everything, the raw handle for
// aggregates, and the dialect those are written for.
type Store struct {
	Client  *ent.Client
	DB      *sql.DB
	Dialect string // dialect.SQLite or dialect.Postgres

	statements *atomic.Int64
}

// Statements counts the statements the ent client has sent so far (transactions'
// BEGIN and COMMIT included), for metrics and capacity measurements.
func (s *Store) Statements() int64 { return s.statements.Load() }

// Open connects to the database; driver is "sqlite" or "postgres".
func Open(ctx context.Context, driver, dsn string) (*Store, error) {
	d := dialect.Postgres
	if driver == "sqlite" || driver == dialect.SQLite {
		d = dialect.SQLite
	}
	db, err := sql.Open(d, dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", d, err)
	}
	if d == dialect.SQLite {
		// WAL lets readers run beside the one writer; _txlock=immediate in the DSN
		// makes writers queue on busy_timeout instead of failing to upgrade a lock.
		db.SetMaxOpenConns(8)
	} else {
		db.SetMaxOpenConns(32)
		db.SetMaxIdleConns(16)
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %w", d, err)
	}
	n := new(atomic.Int64)
	drv := countingDriver{Driver: entsql.OpenDB(d, db), n: n}
	return &Store{Client: ent.NewClient(ent.Driver(drv)), DB: db, Dialect: d, statements: n}, nil
}

// migrateMu serializes migrations within the process: ent's migration fills in the
// package-level table descriptions it shares between clients (a data race when two
// stores migrate at once, as parallel tests do).
var migrateMu sync.Mutex

// Migrate creates or updates the schema. Concurrent starts of several replicas on one
// PostgreSQL are serialized with an advisory lock.
func (s *Store) Migrate(ctx context.Context) error {
	migrateMu.Lock()
	defer migrateMu.Unlock()
	if s.Dialect == dialect.Postgres {
		conn, err := s.DB.Conn(ctx)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, lockKeys["migrate"]); err != nil {
			return fmt.Errorf("migrate lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockKeys["migrate"])
	}
	if err := s.Client.Schema.Create(ctx, schema.WithDropIndex(true)); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return s.backfillNameKeys(ctx)
}

// backfillNameKeys gives integrations written before display names were unique per
// tenant their display_name_key (trimmed, lower-cased). A name that collides with
// another of its tenant keeps a null key: nothing is renamed behind an admin's back,
// and the next rename of it is checked.
func (s *Store) backfillNameKeys(ctx context.Context) error {
	ctx = privacy.DecisionContext(ctx, privacy.Allow)
	ins, err := s.Client.Integration.Query().Where(integration.DisplayNameKeyIsNil()).
		Order(ent.Asc(integration.FieldCreatedAt)).All(ctx)
	if err != nil {
		return fmt.Errorf("migrate: integration names: %w", err)
	}
	for _, in := range ins {
		err := s.Client.Integration.UpdateOne(in).
			SetDisplayNameKey(strings.ToLower(strings.TrimSpace(in.DisplayName))).
			SetUpdatedAt(in.UpdatedAt). // not a change anyone made
			Exec(ctx)
		if err != nil && !ent.IsConstraintError(err) {
			return fmt.Errorf("migrate: integration names: %w", err)
		}
	}
	return nil
}

// SetMaxConns bounds the connections of the pool to n (at least 1), idle ones to
// half of them. The server gives it DATABASE_MAX_CONNS less its event listener's.
func (s *Store) SetMaxConns(n int) {
	n = max(n, 1)
	s.DB.SetMaxOpenConns(n)
	s.DB.SetMaxIdleConns(max(n/2, 1))
}

// Close closes the database.
func (s *Store) Close() error { return s.Client.Close() }

// Ping reports whether the database answers (for /readyz).
func (s *Store) Ping(ctx context.Context) error { return s.DB.PingContext(ctx) }

// Rebind turns ? placeholders into $1, $2 … for PostgreSQL.
func (s *Store) Rebind(q string) string {
	if s.Dialect != dialect.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// lockKeys are the advisory lock ids of the named cluster-wide critical sections.
var lockKeys = map[string]int64{"migrate": 727001, "bootstrap": 727002, "demo": 727003}

// WithLock runs fn while holding a cluster-wide lock (a PostgreSQL session advisory lock on a
// connection kept for it), so that replicas starting together do the work once. On SQLite,
// one process owns the file and the immediate transaction serializes writers.
func (s *Store) WithLock(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	if s.Dialect != dialect.Postgres {
		return fn(ctx)
	}
	key, ok := lockKeys[name]
	if !ok {
		return fmt.Errorf("unknown lock %q", name)
	}
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key)
	return fn(ctx)
}
