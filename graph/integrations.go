package graph

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sallyhq/sally/alert"
	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/ent"
	entalert "github.com/sallyhq/sally/ent/alert"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/graph/model"
	"github.com/sallyhq/sally/store"
	"github.com/sallyhq/sally/syncer"
)

func (r *Resolver) getIntegration(ctx context.Context, id string) (*ent.Integration, error) {
	uid, err := parseID(id, "integration")
	if err != nil {
		return nil, err
	}
	in, err := r.Store.Client.Integration.Get(ctx, uid)
	if ent.IsNotFound(err) {
		return nil, errNotFound("integration")
	}
	return in, err
}

func (r *Resolver) integrations(ctx context.Context) ([]*model.Integration, error) {
	ins, err := r.Store.Client.Integration.Query().
		Order(ent.Asc(integration.FieldCreatedAt), ent.Asc(integration.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*model.Integration, len(ins))
	for i, in := range ins {
		out[i] = toIntegration(in)
	}
	return out, nil
}

func (r *Resolver) integration(ctx context.Context, id string) (*model.Integration, error) {
	in, err := r.getIntegration(ctx, id)
	if err != nil {
		return nil, err
	}
	return toIntegration(in), nil
}

func (r *Resolver) sealCredentials(c *model.CredentialsInput) (sealed, hint string, err error) {
	creds := auth.Credentials{APIKey: c.APIKey}
	if c.APISecret != nil {
		creds.APISecret = *c.APISecret
	}
	sealed, err = r.Sealer.SealCredentials(creds)
	return sealed, auth.Hint(c.APIKey), err
}

func (r *Resolver) createIntegration(ctx context.Context, in model.CreateIntegrationInput) (*model.Integration, error) {
	v, err := requireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	if !in.IntegrationType.IsValid() || !in.Vendor.IsValid() {
		return nil, badInput("unknown integrationType or vendor")
	}
	if served, _ := syncer.ServedType(string(in.Vendor)); served != string(in.IntegrationType) {
		return nil, badInput("vendor %s does not serve integrationType %s (it serves %s)",
			in.Vendor, in.IntegrationType, served)
	}
	name := strings.TrimSpace(in.DisplayName)
	if err := validateDisplayName(name); err != nil {
		return nil, err
	}
	if in.Credentials == nil {
		return nil, badInput("credentials are required")
	}
	interval, threshold, window, enabled := 300, 3, 60, true
	if in.SyncIntervalSeconds != nil {
		interval = *in.SyncIntervalSeconds
	}
	if in.AlertFailureThreshold != nil {
		threshold = *in.AlertFailureThreshold
	}
	if in.AlertWindowMinutes != nil {
		window = *in.AlertWindowMinutes
	}
	if in.Enabled != nil {
		enabled = *in.Enabled
	}
	for _, err := range []error{
		validateRange("syncIntervalSeconds", &interval, MinInterval, MaxInterval),
		validateRange("alertFailureThreshold", &threshold, MinThreshold, MaxThreshold),
		validateRange("alertWindowMinutes", &window, MinWindow, MaxWindow),
		validateCredentials(in.Credentials),
	} {
		if err != nil {
			return nil, err
		}
	}
	sealed, hint, err := r.sealCredentials(in.Credentials)
	if err != nil {
		return nil, err
	}
	now := r.now()
	c := r.Store.Client.Integration.Create().
		SetIntegrationType(integration.IntegrationType(in.IntegrationType)).
		SetVendor(integration.Vendor(in.Vendor)).
		SetDisplayName(name).SetDisplayNameKey(nameKey(name)).
		SetCredentials(sealed).SetCredentialsHint(hint).
		SetSyncIntervalSeconds(interval).SetEnabled(enabled).
		SetAlertFailureThreshold(threshold).SetAlertWindowMinutes(window).
		SetCreatedAt(now).SetUpdatedAt(now)
	if uid, err := uuid.Parse(v.UserID); err == nil {
		c.SetCreatedBy(uid)
	}
	if enabled {
		c.SetNextSyncAt(now) // due at once: its first sync starts within a scheduler tick
	}
	saved, err := c.Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, nameTaken(name)
	}
	if err != nil {
		return nil, err
	}
	r.publishChanged(ctx, saved, "created")
	return toIntegration(saved), nil
}

