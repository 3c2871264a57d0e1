package syncer

import (
	"context"
	"time"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/resilience"
	"github.com/sallyhq/sally/vendors"
	"github.com/sallyhq/sally/vendors/fuelfinder"
	"github.com/sallyhq/sally/vendors/openweather"
	"github.com/sallyhq/sally/vendors/samsara"
	"github.com/sallyhq/sally/vendors/truckbase"
)

// vendorName is the short name the resilience settings, metrics and sandbox use.
func vendorName(v integration.Vendor) string {
	switch v {
	case integration.VendorSAMSARA_ELD:
		return samsara.Vendor
	case integration.VendorTRUCKBASE_TMS:
		return truckbase.Vendor
	case integration.VendorFUELFINDER:
		return fuelfinder.Vendor
	default:
		return openweather.Vendor
	}
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
			OnRetry:      e.onRetry(in.ID),
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

// clients are the adapters of one integration, bound to its credentials and to a
// Do hook that runs each vendor request through the policy.
type clients struct {
	samsara     *samsara.Client
	truckbase   *truckbase.Client
	fuelfinder  *fuelfinder.Client
	openweather *openweather.Client
}

// doFunc runs every request through the policy and tells tr how many tries it took.
func (e *Engine) doFunc(in *ent.Integration, tr *tracker) vendors.DoFunc {
	p := e.policy(in)
	if in.CircuitOpenedAt != nil {
		// in was just read: a breaker another replica opened pauses this one too.
		p.Follow(resilience.State(in.CircuitState), *in.CircuitOpenedAt)
	}
	vendor := vendorName(in.Vendor)
	return func(ctx context.Context, call func(ctx context.Context) error) error {
		start := time.Now()
		n, err := p.Do(ctx, call)
		e.opts.Metrics.call(vendor, time.Since(start), err)
		if tr != nil {
			tr.observe(n)
		}
		return err
	}
}

func (e *Engine) clientsFor(in *ent.Integration, do vendors.DoFunc) (clients, error) {
	creds, err := e.opts.Sealer.OpenCredentials(in.Credentials)
	if err != nil {
		return clients{}, errCredentials
	}
	hc := e.opts.HTTPClient
	var c clients
	switch in.Vendor {
	case integration.VendorSAMSARA_ELD:
		c.samsara = samsara.New(samsara.Config{BaseURL: e.opts.URLs.Samsara, APIKey: creds.APIKey, HTTPClient: hc, Do: do})
	case integration.VendorTRUCKBASE_TMS:
		c.truckbase = truckbase.New(truckbase.Config{BaseURL: e.opts.URLs.Truckbase, APIKey: creds.APIKey, APISecret: creds.APISecret, HTTPClient: hc, Do: do})
	case integration.VendorFUELFINDER:
		c.fuelfinder = fuelfinder.New(fuelfinder.Config{BaseURL: e.opts.URLs.FuelFinder, APIKey: creds.APIKey, HTTPClient: hc, Do: do})
	case integration.VendorOPENWEATHER:
		c.openweather = openweather.New(openweather.Config{BaseURL: e.opts.URLs.OpenWeather, APIKey: creds.APIKey, HTTPClient: hc, Do: do})
	}
	return c, nil
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
	c, err := e.clientsFor(in, nil)
	if err != nil {
		return TestResult{Message: describe(err)}
	}
	p := e.policy(in)
	start := time.Now()
	err = p.TestOnce(ctx, func(ctx context.Context) error {
		switch {
		case c.samsara != nil:
			return c.samsara.TestConnection(ctx)
		case c.truckbase != nil:
			return c.truckbase.TestConnection(ctx)
		case c.fuelfinder != nil:
			return c.fuelfinder.TestConnection(ctx)
		default:
			return c.openweather.TestConnection(ctx)
		}
	})
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
	}
}
