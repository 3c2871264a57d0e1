package graph_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/graph"
	"github.com/sallyhq/sally/internal/testclock"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/internal/testserver"
)

// TestLoginFloodFromOneAddress: 30 parallel bad logins (bcrypt at the production
// cost) from one client address. At most 20 a minute are tried; the rest answer
// RATE_LIMITED before any hashing, and no more hashes run at once than there are
// CPUs. Meanwhile another user's `me` is timed; the figures are logged (not
// asserted: the machine may be shared).
//
// It does not call t.Parallel, so that it runs while no parallel test does.
//
// Under the race detector bcrypt is many times slower: the cost is lowered there so
// that the hashes still fit the client's timeout. The clock stands still, so that
// no token of the limit comes back while the flood runs.
func TestLoginFloodFromOneAddress(t *testing.T) {
	cost := auth.DefaultCost
	if raceEnabled {
		cost = 8
	}
	clock := testclock.New(time.Now())
	api := testserver.New(t, testdb.Open(t, testdb.SQLite), testserver.WithDeps(func(d *graph.Deps) {
		d.Hasher = auth.Hasher{Cost: cost}
		d.Now = clock.Now
	}))
	tenantID, _ := api.SeedTenant(t, "Flood Freight")
	other := api.SeedUser(t, tenantID, auth.RoleDispatcher)

	timeMe := func(n int) []time.Duration {
		var ds []time.Duration
		for range n {
			start := time.Now()
			requireCode(t, api.Do(t, other.Token, `{ me { email } }`, nil), "")
			ds = append(ds, time.Since(start))
		}
		return ds
	}
	quiet := timeMe(20)

	const attempts = 30
	codes := make(chan string, attempts)
	var wg sync.WaitGroup
	for i := range attempts {
		wg.Go(func() {
			r := api.Do(t, "", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
				map[string]any{"e": fmt.Sprintf("nobody-%d@example.com", i), "p": "not the password at all"})
			codes <- r.Code()
		})
	}
	var during []time.Duration
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for {
		select {
		case <-done:
		default:
			during = append(during, timeMe(1)...)
			continue
		}
		break
	}
	close(codes)
	count := map[string]int{}
	for c := range codes {
		count[c]++
	}
	t.Logf("bcrypt cost %d: me p50/p95: %s/%s quiet, %s/%s during %d bad logins (%d samples); answers %v; peak hashes at once %d of %d allowed",
		cost, pct(quiet, 50), pct(quiet, 95), pct(during, 50), pct(during, 95), attempts, len(during), count,
		auth.PeakConcurrentHashes(), auth.MaxConcurrentHashes())
	require.Equal(t, map[string]int{graph.CodeUnauthenticated: graph.DefaultLoginsPerMinute, graph.CodeRateLimited: attempts - graph.DefaultLoginsPerMinute}, count)
	require.LessOrEqual(t, auth.PeakConcurrentHashes(), auth.MaxConcurrentHashes())
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)].Round(100 * time.Microsecond)
}
