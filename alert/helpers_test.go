package alert_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/privacy"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/alert"
	"github.com/sallyhq/sally/ent"
	entalert "github.com/sallyhq/sally/ent/alert"
	"github.com/sallyhq/sally/ent/integration"
	_ "github.com/sallyhq/sally/ent/runtime" // privacy policies and defaults
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/ent/user"
	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/internal/testkit"
	"github.com/sallyhq/sally/internal/testsmtp"
	"github.com/sallyhq/sally/mail"
	"github.com/sallyhq/sally/store"
	"github.com/sallyhq/sally/syncer"
)

// sys is a context with the tenant privacy rules lifted.
func sys() context.Context { return privacy.DecisionContext(context.Background(), privacy.Allow) }

// wait is the generous bound of every poll: tests never assert an upper bound on
// timing, they only stop waiting for something that is not coming. tick is how
// often a poll (require.EventuallyWithT) looks.
const (
	wait = 20 * time.Second
	tick = 10 * time.Millisecond
)

// fixture is one test's alerting over a real database and a real SMTP server: two
// tenants with their users, a Manager, a Worker with millisecond backoffs, and the
// event bus.
type fixture struct {
	st      *store.Store
	db      *ent.Client
	smtp    *testsmtp.Server
	sender  *mail.Sender
	bus     *event.Bus
	logger  *slog.Logger
	mgr     *alert.Manager
	worker  *alert.Worker
	tenantA uuid.UUID
	tenantB uuid.UUID
	// The recipients each tenant's alerts must go to, sorted.
	adminsA, adminsB []string
}

type fixtureConfig struct {
	noWorker bool // the test starts workers itself
	noSender bool // SMTP_HOST unset
	worker   func(*alert.WorkerOptions)
}

type option func(*fixtureConfig)

func withoutWorker() option { return func(c *fixtureConfig) { c.noWorker = true } }
func withoutSender() option { return func(c *fixtureConfig) { c.noSender = true } }

// withWorker changes the worker's options.
func withWorker(fn func(*alert.WorkerOptions)) option {
	return func(c *fixtureConfig) { c.worker = fn }
}

func setup(t *testing.T, st *store.Store, opts ...option) *fixture {
	t.Helper()
	var cfg fixtureConfig
	for _, o := range opts {
		o(&cfg)
	}
	f := &fixture{st: st, db: st.Client, bus: event.NewBus(1024), logger: testLogger(t)}
	f.smtp = testsmtp.New(t, testsmtp.Options{})
	f.sender = newSender(t, f.smtp)

	f.tenantA = f.tenant(t, "Acme Freight")
	f.tenantB = f.tenant(t, "Beta Logistics")
	f.user(t, f.tenantA, "ann.admin@acme.test", user.RoleADMIN, true)
	f.user(t, f.tenantA, "sam.super@acme.test", user.RoleSUPER_ADMIN, true)
	f.user(t, f.tenantA, "dan.dispatch@acme.test", user.RoleDISPATCHER, true)
	f.user(t, f.tenantA, "gone.admin@acme.test", user.RoleADMIN, false)
	f.user(t, f.tenantB, "bea.admin@beta.test", user.RoleADMIN, true)
	f.adminsA = []string{"ann.admin@acme.test", "sam.super@acme.test"}
	f.adminsB = []string{"bea.admin@beta.test"}

	if !cfg.noWorker {
		var s alert.Sender
		if !cfg.noSender {
			s = senderOf(f.sender)
		}
		f.worker = f.startWorker(t, st.Client, s, cfg.worker)
	}
	f.mgr = f.newManager(st.Client)
	return f
}

// newManager is a Manager over db (another replica's, when db is another store's).
func (f *fixture) newManager(db *ent.Client) *alert.Manager {
	o := alert.Options{Client: db, Publisher: f.bus, Logger: f.logger.With("component", "alert"), VendorName: syncer.DisplayName}
	if f.worker != nil {
		o.Notify = f.worker.Kick
	}
	return alert.NewManager(o)
}

// fastWorker are the worker options of the tests: millisecond polls and backoffs.
func fastWorker(db *ent.Client, s alert.Sender, logger *slog.Logger) alert.WorkerOptions {
	return alert.WorkerOptions{
		Client: db, Sender: s, Logger: logger,
		PollEvery: 20 * time.Millisecond, BaseBackoff: 20 * time.Millisecond,
		MaxBackoff: 100 * time.Millisecond, SendTimeout: 10 * time.Second,
	}
}

