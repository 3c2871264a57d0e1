package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"entgo.io/ent/dialect"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/ratecall"
)

// RateLimiter allows at most n calls of one kind per key within any period (a sliding
// log: "at most 30 a minute" holds in every minute), counted in the database so that
// every replica sharing it counts the same calls. Take is atomic across replicas:
// on PostgreSQL a transaction-scoped advisory lock on the key serializes its takes;
// SQLite's transactions are serialized already (BEGIN IMMEDIATE). It is safe for
// concurrent use.
type RateLimiter struct {
	client   *ent.Client
	postgres bool
	kind     string
	n        int
	per      time.Duration
	sweeper  sweeper
}

// NewRateLimiter returns a limiter of kind (a name of the limit: its calls are
// counted apart from other kinds') allowing n calls per key within per.
func (s *Store) NewRateLimiter(kind string, n int, per time.Duration) *RateLimiter {
	return &RateLimiter{client: s.Client, postgres: s.Dialect == dialect.Postgres, kind: kind, n: max(n, 1), per: per}
}

// Take records a call of key at now, unless key made n calls within the period before
// now: then it records nothing and returns false and how long until the oldest of
// them is a period old.
func (l *RateLimiter) Take(ctx context.Context, key string, now time.Time) (ok bool, retry time.Duration, err error) {
	sum := sha256.Sum256([]byte(l.kind + "\x00" + key))
	hash := hex.EncodeToString(sum[:])
	now = now.UTC()
	tx, err := l.client.Tx(ctx)
	if err != nil {
		return false, 0, fmt.Errorf("rate limit: %w", err)
	}
	defer func() {
		if err != nil || !ok {
			_ = tx.Rollback()
		}
	}()
	if l.postgres {
		if _, err = tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(binary.BigEndian.Uint64(sum[:8]))); err != nil {
			return false, 0, fmt.Errorf("rate limit: %w", err)
		}
	}
	calls, err := tx.RateCall.Query().
		Where(ratecall.KeyHash(hash), ratecall.AtGT(now.Add(-l.per))).
		Order(ent.Asc(ratecall.FieldAt)).Limit(l.n).All(ctx)
	if err != nil {
		return false, 0, fmt.Errorf("rate limit: %w", err)
	}
	if len(calls) >= l.n {
		return false, calls[0].At.Add(l.per).Sub(now), nil
	}
	if err = tx.RateCall.Create().SetKind(l.kind).SetKeyHash(hash).SetAt(now).Exec(ctx); err != nil {
		return false, 0, fmt.Errorf("rate limit: %w", err)
	}
	if err = tx.Commit(); err != nil {
		return false, 0, fmt.Errorf("rate limit: %w", err)
	}
	l.sweep(ctx, now)
	return true, 0, nil
}

// sweep deletes, once per period, this kind's calls that have left the period, for
// every key.
func (l *RateLimiter) sweep(ctx context.Context, now time.Time) {
	if l.sweeper.due(now, l.per) {
		// A failed sweep is retried a period later; the rows it left are not counted.
		_, _ = l.client.RateCall.Delete().Where(ratecall.Kind(l.kind), ratecall.AtLTE(now.Add(-l.per))).Exec(ctx)
	}
}

// Len is how many calls of this kind are stored, every key together, for tests.
func (l *RateLimiter) Len(ctx context.Context) (int, error) {
	return l.client.RateCall.Query().Where(ratecall.Kind(l.kind)).Count(ctx)
}
