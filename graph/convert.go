package graph

import (
	"time"

	"github.com/google/uuid"

	"github.com/sallyhq/sally/ent"
	entalert "github.com/sallyhq/sally/ent/alert"
	"github.com/sallyhq/sally/ent/schema"
	"github.com/sallyhq/sally/graph/model"
	"github.com/sallyhq/sally/vendors"
)

// parseID turns a client's ID into a UUID; a malformed one is reported exactly like
// a missing object.
func parseID(id, what string) (uuid.UUID, error) {
	u, err := uuid.Parse(id)
	if err != nil {
		return uuid.Nil, errNotFound(what)
	}
	return u, nil
}

func utc(t time.Time) time.Time { return t.UTC() }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func toTenant(t *ent.Tenant) *model.Tenant {
	return &model.Tenant{ID: t.ID.String(), Name: t.Name, CreatedAt: utc(t.CreatedAt)}
}

func toUser(u *ent.User) *model.User {
	return &model.User{
		ID: u.ID.String(), Email: u.Email, Role: model.Role(u.Role), IsActive: u.IsActive,
		TenantID: u.TenantID.String(), CreatedAt: utc(u.CreatedAt),
		LastLoginAt: utcPtr(u.LastLoginAt), InvitationPending: u.PasswordHash == "",
	}
}

func toIntegration(i *ent.Integration) *model.Integration {
	m := &model.Integration{
		ID:                    i.ID.String(),
		TenantID:              i.TenantID.String(),
		IntegrationType:       model.IntegrationType(i.IntegrationType),
		Vendor:                model.Vendor(i.Vendor),
		DisplayName:           i.DisplayName,
		Enabled:               i.Enabled,
		SyncIntervalSeconds:   i.SyncIntervalSeconds,
		CredentialsHint:       i.CredentialsHint,
		AlertFailureThreshold: i.AlertFailureThreshold,
		AlertWindowMinutes:    i.AlertWindowMinutes,
		CircuitState:          model.CircuitState(i.CircuitState),
		LastSyncAt:            utcPtr(i.LastSyncAt),
		NextSyncAt:            utcPtr(i.NextSyncAt),
		CreatedAt:             utc(i.CreatedAt),
		UpdatedAt:             utc(i.UpdatedAt),
	}
	m.State, m.StateReason = stateOf(i)
	if m.State != model.IntegrationStateActive {
		m.NextSyncAt = nil // nothing is scheduled while PAUSED or NEEDS_CREDENTIALS
	}
	if i.AlertsMutedUntil != nil && i.AlertsMutedUntil.After(time.Now()) {
		m.AlertsMutedUntil = utcPtr(i.AlertsMutedUntil)
	}
	m.CreatedByID = i.CreatedBy
	if i.LastSyncStatus != nil {
		s := model.SyncStatus(*i.LastSyncStatus)
		m.LastSyncStatus = &s
	}
	return m
}

// ToSyncLog converts a stored sync log to its GraphQL form (also used for events).
func ToSyncLog(l *ent.SyncLog) *model.SyncLog {
	m := &model.SyncLog{
		ID:               l.ID.String(),
		IntegrationID:    l.IntegrationID.String(),
		SyncType:         model.SyncType(l.SyncType),
		Status:           model.SyncStatus(l.Status),
		Trigger:          model.SyncTrigger(l.Trigger),
		StartedAt:        utc(l.StartedAt),
		CompletedAt:      utcPtr(l.CompletedAt),
		Attempts:         l.Attempts,
		RecordsProcessed: l.RecordsProcessed,
		RecordsCreated:   l.RecordsCreated,
		RecordsUpdated:   l.RecordsUpdated,
		Error:            l.Error,
		ErrorClass:       l.ErrorClass,
		TriggeredByID:    l.TriggeredByID,
		Tries:            toTries(l.Tries),
	}
	if l.DurationMs != nil {
		d := int(*l.DurationMs)
		m.DurationMs = &d
	}
	return m
}

// toTries converts a sync's stored tries (never nil: the contract's list is non-null).
func toTries(ts []schema.SyncTry) []*model.SyncTry {
	out := make([]*model.SyncTry, len(ts))
	for i, t := range ts {
		out[i] = &model.SyncTry{
			Call: t.Call, Attempt: t.Attempt, StartedAt: t.StartedAt.UTC(), DurationMs: int(t.DurationMs),
			HTTPStatus: t.HTTPStatus, ErrorClass: t.ErrorClass, Error: t.Error,
		}
		if t.RetryInMs != nil {
			ms := int(*t.RetryInMs)
			out[i].RetryInMs = &ms
		}
	}
	return out
}

func toAlert(a *ent.Alert) *model.Alert {
	m := &model.Alert{
		ID:               a.ID.String(),
		Severity:         model.AlertSeverity(a.Severity),
		Title:            a.Title,
		Message:          a.Message,
		Firing:           a.Firing,
		Recipients:       a.Recipients,
		Status:           model.AlertStatus(a.Status),
		DeliveryAttempts: a.DeliveryAttempts,
		CreatedAt:        utc(a.CreatedAt),
		SentAt:           utcPtr(a.SentAt),
		Kind:             a.Kind,
		LastError:        a.LastError,
		ResolvedAt:       utcPtr(a.ResolvedAt),
		Muted:            a.Status == entalert.StatusMUTED,
	}
	if m.Recipients == nil {
		m.Recipients = []string{}
	}
	if a.IntegrationID != nil {
		s := a.IntegrationID.String()
		m.IntegrationID = &s
	}
	return m
}

func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toStation(s vendors.FuelStation) *model.FuelStation {
	am := s.Amenities
	if am == nil {
		am = []string{}
	}
	return &model.FuelStation{
		StationID: s.ID, Name: s.Name, Brand: optStr(s.Brand), Address: optStr(s.Address), City: optStr(s.City),
		State: optStr(s.State), Zip: optStr(s.Zip), Latitude: s.Latitude, Longitude: s.Longitude,
		PricePerGallon: s.RegularPrice, DieselPrice: s.DieselPrice, DistanceMiles: s.DistanceMiles,
		Amenities: am, LastUpdated: utcPtr(s.UpdatedAt), DataSource: "fuelfinder",
	}
}

// mapSlice converts every element of xs with f.
func mapSlice[T, U any](xs []T, f func(T) U) []U {
	out := make([]U, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}
