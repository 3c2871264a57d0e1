package syncer

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/resilience"
	"github.com/sallyhq/sally/vendors"
	"github.com/sallyhq/sally/vendors/fuelfinder"
	"github.com/sallyhq/sally/vendors/openweather"
	"github.com/sallyhq/sally/vendors/samsara"
	"github.com/sallyhq/sally/vendors/truckbase"
)

// vendorSpec is one vendor as the engine knows it, with its adapter's client type
// C: adding a vendor is one entry in vendorTable plus its adapter package (and its
// sandbox part and its enum value in the contract and in ent/schema). The rest of the
// service learns the vendors from Vendors: app its base URL variables and the
// sandbox's paths, the API (Query.vendors, which the web page and the desktop read)
// and the alert emails its display name.
type vendorSpec[C any] struct {
	name        string                      // short name: resilience settings, metrics, the sandbox's path, VendorURLs' key
	vendor      integration.Vendor          // the stored and served enum value
	displayName string                      // how people see it named: "Samsara"
	serves      integration.IntegrationType // the one integration type it serves
	syncType    synclog.SyncType            // what its syncs are recorded as
	urlVar      string                      // the environment variable of its base URL
	defaultURL  string                      // its production API, when urlVar is unset
	// client binds the adapter to an integration's credentials and to the hook that
	// runs each of its requests through the integration's policy.
	client func(conn) C
	// test makes the one request of "test connection".
	test func(C, context.Context) error
	// sync does the work of one sync.
	sync func(*Engine, context.Context, *ent.Integration, C) (result, error)
}

// conn is what a client is built from.
type conn struct {
	baseURL string
	creds   auth.Credentials
	http    *http.Client
	do      vendors.DoFunc
}

// vendorTable is every vendor the engine syncs.
var vendorTable = []*vendorEntry{
	entry(vendorSpec[*samsara.Client]{
		name: samsara.Vendor, vendor: integration.VendorSAMSARA_ELD,
		serves: integration.IntegrationTypeHOS_ELD, syncType: synclog.SyncTypeHOS_SYNC,
		displayName: "Samsara", urlVar: "SAMSARA_API_URL", defaultURL: samsara.DefaultBaseURL,
		client: func(c conn) *samsara.Client {
			return samsara.New(samsara.Config{BaseURL: c.baseURL, APIKey: c.creds.APIKey, HTTPClient: c.http, Do: c.do})
		},
		test: (*samsara.Client).TestConnection,
		sync: (*Engine).syncHOS,
	}),
	entry(vendorSpec[*truckbase.Client]{
		name: truckbase.Vendor, vendor: integration.VendorTRUCKBASE_TMS,
		serves: integration.IntegrationTypeTMS, syncType: synclog.SyncTypeLOAD_SYNC,
		displayName: "Truckbase", urlVar: "TRUCKBASE_API_URL", defaultURL: truckbase.DefaultBaseURL,
		client: func(c conn) *truckbase.Client {
			return truckbase.New(truckbase.Config{BaseURL: c.baseURL, APIKey: c.creds.APIKey, APISecret: c.creds.APISecret, HTTPClient: c.http, Do: c.do})
		},
		test: (*truckbase.Client).TestConnection,
		sync: (*Engine).syncLoads,
	}),
	entry(vendorSpec[*fuelfinder.Client]{
		name: fuelfinder.Vendor, vendor: integration.VendorFUELFINDER,
		serves: integration.IntegrationTypeFUEL, syncType: synclog.SyncTypeFUEL_SYNC,
		displayName: "FuelFinder", urlVar: "FUELFINDER_API_URL", defaultURL: fuelfinder.DefaultBaseURL,
		client: func(c conn) *fuelfinder.Client {
			return fuelfinder.New(fuelfinder.Config{BaseURL: c.baseURL, APIKey: c.creds.APIKey, HTTPClient: c.http, Do: c.do})
		},
		test: (*fuelfinder.Client).TestConnection,
		sync: (*Engine).syncFuel,
	}),
	entry(vendorSpec[*openweather.Client]{
		name: openweather.Vendor, vendor: integration.VendorOPENWEATHER,
		serves: integration.IntegrationTypeWEATHER, syncType: synclog.SyncTypeWEATHER_SYNC,
		displayName: "OpenWeather", urlVar: "OPENWEATHER_API_URL", defaultURL: openweather.DefaultBaseURL,
		client: func(c conn) *openweather.Client {
			return openweather.New(openweather.Config{BaseURL: c.baseURL, APIKey: c.creds.APIKey, HTTPClient: c.http, Do: c.do})
		},
		test: (*openweather.Client).TestConnection,
		sync: (*Engine).syncWeather,
	}),
}

