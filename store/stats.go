package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"
)

// SyncStats is the aggregate over an integration's finished syncs.
type SyncStats struct {
	Total, Successful, Failed int
	AverageDurationMs         *float64
	P95DurationMs             *float64 // nearest rank: the ceil(0.95·n)-th smallest
	LastSuccessAt             *time.Time
	LastFailureAt             *time.Time
}

// SuccessRate is successful/total·100, 0 when there are none.
func (s SyncStats) SuccessRate() float64 {
	if s.Total == 0 {
		return 0
	}
	return float64(s.Successful) / float64(s.Total) * 100
}

const pgStats = `
SELECT count(*),
       count(*) FILTER (WHERE status = 'SUCCESS'),
       count(*) FILTER (WHERE status = 'FAILED'),
       avg(duration_ms)::float8,
       (percentile_disc(0.95) WITHIN GROUP (ORDER BY duration_ms))::float8,
       max(completed_at) FILTER (WHERE status = 'SUCCESS'),
       max(completed_at) FILTER (WHERE status = 'FAILED')
FROM sync_logs
WHERE tenant_id = $1 AND integration_id = $2 AND status IN ('SUCCESS', 'FAILED')
  AND started_at >= $3`

// SQLite has no percentile aggregate: rank the durations with a window instead, still
// in one statement.
const sqliteStats = `
WITH f AS (
  SELECT status, duration_ms, completed_at FROM sync_logs
  WHERE tenant_id = ? AND integration_id = ? AND status IN ('SUCCESS', 'FAILED')
    AND started_at >= ?
), r AS (
  SELECT duration_ms, row_number() OVER (ORDER BY duration_ms) AS rn, count(*) OVER () AS n
  FROM f WHERE duration_ms IS NOT NULL
)
SELECT count(*),
       coalesce(sum(status = 'SUCCESS'), 0),
       coalesce(sum(status = 'FAILED'), 0),
       avg(duration_ms),
       (SELECT CAST(duration_ms AS REAL) FROM r WHERE rn = (95 * n + 99) / 100),
       max(CASE WHEN status = 'SUCCESS' THEN completed_at END),
       max(CASE WHEN status = 'FAILED' THEN completed_at END)
FROM f`

// Stats aggregates one integration's finished syncs since `since` (zero = all) in one
// query. It trusts the caller to have checked that the integration is the tenant's.
func (s *Store) Stats(ctx context.Context, tenantID, integrationID uuid.UUID, since time.Time) (SyncStats, error) {
	q := pgStats
	if s.Dialect == dialect.SQLite {
		q = sqliteStats
	}
	if since.IsZero() {
		since = time.Unix(0, 0)
	}
	var (
		st         SyncStats
		avg, p95   sql.NullFloat64
		lastOK     any
		lastFailed any
	)
	err := s.DB.QueryRowContext(ctx, q, tenantID, integrationID, since.UTC()).
		Scan(&st.Total, &st.Successful, &st.Failed, &avg, &p95, &lastOK, &lastFailed)
	if err != nil {
		return SyncStats{}, fmt.Errorf("sync stats: %w", err)
	}
	if avg.Valid {
		st.AverageDurationMs = &avg.Float64
	}
	if p95.Valid {
		st.P95DurationMs = &p95.Float64
	}
	if st.LastSuccessAt, err = scanTime(lastOK); err != nil {
		return SyncStats{}, err
	}
	if st.LastFailureAt, err = scanTime(lastFailed); err != nil {
		return SyncStats{}, err
	}
	return st, nil
}

// sqliteTimeLayouts are the forms a time comes back in from SQLite's max().
var sqliteTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04:05.999999999 -0700 MST",
}

func scanTime(v any) (*time.Time, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case time.Time:
		u := t.UTC()
		return &u, nil
	case []byte:
		return scanTime(string(t))
	case string:
		for _, layout := range sqliteTimeLayouts {
			if p, err := time.Parse(layout, t); err == nil {
				u := p.UTC()
				return &u, nil
			}
		}
		return nil, fmt.Errorf("sync stats: unreadable time %q", t)
	default:
		return nil, fmt.Errorf("sync stats: unexpected time type %T", v)
	}
}
