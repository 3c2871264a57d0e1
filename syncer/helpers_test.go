package syncer_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/integration"
	_ "github.com/sallyhq/sally/ent/runtime" // privacy policies and defaults
	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/internal/testclock"
	"github.com/sallyhq/sally/internal/testkit"
	"github.com/sallyhq/sally/resilience"
	"github.com/sallyhq/sally/sandbox"
	"github.com/sallyhq/sally/store"
	"github.com/sallyhq/sally/syncer"
	"github.com/sallyhq/sally/vendors"
)

// credentialsKey is the tests' CREDENTIALS_KEY (32 bytes).
const credentialsKey = "0123456789abcdef0123456789abcdef"

// fixedNow is the sandbox clock of tests that need vendor data to stand still.
var fixedNow = time.Date(2025, 3, 12, 15, 30, 0, 0, time.UTC)

// fastPolicy is the resilience config of the tests (testkit's, shared with graph's
// test server).
func fastPolicy() resilience.Config { return testkit.FastPolicy() }

// fixture is one test's sync engine over a real database and the real sandbox,
// reached over real HTTP, with a tenant to put integrations in.
type fixture struct {
	store    *store.Store
	sandbox  *sandbox.Sandbox
	server   *httptest.Server
	urls     syncer.VendorURLs
	sealer   *auth.Sealer
	bus      *event.Bus
	http     *http.Client
	logger   *slog.Logger
	policy   resilience.Config
	engine   *syncer.Engine
	tenantID uuid.UUID
}

// option changes a fixture before its engine is built.
type option func(*fixtureConfig)

type fixtureConfig struct {
	sandboxNow func() time.Time
	policy     resilience.Config
	engine     func(*syncer.Options)
}

// withFixedClock freezes the sandbox's clock, so vendor data does not move.
func withFixedClock() option {
	return func(c *fixtureConfig) { c.sandboxNow = func() time.Time { return fixedNow } }
}

// clock is a sandbox clock a test moves by hand.
type clock = testclock.Clock

func newClock(t time.Time) *clock { return testclock.New(t) }

// withClock runs the sandbox on c.
func withClock(c *clock) option { return func(cfg *fixtureConfig) { cfg.sandboxNow = c.Now } }

// withPolicy replaces the resilience config.
func withPolicy(p resilience.Config) option { return func(c *fixtureConfig) { c.policy = p } }

// withEngine changes the engine's options.
func withEngine(fn func(*syncer.Options)) option { return func(c *fixtureConfig) { c.engine = fn } }

func setup(t testing.TB, s *store.Store, opts ...option) *fixture {
	t.Helper()
	cfg := fixtureConfig{policy: fastPolicy()}
	for _, o := range opts {
		o(&cfg)
	}
	logger := testLogger(t)
	sb := sandbox.New(sandbox.Options{Now: cfg.sandboxNow, Logger: logger.With("component", "sandbox")})
	srv := httptest.NewServer(http.StripPrefix("/sandbox", sb))
	t.Cleanup(srv.Close)
	sealer, err := auth.NewSealer([]byte(credentialsKey))
	require.NoError(t, err)
	hc := vendors.NewHTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	base := srv.URL + "/sandbox"
	f := &fixture{
		store:   s,
		sandbox: sb,
		server:  srv,
		urls:    syncer.SandboxURLs(base),
		sealer:  sealer,
		bus:     event.NewBus(4096),
		http:    hc,
		logger:  logger,
		policy:  cfg.policy,
	}
	f.engine = f.newEngine(t, s, cfg.engine)
	f.tenantID = f.tenant(t, "Acme Freight")
	return f
}

// newEngine builds another Engine over st, sharing the fixture's sandbox, bus and
// policy (a second replica, or the same one after a restart).
func (f *fixture) newEngine(t testing.TB, st *store.Store, mod func(*syncer.Options)) *syncer.Engine {
	t.Helper()
	o := syncer.Options{
		Store:      st,
		Sealer:     f.sealer,
		URLs:       f.urls,
		HTTPClient: f.http,
		Settings:   resilience.Settings{Default: f.policy},
		Publisher:  f.bus,
		Logger:     f.logger.With("component", "syncer"),
	}
	if mod != nil {
		mod(&o)
	}
	return syncer.New(o)
}

// sys is a context with the tenant privacy rules lifted, as the engine's own work has.
func sys() context.Context { return syncer.System(context.Background()) }

