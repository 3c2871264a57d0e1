package graph

import (
	"context"

	"github.com/google/uuid"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/user"
	"github.com/sallyhq/sally/graph/model"
	"github.com/sallyhq/sally/syncer"
)

// Drivers' hours of service. A clock, violation or note nobody reported is null in
// the API, never 0; an override is served with its audit (who, when, why, until).

// toHOS maps h; users holds the override authors already loaded (by id).
func toHOS(h syncer.HOS, users map[uuid.UUID]*ent.User) *model.HOSData {
	m := &model.HOSData{
		DriverID: h.DriverID, DutyStatus: model.DutyStatus(h.DutyStatus), HoursDriven: h.HoursDriven,
		DriveRemainingHours: h.DriveRemainingHours, ShiftRemainingHours: h.ShiftRemainingHours,
		CycleRemainingHours: h.CycleRemainingHours, TimeUntilBreakHours: h.TimeUntilBreakHours,
		CycleViolationHours: h.CycleViolationHours, ShiftDrivingViolationHours: h.ShiftDrivingViolationHours,
		DataSource: h.DataSource, SyncedAt: utcPtr(h.SyncedAt), Cached: h.Cached, Stale: h.Stale,
		CacheAgeSeconds: h.CacheAgeSeconds, Error: h.Error, Note: h.Note,
		OverriddenAt: utcPtr(h.OverriddenAt), OverrideReason: h.OverrideReason,
		OverrideExpiresAt: utcPtr(h.OverrideExpiresAt),
	}
	if !m.DutyStatus.IsValid() {
		// Nothing the vendor said maps to a status: unknown, and say so.
		m.DutyStatus = model.DutyStatusUnknown
		if m.Note == nil {
			m.Note = ptrTo("no duty status reported")
		}
	}
	if h.DriverName != "" {
		m.DriverName = &h.DriverName
	}
	if h.OverriddenBy != nil {
		if u := users[*h.OverriddenBy]; u != nil {
			m.OverriddenBy = toUser(u)
		}
	}
	return m
}

func ptrTo[T any](v T) *T { return &v }

// overrideAuthors loads the users who set the overrides of hs (in the viewer's
// tenant); a deleted author is simply absent (overriddenBy null).
func (r *Resolver) overrideAuthors(ctx context.Context, hs ...syncer.HOS) (map[uuid.UUID]*ent.User, error) {
	var ids []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for _, h := range hs {
		if h.OverriddenBy != nil && !seen[*h.OverriddenBy] {
			seen[*h.OverriddenBy] = true
			ids = append(ids, *h.OverriddenBy)
		}
	}
	out := make(map[uuid.UUID]*ent.User, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	us, err := r.Store.Client.User.Query().Where(user.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range us {
		out[u.ID] = u
	}
	return out, nil
}

func (r *Resolver) oneHOS(ctx context.Context, h syncer.HOS) (*model.HOSData, error) {
	users, err := r.overrideAuthors(ctx, h)
	if err != nil {
		return nil, err
	}
	return toHOS(h, users), nil
}