func nameTaken(name string) error {
	return Errorf(CodeConflict, "an integration named %q already exists in this tenant (names are compared ignoring case and surrounding spaces)", name)
}

func (r *Resolver) updateIntegration(ctx context.Context, id string, in model.UpdateIntegrationInput) (*model.Integration, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	for _, err := range []error{
		validateRange("syncIntervalSeconds", in.SyncIntervalSeconds, MinInterval, MaxInterval),
		validateRange("alertFailureThreshold", in.AlertFailureThreshold, MinThreshold, MaxThreshold),
		validateRange("alertWindowMinutes", in.AlertWindowMinutes, MinWindow, MaxWindow),
		validateCredentials(in.Credentials),
	} {
		if err != nil {
			return nil, err
		}
	}
	var name string
	if in.DisplayName != nil {
		name = strings.TrimSpace(*in.DisplayName)
		if err := validateDisplayName(name); err != nil {
			return nil, err
		}
	}
	cur, err := r.getIntegration(ctx, id)
	if err != nil {
		return nil, err
	}
	now := r.now()
	u := r.Store.Client.Integration.UpdateOne(cur).SetUpdatedAt(now)
	var changes []string
	if in.DisplayName != nil && name != cur.DisplayName {
		u.SetDisplayName(name).SetDisplayNameKey(nameKey(name))
		changes = append(changes, "renamed")
	}
	if in.Credentials != nil {
		sealed, hint, err := r.sealCredentials(in.Credentials)
		if err != nil {
			return nil, err
		}
		// New credentials deserve a fresh start: an open breaker, the rejections
		// counted and NEEDS_CREDENTIALS were all about the old ones.
		u.SetCredentials(sealed).SetCredentialsHint(hint).
			SetCircuitState(integration.CircuitStateCLOSED).ClearCircuitOpenedAt().
			SetCredentialFailures(0).SetNeedsCredentials(false).ClearCredentialsRejection()
		changes = append(changes, "credentials changed")
	}
	if in.AlertFailureThreshold != nil {
		u.SetAlertFailureThreshold(*in.AlertFailureThreshold)
	}
	if in.AlertWindowMinutes != nil {
		u.SetAlertWindowMinutes(*in.AlertWindowMinutes)
	}
	interval := cur.SyncIntervalSeconds
	if in.SyncIntervalSeconds != nil {
		interval = *in.SyncIntervalSeconds
		u.SetSyncIntervalSeconds(interval)
	}
	enabled := cur.Enabled
	if in.Enabled != nil {
		enabled = *in.Enabled
		u.SetEnabled(enabled)
		if enabled != cur.Enabled {
			changes = append(changes, map[bool]string{true: "resumed", false: "paused"}[enabled])
		}
	}
	switch {
	case !enabled:
		u.ClearNextSyncAt()
	case !cur.Enabled || in.Credentials != nil:
		// Re-enabled, or new credentials: due at once.
		u.SetNextSyncAt(now)
	case in.SyncIntervalSeconds != nil && interval != cur.SyncIntervalSeconds:
		// A new interval: the schedule starts over from now.
		u.SetNextSyncAt(store.NextSyncAfter(now, interval))
	}
	saved, err := u.Save(ctx)
	if ent.IsNotFound(err) {
		return nil, errNotFound("integration")
	}
	if ent.IsConstraintError(err) {
		return nil, nameTaken(name)
	}
	if err != nil {
		return nil, err
	}
	r.changed(saved.ID.String())
	if len(changes) == 0 {
		changes = append(changes, "settings changed")
	}
	r.publishChanged(ctx, saved, strings.Join(changes, ", "))
	return toIntegration(saved), nil
}

func (r *Resolver) deleteIntegration(ctx context.Context, id string) (bool, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return false, err
	}
	cur, err := r.getIntegration(ctx, id)
	if err != nil {
		return false, err
	}
	// Drivers, loads, stations, weather and sync logs go with it (ON DELETE CASCADE);
	// alerts stay as history with no integration.
	n, err := r.Store.Client.Integration.Delete().Where(integration.ID(cur.ID)).Exec(ctx)
	if err != nil {
		return false, err
	}
	if n == 0 {
		return false, errNotFound("integration")
	}
	r.changed(id)
	r.publishChanged(ctx, cur, "deleted")
	return true, nil
}

