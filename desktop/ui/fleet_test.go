package ui_test

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/desktop/gqlclient"
	"github.com/sallyhq/sally/desktop/model"
	"github.com/sallyhq/sally/desktop/ui"
	"github.com/sallyhq/sally/internal/testkit"
)

// cell renders one cell of a table as the table does, and returns its text.
func (h *harness) cell(t *widget.Table, row, col int) string {
	h.t.Helper()
	var text string
	h.ui(func() {
		c := t.CreateCell()
		t.UpdateCell(widget.TableCellID{Row: row, Col: col}, c)
		text = ui.FleetCellText(c)
	})
	return text
}

// driverRow finds a driver's row in the Drivers view, -1 when it is not shown.
func (h *harness) driverRow(id string) (int, model.DriverRow) {
	rows, _ := h.m.Fleet.Drivers.Get()
	for i, r := range rows {
		if r.ID == id {
			return i, r
		}
	}
	return -1, model.DriverRow{}
}

// TestDriversView runs the Drivers view against the real server and sandbox: the
// drivers load, a clock the vendor stops reporting shows as "—" (never 0) once the
// next HOS sync's event arrives — with nobody reloading — and an override with a
// reason and an expiry shows who set it, why and until when, then clears.
func TestDriversView(t *testing.T) {
	h := setup(t, gqlclient.EventsOptions{})
	h.login()
	h.ui(func() { h.u.Tabs.SelectIndex(1) })
	f := h.m.Fleet
	h.eventually("the demo fleet's drivers with their clocks", func() bool {
		_, r := h.driverRow("52001")
		n, _ := f.DriverCount.Get()
		return n == 25 && r.Drive.Known
	})
	var rows int
	h.ui(func() { rows, _ = h.u.Fleet.DriverTable.Length() })
	require.Equal(t, 25, rows)

	t.Run("SortedByLeastDriveTimeLeft", func(t *testing.T) {
		got, _ := f.Drivers.Get()
		for i := 1; i < len(got); i++ {
			a, b := got[i-1].Drive, got[i].Drive
			require.True(t, !a.Known || (b.Known && a.Value <= b.Value), "row %d: %v before %v", i, a, b)
		}
	})

	t.Run("Search", func(t *testing.T) {
		h := h.at(t)
		_, r := h.driverRow("52007")
		h.typeInto(h.u.Fleet.DriverSearch, strings.ToUpper(r.Name))
		h.eventually("only that driver's name matches", func() bool {
			rows, _ := f.Drivers.Get()
			for _, x := range rows {
				if !strings.EqualFold(x.Name, r.Name) {
					return false
				}
			}
			return len(rows) >= 1
		})
		require.Contains(t, h.cell(h.u.Fleet.DriverTable, 0, 0), r.Name)
		h.typeInto(h.u.Fleet.DriverSearch, "")
		h.eventually("all drivers again", func() bool { return f.Drivers.Length() == 25 })
	})

	t.Run("UnknownIsADashAfterLiveRefresh", func(t *testing.T) {
		h := h.at(t)
		before, _ := f.DriversLoadedAt.Get()
		h.srv.Fleet(`{"withoutClocks":1}`)
		h.choose("Samsara ELD")
		h.tap(h.u.SyncButton)
		h.eventually("driver 52001's clocks unknown, reloaded by the sync's event", func() bool {
			_, r := h.driverRow("52001")
			return !r.Drive.Known && !r.Shift.Known
		})
		after, _ := f.DriversLoadedAt.Get()
		require.True(t, after.After(before), "reloaded")
		i, r := h.driverRow("52001")
		require.Equal(t, 0, i, "unknown drive time sorts first: it may be none at all")
		for col := 2; col <= 5; col++ {
			require.Equal(t, "—", h.cell(h.u.Fleet.DriverTable, i, col), "column %d", col)
		}
		marks := h.cell(h.u.Fleet.DriverTable, i, 8)
		require.Contains(t, marks, "UNKNOWN")
		require.Contains(t, marks, "no clocks reported")
		require.Contains(t, r.Marks(), "UNKNOWN")
		h.srv.Fleet(`{}`)
	})

	t.Run("OverrideWithReasonAndExpiry", func(t *testing.T) {
		h := h.at(t)
		i, _ := h.driverRow("52003")
		h.ui(func() { h.u.Fleet.DriverTable.Select(widget.TableCellID{Row: i, Col: 0}) })
		h.eventually("the form is for 52003", func() bool {
			var title string
			h.ui(func() { title = h.u.Fleet.DriverTitle.Text })
			return str(f.SelectedDriver) == "52003" && strings.Contains(title, "52003")
		})
		h.ui(func() {
			h.u.Fleet.OverrideDuty.SetSelected("ON_DUTY")
			h.u.Fleet.OverrideUntil.SetSelected("4 hours")
		})
		for e, v := range map[*widget.Entry]string{
			h.u.Fleet.OverrideDriven: "3", h.u.Fleet.OverrideDrive: "8", h.u.Fleet.OverrideShift: "10",
			h.u.Fleet.OverrideCycle: "55", h.u.Fleet.OverrideBreak: "5",
		} {
			h.typeInto(e, v)
		}
		h.typeInto(h.u.Fleet.OverrideReason, "")
		h.tap(h.u.Fleet.OverrideButton)
		h.eventually("a reason is asked for", func() bool { return strings.Contains(str(f.OverrideResult), "reason") })
		require.False(t, boolean(f.OverrideOK))

		h.typeInto(h.u.Fleet.OverrideReason, "ELD tablet replaced, paper log checked")
		h.tap(h.u.Fleet.OverrideButton)
		h.eventually("the override is set and shown", func() bool {
			_, r := h.driverRow("52003")
			return boolean(f.OverrideOK) && r.Overridden && r.OverriddenBy != ""
		})
		i, r := h.driverRow("52003")
		require.Equal(t, "admin@localhost", r.OverriddenBy)
		require.Equal(t, "ELD tablet replaced, paper log checked", r.OverrideReason)
		require.WithinDuration(t, time.Now().Add(4*time.Hour), r.OverrideUntil, 5*time.Minute)
		require.InDelta(t, 8, r.Drive.Value, 1e-9)
		marks := h.cell(h.u.Fleet.DriverTable, i, 8)
		require.Contains(t, marks, "OVERRIDE by admin@localhost, until ")
		require.Contains(t, marks, "ELD tablet replaced")
		require.Contains(t, h.cell(h.u.Fleet.DriverTable, i, 7), "override")

		h.tap(h.u.Fleet.ClearButton)
		h.eventually("the override is cleared", func() bool {
			_, r := h.driverRow("52003")
			return boolean(f.OverrideOK) && !r.Overridden
		})
	})

	t.Run("LargeFleetReadInPages", func(t *testing.T) {
		// 1,300 drivers: more than the cost limit lets one request read with every
		// field the board shows, so the board reads them 500 at a time.
		h := h.at(t)
		h.srv.Fleet(`{"drivers":1300}`)
		h.choose("Samsara ELD")
		h.tap(h.u.SyncButton)
		h.eventually("all 1,300 drivers on the board", func() bool {
			n, _ := f.DriverCount.Get()
			return n == 1300 && f.Drivers.Length() == 1300
		})
		require.Empty(t, str(f.DriversError))
		_, r := h.driverRow("53300")
		require.True(t, r.Drive.Known, "the last page's drivers have their clocks")

		// The whole board in one request is over the cost limit (once the server's
		// count of drivers, kept 10 s, has them all); the board still loads, in pages.
		token := h.adminToken()
		h.eventually("the whole board refused in one request", func() bool {
			_, raw := testkit.PostGraphQL(t, h.srv.URL, token, gqlclient.Drivers_Operation, nil)
			return strings.Contains(string(raw), "too expensive")
		})
		before, _ := f.DriversLoadedAt.Get()
		h.tap(h.u.SyncButton)
		h.eventually("the board reloaded whole", func() bool {
			at, _ := f.DriversLoadedAt.Get()
			return at.After(before) && f.Drivers.Length() == 1300
		})
		require.Empty(t, str(f.DriversError))
	})
}