// viewer is an API caller's context: a dispatcher of the tenant.
func viewer(tenantID uuid.UUID) context.Context {
	return auth.NewContext(context.Background(), &auth.Viewer{
		UserID: uuid.NewString(), TenantID: tenantID.String(), Email: "dispatch@example.com", Role: auth.RoleDispatcher,
	})
}

func (f *fixture) tenant(t testing.TB, name string) uuid.UUID {
	t.Helper()
	tn, err := f.store.Client.Tenant.Create().SetName(name).Save(sys())
	require.NoError(t, err)
	return tn.ID
}

// typeOf is each vendor's integration type.
var typeOf = map[integration.Vendor]integration.IntegrationType{
	integration.VendorSAMSARA_ELD:   integration.IntegrationTypeHOS_ELD,
	integration.VendorTRUCKBASE_TMS: integration.IntegrationTypeTMS,
	integration.VendorFUELFINDER:    integration.IntegrationTypeFUEL,
	integration.VendorOPENWEATHER:   integration.IntegrationTypeWEATHER,
}

// integration creates an integration of the fixture's tenant with the API key, not
// scheduled (the tests start syncs themselves unless they set next_sync_at).
func (f *fixture) integration(t testing.TB, v integration.Vendor, key string) *ent.Integration {
	t.Helper()
	return f.integrationIn(t, f.tenantID, v, key)
}

func (f *fixture) integrationIn(t testing.TB, tenantID uuid.UUID, v integration.Vendor, key string) *ent.Integration {
	t.Helper()
	sealed, err := f.sealer.SealCredentials(auth.Credentials{APIKey: key, APISecret: "secret-" + key})
	require.NoError(t, err)
	in, err := f.store.Client.Integration.Create().SetTenantID(tenantID).
		SetIntegrationType(typeOf[v]).SetVendor(v).SetDisplayName(fmt.Sprintf("%s %s", v, key)).
		SetCredentials(sealed).SetCredentialsHint(auth.Hint(key)).Save(sys())
	require.NoError(t, err)
	return in
}

// syncNow runs a manual sync and returns its finished log.
func (f *fixture) syncNow(t testing.TB, e *syncer.Engine, id uuid.UUID) *ent.SyncLog {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lg, err := e.SyncNow(ctx, id)
	require.NoError(t, err)
	require.NotNil(t, lg)
	return lg
}

// requests is how many requests the sandbox's vendor has received.
func (f *fixture) requests(vendor string) int64 { return f.sandbox.Stats()[vendor].Requests }

func (f *fixture) setFault(t testing.TB, vendor string, ft sandbox.Fault) {
	t.Helper()
	require.NoError(t, f.sandbox.SetFault(vendor, ft))
}

// subscribe collects the tenant's events from now on.
func (f *fixture) subscribe(t *testing.T) *events {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return &events{sub: f.bus.Subscribe(ctx, event.Filter{TenantID: f.tenantID.String()})}
}

// events is a subscription read without blocking: the engine publishes before
// SyncNow returns, so what a sync published is there when it has returned.
type events struct {
	sub  *event.Subscription
	seen []event.Event
}

// drain returns every event received so far (the ones drained before included).
func (e *events) drain(t *testing.T) []event.Event {
	t.Helper()
	for {
		select {
		case ev, ok := <-e.sub.C:
			require.True(t, ok, "subscription closed: %v", e.sub.Err())
			e.seen = append(e.seen, ev)
		default:
			return e.seen
		}
	}
}

// types lists the types of the events received so far, in order.
func (e *events) types(t *testing.T) []event.Type {
	t.Helper()
	var out []event.Type
	for _, ev := range e.drain(t) {
		out = append(out, ev.Type)
	}
	return out
}

// ofType returns the events of one type received so far.
func (e *events) ofType(t *testing.T, typ event.Type) []event.Event {
	t.Helper()
	var out []event.Event
	for _, ev := range e.drain(t) {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// integrationNow reads the integration as stored.
func (f *fixture) integrationNow(t *testing.T, id uuid.UUID) *ent.Integration {
	t.Helper()
	in, err := f.store.Client.Integration.Get(sys(), id)
	require.NoError(t, err)
	return in
}

// testLogger sends the engine's logs to t.Log until the test ends.
func testLogger(t testing.TB) *slog.Logger { return testkit.Logger(t, slog.LevelInfo) }

// str reads an optional string for assertions.
func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
