package graph

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLimiterAtMostNPerPeriod: "at most 20 a minute" holds in every minute, not only
// on average. A token bucket refilled at 20 a minute let a client make 20 calls at
// once and 10 more half a minute later (30 within one minute), and 40 within its first.
func TestLimiterAtMostNPerPeriod(t *testing.T) {
	l := newLimiter(20, time.Minute)
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for i := range 20 {
		ok, _ := l.take("a", t0.Add(time.Duration(i)*time.Second))
		require.True(t, ok, "call %d", i+1)
	}
	// Within the minute of the first call: refused, until that call is a minute old.
	for _, at := range []time.Duration{20 * time.Second, 30 * time.Second, 59 * time.Second} {
		ok, retry := l.take("a", t0.Add(at))
		require.False(t, ok, "a 21st call %s after the first", at)
		require.Equal(t, time.Minute-at, retry, "retry when the first call is a minute old")
	}
	// Another key is not affected.
	ok, _ := l.take("b", t0.Add(30*time.Second))
	require.True(t, ok)
	// A minute after the first call, one more; a minute after the second, another.
	ok, _ = l.take("a", t0.Add(time.Minute))
	require.True(t, ok)
	ok, _ = l.take("a", t0.Add(time.Minute+500*time.Millisecond))
	require.False(t, ok)
	ok, _ = l.take("a", t0.Add(time.Minute+time.Second))
	require.True(t, ok)
	// Count every window of a minute over a steady stream of a call a second: never
	// more than 20 accepted.
	l = newLimiter(20, time.Minute)
	var accepted []time.Time
	for i := range 300 {
		now := t0.Add(time.Duration(i) * time.Second)
		if ok, _ := l.take("c", now); ok {
			accepted = append(accepted, now)
		}
	}
	for i, start := range accepted {
		n := 0
		for _, at := range accepted[i:] {
			if at.Sub(start) < time.Minute {
				n++
			}
		}
		require.LessOrEqual(t, n, 20, "calls within the minute from %s", start.Sub(t0))
	}
	require.GreaterOrEqual(t, len(accepted), 100, "the limit still lets 20 a minute through")
}
