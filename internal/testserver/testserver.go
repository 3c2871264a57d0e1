// Package testserver runs the GraphQL API in process for tests: the real resolvers and
// handler behind the real auth middleware, served over HTTP by httptest, with helpers
// to seed tenants, users, integrations and sync logs and to send operations.
//
// It is the server's wiring itself (app.New, the composition root server/ runs): the
// sync engine talking to the vendor sandbox over real HTTP, the alert rules as its
// observer, the event bus. app.Options change what would make tests slow or flaky:
// bcrypt at a low cost, no pause after a failed login, millisecond retry waits, a
// fixed JWT secret and credentials key, events kept in the process (no PostgreSQL
// bridge). The background workers do not start: syncs happen when a test asks for
// one, and nothing delivers the alerts (they stay PENDING or MUTED).
package testserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/privacy"
	"github.com/google/uuid"

	"github.com/sallyhq/sally/alert"
	"github.com/sallyhq/sally/app"
	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/config"
	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/integration"
	_ "github.com/sallyhq/sally/ent/runtime" // privacy policies and defaults
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/ent/user"
	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/graph"
	"github.com/sallyhq/sally/internal/testkit"
	"github.com/sallyhq/sally/resilience"
	"github.com/sallyhq/sally/sandbox"
	"github.com/sallyhq/sally/store"
	"github.com/sallyhq/sally/syncer"
)

// Fixed secrets of every test server, so tests can mint their own tokens (NewTokens)
// and open sealed credentials (NewSealer).
const (
	JWTSecret      = "sally-test-jwt-secret-0123456789abcdef"
	CredentialsKey = "0123456789abcdef0123456789abcdef" // 32 bytes: AES-256
)

// PublicURL is the PUBLIC_URL of the test server: alert emails link under it.
const PublicURL = "https://sally.test"

// Password is the password of every seeded user.
const Password = "correct horse battery staple"

// Hasher is the bcrypt hasher of the test server: the lowest cost, for speed.
var Hasher = auth.Hasher{Cost: 4}

// API is an in-process GraphQL API over one store.
type API struct {
	Store    *store.Store
	Resolver *graph.Resolver
	Tokens   *auth.Tokens
	Sealer   *auth.Sealer
	Throttle *store.Throttle
	Engine   *syncer.Engine
	Alerts   *alert.Manager // the engine's Observer
	Bus      *event.Bus
	// Sandbox is the fake vendor APIs the engine calls (at SandboxURL).
	Sandbox    *sandbox.Sandbox
	SandboxURL string
	// Handler is what Server serves at /graphql: the GraphQL handler behind the auth
	// middleware (benchmarks call its ServeHTTP directly).
	Handler http.Handler
	Server  *httptest.Server
	// URL is the GraphQL endpoint, Server.URL + "/graphql".
	URL string

	client  *http.Client
	created atomic.Int64 // integrations CreateIntegration made
}

// Option changes the resolver's dependencies before the handler is built.
type Option func(*graph.Deps)

// WithDeps returns an Option that lets a test replace or add dependencies.
func WithDeps(fn func(*graph.Deps)) Option { return Option(fn) }

// NewTokens returns a token issuer with the test server's secret and the default TTL,
// on the clock now (time.Now when nil): with a clock 13 hours behind it mints tokens
// that have already expired.
func NewTokens(now func() time.Time) *auth.Tokens {
	return auth.NewTokens([]byte(JWTSecret), config.DefaultTokenTTL, now)
}

// NewSealer returns a sealer with the test server's credentials key.
func NewSealer(tb testing.TB) *auth.Sealer {
	tb.Helper()
	s, err := auth.NewSealer([]byte(CredentialsKey))
	if err != nil {
		tb.Fatalf("testserver: %v", err)
	}
	return s
}

// New starts the API over s; it stops when the test ends. It is the server's own
// wiring (app.New) with the test options the package comment lists.
func New(tb testing.TB, s *store.Store, opts ...Option) *API {
	tb.Helper()
	logger := testkit.Logger(tb, slog.LevelWarn)

	sb := sandbox.New(sandbox.Options{Logger: logger.With("component", "sandbox")})
	sbServer := httptest.NewServer(sb)
	tb.Cleanup(sbServer.Close)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	cfg, err := app.LoadConfig(func(string) string { return "" })
	if err != nil {
		tb.Fatalf("testserver: %v", err)
	}
	cfg.JWTSecret, cfg.CredentialsKey = []byte(JWTSecret), []byte(CredentialsKey)
	cfg.PublicURL = PublicURL
	urls := syncer.SandboxURLs(sbServer.URL)
	policy := FastPolicy()
	a, err := app.New(app.Options{
		Config: cfg, Store: s, Logger: logger, SelfURL: srv.URL,
		VendorURLs: &urls, Policy: &policy, Hasher: Hasher, LocalEvents: true,
		Deps: func(d *graph.Deps) {
			d.Sleep = func(context.Context, time.Duration) {}
			d.PublicURL = srv.URL // set-password links lead to this server
			for _, o := range opts {
				o(d)
			}
		},
	})
	if err != nil {
		srv.Close()
		tb.Fatalf("testserver: %v", err)
	}
	r := a.Resolver
	h := auth.Middleware(r.Tokens)(graph.NewHandler(r, graph.HandlerOptions{}))
	mux.Handle("/graphql", h)
	transport := &http.Transport{MaxIdleConnsPerHost: 16}
	api := &API{
		Store: s, Resolver: r, Tokens: r.Tokens, Sealer: r.Sealer, Throttle: r.Throttle,
		Engine: a.Engine, Alerts: a.Alerts, Bus: r.Events, Sandbox: sb, SandboxURL: sbServer.URL,
		Handler: h, Server: srv, URL: srv.URL + "/graphql",
		client: &http.Client{Transport: transport, Timeout: time.Minute},
	}
	tb.Cleanup(func() {
		transport.CloseIdleConnections()
		srv.Close()
	})
	return api
}

