package syncer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/resilience"
)

// The engine's side of vendor-wide health (vendorhealth.go has the rules).

// VendorStatuses returns every vendor's health as this server last read it from
// the database.
func (e *Engine) VendorStatuses() []VendorStatus { return e.health.statuses() }

// checkHealth shares this server's window of vendor calls, reads the verdict, and
// probes a vendor that is down when its probe is due and this server wins it.
func (e *Engine) checkHealth(ctx context.Context) {
	if err := e.health.share(ctx); err != nil {
		if ctx.Err() == nil {
			e.log.Error("vendor health", "err", err)
		}
		return
	}
	for _, st := range e.health.statuses() {
		if st.Up {
			continue
		}
		won, err := e.health.takeProbe(ctx, st.Vendor)
		if err != nil {
			e.log.Error("vendor health probe", "vendor", st.Vendor, "err", err)
			continue
		}
		if won {
			e.syncs.Add(1)
			go func() {
				defer e.syncs.Done()
				e.probe(context.WithoutCancel(ctx), st.Vendor)
			}()
		}
	}
}

// probe calls a vendor that is down once, with the credentials of one of its
// integrations (one that synced well before, if any), bypassing that integration's
// breaker, and records what it found.
func (e *Engine) probe(ctx context.Context, vendor string) {
	var v *vendorEntry
	for _, x := range vendorTable {
		if x.name == vendor {
			v = x
		}
	}
	if v == nil {
		return
	}
	q := func() *ent.IntegrationQuery {
		return e.client.Integration.Query().Where(integration.VendorEQ(v.vendor), integration.Enabled(true))
	}
	in, err := q().Where(integration.LastSyncStatusEQ(integration.LastSyncStatusSUCCESS)).
		Order(ent.Desc(integration.FieldLastSyncAt)).First(ctx)
	if ent.IsNotFound(err) {
		in, err = q().First(ctx)
	}
	var perr error
	switch {
	case ent.IsNotFound(err):
		perr = nil // nobody syncs it: nothing to keep down
	case err != nil:
		e.log.Error("vendor probe: pick an integration", "vendor", vendor, "err", err)
		return
	default:
		c, cerr := func() (any, error) { _, c, err := e.connect(in, nil); return c, err }()
		if cerr != nil {
			perr = nil // our side cannot read these credentials: the vendor is not to blame
			break
		}
		pctx, cancel := context.WithTimeout(ctx, e.opts.Settings.For(vendor).AttemptTimeout+5*time.Second)
		perr = e.policy(in).TestOnce(pctx, func(ctx context.Context) error { return v.test(c, ctx) })
		cancel()
	}
	if err := e.health.probed(ctx, vendor, perr); err != nil {
		e.log.Error("vendor probe", "vendor", vendor, "err", err)
	}
}

// vendorChanged follows a vendor's change of health: the vendor_up metric on every
// server, and one event to subscribers from the server that recorded it.
func (e *Engine) vendorChanged(ctx context.Context, st VendorStatus, recordedHere bool) {
	e.opts.Metrics.vendorUp(st.Vendor, st.Up)
	if !recordedHere {
		return
	}
	var v *vendorEntry
	for _, x := range vendorTable {
		if x.name == st.Vendor {
			v = x
		}
	}
	if v == nil {
		return
	}
	typ, state, msg := event.VendorUp, "CLOSED", st.Vendor+" answers again: syncs call it as usual"
	if !st.Up {
		typ, state = event.VendorDown, "OPEN"
		msg = fmt.Sprintf("%s is down for everyone: %s; its syncs fail at once until a probe finds it back", st.Vendor, st.Reason)
	}
	e.opts.Publisher.Publish(System(ctx), event.Event{
		Type: typ, At: st.ChangedAt, IntegrationName: st.Vendor, Vendor: string(v.vendor),
		CircuitState: state, Message: &msg,
	})
}

// failFast records a due or manual sync of a vendor that is down for everyone as
// failed at once (class circuit_open), without calling the vendor or taking a slot.
func (e *Engine) failFast(ctx context.Context, in *ent.Integration, trigger synclog.Trigger, due *time.Time, by *uuid.UUID, st VendorStatus) (*ent.SyncLog, error) {
	now := e.now()
	if due != nil {
		e.opts.Metrics.lag(vendorName(in.Vendor), now.Sub(*due))
	}
	err := errVendorDown{st}
	lg, cerr := e.client.SyncLog.Create().
		SetNillableDueAt(due).SetNillableTriggeredByID(by).
		SetTenantID(in.TenantID).SetIntegrationID(in.ID).
		SetSyncType(vendorOf(in.Vendor).syncType).SetTrigger(trigger).
		SetStatus(synclog.StatusFAILED).SetStartedAt(now).SetCompletedAt(now).SetDurationMs(0).
		SetRunner(e.opts.Instance).
		SetError(truncate(err.Error(), 2000)).SetErrorClass(string(resilience.ClassCircuitOpen)).
		Save(ctx)
	if cerr != nil {
		return nil, fmt.Errorf("record sync: %w", cerr)
	}
	e.markIntegration(ctx, in.ID, now, synclog.StatusFAILED)
	e.opts.Metrics.sync(vendorName(in.Vendor), string(synclog.StatusFAILED), 0)
	e.publishSync(ctx, in, event.SyncFailed, lg, nil)
	if e.opts.Observer != nil {
		e.opts.Observer.AfterSync(ctx, in, lg)
	}
	return lg, nil
}

func isVendorDown(err error) bool { return errors.Is(err, errVendorDownSentinel) }
