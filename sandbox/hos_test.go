package sandbox_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	maxDriveMs = 39_600_000
	maxShiftMs = 50_400_000
	maxBreakMs = 28_800_000
	maxCycleMs = 252_000_000
)

var hosStatuses = map[string]bool{
	"offDuty": true, "sleeperBed": true, "driving": true, "onDuty": true,
	"yardMove": true, "personalConveyance": true, "": true,
}

// Property: for every driver, at every sampled instant over ten simulated days,
// every clock is within its bounds, and between two samples no clock drops by more
// than the time that passed (clocks only rise on a reset).
func TestHOSInvariantsHoldOverTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  string
		step time.Duration
	}{
		{"acme", 41 * time.Minute},
		{"globex", 59 * time.Minute},
		{"initech", 73 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			e.sb.SetFleet(30, 10)
			prev := map[string]hosClock{}
			seen := map[string]int{}
			resets := 0
			var prevAt time.Time
			for now := start; now.Before(start.Add(10 * 24 * time.Hour)); now = now.Add(tt.step) {
				e.clock.Set(now)
				cs := allClocks(t, e, tt.key)
				require.Len(t, cs, 30)
				for _, c := range cs {
					requireHOSInvariants(t, now, c)
					seen[c.CurrentDutyStatus.HosStatusType]++
					if old, ok := prev[c.Driver.ID]; ok {
						elapsed := float64(now.Sub(prevAt).Milliseconds())
						requireNoFasterThanTime(t, old, c, elapsed)
						if c.Clocks.Drive.DriveRemainingDurationMs > old.Clocks.Drive.DriveRemainingDurationMs {
							resets++
						}
					}
					prev[c.Driver.ID] = c
				}
				prevAt = now
			}
			for _, st := range []string{"driving", "onDuty", "offDuty", "sleeperBed", ""} {
				require.Positive(t, seen[st], "status %q never seen in ten days", st)
			}
			require.Positive(t, resets, "no 10-hour reset seen in ten days")
		})
	}
}

func requireHOSInvariants(t *testing.T, now time.Time, c hosClock) {
	t.Helper()
	k := c.Clocks
	id := c.Driver.ID + " at " + now.Format(time.RFC3339)
	require.True(t, hosStatuses[c.CurrentDutyStatus.HosStatusType], "%s: status %q", id, c.CurrentDutyStatus.HosStatusType)
	require.True(t, 0 <= k.Drive.DriveRemainingDurationMs && k.Drive.DriveRemainingDurationMs <= maxDriveMs, "%s: drive %v", id, k.Drive.DriveRemainingDurationMs)
	require.True(t, 0 <= k.Shift.ShiftRemainingDurationMs && k.Shift.ShiftRemainingDurationMs <= maxShiftMs, "%s: shift %v", id, k.Shift.ShiftRemainingDurationMs)
	require.True(t, 0 <= k.Break.TimeUntilBreakDurationMs && k.Break.TimeUntilBreakDurationMs <= maxBreakMs, "%s: break %v", id, k.Break.TimeUntilBreakDurationMs)
	require.True(t, 0 <= k.Cycle.CycleRemainingDurationMs && k.Cycle.CycleRemainingDurationMs <= maxCycleMs, "%s: cycle %v", id, k.Cycle.CycleRemainingDurationMs)
	require.True(t, k.Cycle.CycleRemainingDurationMs <= k.Cycle.CycleTomorrowDurationMs && k.Cycle.CycleTomorrowDurationMs <= maxCycleMs,
		"%s: cycle tomorrow %v, today %v", id, k.Cycle.CycleTomorrowDurationMs, k.Cycle.CycleRemainingDurationMs)
	require.GreaterOrEqual(t, c.Violations.CycleViolationDurationMs, 0.0, id)
	require.GreaterOrEqual(t, c.Violations.ShiftDrivingViolationDurationMs, 0.0, id)
	started, err := time.Parse(time.RFC3339, k.Cycle.CycleStartedAtTime)
	require.NoError(t, err, id)
	require.False(t, started.After(now), "%s: cycle started in the future (%s)", id, started)
	// A restart comes every week, after a 4- to 6-day workweek.
	require.True(t, now.Sub(started) < 10*24*time.Hour, "%s: cycle started %s ago", id, now.Sub(started))
	// Used time since the cycle started cannot exceed the time since it started.
	require.LessOrEqual(t, float64(maxCycleMs)-k.Cycle.CycleRemainingDurationMs, float64(now.Sub(started).Milliseconds())+1, id)
}

// requireNoFasterThanTime: a clock that went down went down by at most elapsed.
func requireNoFasterThanTime(t *testing.T, old, cur hosClock, elapsed float64) {
	t.Helper()
	pairs := []struct {
		name     string
		old, cur float64
	}{
		{"drive", old.Clocks.Drive.DriveRemainingDurationMs, cur.Clocks.Drive.DriveRemainingDurationMs},
		{"shift", old.Clocks.Shift.ShiftRemainingDurationMs, cur.Clocks.Shift.ShiftRemainingDurationMs},
		{"break", old.Clocks.Break.TimeUntilBreakDurationMs, cur.Clocks.Break.TimeUntilBreakDurationMs},
		{"cycle", old.Clocks.Cycle.CycleRemainingDurationMs, cur.Clocks.Cycle.CycleRemainingDurationMs},
	}
	for _, p := range pairs {
		if p.cur < p.old {
			require.LessOrEqual(t, p.old-p.cur, elapsed, "driver %s: %s fell faster than time", cur.Driver.ID, p.name)
		}
	}
}