// FastPolicy is the resilience config of the test server: testkit's, the production
// shape with millisecond waits, so retries cost a test nothing.
func FastPolicy() resilience.Config { return testkit.FastPolicy() }

// Response is a GraphQL response as a client sees it.
type Response struct {
	Status int             // HTTP status
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
	Body   []byte          // the whole body, e.g. to search it for secrets
}

// Error is one entry of a response's errors.
type Error struct {
	Message    string `json:"message"`
	Path       []any  `json:"path"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

// Code is the extensions.code of the first error, "" when there is none.
func (r Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Extensions.Code
}

// Message is the message of the first error, "" when there is none.
func (r Response) Message() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Message
}

// Decode fails the test when the response has errors, else unmarshals its data into v.
func (r Response) Decode(tb testing.TB, v any) {
	tb.Helper()
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		tb.Fatalf("testserver: want a successful response, got HTTP %d: %s", r.Status, r.Body)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		tb.Fatalf("testserver: decode data %s: %v", r.Data, err)
	}
}

// Do sends one operation over HTTP (POST /graphql), with "Authorization: Bearer token"
// unless token is empty.
func (a *API) Do(tb testing.TB, token, query string, vars map[string]any) Response {
	tb.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		tb.Fatalf("testserver: encode request: %v", err)
	}
	return a.Post(tb, token, body)
}

// Post sends a raw request body to /graphql and parses what comes back; for a body that
// is not a GraphQL response, Data and Errors stay empty and Body says what it was.
func (a *API) Post(tb testing.TB, token string, body []byte) Response {
	tb.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, a.URL, bytes.NewReader(body))
	if err != nil {
		tb.Fatalf("testserver: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := a.client.Do(req)
	if err != nil {
		tb.Fatalf("testserver: POST %s: %v", a.URL, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("testserver: read response: %v", err)
	}
	r := Response{Status: res.StatusCode, Body: raw}
	_ = json.Unmarshal(raw, &r) // not JSON: the caller looks at Status and Body
	r.Status, r.Body = res.StatusCode, raw
	return r
}

// Login logs in through the login mutation and returns the token; it fails the test
// when the login is refused.
func (a *API) Login(tb testing.TB, email, password string) string {
	tb.Helper()
	var out struct {
		Login struct{ Token string }
	}
	a.Do(tb, "", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
		map[string]any{"e": email, "p": password}).Decode(tb, &out)
	return out.Login.Token
}

// System is a context that bypasses the tenant privacy rules, as background jobs use.
func System() context.Context {
	return privacy.DecisionContext(context.Background(), privacy.Allow)
}

// User is a seeded user: its password is Password, Token is a valid token for it.
type User struct {
	ID, TenantID, Email string
	Role                auth.Role
	Token               string
}

// SeedTenant creates a tenant and its first ADMIN directly in the store and returns
// the tenant's id and a token of that admin.
func (a *API) SeedTenant(tb testing.TB, name string) (tenantID, adminToken string) {
	tb.Helper()
	t, err := a.Store.Client.Tenant.Create().SetName(name).Save(System())
	if err != nil {
		tb.Fatalf("testserver: create tenant: %v", err)
	}
	admin := a.SeedUser(tb, t.ID.String(), auth.RoleAdmin)
	return t.ID.String(), admin.Token
}

// SeedUser creates an active user with the role in the tenant (password Password,
// a unique email) and mints a token for it.
func (a *API) SeedUser(tb testing.TB, tenantID string, role auth.Role) User {
	tb.Helper()
	tid, err := uuid.Parse(tenantID)
	if err != nil {
		tb.Fatalf("testserver: tenant id: %v", err)
	}
	hash, err := Hasher.Hash(Password)
	if err != nil {
		tb.Fatalf("testserver: %v", err)
	}
	email := strings.ToLower(string(role)) + "-" + RandomHex(6) + "@example.com"
	u, err := a.Store.Client.User.Create().SetTenantID(tid).SetEmail(email).
		SetPasswordHash(hash).SetRole(user.Role(role)).Save(System())
	if err != nil {
		tb.Fatalf("testserver: create user: %v", err)
	}
	v := auth.Viewer{UserID: u.ID.String(), TenantID: tenantID, Email: email, Role: role}
	token, _, err := a.Tokens.Issue(v)
	if err != nil {
		tb.Fatalf("testserver: issue token: %v", err)
	}
	return User{ID: v.UserID, TenantID: tenantID, Email: email, Role: role, Token: token}
}

// DefaultIntegration is the input CreateIntegration starts from: a Samsara HOS
// integration with a made-up key.
func DefaultIntegration() map[string]any {
	return map[string]any{
		"integrationType": "HOS_ELD",
		"vendor":          "SAMSARA_ELD",
		"displayName":     "Samsara ELD",
		"credentials":     map[string]any{"apiKey": "samsara-test-key-0001"},
	}
}

// CreateIntegration creates an integration through the createIntegration mutation as
// the token's user, from DefaultIntegration with the overrides applied (numbered
// names after the first), and returns its id.
func (a *API) CreateIntegration(tb testing.TB, token string, overrides map[string]any) string {
	tb.Helper()
	in := DefaultIntegration()
	if n := a.created.Add(1); n > 1 {
		// Display names are unique per tenant: the first is "Samsara ELD", later
		// ones "Samsara ELD 2", "Samsara ELD 3"… unless the overrides name them.
		in["displayName"] = fmt.Sprintf("%s %d", in["displayName"], n)
	}
	for k, v := range overrides {
		in[k] = v
	}
	var out struct {
		CreateIntegration struct{ ID string }
	}
	a.Do(tb, token, `mutation($in: CreateIntegrationInput!) { createIntegration(input: $in) { id } }`,
		map[string]any{"in": in}).Decode(tb, &out)
	return out.CreateIntegration.ID
}

// SyncLog describes a sync log to seed. Zero values: SUCCESS, SCHEDULED, 1 attempt.
type SyncLog struct {
	Status    string // SUCCESS, FAILED or RUNNING
	Trigger   string // SCHEDULED or MANUAL
	StartedAt time.Time
	// Duration is how long a finished sync took: completedAt = StartedAt + Duration.
	// RUNNING logs have neither.
	Duration time.Duration
	Error    string // FAILED logs: why
	Attempts int
}

// syncTypes is the sync type of each integration type.
var syncTypes = map[integration.IntegrationType]synclog.SyncType{
	integration.IntegrationTypeHOS_ELD: synclog.SyncTypeHOS_SYNC,
	integration.IntegrationTypeTMS:     synclog.SyncTypeLOAD_SYNC,
	integration.IntegrationTypeFUEL:    synclog.SyncTypeFUEL_SYNC,
	integration.IntegrationTypeWEATHER: synclog.SyncTypeWEATHER_SYNC,
}

// SeedSyncLogs writes sync logs of the integration directly through ent (as the sync
// engine would, bypassing privacy) and returns their ids in the order given. Times are
// truncated to microseconds, the precision PostgreSQL keeps.
func (a *API) SeedSyncLogs(tb testing.TB, integrationID string, logs ...SyncLog) []string {
	tb.Helper()
	ctx := System()
	iid, err := uuid.Parse(integrationID)
	if err != nil {
		tb.Fatalf("testserver: integration id: %v", err)
	}
	in, err := a.Store.Client.Integration.Get(ctx, iid)
	if err != nil {
		tb.Fatalf("testserver: integration %s: %v", integrationID, err)
	}
	ids := make([]string, 0, len(logs))
	for chunk := range slices.Chunk(logs, 500) {
		creates := make([]*ent.SyncLogCreate, len(chunk))
		for i, l := range chunk {
			status := synclog.Status(l.Status)
			if status == "" {
				status = synclog.StatusSUCCESS
			}
			trigger := synclog.Trigger(l.Trigger)
			if trigger == "" {
				trigger = synclog.TriggerSCHEDULED
			}
			attempts := l.Attempts
			if attempts == 0 {
				attempts = 1
			}
			started := l.StartedAt.UTC().Truncate(time.Microsecond)
			c := a.Store.Client.SyncLog.Create().
				SetTenantID(in.TenantID).SetIntegrationID(in.ID).
				SetSyncType(syncTypes[in.IntegrationType]).
				SetStatus(status).SetTrigger(trigger).
				SetStartedAt(started).SetAttempts(attempts)
			if status != synclog.StatusRUNNING {
				c.SetCompletedAt(started.Add(l.Duration).Truncate(time.Microsecond)).
					SetDurationMs(l.Duration.Milliseconds())
			}
			if l.Error != "" {
				c.SetError(l.Error)
			}
			creates[i] = c
		}
		saved, err := a.Store.Client.SyncLog.CreateBulk(creates...).Save(ctx)
		if err != nil {
			tb.Fatalf("testserver: seed sync logs: %v", err)
		}
		for _, s := range saved {
			ids = append(ids, s.ID.String())
		}
	}
	return ids
}

// RandomHex returns n random bytes in hex, for unique names and emails.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
