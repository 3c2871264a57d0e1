package main

import (
	"database/sql"
	"encoding/base64"
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/config"
	"github.com/sallyhq/sally/internal/testpg"
)

// TestFiveReplicasFitDefaultMaxConnections: five replicas under load on a PostgreSQL
// with its default max_connections of 100 (a private cluster) never run out of
// connections: each opens at most DATABASE_MAX_CONNS (10), its event listener
// included. With a pool of 32 per replica, the load got "sorry, too many clients
// already".
func TestFiveReplicasFitDefaultMaxConnections(t *testing.T) {
	t.Parallel()
	pg := testpg.Start(t, testpg.Options{MaxConnections: 100})
	bin := filepath.Join(t.TempDir(), "sally-server")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	env := []string{
		"DATABASE_URL=" + pg.URL(), "PORT=0", "SANDBOX=true", "DEMO=false",
		"JWT_SECRET=replicas-test-jwt-secret-0123456789abcdef", "CREDENTIALS_KEY=" + key,
		"ADMIN_EMAIL=conns@example.com", "ADMIN_PASSWORD=connections test password", "LOG_LEVEL=info",
	}
	var servers []*replica
	for range 5 {
		r := startReplica(t, bin, env)
		servers = append(servers, r)
	}
	token := servers[0].login(t, "conns@example.com", "connections test password")
	for i := range 3 {
		var created struct{ CreateIntegration struct{ ID string } }
		servers[0].gql(t, token, `mutation($in: CreateIntegrationInput!) { createIntegration(input: $in) { id } }`,
			map[string]any{"in": map[string]any{
				"integrationType": "WEATHER", "vendor": "OPENWEATHER", "displayName": fmt.Sprintf("Weather %d", i),
				"credentials": map[string]any{"apiKey": "conns-key"}, "syncIntervalSeconds": 86400,
			}}, &created)
	}

	// Watch the connections while 5 × 40 clients query at once.
	admin, err := sql.Open("postgres", pg.URL())
	require.NoError(t, err)
	defer admin.Close()
	admin.SetMaxOpenConns(1)
	var peak atomic.Int64
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			var n int64
			if admin.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`).Scan(&n) == nil && n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	var (
		wg     sync.WaitGroup
		failed atomic.Int64
		first  atomic.Value
	)
	for _, s := range servers {
		for range 40 {
			wg.Go(func() {
				for range 10 {
					var out any
					raw, ok := s.post(t, token, `{ integrations { id history(limit: 5) { id } stats { totalSyncs p95DurationMs } } users { id } }`, nil, &out)
					if !ok {
						failed.Add(1)
						first.CompareAndSwap(nil, string(raw))
					}
				}
			})
		}
	}
	wg.Wait()
	close(stop)
	<-watched
	t.Logf("5 replicas, 200 clients × 10 queries: %d failed; at most %d server connections at once (limit %d)",
		failed.Load(), peak.Load(), 5*config.DefaultDatabaseMaxConns)
	require.Zero(t, failed.Load(), "first failure: %v", first.Load())
	require.LessOrEqual(t, peak.Load(), int64(5*config.DefaultDatabaseMaxConns))
}
