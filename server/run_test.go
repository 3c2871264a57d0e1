package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/privacy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/config"
	"github.com/sallyhq/sally/ent/user"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/internal/testkit"
	"github.com/sallyhq/sally/store"
)

const (
	testAdminEmail    = "admin@example.com"
	testAdminPassword = "run-test admin password"
)

// syncBuffer is a bytes.Buffer safe for the server's writes and the test's reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// process is one run of the program in this test process.
type process struct {
	base           string // http://127.0.0.1:port
	cancel         context.CancelFunc
	done           chan struct{} // closed when run returns
	err            error         // what run returned, once done is closed
	stdout, stderr *syncBuffer
}

// baseEnv is the environment of every run: no sandbox, no demo tenant.
func baseEnv(t *testing.T) map[string]string {
	return map[string]string{
		"PORT":           "0",
		"DATA_DIR":       t.TempDir(),
		"ADMIN_EMAIL":    testAdminEmail,
		"ADMIN_PASSWORD": testAdminPassword,
		"SANDBOX":        "false",
		"DEMO":           "false",
		"LOG_LEVEL":      "info",
	}
}

var listening = regexp.MustCompile(`msg=listening addr=(\S+)`)

// start runs the program with env and waits until it listens. It is stopped (and must
// exit cleanly) when the test ends, unless the test stops it first.
func start(t *testing.T, env map[string]string) *process {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &process{cancel: cancel, done: make(chan struct{}), stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	getenv := func(k string) string { return env[k] }
	go func() {
		defer close(p.done)
		p.err = run(ctx, nil, getenv, p.stdout, p.stderr)
	}()
	t.Cleanup(func() {
		cancel()
		<-p.done
		if p.err != nil {
			t.Errorf("run: %v", p.err)
		}
	})

	var m []string
	returned := false // run returned before listening: stop waiting
	require.Eventually(t, func() bool {
		select {
		case <-p.done:
			returned = true
			return true
		default:
		}
		m = listening.FindStringSubmatch(p.stderr.String())
		return m != nil
	}, 2*time.Minute, 5*time.Millisecond, // a hang, not a slow start
		"run never logged \"listening\"; stderr:\n%s", p.stderr)
	if returned {
		t.Fatalf("run returned before listening: %v\nstderr:\n%s", p.err, p.stderr)
	}
	_, port, err := net.SplitHostPort(m[1])
	require.NoError(t, err)
	p.base = "http://127.0.0.1:" + port
	return p
}

// stop cancels the run's context and requires a clean exit.
func (p *process) stop(t *testing.T) {
	t.Helper()
	p.cancel()
	<-p.done
	require.NoError(t, p.err, "stderr:\n%s", p.stderr)
	require.Contains(t, p.stderr.String(), "msg=stopped")
}

// get polls path until it answers 200 and returns the body.
func (p *process) get(t *testing.T, path string) string {
	t.Helper()
	var body string
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		res, err := http.Get(p.base + path)
		require.NoError(c, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(c, err)
		require.Equal(c, http.StatusOK, res.StatusCode, "body: %s", b)
		body = string(b)
	}, 5*time.Second, 10*time.Millisecond, "GET %s", path)
	return body
}

// gql posts one GraphQL operation and decodes its data into out, failing on any error.
func (p *process) gql(t *testing.T, token, query string, vars map[string]any, out any) {
	t.Helper()
	status, raw := testkit.PostGraphQL(t, p.base, token, query, vars)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	var r struct {
		Data   json.RawMessage
		Errors []json.RawMessage
	}
	require.NoError(t, json.Unmarshal(raw, &r), "%s", raw)
	require.Empty(t, r.Errors, "%s", raw)
	require.NoError(t, json.Unmarshal(r.Data, out))
}

func (p *process) login(t *testing.T, email, password string) string {
	t.Helper()
	var out struct{ Login struct{ Token string } }
	p.gql(t, "", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
		map[string]any{"e": email, "p": password}, &out)
	require.NotEmpty(t, out.Login.Token)
	return out.Login.Token
}

