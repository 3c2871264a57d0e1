package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/privacy"
	"github.com/google/uuid"

	"github.com/sallyhq/sally/ent"
	entalert "github.com/sallyhq/sally/ent/alert"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/ent/schema"
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/ent/tenant"
	"github.com/sallyhq/sally/ent/user"
	"github.com/sallyhq/sally/event"
)

// Named defaults of the rules.
const (
	DefaultThreshold     = 3                // failed syncs that raise a failure alert…
	DefaultWindow        = 60 * time.Minute // …within this window
	DefaultStaleFactor   = 2                // stale after this many intervals without a success
	DefaultSweepEvery    = time.Minute      // how often Run sweeps (catch-up and staleness)…
	DefaultSweepGrace    = 3 * time.Minute  // …after waiting this long after a start
	DefaultMessageDomain = "sally.app"      // right-hand side of Message-IDs
	// NoRecipientsError is the last_error of an alert whose tenant has no one to mail.
	NoRecipientsError = "not delivered: the tenant has no active ADMIN or SUPER_ADMIN user"
)

// Options configure a Manager; Client is required.
type Options struct {
	Client    *ent.Client
	Publisher event.Publisher // ALERT_RAISED / ALERT_RESOLVED; nil = none
	Logger    *slog.Logger
	Now       func() time.Time
	// Notify is called after an alert was stored, to wake the delivery worker now
	// rather than at its next poll (Worker.Kick). Optional.
	Notify func()
	// SweepGrace delays Run's first sweep (DefaultSweepGrace; negative: none), so that
	// a deployment coming back from downtime runs its overdue syncs before anything is
	// called stale.
	SweepGrace time.Duration
	// MessageDomain is the domain of the alerts' Message-IDs (DefaultMessageDomain);
	// the server uses ALERT_FROM_EMAIL's.
	MessageDomain string
	// CredentialsFailuresBeforePause is CREDENTIALS_FAILURES_BEFORE_PAUSE: consecutive
	// syncs whose credentials the vendor rejected before the integration becomes
	// NEEDS_CREDENTIALS (DefaultCredentialsFailuresBeforePause when 0).
	CredentialsFailuresBeforePause int
	// PublicURL is PUBLIC_URL: alert emails link to the integration's page under it
	// (no link when empty).
	PublicURL string
	// VendorName names a vendor (its enum value, "SAMSARA_ELD") as titles and emails
	// do ("Samsara"): the sync engine's names (syncer.DisplayName), which app passes
	// in. Nil names each vendor by its enum value.
	VendorName func(vendor string) string
}

// Manager applies the alert rules. It is the sync engine's Observer.
type Manager struct {
	opts Options
	db   *ent.Client
	log  *slog.Logger
}

// NewManager returns a Manager.
func NewManager(o Options) *Manager {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MessageDomain == "" {
		o.MessageDomain = DefaultMessageDomain
	}
	if o.SweepGrace == 0 {
		o.SweepGrace = DefaultSweepGrace
	}
	if o.VendorName == nil {
		o.VendorName = func(v string) string { return v }
	}
	return &Manager{opts: o, db: o.Client, log: o.Logger}
}

// system lifts the tenant privacy rules: alerts work for every tenant and name
// tenants explicitly.
func system(ctx context.Context) context.Context {
	return privacy.DecisionContext(ctx, privacy.Allow)
}

// now is the rules' clock in microseconds, the precision PostgreSQL keeps.
func (m *Manager) now() time.Time { return m.opts.Now().UTC().Truncate(time.Microsecond) }

// MessageID is the Message-ID of an alert's email: stable, so that every delivery
// attempt (and a duplicate after a crash) carries the same one.
func MessageID(id uuid.UUID, domain string) string {
	return "<alert-" + id.String() + "@" + domain + ">"
}

