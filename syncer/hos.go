package syncer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/fleetdriver"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/resilience"
	"github.com/sallyhq/sally/vendors"
	"github.com/sallyhq/sally/vendors/samsara"
)

// CodedError carries a contract error code to the API (graph.ErrorCoder).
type CodedError struct {
	Code string
	Msg  string
}

func (e *CodedError) Error() string     { return e.Msg }
func (e *CodedError) ErrorCode() string { return e.Code }

func notFound(format string, args ...any) error {
	return &CodedError{Code: "NOT_FOUND", Msg: fmt.Sprintf(format, args...)}
}

func badInput(format string, args ...any) error {
	return &CodedError{Code: "BAD_USER_INPUT", Msg: fmt.Sprintf(format, args...)}
}

// vendorFailed reports a vendor failure to an API caller in a dispatcher's words.
func vendorFailed(err error) error {
	var ce *CodedError
	if errors.As(err, &ce) {
		return ce
	}
	return &CodedError{Code: "INTERNAL", Msg: describe(err)}
}

// Data sources of HOSData.
const (
	SourceSamsara        = "samsara_eld"
	SourceManualOverride = "manual_override"
)

// HOS is a driver's hours of service as the API shows them.
type HOS struct {
	DriverID, DriverName string
	DutyStatus           string
	HoursDriven          float64
	DriveRemainingHours  float64
	ShiftRemainingHours  float64
	CycleRemainingHours  float64
	TimeUntilBreakHours  float64
	DataSource           string
	SyncedAt             *time.Time
	Cached, Stale        bool
	CacheAgeSeconds      *int
	Error                *string
}

func val(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
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
		HoursDriven: val(d.HoursDriven), DriveRemainingHours: val(d.DriveRemainingHours),
		ShiftRemainingHours: val(d.ShiftRemainingHours), CycleRemainingHours: val(d.CycleRemainingHours),
		TimeUntilBreakHours: val(d.TimeUntilBreakHours), DataSource: SourceSamsara, SyncedAt: d.HosSyncedAt,
		Cached: true,
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
		HoursDriven: val(d.OverrideHoursDriven), DriveRemainingHours: val(d.OverrideDriveRemainingHours),
		ShiftRemainingHours: val(d.OverrideShiftRemainingHours), CycleRemainingHours: val(d.OverrideCycleRemainingHours),
		TimeUntilBreakHours: val(d.OverrideTimeUntilBreakHours), DataSource: SourceManualOverride,
		SyncedAt: d.OverrideAt,
	}
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
	if d != nil && d.HosManualOverride {
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
		cr.SetDutyStatus(h.DutyStatus).SetHoursDriven(h.HoursDriven).
			SetDriveRemainingHours(h.DriveRemainingHours).SetShiftRemainingHours(h.ShiftRemainingHours).
			SetCycleRemainingHours(h.CycleRemainingHours).SetTimeUntilBreakHours(h.TimeUntilBreakHours).
			SetHosSyncedAt(now).SetLastSyncedAt(now)
		return cr.Save(ctx)
	}
	u := e.client.FleetDriver.UpdateOne(d).
		SetDutyStatus(h.DutyStatus).SetHoursDriven(h.HoursDriven).
		SetDriveRemainingHours(h.DriveRemainingHours).SetShiftRemainingHours(h.ShiftRemainingHours).
		SetCycleRemainingHours(h.CycleRemainingHours).SetTimeUntilBreakHours(h.TimeUntilBreakHours).
		SetHosSyncedAt(now).SetLastSyncedAt(now)
	if h.DriverName != "" {
		u.SetName(h.DriverName)
	}
	return u.Save(ctx)
}

// Override is a dispatcher's manual HOS for a driver.
type Override struct {
	DutyStatus                                  string
	HoursDriven, DriveRemaining, ShiftRemaining float64
	CycleRemaining, TimeUntilBreak              float64
}

func checkHours(name string, v, hi float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > hi {
		return badInput("%s must be between 0 and %g hours", name, hi)
	}
	return nil
}

// OverrideHOS sets a manual override, served before anything the vendor says.
func (e *Engine) OverrideHOS(ctx context.Context, tenantID uuid.UUID, driverID string, o Override) (HOS, error) {
	for _, err := range []error{
		checkHours("hoursDriven", o.HoursDriven, 24),
		checkHours("driveRemainingHours", o.DriveRemaining, 11),
		checkHours("shiftRemainingHours", o.ShiftRemaining, 14),
		checkHours("cycleRemainingHours", o.CycleRemaining, 70),
		checkHours("timeUntilBreakHours", o.TimeUntilBreak, 8),
	} {
		if err != nil {
			return HOS{}, err
		}
	}
	d, err := e.findDriver(ctx, tenantID, driverID)
	if err != nil {
		return HOS{}, err
	}
	if d == nil {
		return HOS{}, notFound("driver %s not found", driverID)
	}
	d, err = e.client.FleetDriver.UpdateOne(d).SetHosManualOverride(true).
		SetOverrideDutyStatus(o.DutyStatus).SetOverrideHoursDriven(o.HoursDriven).
		SetOverrideDriveRemainingHours(o.DriveRemaining).SetOverrideShiftRemainingHours(o.ShiftRemaining).
		SetOverrideCycleRemainingHours(o.CycleRemaining).SetOverrideTimeUntilBreakHours(o.TimeUntilBreak).
		SetOverrideAt(e.now()).Save(ctx)
	if err != nil {
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
		ClearOverrideCycleRemainingHours().ClearOverrideTimeUntilBreakHours().ClearOverrideAt().Exec(ctx)
	if err != nil {
		return HOS{}, err
	}
	return e.DriverHOS(ctx, tenantID, driverID)
}

// HOSOf is what the drivers list shows for a driver: its override, else its cache.
func HOSOf(d *ent.FleetDriver, now time.Time) HOS {
	if d.HosManualOverride {
		return overrideHOS(d)
	}
	return cachedHOS(d, now)
}
