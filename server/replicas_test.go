package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/internal/testkit"
	"github.com/sallyhq/sally/internal/testpg"
	"github.com/sallyhq/sally/internal/wsclient"
)

// Live events across replicas: two server processes on one PostgreSQL database.

// TestReplicasShareLiveEvents: an event published on server 1 reaches a subscriber of
// server 2, and each server's own subscribers get each event exactly once.
func TestReplicasShareLiveEvents(t *testing.T) {
	t.Parallel()
	rs := startReplicas(t)
	one, two := rs.servers[0], rs.servers[1]

	onTwo := rs.subscribe(t, two)
	onOne := rs.subscribe(t, one)
	logID := one.sync(t, rs.token, rs.integrationID)
	requireSyncEvents(t, onTwo, logID)
	requireSyncEvents(t, onOne, logID)

	// Nothing twice: the next event either sees is the next sync's, here from server 2.
	next := two.sync(t, rs.token, rs.integrationID)
	require.NotEqual(t, logID, next)
	requireSyncEvents(t, onOne, next)
	requireSyncEvents(t, onTwo, next)
}

// TestReplicasShareLiveEventsAfterPostgresRestart restarts PostgreSQL (a private
// cluster: the machine's shared one is left alone) under two running servers. Each
// server's listener listens again by itself, each subscriber is told with a
// STREAM_RESET that it may have missed events, and events flow again on the same
// subscription.
func TestReplicasShareLiveEventsAfterPostgresRestart(t *testing.T) {
	t.Parallel()
	pg := testpg.Start(t, testpg.Options{})
	rs := startReplicasOn(t, pg.URL())
	one, two := rs.servers[0], rs.servers[1]
	onTwo := rs.subscribe(t, two)
	requireSyncEvents(t, onTwo, one.sync(t, rs.token, rs.integrationID))

	marks := []int{one.logLen(), two.logLen()}
	pg.Stop(t)
	pg.Start(t)
	// Each server's listener notices and listens again by itself.
	for i, s := range rs.servers {
		s.waitLog(t, marks[i], "event listener reconnected")
	}
	requireStreamReset(t, onTwo)

	// The servers were not restarted, nor was the subscription: events flow again.
	var logID string
	require.Eventually(t, func() bool {
		id, ok := one.trySync(t, rs.token, rs.integrationID) // the pool's first tries may fail
		logID = id
		return ok
	}, time.Minute, 500*time.Millisecond)
	requireSyncEvents(t, onTwo, logID)
}

// requireStreamReset reads sub until a STREAM_RESET.
func requireStreamReset(t *testing.T, sub *wsclient.Subscription) {
	t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		m, err := sub.Next(ctx)
		cancel()
		require.NoError(t, err, "waiting for a STREAM_RESET")
		var p struct {
			Data struct{ SyncEvents struct{ Type string } }
		}
		require.NoError(t, json.Unmarshal(m.Payload, &p))
		if p.Data.SyncEvents.Type == "STREAM_RESET" {
			return
		}
	}
}

// requireSyncEvents reads sub until the SYNC_STARTED and SYNC_SUCCEEDED of the sync
// logID, in that order. Events of other syncs are passed over, before and between
// them: after PostgreSQL's restart a scheduled sync of the integration (or one a
// failed attempt started) may run on the other replica at the same time.
func requireSyncEvents(t *testing.T, sub *wsclient.Subscription, logID string) {
	t.Helper()
	var got []string
	for !slices.Contains(got, "SYNC_SUCCEEDED") {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		m, err := sub.Next(ctx)
		cancel()
		require.NoError(t, err, "waiting for the events of sync %s, got %v", logID, got)
		require.Equal(t, "next", m.Type, "%s", m.Payload)
		var p struct {
			Data struct {
				SyncEvents struct {
					Type    string
					SyncLog struct{ ID string }
				}
			}
		}
		require.NoError(t, json.Unmarshal(m.Payload, &p))
		if e := p.Data.SyncEvents; e.SyncLog.ID == logID {
			got = append(got, e.Type)
		}
	}
	require.Equal(t, []string{"SYNC_STARTED", "SYNC_SUCCEEDED"}, got)
}

type replicas struct {
	servers       []*replica
	token         string
	integrationID string
}

// startReplicas builds ./server and runs it twice on a fresh schema of the test
// PostgreSQL, with the sandbox; both listen for each other's events when it returns.
func startReplicas(t *testing.T) *replicas {
	t.Helper()
	return startReplicasOn(t, testdb.PostgresURL(t))
}