// exercise checks health, readiness, a login and two queries; it returns the token.
func (p *process) exercise(t *testing.T, email, password string) string {
	t.Helper()
	require.Equal(t, "ok\n", p.get(t, "/healthz"))
	require.Equal(t, "ready\n", p.get(t, "/readyz"))
	token := p.login(t, email, password)
	var out struct {
		Me struct {
			Email, Role string
			Tenant      struct{ Name string }
		}
		Integrations []struct{ ID string }
	}
	p.gql(t, token, `{ me { email role tenant { name } } integrations { id } }`, nil, &out)
	require.Equal(t, email, out.Me.Email)
	require.Equal(t, "SUPER_ADMIN", out.Me.Role)
	require.Equal(t, "Sally", out.Me.Tenant.Name)
	require.NotNil(t, out.Integrations)
	require.Empty(t, out.Integrations, "DEMO=false: no integrations")
	return token
}

// seedAdmin creates the database of env with its first SUPER_ADMIN already in it,
// hashed at bcrypt's lowest cost: the server then skips its bootstrap, and the test
// skips two bcrypt runs at the production cost (seconds each under -race).
// TestRunGeneratedAdminPassword covers the bootstrap itself.
func seedAdmin(t *testing.T, env map[string]string) {
	t.Helper()
	cfg, err := config.Load(func(k string) string { return env[k] })
	require.NoError(t, err)
	ctx := privacy.DecisionContext(context.Background(), privacy.Allow)
	st, err := store.Open(ctx, cfg.Driver, cfg.DSN)
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, st.Migrate(ctx))
	hash, err := auth.Hasher{Cost: 4}.Hash(testAdminPassword)
	require.NoError(t, err)
	tenant, err := st.Client.Tenant.Create().SetName("Sally").Save(ctx)
	require.NoError(t, err)
	require.NoError(t, st.Client.User.Create().SetTenantID(tenant.ID).SetEmail(testAdminEmail).
		SetPasswordHash(hash).SetRole(user.RoleSUPER_ADMIN).Exec(ctx))
}

func TestRunSQLite(t *testing.T) {
	t.Parallel()
	env := baseEnv(t)
	seedAdmin(t, env)
	p := start(t, env)
	token := p.exercise(t, testAdminEmail, testAdminPassword)
	p.stop(t)

	// The embedded default generated its secrets once, privately, in DATA_DIR.
	fi, err := os.Stat(filepath.Join(env["DATA_DIR"], config.SecretsFile))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	require.NotContains(t, p.stderr.String(), testAdminPassword, "the admin password must never be logged")

	t.Run("RestartKeepsDataAndSecrets", func(t *testing.T) {
		p := start(t, env)
		// A token of the first run still works: the JWT secret was reused.
		var out struct{ Users []struct{ Email string } }
		p.gql(t, token, `{ users { email } }`, nil, &out)
		require.Len(t, out.Users, 1, "the bootstrap admin is created once")
		p.stop(t)
	})
}

// TestRunGeneratedAdminPassword runs the real bootstrap: without ADMIN_PASSWORD the
// first SUPER_ADMIN gets a random password, printed once on stdout.
func TestRunGeneratedAdminPassword(t *testing.T) {
	t.Parallel()
	env := baseEnv(t)
	delete(env, "ADMIN_PASSWORD")
	p := start(t, env)
	// On a line of its own, after an empty line and a rule: impossible to miss.
	m := regexp.MustCompile(`(?:^|\n)\n={72}\n[^\n]*\n\n +email: +admin@example.com\n +password: (\S+)\n`).FindStringSubmatch(p.stdout.String())
	require.NotNil(t, m, "stdout: %s", p.stdout)
	require.Contains(t, p.stdout.String(), "reset-admin admin@example.com")
	require.NotContains(t, p.stderr.String(), m[1], "printed once on stdout, never logged")
	p.exercise(t, testAdminEmail, m[1])
	p.stop(t)
}