// startWorker runs a Worker until the test ends.
func (f *fixture) startWorker(t *testing.T, db *ent.Client, s alert.Sender, mod func(*alert.WorkerOptions)) *alert.Worker {
	t.Helper()
	o := fastWorker(db, s, f.logger.With("component", "alert-worker"))
	if mod != nil {
		mod(&o)
	}
	w := alert.NewWorker(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return w
}

// newSender is the real SMTP sender, pointed at the test's server.
func newSender(t *testing.T, srv *testsmtp.Server) *mail.Sender {
	t.Helper()
	s, err := mail.New(mail.Options{
		Host: srv.Host(), Port: srv.Port(), TLS: mail.TLSNone, From: "alerts@sally.app",
		Timeout: 10 * time.Second,
	})
	require.NoError(t, err)
	return s
}

// senderOf adapts the mail sender, as the server does.
func senderOf(s *mail.Sender) alert.Sender {
	return alert.SenderFunc(func(ctx context.Context, m alert.Message) error {
		return s.Send(ctx, mail.Message(m))
	})
}

func (f *fixture) tenant(t *testing.T, name string) uuid.UUID {
	t.Helper()
	tn, err := f.db.Tenant.Create().SetName(name).Save(sys())
	require.NoError(t, err)
	return tn.ID
}

func (f *fixture) user(t *testing.T, tenantID uuid.UUID, email string, role user.Role, active bool) {
	t.Helper()
	err := f.db.User.Create().SetTenantID(tenantID).SetEmail(email).SetPasswordHash("x").
		SetRole(role).SetIsActive(active).Exec(sys())
	require.NoError(t, err)
}

// integration creates an enabled Samsara integration of the tenant, with mod's changes.
func (f *fixture) integration(t *testing.T, tenantID uuid.UUID, name string, mod ...func(*ent.IntegrationCreate)) *ent.Integration {
	t.Helper()
	c := f.db.Integration.Create().SetTenantID(tenantID).
		SetIntegrationType(integration.IntegrationTypeHOS_ELD).SetVendor(integration.VendorSAMSARA_ELD).
		SetDisplayName(name).SetCredentials("sealed").SetCredentialsHint("…1234")
	for _, m := range mod {
		m(c)
	}
	in, err := c.Save(sys())
	require.NoError(t, err)
	return in
}

// syncLog records a finished sync of the integration, started at at, as the engine
// does (the sync log, then the integration's last sync), and returns it.
func (f *fixture) syncLog(t *testing.T, in *ent.Integration, status synclog.Status, at time.Time, errMsg, class string) *ent.SyncLog {
	t.Helper()
	at = at.UTC()
	c := f.db.SyncLog.Create().SetTenantID(in.TenantID).SetIntegrationID(in.ID).
		SetSyncType(synclog.SyncTypeHOS_SYNC).SetTrigger(synclog.TriggerSCHEDULED).
		SetStatus(status).SetStartedAt(at).SetCompletedAt(at.Add(time.Second)).SetDurationMs(1000)
	if errMsg != "" {
		c.SetError(errMsg).SetErrorClass(class)
	}
	lg, err := c.Save(sys())
	require.NoError(t, err)
	require.NoError(t, f.db.Integration.UpdateOneID(in.ID).SetLastSyncAt(at.Add(time.Second)).
		SetLastSyncStatus(integration.LastSyncStatus(status)).Exec(sys()))
	return lg
}

// fail records a failed sync now and runs the rules on it, as the engine does.
func (f *fixture) fail(t *testing.T, in *ent.Integration) {
	t.Helper()
	lg := f.syncLog(t, in, synclog.StatusFAILED, time.Now(), "unavailable: Samsara answered 503 (3 tries)", "unavailable")
	f.mgr.AfterSync(context.Background(), in, lg)
}

// succeed records a successful sync now and runs the rules on it.
func (f *fixture) succeed(t *testing.T, in *ent.Integration) {
	t.Helper()
	lg := f.syncLog(t, in, synclog.StatusSUCCESS, time.Now(), "", "")
	f.mgr.AfterSync(context.Background(), in, lg)
}

// alerts are every alert of the integration, oldest first.
func (f *fixture) alerts(t *testing.T, in *ent.Integration) []*ent.Alert {
	t.Helper()
	as, err := f.db.Alert.Query().Where(entalert.IntegrationID(in.ID)).
		Order(ent.Asc(entalert.FieldCreatedAt), ent.Asc(entalert.FieldID)).All(sys())
	require.NoError(t, err)
	return as
}

// waitStatus polls the alert until it has the status and returns it.
func (f *fixture) waitStatus(t *testing.T, id uuid.UUID, status entalert.Status) *ent.Alert {
	t.Helper()
	var a *ent.Alert
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var err error
		a, err = f.db.Alert.Get(sys(), id)
		require.NoError(c, err)
		assert.Equal(c, status, a.Status)
	}, wait, tick, "alert %s to be %s", id, status)
	return a
}

// events collects a tenant's events from the bus.
type events struct {
	mu  sync.Mutex
	got []event.Event
}

func (f *fixture) subscribe(t *testing.T, tenantID uuid.UUID) *events {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sub := f.bus.Subscribe(ctx, event.Filter{TenantID: tenantID.String()})
	e := &events{}
	go func() {
		for ev := range sub.C {
			e.mu.Lock()
			e.got = append(e.got, ev)
			e.mu.Unlock()
		}
	}()
	return e
}

// types are the types of the events received so far.
func (e *events) types() []event.Type {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := []event.Type{}
	for _, ev := range e.got {
		out = append(out, ev.Type)
	}
	return out
}

// reopenable makes a database of the dialect that can be opened more than once (a
// second replica, or the same server after a restart); the first open migrates it,
// and every store is closed when the test ends.
func reopenable(t *testing.T, dialect string) (open func() *store.Store) {
	t.Helper()
	var driver, dsn string
	switch dialect {
	case testdb.SQLite:
		driver = "sqlite"
		dsn = "file:" + filepath.Join(t.TempDir(), "alerts.db") +
			"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate"
	default:
		driver, dsn = "postgres", testdb.PostgresURL(t)
	}
	migrated := false
	return func() *store.Store {
		t.Helper()
		st, err := store.Open(context.Background(), driver, dsn)
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.Close() })
		if !migrated { // once: the schema outlives the process, like a real database
			require.NoError(t, st.Migrate(context.Background()))
			migrated = true
		}
		return st
	}
}

// each runs fn under SQLite and PostgreSQL with a reopenable database.
func each(t *testing.T, fn func(t *testing.T, open func() *store.Store)) {
	t.Helper()
	for _, d := range []string{testdb.SQLite, testdb.Postgres} {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, reopenable(t, d))
		})
	}
}

// testLogger sends logs to t.Log until the test ends.
func testLogger(t *testing.T) *slog.Logger { return testkit.Logger(t, slog.LevelDebug) }

// recipientsOf are the RCPT TO addresses of every message, flattened.
func recipientsOf(msgs []testsmtp.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.To...)
	}
	return out
}