// startReplicasOn is startReplicas on the database at dsn.
func startReplicasOn(t *testing.T, dsn string) *replicas {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sally-server")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	env := []string{
		"DATABASE_URL=" + dsn, "PORT=0", "SANDBOX=true", "DEMO=false",
		"JWT_SECRET=replicas-test-jwt-secret-0123456789abcdef", "CREDENTIALS_KEY=" + key,
		"ADMIN_EMAIL=replicas@example.com", "ADMIN_PASSWORD=replicas test password", "LOG_LEVEL=info",
		"LOG_FORMAT=text",
	}
	rs := &replicas{}
	for range 2 { // one after the other: the first creates the schema and the admin
		r := startReplica(t, bin, env)
		r.waitLog(t, 0, "listening for other servers' events")
		rs.servers = append(rs.servers, r)
	}
	rs.token = rs.servers[0].login(t, "replicas@example.com", "replicas test password")
	var created struct{ CreateIntegration struct{ ID string } }
	rs.servers[0].gql(t, rs.token, `mutation($in: CreateIntegrationInput!) { createIntegration(input: $in) { id } }`,
		map[string]any{"in": map[string]any{
			"integrationType": "HOS_ELD", "vendor": "SAMSARA_ELD", "displayName": "Samsara ELD",
			"credentials": map[string]any{"apiKey": "replicas-key"}, "syncIntervalSeconds": 86400,
		}}, &created)
	rs.integrationID = created.CreateIntegration.ID
	return rs
}

// subscribe subscribes to syncEvents on s and waits until s has registered it.
func (rs *replicas) subscribe(t *testing.T, s *replica) *wsclient.Subscription {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	before := s.subscribers(t)
	c, err := wsclient.Dial(ctx, s.url+"/graphql", wsclient.Options{Token: rs.token})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	sub, err := c.Subscribe(ctx, `subscription { syncEvents { type syncLog { id } } }`, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return s.subscribers(t) > before }, 30*time.Second, 10*time.Millisecond)
	return sub
}

// replica is one server process.
type replica struct {
	url  string
	cmd  *exec.Cmd
	done chan struct{}

	mu   sync.Mutex
	logs []string
}

var replicaListening = regexp.MustCompile(`msg=listening .*url=(\S+)`)

func startReplica(t *testing.T, bin string, env []string) *replica {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "DATA_DIR="+t.TempDir())
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	r := &replica{cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			r.mu.Lock()
			r.logs = append(r.logs, sc.Text())
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-r.done
		}
		err := cmd.Wait()
		if t.Failed() || err != nil {
			t.Logf("server %s (exit: %v) logged:\n%s", r.url, err, strings.Join(r.lines(0), "\n"))
		}
	})
	line := r.waitLog(t, 0, "msg=listening")
	r.url = replicaListening.FindStringSubmatch(line)[1]
	return r
}

func (r *replica) lines(from int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.logs[from:])
}

func (r *replica) logLen() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.logs)
}

// waitLog waits for a log line containing s among those from the from-th on.
func (r *replica) waitLog(t *testing.T, from int, s string) string {
	t.Helper()
	var line string
	exited := false // the server ended before logging s: stop waiting
	require.Eventually(t, func() bool {
		for _, l := range r.lines(from) {
			if strings.Contains(l, s) {
				line = l
				return true
			}
		}
		select {
		case <-r.done:
			exited = true
		default:
		}
		return exited
	}, 2*time.Minute, 10*time.Millisecond, "the server did not log %q within 2 minutes", s)
	if exited {
		t.Fatalf("the server exited before logging %q", s)
	}
	return line
}

// subscribers reads the server's sally_event_subscribers gauge.
func (r *replica) subscribers(t *testing.T) int {
	t.Helper()
	res, err := http.Get(r.url + "/metrics")
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^sally_event_subscribers (\d+)`).FindSubmatch(b)
	require.NotNil(t, m, "no sally_event_subscribers in /metrics")
	n := 0
	for _, c := range m[1] {
		n = 10*n + int(c-'0')
	}
	return n
}

// post sends one GraphQL operation; ok is false when the answer carries errors.
func (r *replica) post(t *testing.T, token, query string, vars map[string]any, out any) (raw []byte, ok bool) {
	t.Helper()
	_, raw = testkit.PostGraphQL(t, r.url, token, query, vars)
	var resp struct {
		Data   json.RawMessage
		Errors []json.RawMessage
	}
	require.NoError(t, json.Unmarshal(raw, &resp), "%s", raw)
	if len(resp.Errors) > 0 {
		return raw, false
	}
	require.NoError(t, json.Unmarshal(resp.Data, out))
	return raw, true
}

func (r *replica) gql(t *testing.T, token, query string, vars map[string]any, out any) {
	t.Helper()
	raw, ok := r.post(t, token, query, vars, out)
	require.True(t, ok, "%s", raw)
}

func (r *replica) login(t *testing.T, email, password string) string {
	t.Helper()
	var out struct{ Login struct{ Token string } }
	r.gql(t, "", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
		map[string]any{"e": email, "p": password}, &out)
	return out.Login.Token
}

// trySync runs a manual sync; ok is false when it did not succeed.
func (r *replica) trySync(t *testing.T, token, integrationID string) (logID string, ok bool) {
	t.Helper()
	var out struct{ SyncIntegration struct{ ID, Status string } }
	raw, ok := r.post(t, token, `mutation($id: ID!) { syncIntegration(id: $id) { id status } }`,
		map[string]any{"id": integrationID}, &out)
	if !ok || out.SyncIntegration.Status != "SUCCESS" {
		t.Logf("sync on %s did not succeed: %s", r.url, raw)
		return "", false
	}
	return out.SyncIntegration.ID, true
}

func (r *replica) sync(t *testing.T, token, integrationID string) string {
	t.Helper()
	id, ok := r.trySync(t, token, integrationID)
	require.True(t, ok)
	return id
}