// AfterSync applies the rules to a finished sync: a failure may raise a failure
// alert, a success resolves the integration's open alert. Errors are logged: a sync
// is never failed by its alerting.
func (m *Manager) AfterSync(ctx context.Context, in *ent.Integration, lg *ent.SyncLog) {
	if in == nil || lg == nil {
		return
	}
	ctx = system(context.WithoutCancel(ctx))
	// First the credentials rule: a credentials alert it raises is the incident the
	// failure rule then finds open.
	if err := m.credentialsRule(ctx, in, lg); err != nil {
		m.log.Error("credentials rule after sync", "integration", in.ID, "sync", lg.ID, "err", err)
	}
	var err error
	switch lg.Status {
	case synclog.StatusFAILED:
		err = m.onFailure(ctx, in.ID)
	case synclog.StatusSUCCESS:
		err = m.onSuccess(ctx, in.ID, lg)
	}
	if err != nil {
		m.log.Error("alert rules after sync", "integration", in.ID, "sync", lg.ID, "err", err)
	}
}

// decision is what one transaction decided, published after it commits.
type decision struct {
	stored []*ent.Alert // alerts to deliver
	events []event.Event
}

// decide runs fn in a transaction. A unique-index conflict means another replica
// decided the same thing at the same moment: fn runs once more, and now sees it.
func (m *Manager) decide(ctx context.Context, fn func(tx *ent.Tx, d *decision) error) error {
	var err error
	for range 3 {
		d := &decision{}
		err = m.inTx(ctx, func(tx *ent.Tx) error { return fn(tx, d) })
		if ent.IsConstraintError(err) {
			continue
		}
		if err != nil {
			return err
		}
		m.after(ctx, d)
		return nil
	}
	return err
}

