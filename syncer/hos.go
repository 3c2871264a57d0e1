package syncer

import (
	"context"
	"errors"
	"fmt"
	"github.com/sallyhq/sally/apierr"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/fleetdriver"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/resilience"
	"github.com/sallyhq/sally/vendors"
	"github.com/sallyhq/sally/vendors/samsara"
)

func notFound(format string, args ...any) error {
	return apierr.New(apierr.CodeNotFound, format, args...)
}

func badInput(format string, args ...any) error {
	return apierr.New(apierr.CodeBadUserInput, format, args...)
}

// vendorFailed reports a vendor failure to an API caller in a dispatcher's words.
func vendorFailed(err error) error {
	if ce, ok := errors.AsType[*apierr.Error](err); ok {
		return ce
	}
	return &apierr.Error{Code: apierr.CodeInternal, Message: describe(err)}
}

// Data sources of HOSData.
const (
	SourceSamsara        = "samsara_eld"
	SourceManualOverride = "manual_override"
)

// HOS is a driver's hours of service as the API shows them. A nil clock, violation
// or note is one nobody reported: unknown, never 0.
type HOS struct {
	DriverID, DriverName       string
	DutyStatus                 string
	HoursDriven                *float64
	DriveRemainingHours        *float64
	ShiftRemainingHours        *float64
	CycleRemainingHours        *float64
	TimeUntilBreakHours        *float64
	CycleViolationHours        *float64
	ShiftDrivingViolationHours *float64
	DataSource                 string
	SyncedAt                   *time.Time
	Cached, Stale              bool
	CacheAgeSeconds            *int
	Error                      *string
	Note                       *string
	// The override's audit, while one is served: who set it (nil when unknown), when,
	// why, and when it ends by itself (nil: until cleared).
	OverriddenBy      *uuid.UUID
	OverriddenAt      *time.Time
	OverrideReason    *string
	OverrideExpiresAt *time.Time
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func cachedHOS(d *ent.FleetDriver, now time.Time) HOS {
	h := HOS{
		DriverID: d.DriverID, DriverName: str(d.Name), DutyStatus: str(d.DutyStatus),
		HoursDriven: d.HoursDriven, DriveRemainingHours: d.DriveRemainingHours,
		ShiftRemainingHours: d.ShiftRemainingHours, CycleRemainingHours: d.CycleRemainingHours,
		TimeUntilBreakHours: d.TimeUntilBreakHours, CycleViolationHours: d.CycleViolationHours,
		ShiftDrivingViolationHours: d.ShiftDrivingViolationHours, Note: d.HosNote,
		DataSource: SourceSamsara, SyncedAt: d.HosSyncedAt, Cached: true,
	}
	if d.HosSyncedAt != nil {
		age := int(now.Sub(*d.HosSyncedAt).Seconds())
		h.CacheAgeSeconds = &age
	}
	return h
}

func overrideHOS(d *ent.FleetDriver) HOS {
	return HOS{
		DriverID: d.DriverID, DriverName: str(d.Name), DutyStatus: str(d.OverrideDutyStatus),
		HoursDriven: d.OverrideHoursDriven, DriveRemainingHours: d.OverrideDriveRemainingHours,
		ShiftRemainingHours: d.OverrideShiftRemainingHours, CycleRemainingHours: d.OverrideCycleRemainingHours,
		TimeUntilBreakHours: d.OverrideTimeUntilBreakHours, DataSource: SourceManualOverride,
		SyncedAt: d.OverrideAt, OverriddenBy: d.OverrideBy, OverriddenAt: d.OverrideAt,
		OverrideReason: d.OverrideReason, OverrideExpiresAt: d.OverrideExpiresAt,
	}
}

// OverrideActive reports whether the driver's manual override is served at now: set,
// and not past its expiry. An expired override is never served; the vendor's data is.
func OverrideActive(d *ent.FleetDriver, now time.Time) bool {
	return d.HosManualOverride && (d.OverrideExpiresAt == nil || now.Before(*d.OverrideExpiresAt))
}

// findDriver returns the tenant's driver with that vendor id (the most recently
// synced one if two HOS integrations know it), or nil.
func (e *Engine) findDriver(ctx context.Context, tenantID uuid.UUID, driverID string) (*ent.FleetDriver, error) {
	d, err := e.client.FleetDriver.Query().
		Where(fleetdriver.TenantID(tenantID), fleetdriver.DriverID(driverID)).
		Order(ent.Desc(fleetdriver.FieldActive), ent.Desc(fleetdriver.FieldUpdatedAt)).First(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return d, err
}

// DriverHOS answers with, in order: the manual override; a cached value younger
// than five minutes; a fresh fetch through the resilience policies (which refreshes
// the cache); the stale cache flagged stale with the fetch's error; NOT_FOUND.
// ctx carries the viewer, so every read is confined to the tenant.
func (e *Engine) DriverHOS(ctx context.Context, tenantID uuid.UUID, driverID string) (HOS, error) {
	if driverID == "" || len(driverID) > 128 {
		return HOS{}, badInput("driverId must be 1..128 characters")
	}
	now := e.now()
	d, err := e.findDriver(ctx, tenantID, driverID)
	if err != nil {
		return HOS{}, err
	}
	if d != nil && OverrideActive(d, now) {
		return overrideHOS(d), nil
	}
	if d != nil && d.DutyStatus != nil && d.HosSyncedAt != nil && now.Sub(*d.HosSyncedAt) < DefaultHOSCacheMaxAge {
		return cachedHOS(d, now), nil
	}
	var in *ent.Integration
	if d != nil {
		in, err = e.client.Integration.Get(ctx, d.IntegrationID)
	} else {
		in, err = e.client.Integration.Query().
			Where(integration.TenantID(tenantID), integration.IntegrationTypeEQ(integration.IntegrationTypeHOS_ELD)).
			Order(ent.Desc(integration.FieldEnabled), ent.Asc(integration.FieldCreatedAt)).First(ctx)
	}
	if ent.IsNotFound(err) {
		return HOS{}, notFound("no HOS data for driver %s", driverID)
	}
	if err != nil {
		return HOS{}, err
	}
	var fresh vendors.HOS
	var ferr error
	if in.NeedsCredentials {
		ferr = ErrNeedsCredentials // no vendor call until its credentials change
	} else {
		fresh, ferr = e.fetchHOS(ctx, in, driverID)
	}
	if ferr == nil {
		if d, err = e.storeHOS(ctx, in, d, fresh, now); err != nil {
			return HOS{}, err
		}
		h := cachedHOS(d, now)
		h.Cached, h.CacheAgeSeconds = false, ptr(0)
		return h, nil
	}
	if d != nil && d.DutyStatus != nil {
		h := cachedHOS(d, now)
		h.Stale = true
		h.Error = ptr(describe(ferr))
		return h, nil
	}
	if vendors.KindOf(ferr) == vendors.KindNotFound {
		return HOS{}, notFound("no HOS data for driver %s", driverID)
	}
	return HOS{}, notFound("no HOS data for driver %s: no cached value and the vendor failed (%s)", driverID, describe(ferr))
}

func (e *Engine) fetchHOS(ctx context.Context, in *ent.Integration, driverID string) (vendors.HOS, error) {
	c, err := clientOf[*samsara.Client](e, in, e.doFunc(in, nil, resilience.Hooks{}))
	if errors.Is(err, errWrongVendor) {
		return vendors.HOS{}, notFound("no HOS integration")
	}
	if err != nil {
		return vendors.HOS{}, err
	}
	return c.HOS(ctx, driverID)
}

// storeHOS refreshes (or creates) the driver's cache row.
func (e *Engine) storeHOS(ctx context.Context, in *ent.Integration, d *ent.FleetDriver, h vendors.HOS, now time.Time) (*ent.FleetDriver, error) {
	if d == nil {
		cr := e.client.FleetDriver.Create().SetTenantID(in.TenantID).SetIntegrationID(in.ID).SetDriverID(h.DriverID)
		if h.DriverName != "" {
			cr.SetName(h.DriverName)
		}
		setClocks(cr.Mutation(), h, now)
		cr.SetLastSyncedAt(now)
		return cr.Save(ctx)
	}
	u := e.client.FleetDriver.UpdateOne(d)
	setClocks(u.Mutation(), h, now)
	u.SetLastSyncedAt(now)
	if h.DriverName != "" {
		u.SetName(h.DriverName)
	}
	return u.Save(ctx)
}

// Override is a dispatcher's manual HOS for a driver, with its audit: who sets it, why
// (1..MaxOverrideReason characters when given; nil for a v1 client that sends none, which
// the contract still allows) and when it ends by itself (nil: until cleared; at most
// MaxOverrideAhead ahead).
type Override struct {
	DutyStatus                                  string
	HoursDriven, DriveRemaining, ShiftRemaining float64
	CycleRemaining, TimeUntilBreak              float64
	Reason                                      *string
	ExpiresAt                                   *time.Time
	By                                          *uuid.UUID
}

// Limits of an override's audit fields.
const (
	MaxOverrideReason = 500
	MaxOverrideAhead  = 14 * 24 * time.Hour
)

func checkHours(name string, v, hi float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > hi {
		return badInput("%s must be between 0 and %g hours", name, hi)
	}
	return nil
}

// checkOverride validates an override at now and returns its trimmed reason (nil when
// none was given).
func checkOverride(o Override, now time.Time) (*string, error) {
	for _, err := range []error{
		checkHours("hoursDriven", o.HoursDriven, 24),
		checkHours("driveRemainingHours", o.DriveRemaining, 11),
		checkHours("shiftRemainingHours", o.ShiftRemaining, 14),
		checkHours("cycleRemainingHours", o.CycleRemaining, 70),
		checkHours("timeUntilBreakHours", o.TimeUntilBreak, 8),
	} {
		if err != nil {
			return nil, err
		}
	}
	var reason *string
	if o.Reason != nil {
		r := strings.TrimSpace(*o.Reason)
		switch n := utf8.RuneCountInString(r); {
		case n == 0:
			return nil, badInput("reason must not be blank: say why the vendor's data is overridden (1..%d characters)", MaxOverrideReason)
		case n > MaxOverrideReason:
			return nil, badInput("reason must be at most %d characters (it has %d)", MaxOverrideReason, n)
		}
		reason = &r
	}
	if o.ExpiresAt != nil {
		// At the engine's (and the databases') resolution, a microsecond.
		exp := o.ExpiresAt.UTC().Truncate(time.Microsecond)
		switch {
		case !exp.After(now):
			return nil, badInput("expiresAt must be in the future")
		case exp.Sub(now) > MaxOverrideAhead:
			return nil, badInput("expiresAt must be at most 14 days ahead")
		}
	}
	return reason, nil
}

// OverrideHOS sets a manual override, served before anything the vendor says until
// it is cleared or expires.
func (e *Engine) OverrideHOS(ctx context.Context, tenantID uuid.UUID, driverID string, o Override) (HOS, error) {
	now := e.now()
	reason, err := checkOverride(o, now)
	if err != nil {
		return HOS{}, err
	}
	d, err := e.findDriver(ctx, tenantID, driverID)
	if err != nil {
		return HOS{}, err
	}
	if d == nil {
		return HOS{}, notFound("driver %s not found", driverID)
	}
	u := e.client.FleetDriver.UpdateOne(d).SetHosManualOverride(true).
		SetOverrideDutyStatus(o.DutyStatus).SetOverrideHoursDriven(o.HoursDriven).
		SetOverrideDriveRemainingHours(o.DriveRemaining).SetOverrideShiftRemainingHours(o.ShiftRemaining).
		SetOverrideCycleRemainingHours(o.CycleRemaining).SetOverrideTimeUntilBreakHours(o.TimeUntilBreak).
		SetOverrideAt(now).SetNillableOverrideReason(reason).SetNillableOverrideBy(o.By)
	if reason == nil {
		u.ClearOverrideReason()
	}
	if o.ExpiresAt != nil {
		u.SetOverrideExpiresAt(o.ExpiresAt.UTC().Truncate(time.Microsecond))
	} else {
		u.ClearOverrideExpiresAt()
	}
	if d, err = u.Save(ctx); err != nil {
		return HOS{}, err
	}
	return overrideHOS(d), nil
}

// ClearOverride removes the manual override and answers as DriverHOS then does.
func (e *Engine) ClearOverride(ctx context.Context, tenantID uuid.UUID, driverID string) (HOS, error) {
	d, err := e.findDriver(ctx, tenantID, driverID)
	if err != nil {
		return HOS{}, err
	}
	if d == nil {
		return HOS{}, notFound("driver %s not found", driverID)
	}
	err = e.client.FleetDriver.Update().
		Where(fleetdriver.TenantID(tenantID), fleetdriver.DriverID(driverID)).
		SetHosManualOverride(false).ClearOverrideDutyStatus().ClearOverrideHoursDriven().
		ClearOverrideDriveRemainingHours().ClearOverrideShiftRemainingHours().
		ClearOverrideCycleRemainingHours().ClearOverrideTimeUntilBreakHours().ClearOverrideAt().
		ClearOverrideBy().ClearOverrideReason().ClearOverrideExpiresAt().Exec(ctx)
	if err != nil {
		return HOS{}, err
	}
	return e.DriverHOS(ctx, tenantID, driverID)
}

// HOSOf is what the drivers list shows for a driver synced by integration in: its
// override while one is served, else its cache, flagged stale (with why) once the
// vendor has not confirmed it for StaleAfter(in).
func HOSOf(d *ent.FleetDriver, in *ent.Integration, now time.Time) HOS {
	if OverrideActive(d, now) {
		return overrideHOS(d)
	}
	h := cachedHOS(d, now)
	if in == nil || d.HosSyncedAt == nil {
		return h
	}
	if age := now.Sub(*d.HosSyncedAt); age > StaleAfter(in) {
		why := "the vendor sent no clocks for this driver"
		switch {
		case !in.Enabled:
			why = "the HOS integration is paused"
		case in.LastSyncStatus != nil && *in.LastSyncStatus == integration.LastSyncStatusFAILED:
			why = "the last HOS sync failed"
		}
		h.Stale = true
		h.Error = ptr(fmt.Sprintf("not confirmed by the vendor for %s: %s", age.Round(time.Minute), why))
	}
	return h
}

// StaleAfter is how long a driver's cached HOS may go unconfirmed by the vendor before
// the drivers list flags it stale: two sync intervals of its integration and a minute,
// so that one late scheduled sync does not flag it but a failed one does.
func StaleAfter(in *ent.Integration) time.Duration {
	return 2*time.Duration(in.SyncIntervalSeconds)*time.Second + time.Minute
}