// Property: over one minute spent wholly in one status, the clocks move exactly as
// the rules say. Samples are pairs a minute apart every 31 minutes for six days.
func TestHOSClocksFollowTheRules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const minute = 60_000.0
	checked := map[string]int{}
	for at := start; at.Before(start.Add(6 * 24 * time.Hour)); at = at.Add(31 * time.Minute) {
		e.clock.Set(at)
		a := allClocks(t, e, "rules")
		e.clock.Set(at.Add(time.Minute))
		b := allClocks(t, e, "rules")
		require.Len(t, a, 25)
		for i := range a {
			x, y := a[i], b[i]
			st := x.CurrentDutyStatus.HosStatusType
			if st == "" || st != y.CurrentDutyStatus.HosStatusType {
				continue // unknown (app disconnected), or the status changed in between
			}
			down := func(old, cur float64) float64 { return old - cur }
			xc, yc := x.Clocks, y.Clocks
			drive := down(xc.Drive.DriveRemainingDurationMs, yc.Drive.DriveRemainingDurationMs)
			shift := down(xc.Shift.ShiftRemainingDurationMs, yc.Shift.ShiftRemainingDurationMs)
			brk := down(xc.Break.TimeUntilBreakDurationMs, yc.Break.TimeUntilBreakDurationMs)
			cycle := down(xc.Cycle.CycleRemainingDurationMs, yc.Cycle.CycleRemainingDurationMs)
			// A clock at zero stays there; otherwise it falls by the minute, or to zero.
			fell := func(d, old float64) bool { return d == min(minute, old) }
			id := x.Driver.ID + " " + st + " at " + at.Format(time.RFC3339)
			switch st {
			case "driving":
				require.True(t, fell(drive, xc.Drive.DriveRemainingDurationMs), "%s: drive fell %v", id, drive)
				require.True(t, fell(shift, xc.Shift.ShiftRemainingDurationMs), "%s: shift fell %v", id, shift)
				require.True(t, fell(brk, xc.Break.TimeUntilBreakDurationMs), "%s: break fell %v", id, brk)
				require.True(t, fell(cycle, xc.Cycle.CycleRemainingDurationMs), "%s: cycle fell %v", id, cycle)
				if xc.Drive.DriveRemainingDurationMs == 0 || xc.Shift.ShiftRemainingDurationMs == 0 {
					require.Greater(t, y.Violations.ShiftDrivingViolationDurationMs, x.Violations.ShiftDrivingViolationDurationMs, id)
				}
			case "onDuty", "yardMove":
				require.Zero(t, drive, "%s: drive moved on duty", id)
				require.True(t, fell(shift, xc.Shift.ShiftRemainingDurationMs), "%s: shift fell %v", id, shift)
				require.True(t, fell(cycle, xc.Cycle.CycleRemainingDurationMs), "%s: cycle fell %v", id, cycle)
				require.True(t, brk == 0 || yc.Break.TimeUntilBreakDurationMs == maxBreakMs, "%s: break moved %v on duty", id, brk)
			default: // off duty, sleeper, personal conveyance
				require.True(t, drive == 0 || yc.Drive.DriveRemainingDurationMs == maxDriveMs, "%s: drive moved %v off duty", id, drive)
				require.True(t, cycle == 0 || yc.Cycle.CycleRemainingDurationMs == maxCycleMs, "%s: cycle moved %v off duty", id, cycle)
				// The window keeps running off duty (unless it was reset or not started).
				require.True(t, shift == 0 || fell(shift, xc.Shift.ShiftRemainingDurationMs) || yc.Shift.ShiftRemainingDurationMs == maxShiftMs, "%s: shift moved %v off duty", id, shift)
			}
			checked[st]++
		}
	}
	for _, st := range []string{"driving", "onDuty", "offDuty", "sleeperBed"} {
		require.Positive(t, checked[st], "no minute spent %s was checked", st)
	}
}

// Drivers mostly keep the rules, but not always: violations show up now and then
// (an over-hours drive, a six-day week that runs out of cycle).
func TestHOSViolationsAreRareButHappen(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.sb.SetFleet(120, 10)
	var samples, shift, cycle int
	for now := start; now.Before(start.Add(14 * 24 * time.Hour)); now = now.Add(3 * time.Hour) {
		e.clock.Set(now)
		for _, c := range allClocks(t, e, "acme") {
			samples++
			if c.Violations.ShiftDrivingViolationDurationMs > 0 {
				shift++
			}
			if c.Violations.CycleViolationDurationMs > 0 {
				cycle++
			}
		}
	}
	require.Positive(t, shift, "no shift driving violation")
	require.Positive(t, cycle, "no cycle violation")
	require.Less(t, shift+cycle, samples/20, "violations should be rare")
}
