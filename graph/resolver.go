// Package graph is the GraphQL API, laid out as gqlgen's own examples are: the schema
// by domain (schema.graphqls holds the contract's header and root types; accounts,
// integrations, synclogs, alerts, fleet and events .graphqls the rest; extensions
// what this server adds; together a superset of graph/contract), gqlgen's generated
// executor (graph/generated, graph/model), and each domain's resolvers in its
// .resolvers.go with their bodies, shared helpers in the domain's .go file. Resolvers
// check the viewer and its role, validate every argument, read and write through ent
// (whose privacy rules confine every query to the viewer's tenant), and hand sync
// work to the engine through the Syncer interface declared here. Errors reach
// clients as *Error with a contract code; anything else answers INTERNAL.
//
// handler.go assembles the server: request policy (auth, limits, rate limits, error
// codes) here, gqlgen's transports restated for the contract in graph/transport, and
// two fast paths that write answers themselves (flathistory.go, flatsynclogs.go, and
// the shared renderings of live events in subscription.go), each kept byte for byte
// equal to gqlgen's answer by a parity test.
package graph

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/store"
	"github.com/sallyhq/sally/syncer"
	"github.com/sallyhq/sally/vendors"
)

// Syncer is what the resolvers need of the sync engine (*syncer.Engine): syncs,
// connection tests and the vendor-backed lookups. It is declared here, on the
// consumer's side, so that graph depends on these operations and not on the engine.
type Syncer interface {
	SyncNow(ctx context.Context, id uuid.UUID) (*ent.SyncLog, error)
	TestConnection(ctx context.Context, in *ent.Integration) syncer.TestResult
	TestCredentials(ctx context.Context, vendor integration.Vendor, creds auth.Credentials) syncer.TestResult
	FuelStations(ctx context.Context, tenantID uuid.UUID, lat, lon, radius float64, limit int) ([]vendors.FuelStation, error)
	Weather(ctx context.Context, tenantID uuid.UUID, lat, lon float64) (vendors.Weather, error)
	DriverHOS(ctx context.Context, tenantID uuid.UUID, driverID string) (syncer.HOS, error)
	OverrideHOS(ctx context.Context, tenantID uuid.UUID, driverID string, o syncer.Override) (syncer.HOS, error)
	ClearOverride(ctx context.Context, tenantID uuid.UUID, driverID string) (syncer.HOS, error)
}

var _ Syncer = (*syncer.Engine)(nil)

// Resolver is the root of the resolvers; its Deps are everything they use, built by
// app.New (the composition root) with explicit constructors.
type Resolver struct {
	Deps
	viewers    viewerCache
	subs       subscribers
	flatPlans  flatPlans
	flatServed atomic.Int64 // syncHistory fields served by flatHistory
	counts     listCounts   // the tenants' list counts, for the cost limit
	limits     limiters     // the rate limits' buckets
	cursors    cursorKeys   // the HMAC key of syncLogs cursors
	connPlans  connPlans    // flat syncLogs selections (flatsynclogs.go)
}

// Deps lists the resolvers' dependencies.
type Deps struct {
	Store    *store.Store
	Tokens   *auth.Tokens
	Hasher   auth.Hasher
	Throttle *store.Throttle
	Sealer   *auth.Sealer
	Logger   *slog.Logger
	Now      func() time.Time
	// Sleep waits after a failed login (slows down guessing); tests make it instant.
	Sleep func(ctx context.Context, d time.Duration)
	// Syncer runs syncs, connection tests and the vendor-backed queries.
	Syncer Syncer
	// Events is where subscriptions read events: the process's event.Bus (which the
	// other replicas feed through event/pgnotify on PostgreSQL).
	Events *event.Bus
	// ViewerTTL is how long a user's active flag and role are cached (0 =
	// DefaultViewerTTL, negative = ask the database on every request).
	ViewerTTL time.Duration
	// IntegrationChanged is told when an integration's settings or credentials
	// change or it is deleted, so cached vendor clients and breakers are rebuilt.
	IntegrationChanged func(id string)
	// PublicURL is where people reach the web page (PUBLIC_URL): set-password links
	// start with it.
	PublicURL string
	// MailKick, when set, says that SMTP is configured: invitation and reset emails
	// are stored in the outbox and MailKick wakes its worker. Nil: links are only
	// returned to the admin (Invitation.emailed false).
	MailKick func()
	// RateLimits are the limits on users and client addresses over time (the
	// contract's when zero).
	RateLimits RateLimits
	// Publisher is where the resolvers publish INTEGRATION_CHANGED events: the
	// server's event publisher (which reaches the other replicas on PostgreSQL);
	// Events when nil.
	Publisher event.Publisher
	// NoFlatHistory turns off flatHistory, so that tests can compare it with gqlgen.
	NoFlatHistory bool
}

// now is the resolvers' clock, in microseconds: a time the API stores is the time
// it answers, on PostgreSQL (which keeps microseconds) as on SQLite.
func (r *Resolver) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

func (r *Resolver) sleep(ctx context.Context, d time.Duration) {
	if r.Sleep != nil {
		r.Sleep(ctx, d)
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (r *Resolver) changed(id string) {
	if r.IntegrationChanged != nil {
		r.IntegrationChanged(id)
	}
}
