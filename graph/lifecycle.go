package graph

import (
	"context"
	"strings"
	"time"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/ent"
	entalert "github.com/sallyhq/sally/ent/alert"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/graph/model"
)

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

func (r *Resolver) testCredentials(ctx context.Context, vendor model.Vendor, c model.CredentialsInput) (*model.ConnectionTestResult, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	if !vendor.IsValid() {
		return nil, badInput("unknown vendor")
	}
	if err := validateCredentials(&c); err != nil {
		return nil, err
	}
	creds := auth.Credentials{APIKey: c.APIKey}
	if c.APISecret != nil {
		creds.APISecret = *c.APISecret
	}
	res := r.Syncer.TestCredentials(ctx, integration.Vendor(vendor), creds)
	out := &model.ConnectionTestResult{Success: res.Success, LatencyMs: int(res.Latency.Milliseconds())}
	if !res.Success {
		out.Message = &res.Message
	}
	return out, nil
}

func (r *Resolver) muteIntegrationAlerts(ctx context.Context, id string, until *time.Time) (*model.Integration, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	now := r.now()
	if until != nil {
		if !until.After(now) {
			return nil, badInput("until must be in the future (null unmutes)")
		}
		if until.Sub(now) > MaxMuteAhead {
			return nil, badInput("until must be at most 30 days ahead")
		}
	}
	cur, err := r.getIntegration(ctx, id)
	if err != nil {
		return nil, err
	}
	u := r.Store.Client.Integration.UpdateOne(cur)
	msg := "alerts unmuted"
	if until != nil {
		t := until.UTC().Truncate(time.Microsecond)
		u.SetAlertsMutedUntil(t)
		msg = "alerts muted until " + t.Format(time.RFC3339)
	} else {
		u.ClearAlertsMutedUntil()
	}
	saved, err := u.Save(ctx)
	if ent.IsNotFound(err) {
		return nil, errNotFound("integration")
	}
	if err != nil {
		return nil, err
	}
	r.publishChanged(ctx, saved, msg)
	return toIntegration(saved), nil
}

func (r *Resolver) openAlerts(ctx context.Context, integrationID *string) ([]*model.Alert, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	q := r.Store.Client.Alert.Query().Where(entalert.Firing(true), entalert.ResolvedAtIsNil())
	if integrationID != nil {
		in, err := r.getIntegration(ctx, *integrationID)
		if err != nil {
			return nil, err
		}
		q.Where(entalert.IntegrationID(in.ID))
	}
	as, err := q.Order(ent.Desc(entalert.FieldCreatedAt), ent.Desc(entalert.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*model.Alert, len(as))
	for i, a := range as {
		out[i] = toAlert(a)
	}
	return out, nil
}

// createdBy is the user who created the integration; null for the demo's, and once
// that user is deleted.
func (r *Resolver) createdBy(ctx context.Context, obj *model.Integration) (*model.User, error) {
	if obj.CreatedByID == nil {
		return nil, nil
	}
	u, err := r.Store.Client.User.Get(ctx, *obj.CreatedByID)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return toUser(u), nil
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