// TestDriverMarks renders rows the server cannot be made to send in a short test
// (a cache the vendor stopped confirming minutes ago): each mark shows.
func TestDriverMarks(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	stale := model.DriverRow{ID: "7", Name: "Ann Lee", Duty: "DRIVING", Drive: model.Hours{Value: 0.5, Known: true},
		Shift: model.Hours{Value: 3, Known: true}, Cycle: model.Hours{Value: 20, Known: true}, Break: model.Hours{Value: 1, Known: true},
		Source: "samsara_eld", SyncedAt: now.Add(-7 * time.Minute), Cached: true, Stale: true,
		Error: "not confirmed by the vendor for 7m0s: the last HOS sync failed"}
	text, c := ui.DriverText(stale, 7, now)
	require.Equal(t, "stale · 7m ago", text)
	require.NotNil(t, c)
	text, _ = ui.DriverText(stale, 8, now)
	require.Equal(t, "STALE: not confirmed by the vendor for 7m0s: the last HOS sync failed", text)
	text, _ = ui.DriverText(stale, 2, now)
	require.Equal(t, "0h 30m", text)

	unknown := model.DriverRow{ID: "8", Duty: "UNKNOWN", Note: "driver app disconnected", Source: "samsara_eld", SyncedAt: now, Cached: true}
	for col, want := range map[int]string{1: "Unknown", 2: "—", 3: "—", 4: "—", 5: "—", 6: "—"} {
		text, _ = ui.DriverText(unknown, col, now)
		require.Equal(t, want, text, "column %d", col)
	}
	text, _ = ui.DriverText(unknown, 8, now)
	require.Equal(t, "UNKNOWN: driver app disconnected", text)

	cached := stale
	cached.Stale, cached.Error = false, ""
	text, _ = ui.DriverText(cached, 7, now)
	require.Equal(t, "cached · 7m ago", text)

	viol := cached
	viol.CycleViolation, viol.ShiftDrivingV = model.Hours{Value: 1, Known: true}, model.Hours{Value: 0, Known: true}
	text, _ = ui.DriverText(viol, 6, now)
	require.Equal(t, "cycle 1h 00m", text)
	text, _ = ui.DriverText(viol, 8, now)
	require.Equal(t, "VIOLATION", text)
}

