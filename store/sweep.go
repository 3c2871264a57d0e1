package store

import (
	"sync"
	"time"
)

// sweeper tells when a table of timed rows (login failures, rate-limited calls) is due
// the deletion of the rows that left its window: at most once per period per process,
// by whichever caller comes first. The zero value is ready to use.
type sweeper struct {
	mu   sync.Mutex
	last time.Time
}

// due reports whether a sweep is due at now, and if so counts it as done.
func (s *sweeper) due(now time.Time, period time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.last) < period {
		return false
	}
	s.last = now
	return true
}
