package graph

import (
	"context"

	"github.com/google/uuid"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/integration"
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

// driversOf is the board's rows of ds (in their order): each driver with its HOS as
// served (override, else the stored clocks) and who overrode it.
func (r *Resolver) driversOf(ctx context.Context, ds []*ent.FleetDriver) ([]*model.Driver, error) {
	ins, err := r.Store.Client.Integration.Query().
		Where(integration.IntegrationTypeEQ(integration.IntegrationTypeHOS_ELD)).All(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[uuid.UUID]*ent.Integration, len(ins))
	for _, in := range ins {
		byID[in.ID] = in
	}
	now := r.now()
	hos := make([]*syncer.HOS, len(ds))
	var all []syncer.HOS
	for i, d := range ds {
		if syncer.OverrideActive(d, now) || d.DutyStatus != nil {
			h := syncer.HOSOf(d, byID[d.IntegrationID], now)
			hos[i] = &h
			all = append(all, h)
		}
	}
	users, err := r.overrideAuthors(ctx, all...)
	if err != nil {
		return nil, err
	}
	out := make([]*model.Driver, 0, len(ds))
	for i, d := range ds {
		m := &model.Driver{
			DriverID: d.DriverID, ExternalDriverID: d.ExternalDriverID, Name: d.Name,
			HosManualOverride: syncer.OverrideActive(d, now), LastSyncedAt: utcPtr(d.LastSyncedAt),
		}
		if hos[i] != nil {
			m.Hos = toHOS(*hos[i], users)
		}
		out = append(out, m)
	}
	return out, nil
}
