package store

import (
	"math/rand/v2"
	"time"
)

// NextSyncAfter is when the scheduler should next run an integration: one interval
// after from, plus up to 5% (at most 30 s) of jitter so that integrations created
// together do not all fire in the same second. In microseconds, the precision
// PostgreSQL keeps.
func NextSyncAfter(from time.Time, intervalSeconds int) time.Time {
	interval := time.Duration(intervalSeconds) * time.Second
	jitter := min(interval/20, 30*time.Second)
	if jitter > 0 {
		jitter = rand.N(jitter)
	}
	return from.Add(interval + jitter).UTC().Truncate(time.Microsecond)
}
