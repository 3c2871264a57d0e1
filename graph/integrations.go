package graph

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/graph/model"
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

func nameTaken(name string) error {
	return Errorf(CodeConflict, "an integration named %q already exists in this tenant (names are compared ignoring case and surrounding spaces)", name)
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
	return mapSlice(logs, ToSyncLog), nil
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

// The integration lifecycle (contract v2): state and stateReason, testing
// credentials before they are stored, muting alerts, open alerts, and the
// INTEGRATION_CHANGED events that keep every open page up to date.

// MaxMuteAhead is how far ahead muteIntegrationAlerts may mute.
const MaxMuteAhead = 30 * 24 * time.Hour

// pausedReason is the stateReason of a PAUSED integration.
const pausedReason = "Paused: an admin turned its syncs off. Resume it to sync again."

// nameKey is what makes two display names the same one: trimmed, lower-cased.
func nameKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// stateOf derives the contract's state and stateReason from what is stored.
func stateOf(in *ent.Integration) (model.IntegrationState, *string) {
	switch {
	case !in.Enabled:
		reason := pausedReason
		if in.NeedsCredentials {
			reason += " The vendor had also rejected its credentials: enter a new key before resuming."
		}
		return model.IntegrationStatePaused, &reason
	case in.NeedsCredentials:
		reason := "The vendor rejected the credentials; enter a new key to sync again."
		if in.CredentialsRejection != nil && *in.CredentialsRejection != "" {
			reason = "The vendor rejected the credentials: " + *in.CredentialsRejection
		}
		return model.IntegrationStateNeedsCredentials, &reason
	default:
		return model.IntegrationStateActive, nil
	}
}

// publishChanged tells subscribers that an integration was created, changed or
// deleted (message says which), after the change is stored.
func (r *Resolver) publishChanged(ctx context.Context, in *ent.Integration, message string) {
	p := r.Publisher
	if p == nil {
		if r.Events == nil {
			return
		}
		p = r.Events
	}
	p.Publish(context.WithoutCancel(ctx), event.Event{
		Type: event.IntegrationChanged, At: r.now(), TenantID: in.TenantID.String(),
		IntegrationID: in.ID.String(), IntegrationName: in.DisplayName, Vendor: string(in.Vendor),
		CircuitState: string(in.CircuitState), Message: &message,
	})
}

// syncRefusal is why an integration cannot sync now, nil when it can.
func syncRefusal(in *ent.Integration) error {
	switch {
	case !in.Enabled:
		return badInput("the integration is paused: resume it to sync (testIntegration still works)")
	case in.NeedsCredentials:
		return badInput("the integration needs new credentials: the vendor rejected its key; update its credentials to sync (testIntegration still works)")
	}
	return nil
}