// vendorEntry is a vendorSpec with its client type erased, so that the table can
// hold every vendor; entry builds it.
type vendorEntry struct {
	name        string
	vendor      integration.Vendor
	displayName string
	serves      integration.IntegrationType
	syncType    synclog.SyncType
	urlVar      string
	defaultURL  string
	client      func(conn) any
	test        func(any, context.Context) error
	sync        func(*Engine, context.Context, *ent.Integration, any) (result, error)
}

func entry[C any](s vendorSpec[C]) *vendorEntry {
	return &vendorEntry{
		name: s.name, vendor: s.vendor, displayName: s.displayName, serves: s.serves, syncType: s.syncType,
		urlVar: s.urlVar, defaultURL: s.defaultURL,
		client: func(c conn) any { return s.client(c) },
		test:   func(c any, ctx context.Context) error { return s.test(c.(C), ctx) },
		sync: func(e *Engine, ctx context.Context, in *ent.Integration, c any) (result, error) {
			return s.sync(e, ctx, in, c.(C))
		},
	}
}

var vendorsByEnum = func() map[integration.Vendor]*vendorEntry {
	m := make(map[integration.Vendor]*vendorEntry, len(vendorTable))
	for _, v := range vendorTable {
		m[v.vendor] = v
	}
	return m
}()

// vendorOf returns the table's entry of a stored vendor; the stored enum only holds
// the table's vendors.
func vendorOf(v integration.Vendor) *vendorEntry {
	if e, ok := vendorsByEnum[v]; ok {
		return e
	}
	panic(fmt.Sprintf("syncer: vendor %q is not in the vendor table", v))
}

// vendorName is the short name the resilience settings, metrics and sandbox use.
func vendorName(v integration.Vendor) string { return vendorOf(v).name }

// Vendor is one vendor of the table as the rest of the service knows it; every
// string is spelled as the API and the environment spell it.
type Vendor struct {
	Name            string // short name: "samsara" (the sandbox serves it under /samsara, VendorURLs' key)
	Enum            string // the enum value: "SAMSARA_ELD"
	DisplayName     string // how people see it named: "Samsara"
	IntegrationType string // the one integration type it serves: "HOS_ELD"
	SyncType        string // what its syncs are recorded as: "HOS_SYNC"
	URLVar          string // the environment variable of its base URL: "SAMSARA_API_URL"
	DefaultURL      string // its production API, the base URL when URLVar is unset
}

// Vendors returns every vendor the engine syncs, in the table's order.
func Vendors() []Vendor {
	out := make([]Vendor, len(vendorTable))
	for i, v := range vendorTable {
		out[i] = Vendor{
			Name: v.name, Enum: string(v.vendor), DisplayName: v.displayName,
			IntegrationType: string(v.serves), SyncType: string(v.syncType),
			URLVar: v.urlVar, DefaultURL: v.defaultURL,
		}
	}
	return out
}

// DisplayName returns how people see a vendor named ("Samsara" for "SAMSARA_ELD"),
// or the value itself when it is no vendor of the table.
func DisplayName(vendor string) string {
	if e, ok := vendorsByEnum[integration.Vendor(vendor)]; ok {
		return e.displayName
	}
	return vendor
}

// SandboxURLs are the vendors' APIs of a sandbox served at base: each vendor under
// base/<its short name>, as the sandbox serves them.
func SandboxURLs(base string) VendorURLs {
	urls := make(VendorURLs, len(vendorTable))
	for _, v := range vendorTable {
		urls[v.name] = base + "/" + v.name
	}
	return urls
}

