package syncer

import (
	"time"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/vendors"
)

// The driver columns of a synced clocks item, written in one place so that the sync,
// the live lookup and the comparison agree. Everything the vendor did not report is
// stored as NULL (never 0): a clock, a violation, the note.

// setClocks sets a clocks item's columns on a driver create or update.
func setClocks(m *ent.FleetDriverMutation, h vendors.HOS, now time.Time) {
	m.SetDutyStatus(h.DutyStatus)
	for _, c := range []struct {
		v     *float64
		set   func(float64)
		clear func()
	}{
		{h.HoursDriven, m.SetHoursDriven, m.ClearHoursDriven},
		{h.DriveRemainingHours, m.SetDriveRemainingHours, m.ClearDriveRemainingHours},
		{h.ShiftRemainingHours, m.SetShiftRemainingHours, m.ClearShiftRemainingHours},
		{h.CycleRemainingHours, m.SetCycleRemainingHours, m.ClearCycleRemainingHours},
		{h.TimeUntilBreakHours, m.SetTimeUntilBreakHours, m.ClearTimeUntilBreakHours},
		{h.CycleViolationHours, m.SetCycleViolationHours, m.ClearCycleViolationHours},
		{h.ShiftDrivingViolationHours, m.SetShiftDrivingViolationHours, m.ClearShiftDrivingViolationHours},
	} {
		if c.v != nil {
			c.set(*c.v)
		} else if m.Op().Is(ent.OpUpdateOne | ent.OpUpdate) {
			c.clear()
		}
	}
	if h.Note != "" {
		m.SetHosNote(h.Note)
	} else if m.Op().Is(ent.OpUpdateOne | ent.OpUpdate) {
		m.ClearHosNote()
	}
	m.SetHosSyncedAt(now)
}

// updateClocks makes an upsert take every clock column from the inserted row, so that
// a value the vendor stopped reporting becomes NULL (the insert leaves it NULL).
func updateClocks(u *ent.FleetDriverUpsert) {
	u.UpdateDutyStatus().UpdateHoursDriven().UpdateDriveRemainingHours().
		UpdateShiftRemainingHours().UpdateCycleRemainingHours().UpdateTimeUntilBreakHours().
		UpdateCycleViolationHours().UpdateShiftDrivingViolationHours().UpdateHosNote().
		UpdateHosSyncedAt()
}

// clocksUnchanged reports whether the stored driver already holds the item's values.
func clocksUnchanged(cur *ent.FleetDriver, h vendors.HOS) bool {
	return eqPtr(cur.DutyStatus, &h.DutyStatus) && eqHoursPtr(cur.HoursDriven, h.HoursDriven) &&
		eqHoursPtr(cur.DriveRemainingHours, h.DriveRemainingHours) &&
		eqHoursPtr(cur.ShiftRemainingHours, h.ShiftRemainingHours) &&
		eqHoursPtr(cur.CycleRemainingHours, h.CycleRemainingHours) &&
		eqHoursPtr(cur.TimeUntilBreakHours, h.TimeUntilBreakHours) &&
		eqHoursPtr(cur.CycleViolationHours, h.CycleViolationHours) &&
		eqHoursPtr(cur.ShiftDrivingViolationHours, h.ShiftDrivingViolationHours) &&
		strEqNote(cur.HosNote, h.Note)
}

// eqHoursPtr is eqHours where both sides may be unknown (equal only to unknown).
func eqHoursPtr(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return eqHours(a, *b)
}

func strEqNote(p *string, v string) bool { return (p == nil && v == "") || (p != nil && *p == v) }