func TestRunPostgres(t *testing.T) {
	t.Parallel()
	env := baseEnv(t)
	env["DATABASE_URL"] = testdb.PostgresURL(t)
	env["JWT_SECRET"] = "run-test-jwt-secret-of-more-than-32-bytes"
	env["CREDENTIALS_KEY"] = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	seedAdmin(t, env)
	p := start(t, env)
	p.exercise(t, testAdminEmail, testAdminPassword)
	p.stop(t)
	require.NotContains(t, p.stderr.String(), env["JWT_SECRET"])
	require.NoFileExists(t, filepath.Join(env["DATA_DIR"], config.SecretsFile), "PostgreSQL never generates secrets")
}

func TestRunPostgresRequiresSecrets(t *testing.T) {
	t.Parallel()
	env := baseEnv(t)
	env["DATABASE_URL"] = testdb.BaseURL()
	env["CREDENTIALS_KEY"] = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	var stdout, stderr syncBuffer
	err := run(context.Background(), nil, func(k string) string { return env[k] }, &stdout, &stderr)
	require.Error(t, err)
	require.Contains(t, err.Error(), "JWT_SECRET")
	require.NotContains(t, err.Error(), "CREDENTIALS_KEY is", "only the missing one is named")
	require.False(t, strings.Contains(stderr.String(), "listening"))
}

// The operator's recovery path: reset-admin prints a one-time link (under PUBLIC_URL)
// for the user, on SQLite and PostgreSQL, next to a running server; the old password
// works until the link is used, the link works once.
func TestResetAdmin(t *testing.T) {
	t.Parallel()
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			env := baseEnv(t)
			env["PUBLIC_URL"] = "https://sally.example.com/"
			if driver == "postgres" {
				env["DATABASE_URL"] = testdb.PostgresURL(t)
				env["JWT_SECRET"] = "run-test-jwt-secret-of-more-than-32-bytes"
				env["CREDENTIALS_KEY"] = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
			}
			seedAdmin(t, env)
			p := start(t, env)
			getenv := func(k string) string { return env[k] }

			var out, errOut syncBuffer
			err := run(context.Background(), []string{"reset-admin", "nobody@example.com"}, getenv, &out, &errOut)
			require.ErrorContains(t, err, "no user has the email nobody@example.com")
			err = run(context.Background(), []string{"reset-admin"}, getenv, &out, &errOut)
			require.ErrorContains(t, err, "usage")

			require.NoError(t, run(context.Background(), []string{"reset-admin", "Admin@Example.com"}, getenv, &out, &errOut))
			m := regexp.MustCompile(`(?m)^    (https://sally\.example\.com/#/set-password/(\S+))$`).FindStringSubmatch(out.String())
			require.NotNil(t, m, "stdout: %s", out.String())
			p.login(t, testAdminEmail, testAdminPassword) // still works until the link is used

			const fresh = "recovered orchard lantern"
			var set struct{ SetPassword struct{ Token string } }
			p.gql(t, "", `mutation($t: String!, $p: String!) { setPassword(token: $t, newPassword: $p) { token } }`,
				map[string]any{"t": m[2], "p": fresh}, &set)
			require.NotEmpty(t, set.SetPassword.Token)
			p.login(t, testAdminEmail, fresh)
			body, err := json.Marshal(map[string]any{"query": `mutation($t: String!) { setPassword(token: $t, newPassword: "another good passphrase") { token } }`,
				"variables": map[string]any{"t": m[2]}})
			require.NoError(t, err)
			res, err := http.Post(p.base+"/graphql", "application/json", bytes.NewReader(body))
			require.NoError(t, err)
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			require.Contains(t, string(raw), "already used", "the link works once")
			p.stop(t)
		})
	}
}