func (r *Resolver) history(ctx context.Context, integrationID string, limit, offset *int, status *model.SyncStatus) ([]*model.SyncLog, error) {
	q, err := r.historyQuery(integrationID, limit, offset, status, selects(ctx, []string{"SyncLog"}, "tries"))
	if err != nil {
		return nil, err
	}
	logs, err := q.All(ctx)
	if err != nil {
		return nil, err
	}
	if len(logs) == 0 {
		if err := r.noHistory(ctx, integrationID); err != nil {
			return nil, err
		}
	}
	out := make([]*model.SyncLog, len(logs))
	for i, lg := range logs {
		out[i] = ToSyncLog(lg)
	}
	return out, nil
}

// historyQuery validates a history page's arguments and returns its query: newest
// first, the tenant's rows only (privacy), every column but tries unless withTries
// (see syncLogColumns).
func (r *Resolver) historyQuery(integrationID string, limit, offset *int, status *model.SyncStatus, withTries bool) (*ent.SyncLogQuery, error) {
	l, o, err := validatePage(limit, offset)
	if err != nil {
		return nil, err
	}
	if status != nil && !status.IsValid() {
		return nil, badInput("unknown status")
	}
	uid, err := parseID(integrationID, "integration")
	if err != nil {
		return nil, err
	}
	q := r.Store.Client.SyncLog.Query().Where(synclog.IntegrationID(uid))
	if status != nil {
		q.Where(synclog.StatusEQ(synclog.Status(*status)))
	}
	cols := columnsWithoutTries
	if withTries {
		cols = columnsWithTries
	}
	q.Order(ent.Desc(synclog.FieldStartedAt), ent.Desc(synclog.FieldID)).Limit(l).Offset(o).Select(cols...)
	return q, nil
}

// noHistory is what an empty history page needs to check: that it is "no history"
// and not "no such integration" (NOT_FOUND).
func (r *Resolver) noHistory(ctx context.Context, integrationID string) error {
	_, err := r.getIntegration(ctx, integrationID)
	return err
}

func (r *Resolver) stats(ctx context.Context, integrationID string, since *time.Time) (*model.SyncStats, error) {
	in, err := r.getIntegration(ctx, integrationID)
	if err != nil {
		return nil, err
	}
	var from time.Time
	if since != nil {
		from = *since
	}
	st, err := r.Store.Stats(ctx, in.TenantID, in.ID, from)
	if err != nil {
		return nil, err
	}
	return &model.SyncStats{
		TotalSyncs:        st.Total,
		SuccessfulSyncs:   st.Successful,
		FailedSyncs:       st.Failed,
		SuccessRate:       st.SuccessRate(),
		AverageDurationMs: st.AverageDurationMs,
		P95DurationMs:     st.P95DurationMs,
		LastSuccessAt:     st.LastSuccessAt,
		LastFailureAt:     st.LastFailureAt,
	}, nil
}

func (r *Resolver) alerts(ctx context.Context, limit, offset *int) ([]*model.Alert, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	l, o, err := validatePage(limit, offset)
	if err != nil {
		return nil, err
	}
	as, err := r.Store.Client.Alert.Query().Where(entalert.KindNotIn(alert.AccountKinds()...)).
		Order(ent.Desc("created_at"), ent.Desc("id")).Limit(l).Offset(o).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*model.Alert, len(as))
	for i, a := range as {
		out[i] = toAlert(a)
	}
	return out, nil
}

func (r *Resolver) integrationByUUID(ctx context.Context, id *uuid.UUID) (*model.Integration, error) {
	if id == nil {
		return nil, nil
	}
	in, err := r.Store.Client.Integration.Get(ctx, *id)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return toIntegration(in), nil
}

func (r *Resolver) integrationByUUIDString(ctx context.Context, id *string) (*model.Integration, error) {
	if id == nil {
		return nil, nil
	}
	u, err := uuid.Parse(*id)
	if err != nil {
		return nil, nil
	}
	return r.integrationByUUID(ctx, &u)
}