func (m *Manager) inTx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	tx, err := m.db.Tx(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// after logs and publishes what was decided and wakes the worker.
func (m *Manager) after(ctx context.Context, d *decision) {
	for _, a := range d.stored {
		attrs := []any{"alert", a.ID, "tenant", a.TenantID, "integration", a.IntegrationID,
			"kind", a.Kind, "severity", a.Severity, "title", a.Title, "recipients", len(a.Recipients)}
		switch {
		case a.Status == entalert.StatusFAILED:
			m.log.Warn("alert recorded, not sent: "+deref(a.LastError), attrs...)
		case a.Status == entalert.StatusMUTED:
			m.log.Info("alert recorded, not sent: the integration's alerts are muted", attrs...)
		case a.Kind == KindRecovery:
			m.log.Info("alert resolved", attrs...)
		default:
			m.log.Warn("alert raised", attrs...)
		}
	}
	if m.opts.Publisher != nil {
		for _, e := range d.events {
			m.opts.Publisher.Publish(ctx, e)
		}
	}
	if len(d.stored) > 0 && m.opts.Notify != nil {
		m.opts.Notify()
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// openAlerts are the integration's firing, unresolved alerts (at most one, by the
// alert_one_open index).
func openAlerts(ctx context.Context, c *ent.Client, id uuid.UUID) ([]*ent.Alert, error) {
	return c.Alert.Query().
		Where(entalert.IntegrationID(id), entalert.Firing(true), entalert.ResolvedAtIsNil()).
		All(ctx)
}

// lastSuccess is the newest successful sync of the integration, nil if none.
func lastSuccess(ctx context.Context, c *ent.Client, id uuid.UUID) (*ent.SyncLog, error) {
	lg, err := c.SyncLog.Query().
		Where(synclog.IntegrationID(id), synclog.StatusEQ(synclog.StatusSUCCESS)).
		Order(ent.Desc(synclog.FieldStartedAt)).First(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return lg, err
}

func successAt(lg *ent.SyncLog) *time.Time {
	if lg == nil {
		return nil
	}
	t := lg.StartedAt.UTC()
	if lg.CompletedAt != nil {
		t = lg.CompletedAt.UTC()
	}
	return &t
}

// failures counts the integration's failed syncs that started within its window and
// after its last success: a success ends an incident, so failures before it never
// count toward the next one (an integration that recovers and fails once is not
// alerted again at once).
func failures(ctx context.Context, c *ent.Client, in *ent.Integration, now time.Time) (n int, last *ent.SyncLog, ok *ent.SyncLog, err error) {
	window := time.Duration(in.AlertWindowMinutes) * time.Minute
	if window <= 0 {
		window = DefaultWindow
	}
	since := now.Add(-window)
	ok, err = lastSuccess(ctx, c, in.ID)
	if err != nil {
		return 0, nil, nil, err
	}
	q := c.SyncLog.Query().Where(synclog.IntegrationID(in.ID), synclog.StatusEQ(synclog.StatusFAILED),
		synclog.StartedAtGTE(since))
	if ok != nil && !ok.StartedAt.Before(since) {
		q.Where(synclog.StartedAtGT(ok.StartedAt))
	}
	n, err = q.Clone().Count(ctx)
	if err != nil || n == 0 {
		return n, nil, ok, err
	}
	last, err = q.Order(ent.Desc(synclog.FieldStartedAt)).First(ctx)
	return n, last, ok, err
}

func threshold(in *ent.Integration) int {
	if in.AlertFailureThreshold > 0 {
		return in.AlertFailureThreshold
	}
	return DefaultThreshold
}

// onFailure raises a failure alert when the rule holds and none is open yet. The
// check runs first without a transaction (most failures raise nothing), then again
// inside the one that raises.
func (m *Manager) onFailure(ctx context.Context, id uuid.UUID) error {
	if fc, err := checkFailure(ctx, m.db, id, m.now()); err != nil || !fc.due {
		return err
	}
	return m.decide(ctx, func(tx *ent.Tx, d *decision) error {
		c := tx.Client()
		now := m.now()
		fc, err := checkFailure(ctx, c, id, now)
		if err != nil || !fc.due {
			return err
		}
		in, n, last := fc.in, fc.n, fc.last
		// A failure alert supersedes an open stale one: same incident, better told.
		for _, s := range fc.open {
			if _, err := resolve(ctx, c, s.ID, now); err != nil {
				return err
			}
		}
		if last == nil { // cannot be with n ≥ 1; keeps the reads below safe
			last = &ent.SyncLog{}
		}
		severity := entalert.SeverityERROR
		if in.CircuitState == integration.CircuitStateOPEN || deref(last.ErrorClass) == "circuit_open" {
			severity = entalert.SeverityCRITICAL
		}
		det := schema.AlertDetails{
			IntegrationName: in.DisplayName, Vendor: string(in.Vendor), IntegrationType: string(in.IntegrationType),
			Failures: n, Threshold: threshold(in), WindowMinutes: in.AlertWindowMinutes,
			LastError: deref(last.Error), ErrorClass: deref(last.ErrorClass),
			CircuitState: string(in.CircuitState), LastSuccessAt: successAt(fc.lastOK),
			IntervalSeconds: in.SyncIntervalSeconds, OccurredAt: now,
		}
		title := fmt.Sprintf("\"%s\" (%s) is failing", in.DisplayName, m.opts.VendorName(det.Vendor))
		msg := fmt.Sprintf("%d syncs failed within %d minutes (the alert threshold is %d).", n, det.WindowMinutes, det.Threshold)
		if severity == entalert.SeverityCRITICAL {
			msg += " Calls to " + m.opts.VendorName(det.Vendor) + " are paused by the circuit breaker."
		}
		return m.store(ctx, c, d, in, raised{kind: KindFailure, severity: severity, title: title, message: msg, details: det})
	})
}

// failureCheck is what the failure rule looks at for one integration.
type failureCheck struct {
	in           *ent.Integration
	open         []*ent.Alert // open alerts: stale ones only when due
	n            int          // failures counted by the rule
	last, lastOK *ent.SyncLog // the last failure and the last success
	due          bool         // no failure alert is open and n reaches the threshold
}

// checkFailure reads what the rule decides on; due is false for an integration that
// is gone.
func checkFailure(ctx context.Context, c *ent.Client, id uuid.UUID, now time.Time) (failureCheck, error) {
	var fc failureCheck
	in, err := c.Integration.Get(ctx, id)
	if ent.IsNotFound(err) {
		return fc, nil
	}
	if err != nil {
		return fc, err
	}
	fc.in = in
	if fc.open, err = openAlerts(ctx, c, id); err != nil {
		return fc, err
	}
	if slices.ContainsFunc(fc.open, func(a *ent.Alert) bool { return a.Kind != KindStale }) {
		return fc, nil // the incident is already alerted
	}
	if fc.n, fc.last, fc.lastOK, err = failures(ctx, c, in, now); err != nil {
		return fc, err
	}
	fc.due = fc.n >= threshold(in)
	return fc, nil
}

// onSuccess resolves the integration's open alert and stores one recovery notice
// that refers to it.
func (m *Manager) onSuccess(ctx context.Context, id uuid.UUID, lg *ent.SyncLog) error {
	open, err := openAlerts(ctx, m.db, id)
	if err != nil || len(open) == 0 {
		return err
	}
	return m.decide(ctx, func(tx *ent.Tx, d *decision) error {
		c := tx.Client()
		now := m.now()
		in, err := c.Integration.Get(ctx, id)
		if ent.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		open, err := openAlerts(ctx, c, id)
		if err != nil {
			return err
		}
		for _, a := range open {
			won, err := resolve(ctx, c, a.ID, now)
			if err != nil {
				return err
			}
			if !won {
				continue // another replica resolved it
			}
			raisedAt := a.CreatedAt.UTC()
			det := schema.AlertDetails{
				IntegrationName: in.DisplayName, Vendor: string(in.Vendor), IntegrationType: string(in.IntegrationType),
				CircuitState: string(in.CircuitState), LastSuccessAt: successAt(lg),
				IntervalSeconds: in.SyncIntervalSeconds, OccurredAt: now,
				ResolvesTitle: a.Title, ResolvesRaisedAt: &raisedAt,
			}
			title := fmt.Sprintf("\"%s\" (%s) has recovered", in.DisplayName, m.opts.VendorName(det.Vendor))
			msg := fmt.Sprintf("The integration synced successfully again, %s after the alert. Resolves: [%s] %s",
				duration(now.Sub(raisedAt)), a.Severity, a.Title)
			err = m.store(ctx, c, d, in, raised{
				kind: KindRecovery, severity: entalert.SeverityINFO, title: title, message: msg,
				details: det, resolves: &a.ID,
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// resolve closes an open alert; false when it was no longer open (someone else
// closed it first).
func resolve(ctx context.Context, c *ent.Client, id uuid.UUID, now time.Time) (bool, error) {
	n, err := c.Alert.Update().
		Where(entalert.ID(id), entalert.ResolvedAtIsNil()).
		SetResolvedAt(now).Save(ctx)
	return n == 1, err
}

// raised is one alert to store.
type raised struct {
	kind     string
	severity entalert.Severity
	title    string
	message  string
	details  schema.AlertDetails
	resolves *uuid.UUID
}

// store writes the alert (the outbox row) with the tenant's admins as recipients,
// and queues its event. Without recipients it is recorded FAILED, not sent.
func (m *Manager) store(ctx context.Context, c *ent.Client, d *decision, in *ent.Integration, r raised) error {
	now := m.now()
	to, err := recipients(ctx, c, in.TenantID)
	if err != nil {
		return err
	}
	t, err := c.Tenant.Query().Where(tenant.ID(in.TenantID)).Only(ctx)
	if err != nil {
		return fmt.Errorf("tenant of integration: %w", err)
	}
	r.details.TenantName = t.Name
	r.details.VendorName = m.opts.VendorName(r.details.Vendor)
	r.details.Link = m.link(in.ID)
	id := uuid.Must(uuid.NewV7())
	create := c.Alert.Create().SetID(id).
		SetTenantID(in.TenantID).SetIntegrationID(in.ID).
		SetKind(r.kind).SetSeverity(r.severity).SetTitle(r.title).SetMessage(r.message).
		SetFiring(r.kind != KindRecovery).SetRecipients(to).
		SetMessageID(MessageID(id, m.opts.MessageDomain)).SetDetails(r.details).
		SetCreatedAt(now).SetUpdatedAt(now).SetNillableResolvesAlertID(r.resolves)
	switch {
	case in.AlertsMutedUntil != nil && now.Before(*in.AlertsMutedUntil):
		// Muted: recorded, listed and published, never emailed (not after the mute
		// ends either).
		create.SetStatus(entalert.StatusMUTED)
	case len(to) == 0:
		create.SetStatus(entalert.StatusFAILED).SetLastError(NoRecipientsError)
	default:
		create.SetStatus(entalert.StatusPENDING).SetNextAttemptAt(now)
	}
	a, err := create.Save(ctx)
	if err != nil {
		return err
	}
	d.stored = append(d.stored, a)
	typ := event.AlertRaised
	if r.kind == KindRecovery {
		typ = event.AlertResolved
	}
	msg := subject(r.severity, r.title)
	d.events = append(d.events, event.Event{
		Type: typ, At: now, TenantID: in.TenantID.String(), IntegrationID: in.ID.String(),
		IntegrationName: in.DisplayName, Vendor: string(in.Vendor),
		CircuitState: string(in.CircuitState), Message: &msg,
	})
	return nil
}

// recipients are the emails of the tenant's active ADMIN and SUPER_ADMIN users,
// sorted.
func recipients(ctx context.Context, c *ent.Client, tenantID uuid.UUID) ([]string, error) {
	emails, err := c.User.Query().
		Where(user.TenantID(tenantID), user.IsActive(true), user.RoleIn(user.RoleADMIN, user.RoleSUPER_ADMIN)).
		Order(ent.Asc(user.FieldEmail)).
		Select(user.FieldEmail).Strings(ctx)
	if err != nil {
		return nil, fmt.Errorf("alert recipients: %w", err)
	}
	out := emails[:0]
	for _, e := range emails {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out, nil
}

// CheckStale raises a stale alert for each enabled integration that has had no
// successful sync for more than DefaultStaleFactor intervals and has no open alert.
// While syncs keep finishing (and failing), it waits at least the alert window too:
// failing syncs are the failure rule's to report, in one email, not two.
func (m *Manager) CheckStale(ctx context.Context) error {
	ctx = system(ctx)
	now := m.now()
	ins, err := m.db.Integration.Query().Where(integration.Enabled(true)).All(ctx)
	if err != nil {
		return fmt.Errorf("stale check: %w", err)
	}
	open, err := m.openByIntegration(ctx)
	if err != nil {
		return fmt.Errorf("stale check: %w", err)
	}
	var errs []error
	for _, in := range ins {
		if open[in.ID] != nil || ctx.Err() != nil {
			continue
		}
		after := DefaultStaleFactor * time.Duration(in.SyncIntervalSeconds) * time.Second
		// A recent success (the usual case) settles it without another query.
		if in.LastSyncStatus != nil && *in.LastSyncStatus == integration.LastSyncStatusSUCCESS &&
			in.LastSyncAt != nil && now.Sub(*in.LastSyncAt) <= after {
			continue
		}
		if now.Sub(in.CreatedAt) <= after {
			continue
		}
		if err := m.staleOne(ctx, in.ID); err != nil {
			errs = append(errs, fmt.Errorf("integration %s: %w", in.ID, err))
		}
	}
	return errors.Join(errs...)
}

// openByIntegration maps each integration with an open alert to that alert.
func (m *Manager) openByIntegration(ctx context.Context) (map[uuid.UUID]*ent.Alert, error) {
	as, err := m.db.Alert.Query().
		Where(entalert.Firing(true), entalert.ResolvedAtIsNil(), entalert.IntegrationIDNotNil()).
		All(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]*ent.Alert, len(as))
	for _, a := range as {
		out[*a.IntegrationID] = a
	}
	return out, nil
}

// staleAfter is how long without a success makes an integration stale.
func staleAfter(in *ent.Integration, now time.Time) time.Duration {
	interval := time.Duration(in.SyncIntervalSeconds) * time.Second
	after := DefaultStaleFactor * interval
	window := time.Duration(in.AlertWindowMinutes) * time.Minute
	if in.LastSyncAt != nil && now.Sub(*in.LastSyncAt) <= after && window > after {
		after = window // syncs are finishing, just failing: the failure rule's turn first
	}
	return after
}

// staleness says since when the integration has gone without a success (its last
// success, or its creation) and whether that makes it stale now.
func staleness(ctx context.Context, c *ent.Client, in *ent.Integration, now time.Time) (since time.Time, ok *ent.SyncLog, stale bool, err error) {
	ok, err = lastSuccess(ctx, c, in.ID)
	if err != nil {
		return time.Time{}, nil, false, err
	}
	since = in.CreatedAt.UTC()
	if at := successAt(ok); at != nil && at.After(since) {
		since = *at
	}
	return since, ok, now.Sub(since) > staleAfter(in, now), nil
}

// staleOne raises the integration's stale alert if it is stale: looked at first
// without a transaction (most candidates are not), then again inside the one that
// raises it.
func (m *Manager) staleOne(ctx context.Context, id uuid.UUID) error {
	in, err := m.db.Integration.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, _, stale, err := staleness(ctx, m.db, in, m.now()); err != nil || !stale {
		return err
	}
	return m.decide(ctx, func(tx *ent.Tx, d *decision) error {
		c := tx.Client()
		now := m.now()
		in, err := c.Integration.Get(ctx, id)
		if ent.IsNotFound(err) {
			return nil
		}
		if err != nil || !in.Enabled {
			return err
		}
		open, err := openAlerts(ctx, c, id)
		if err != nil || len(open) > 0 {
			return err // a failure alert already says it, or it is already stale
		}
		since, ok, stale, err := staleness(ctx, c, in, now)
		if err != nil || !stale {
			return err
		}
		okAt := successAt(ok)
		det := schema.AlertDetails{
			IntegrationName: in.DisplayName, Vendor: string(in.Vendor), IntegrationType: string(in.IntegrationType),
			CircuitState: string(in.CircuitState), LastSuccessAt: okAt,
			IntervalSeconds: in.SyncIntervalSeconds, OccurredAt: now,
		}
		newest, err := c.SyncLog.Query().Where(synclog.IntegrationID(id), synclog.StatusEQ(synclog.StatusFAILED)).
			Order(ent.Desc(synclog.FieldStartedAt)).First(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return err
		}
		if newest != nil && (okAt == nil || newest.StartedAt.After(*okAt)) {
			det.LastError, det.ErrorClass = deref(newest.Error), deref(newest.ErrorClass)
		}
		interval := duration(time.Duration(in.SyncIntervalSeconds) * time.Second)
		title := fmt.Sprintf("\"%s\" (%s) has not synced successfully for %s", in.DisplayName, m.opts.VendorName(det.Vendor), duration(now.Sub(since)))
		msg := fmt.Sprintf("No successful sync since %s; it should sync every %s.", when(since), interval)
		if okAt == nil {
			msg = fmt.Sprintf("No successful sync since it was created at %s; it should sync every %s.", when(since), interval)
		}
		return m.store(ctx, c, d, in, raised{kind: KindStale, severity: entalert.SeverityWARNING, title: title, message: msg, details: det})
	})
}

// CatchUp applies the failure and recovery rules to each integration's last finished
// sync, for decisions a server did not get to make (it stopped between recording a
// sync and running the rules on it): an integration whose last sync failed may be due
// a failure alert, one whose last sync succeeded must have no open alert. Deciding
// twice is harmless: the rules raise and resolve each alert once.
func (m *Manager) CatchUp(ctx context.Context) error {
	ctx = system(ctx)
	open, err := m.openByIntegration(ctx)
	if err != nil {
		return fmt.Errorf("alert catch-up: %w", err)
	}
	ins, err := m.db.Integration.Query().Where(integration.LastSyncStatusIn(
		integration.LastSyncStatusFAILED, integration.LastSyncStatusSUCCESS)).All(ctx)
	if err != nil {
		return fmt.Errorf("alert catch-up: %w", err)
	}
	var errs []error
	for _, in := range ins {
		if ctx.Err() != nil {
			break
		}
		a := open[in.ID]
		var err error
		switch *in.LastSyncStatus {
		case integration.LastSyncStatusSUCCESS:
			if a == nil {
				continue
			}
			var ok *ent.SyncLog
			if ok, err = lastSuccess(ctx, m.db, in.ID); err == nil && ok != nil && ok.StartedAt.After(a.CreatedAt) {
				err = m.onSuccess(ctx, in.ID, ok)
			}
		case integration.LastSyncStatusFAILED:
			if a != nil && a.Kind != KindStale {
				continue
			}
			err = m.onFailure(ctx, in.ID)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("integration %s: %w", in.ID, err))
		}
	}
	return errors.Join(errs...)
}

// Sweep runs the periodic checks: CatchUp, then CheckStale.
func (m *Manager) Sweep(ctx context.Context) error {
	return errors.Join(m.CatchUp(ctx), m.CheckStale(ctx))
}

// Run sweeps (CatchUp and CheckStale) every interval (DefaultSweepEvery if 0), the
// first time after Options.SweepGrace, until ctx ends.
func (m *Manager) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = DefaultSweepEvery
	}
	if m.opts.SweepGrace > 0 {
		grace := time.NewTimer(m.opts.SweepGrace)
		select {
		case <-ctx.Done():
			grace.Stop()
			return
		case <-grace.C:
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := m.Sweep(ctx); err != nil && ctx.Err() == nil {
			m.log.Error("alert checks", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