// ServedType returns the integration type a vendor serves (both spelled as the API
// spells them: "SAMSARA_ELD" serves "HOS_ELD"), and false for an unknown vendor.
func ServedType(vendor string) (string, bool) {
	e, ok := vendorsByEnum[integration.Vendor(vendor)]
	if !ok {
		return "", false
	}
	return string(e.serves), true
}

// policy returns the integration's resilience policy, built once and restored from
// the breaker state persisted on the integration.
func (e *Engine) policy(in *ent.Integration) *resilience.Policy {
	return e.policies.Get(in.ID.String(), func() resilience.Options {
		name := vendorName(in.Vendor)
		opts := resilience.Options{
			Vendor:       name,
			Config:       e.opts.Settings.For(name),
			Bulkhead:     e.bulkheads.For(name),
			InitialState: resilience.State(in.CircuitState),
		}
		if in.CircuitOpenedAt != nil {
			opts.OpenedAt = *in.CircuitOpenedAt
		}
		snapshot := *in
		opts.OnStateChange = func(from, to resilience.State) {
			e.circuitChanged(&snapshot, from, to)
		}
		return opts
	})
}

// circuitChanged persists the breaker's state on the integration (so it survives a
// restart and other replicas show it) and tells subscribers.
func (e *Engine) circuitChanged(in *ent.Integration, from, to resilience.State) {
	ctx := System(context.Background())
	u := e.client.Integration.UpdateOneID(in.ID).SetCircuitState(integration.CircuitState(to))
	if to == resilience.StateOpen {
		u.SetCircuitOpenedAt(e.now())
	}
	if to == resilience.StateClosed {
		u.ClearCircuitOpenedAt()
	}
	if err := u.Exec(ctx); err != nil && !ent.IsNotFound(err) {
		e.log.Error("persist circuit state", "integration", in.ID, "err", err)
	}
	e.opts.Metrics.circuit(vendorName(in.Vendor), in.ID.String(), string(to))
	typ := map[resilience.State]event.Type{
		resilience.StateOpen:     event.CircuitOpened,
		resilience.StateHalfOpen: event.CircuitHalfOpened,
		resilience.StateClosed:   event.CircuitClosed,
	}[to]
	msg := "calls to " + vendorName(in.Vendor) + " resumed"
	switch to {
	case resilience.StateOpen:
		msg = "repeated failures: calls to " + vendorName(in.Vendor) + " are paused"
	case resilience.StateHalfOpen:
		msg = "trying " + vendorName(in.Vendor) + " again with one probe call"
	}
	e.opts.Publisher.Publish(ctx, event.Event{
		Type: typ, At: e.now(), TenantID: in.TenantID.String(), IntegrationID: in.ID.String(),
		IntegrationName: in.DisplayName, Vendor: string(in.Vendor), CircuitState: string(to), Message: &msg,
	})
	e.log.Info("circuit state changed", "integration", in.ID, "vendor", in.Vendor, "from", from, "to", to)
}

// doFunc runs every request through the integration's policy with the call's own
// hooks (a sync's, or none for a lookup), and tells tr, when not nil, how many
// tries each call took.
func (e *Engine) doFunc(in *ent.Integration, tr *tracker, hooks resilience.Hooks) vendors.DoFunc {
	p := e.policy(in)
	if in.CircuitOpenedAt != nil {
		// in was just read: a breaker another replica opened pauses this one too.
		p.Follow(resilience.State(in.CircuitState), *in.CircuitOpenedAt)
	}
	vendor := vendorName(in.Vendor)
	onTry := hooks.OnTry
	hooks.OnTry = func(t resilience.Try) {
		e.health.observe(vendor, t.Err) // every try of every call counts toward vendor-wide health
		if onTry != nil {
			onTry(t)
		}
	}
	onRetry := hooks.OnRetry
	hooks.OnRetry = func(attempt int, err error, wait time.Duration) {
		e.opts.Metrics.retry(vendor)
		if onRetry != nil {
			onRetry(attempt, err, wait)
		}
	}
	return func(ctx context.Context, call func(ctx context.Context) error) error {
		start := time.Now()
		h := hooks
		if tr != nil {
			// This call's tries go to the sync's SyncLog.tries, under the call's name.
			name, onTry := vendors.CallFrom(ctx), hooks.OnTry
			h.OnTry = func(t resilience.Try) {
				tr.tries.add(name, t)
				if onTry != nil {
					onTry(t)
				}
			}
		}
		n, err := p.Do(ctx, call, h)
		e.opts.Metrics.call(vendor, time.Since(start), err)
		if tr != nil {
			tr.observe(n)
		}
		return err
	}
}