// TestLoadsView runs the Loads view against the real server: the demo's active loads
// with their drivers' drive time left, flagged exactly when it is less than the trip
// needs at 50 mph; a load's diesel prices and weather at both ends, with source and
// age.
func TestLoadsView(t *testing.T) {
	h := setup(t, gqlclient.EventsOptions{})
	h.login()
	h.ui(func() { h.u.Tabs.SelectIndex(2) })
	f := h.m.Fleet
	h.eventually("the demo's loads with their drivers", func() bool {
		rows, _ := f.Loads.Get()
		if len(rows) != 10 {
			return false
		}
		for _, r := range rows {
			if r.DriverID != "" && r.DriverName == "" {
				return false
			}
		}
		return true
	})
	rows, _ := f.Loads.Get()
	seenFlag := false
	for i, r := range rows {
		want := r.DriveLeft.Known && r.Miles.Known && r.DriveLeft.Value < r.Miles.Value/model.TripSpeedMph
		require.Equal(t, want, r.Short, "load %s", r.ID)
		if r.Short {
			require.False(t, seenFlag && i > 0 && !rows[i-1].Short, "flagged loads come first")
			require.Equal(t, "SHORT", h.cell(h.u.Fleet.LoadTable, i, 10))
		} else {
			seenFlag = true
		}
		require.Equal(t, r.ID, h.cell(h.u.Fleet.LoadTable, i, 0))
	}

	h.ui(func() { h.u.Fleet.LoadTable.Select(widget.TableCellID{Row: 0, Col: 0}) })
	done := func(s string) bool { return s != "" && s != "Loading…" }
	h.eventually("fuel and weather at both ends", func() bool {
		return done(str(f.PickupFuel)) && done(str(f.DeliveryFuel)) && done(str(f.PickupWeather)) && done(str(f.DeliveryWeather))
	})
	for _, s := range []string{str(f.PickupWeather), str(f.DeliveryWeather)} {
		require.Contains(t, s, "OpenWeather, observed ")
		require.Contains(t, s, "°F")
	}
	for _, s := range []string{str(f.PickupFuel), str(f.DeliveryFuel)} {
		require.Contains(t, s, "Fuel Finder, price ")
		require.Contains(t, s, "diesel $")
	}
	var shown string
	h.ui(func() { shown = h.u.Fleet.PickupWeather.Text })
	require.Equal(t, str(f.PickupWeather), shown)
}