// connect returns the integration's vendor and its client, bound to the stored
// credentials and to do.
func (e *Engine) connect(in *ent.Integration, do vendors.DoFunc) (*vendorEntry, any, error) {
	creds, err := e.opts.Sealer.OpenCredentials(in.Credentials)
	if err != nil {
		return nil, nil, errCredentials
	}
	v := vendorOf(in.Vendor)
	return v, v.client(conn{baseURL: e.opts.URLs[v.name], creds: creds, http: e.opts.HTTPClient, do: do}), nil
}

// clientOf returns the integration's client as the adapter type C that a live
// lookup needs, or errWrongVendor when the integration's vendor has another.
func clientOf[C any](e *Engine, in *ent.Integration, do vendors.DoFunc) (C, error) {
	var zero C
	_, c, err := e.connect(in, do)
	if err != nil {
		return zero, err
	}
	typed, ok := c.(C)
	if !ok {
		return zero, errWrongVendor
	}
	return typed, nil
}

// TestResult is the outcome of a connection test.
type TestResult struct {
	Success bool
	Latency time.Duration
	Message string
}

// TestConnection makes exactly one real request with the stored credentials: no
// retries, no breaker (a dispatcher who just fixed a key must be able to check it).
// It writes no sync log.
func (e *Engine) TestConnection(ctx context.Context, in *ent.Integration) TestResult {
	v, c, err := e.connect(in, nil)
	if err != nil {
		return TestResult{Message: describe(err)}
	}
	p := e.policy(in)
	start := time.Now()
	err = p.TestOnce(ctx, func(ctx context.Context) error { return v.test(c, ctx) })
	r := TestResult{Success: err == nil, Latency: time.Since(start)}
	if err != nil {
		r.Message = describe(err)
	}
	return r
}

type retryInfo struct {
	attempt int
	wait    time.Duration
	msg     string
}

// publishSync publishes a SYNC_* event carrying the sync as it stands.
func (e *Engine) publishSync(ctx context.Context, in *ent.Integration, typ event.Type, lg *ent.SyncLog, ri *retryInfo) {
	ev := event.Event{
		Type: typ, At: e.now(), TenantID: in.TenantID.String(), IntegrationID: in.ID.String(),
		IntegrationName: in.DisplayName, Vendor: string(in.Vendor),
		SyncLog: EventSyncLog(lg), CircuitState: string(e.policy(in).State()),
	}
	if ri != nil {
		ms := int(ri.wait.Milliseconds())
		ev.Attempt, ev.RetryInMs, ev.Message = &ri.attempt, &ms, &ri.msg
	}
	if lg.Error != nil {
		ev.Message = lg.Error
	}
	e.opts.Publisher.Publish(ctx, ev)
}

// EventSyncLog snapshots a sync log for an event.
func EventSyncLog(l *ent.SyncLog) *event.SyncLog {
	return &event.SyncLog{
		ID: l.ID.String(), IntegrationID: l.IntegrationID.String(), SyncType: string(l.SyncType),
		Status: string(l.Status), Trigger: string(l.Trigger), StartedAt: l.StartedAt.UTC(),
		CompletedAt: l.CompletedAt, DurationMs: l.DurationMs, Attempts: l.Attempts,
		RecordsProcessed: l.RecordsProcessed, RecordsCreated: l.RecordsCreated,
		RecordsUpdated: l.RecordsUpdated, Error: l.Error, ErrorClass: l.ErrorClass,
		TriggeredByID: uuidString(l.TriggeredByID), Tries: eventTries(l.Tries),
	}
}

func uuidString(id *uuid.UUID) *string {
	if id == nil {
		return nil
	}
	s := id.String()
	return &s
}
