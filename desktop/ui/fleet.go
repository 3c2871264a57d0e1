package ui

import (
	"fmt"
	"image/color"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sallyhq/sally/desktop/model"
)

// FleetUI is the Drivers and Loads views' widgets (exported for tests).
type FleetUI struct {
	// Drivers view.
	DriverSearch  *widget.Entry
	DriverSort    *widget.Select
	DriverSummary *widget.Label
	DriverError   *widget.Label
	DriverTable   *widget.Table
	DriverTitle   *widget.Label
	DriverInfo    *widget.Label
	// The override form of the selected driver.
	OverrideDuty                                 *widget.Select
	OverrideDriven, OverrideDrive, OverrideShift *widget.Entry
	OverrideCycle, OverrideBreak, OverrideReason *widget.Entry
	OverrideUntil                                *widget.Select
	OverrideButton, ClearButton                  *widget.Button
	OverrideResult                               *widget.Label

	// Loads view.
	LoadSummary                    *widget.Label
	LoadError                      *widget.Label
	LoadTable                      *widget.Table
	LoadTitle                      *widget.Label
	PickupFuel, DeliveryFuel       *widget.Label
	PickupWeather, DeliveryWeather *widget.Label
}

// Columns of the Drivers view.
var driverColumns = []struct {
	title string
	width float32
}{
	{"Driver", 200}, {"Duty", 128}, {"Drive left", 88}, {"Shift left", 88}, {"Cycle left", 90},
	{"Break in", 80}, {"Violations", 190}, {"Data", 140}, {"Marks", 480},
}

// Columns of the Loads view.
var loadColumns = []struct {
	title string
	width float32
}{
	{"Load", 128}, {"Pickup", 140}, {"Pickup at", 96}, {"Delivery", 140}, {"Delivery at", 100},
	{"Status", 86}, {"Miles", 58}, {"Driver", 176}, {"Drive left", 82}, {"Trip needs", 88}, {"Flag", 180},
}

// expiries are the override form's choices of how long an override lasts.
var expiries = []struct {
	label string
	d     time.Duration
}{
	{"Until cleared", 0}, {"1 hour", time.Hour}, {"4 hours", 4 * time.Hour}, {"12 hours", 12 * time.Hour},
	{"24 hours", 24 * time.Hour}, {"3 days", 72 * time.Hour}, {"7 days", 7 * 24 * time.Hour}, {"14 days", 14 * 24 * time.Hour},
}

var dutyStatuses = []string{"OFF_DUTY", "SLEEPER_BERTH", "DRIVING", "ON_DUTY", "YARD_MOVE", "PERSONAL_CONVEYANCE"}

func (u *UI) buildDrivers() fyne.CanvasObject {
	m, f := u.m, u.m.Fleet
	fu := &u.Fleet
	fu.DriverSearch = widget.NewEntry()
	fu.DriverSearch.SetPlaceHolder("Search by name, id, duty status or mark (stale, override, violation, unknown)")
	fu.DriverSearch.OnChanged = f.SetSearch
	fu.DriverSort = widget.NewSelect(model.SortOrders, f.SetSort)
	fu.DriverSort.SetSelected(model.SortDriveLeft)
	fu.DriverSummary = widget.NewLabel("")
	fu.DriverError = widget.NewLabelWithData(f.DriversError)
	fu.DriverError.Importance = widget.DangerImportance
	fu.DriverError.Wrapping = fyne.TextWrapWord
	listen(func() {
		n, _ := f.DriverCount.Get()
		at, _ := f.DriversLoadedAt.Get()
		now, _ := m.Now.Get()
		shown := f.Drivers.Length()
		text := fmt.Sprintf("%d drivers", n)
		if shown != n {
			text = fmt.Sprintf("%d of %d drivers", shown, n)
		}
		if !at.IsZero() {
			text += " · updated " + model.Ago(at, now)
		}
		fu.DriverSummary.SetText(text)
	}, f.DriverCount, f.DriversLoadedAt, f.DriversRev, m.Now)

	t := widget.NewTableWithHeaders(
		func() (int, int) { return f.Drivers.Length(), len(driverColumns) },
		newFleetCell,
		func(id widget.TableCellID, o fyne.CanvasObject) {
			r, err := f.Drivers.GetValue(id.Row)
			if err != nil {
				setFleetCell(o, "", nil)
				return
			}
			now, _ := m.Now.Get()
			text, c := DriverText(r, id.Col, now)
			setFleetCell(o, text, c)
		})
	headers(t, len(driverColumns), func(i int) (string, float32) { return driverColumns[i].title, driverColumns[i].width })
	t.OnSelected = func(id widget.TableCellID) {
		if r, err := f.Drivers.GetValue(id.Row); err == nil {
			f.SelectDriver(r.ID)
		}
	}
	fu.DriverTable = t
	listen(visibleRefresh(t), f.DriversRev)
	listen(agesRefresh(t, m), m.Now)

	top := container.NewBorder(nil, fu.DriverError, nil,
		container.NewHBox(widget.NewLabel("Sort"), fu.DriverSort, fu.DriverSummary), fu.DriverSearch)
	return container.NewBorder(container.NewPadded(top), u.buildOverrideForm(), nil, nil, t)
}

// headers sets a table's header row and column widths.
func headers(t *widget.Table, n int, col func(int) (string, float32)) {
	t.ShowHeaderColumn = false
	t.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < n {
			title, _ := col(id.Col)
			o.(*widget.Label).SetText(title)
		}
	}
	for i := range n {
		_, w := col(i)
		t.SetColumnWidth(i, w)
	}
}

// Colours of the fleet views' marks.
var (
	colorStale    = colorFailing
	colorOverride = colorCircuitOpen
	colorUnknown  = colorDisabled
	colorLow      = colorRetrying
)

// DriverText is the text (and dot colour, nil for none) of column col of a driver row
// at time now. Unknown values are "—", never 0.
func DriverText(r model.DriverRow, col int, now time.Time) (string, color.Color) {
	switch col {
	case 0:
		if r.Name == "" {
			return r.ID, nil
		}
		return r.Name + " · " + r.ID, nil
	case 1:
		if r.Duty == "" {
			return "—", colorUnknown
		}
		if r.Duty == "UNKNOWN" {
			return "Unknown", colorUnknown
		}
		return model.Title(r.Duty), dutyColor(r.Duty)
	case 2:
		var c color.Color
		switch {
		case !r.Drive.Known:
			c = colorUnknown
		case r.Drive.Value < 1:
			c = colorFailing
		case r.Drive.Value < 2:
			c = colorLow
		}
		return r.Drive.String(), c
	case 3:
		return r.Shift.String(), nil
	case 4:
		return r.Cycle.String(), nil
	case 5:
		return r.Break.String(), nil
	case 6:
		if !r.CycleViolation.Known && !r.ShiftDrivingV.Known {
			return "—", nil
		}
		if !r.InViolation() {
			return "none", nil
		}
		var parts []string
		if r.CycleViolation.Known && r.CycleViolation.Value > 0 {
			parts = append(parts, "cycle "+r.CycleViolation.String())
		}
		if r.ShiftDrivingV.Known && r.ShiftDrivingV.Value > 0 {
			parts = append(parts, "shift "+r.ShiftDrivingV.String())
		}
		return strings.Join(parts, ", "), colorFailing
	case 7:
		return DataText(r, now)
	case 8:
		return MarksText(r, now)
	}
	return "", nil
}

// DataText says where a row's values come from and how old they are.
func DataText(r model.DriverRow, now time.Time) (string, color.Color) {
	switch {
	case r.SyncedAt.IsZero() && r.Duty == "":
		return "never synced", colorUnknown
	case r.Overridden:
		at := r.OverriddenAt
		if at.IsZero() {
			at = r.SyncedAt
		}
		return "override · set " + model.Ago(at, now), colorOverride
	case r.Stale:
		return "stale · " + model.Ago(r.SyncedAt, now), colorStale
	case r.Cached:
		return "cached · " + model.Ago(r.SyncedAt, now), nil
	}
	return "live · " + model.Ago(r.SyncedAt, now), nil
}

// MarksText lists a row's marks with what a dispatcher needs to know of each: who
// overrode, why and until when; why the data is stale; what is unknown and why.
func MarksText(r model.DriverRow, now time.Time) (string, color.Color) {
	var parts []string
	var c color.Color
	if r.Stale {
		parts = append(parts, "STALE"+suffix(r.Error))
		c = colorStale
	}
	if r.Overridden {
		who := orDash(r.OverriddenBy)
		until := "until cleared"
		if !r.OverrideUntil.IsZero() {
			until = "until " + r.OverrideUntil.Local().Format("Mon 15:04")
		}
		parts = append(parts, fmt.Sprintf("OVERRIDE by %s, %s%s", who, until, suffix(r.OverrideReason)))
		if c == nil {
			c = colorOverride
		}
	}
	if r.InViolation() {
		parts = append(parts, "VIOLATION")
		if c == nil {
			c = colorFailing
		}
	}
	if r.Unknown() {
		parts = append(parts, "UNKNOWN"+suffix(r.Note))
		if c == nil {
			c = colorUnknown
		}
	} else if r.Note != "" {
		parts = append(parts, r.Note)
	}
	return strings.Join(parts, " · "), c
}

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func dutyColor(d string) color.Color {
	switch d {
	case "DRIVING":
		return colorRunning
	case "ON_DUTY", "YARD_MOVE":
		return colorRetrying
	}
	return colorHealthy
}

func (u *UI) buildOverrideForm() fyne.CanvasObject {
	m, f := u.m, u.m.Fleet
	fu := &u.Fleet
	fu.DriverTitle = widget.NewLabelWithStyle("Select a driver to see the details or override the hours", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	fu.DriverInfo = widget.NewLabel("")
	fu.DriverInfo.Wrapping = fyne.TextWrapWord
	fu.OverrideDuty = widget.NewSelect(dutyStatuses, nil)
	num := func() *widget.Entry {
		e := widget.NewEntry()
		e.SetPlaceHolder("hours")
		return e
	}
	fu.OverrideDriven, fu.OverrideDrive, fu.OverrideShift = num(), num(), num()
	fu.OverrideCycle, fu.OverrideBreak = num(), num()
	fu.OverrideReason = widget.NewEntry()
	fu.OverrideReason.SetPlaceHolder("Reason, shown to every dispatcher (required, up to 500 characters)")
	labels := make([]string, len(expiries))
	for i, e := range expiries {
		labels[i] = e.label
	}
	fu.OverrideUntil = widget.NewSelect(labels, nil)
	fu.OverrideUntil.SetSelected(expiries[0].label)
	fu.OverrideResult = widget.NewLabelWithData(f.OverrideResult)
	fu.OverrideResult.Wrapping = fyne.TextWrapWord
	fu.OverrideButton = widget.NewButtonWithIcon("Override", theme.DocumentCreateIcon(), func() { u.submitOverride() })
	fu.OverrideButton.Importance = widget.HighImportance
	fu.ClearButton = widget.NewButtonWithIcon("Clear override", theme.ContentUndoIcon(), f.ClearOverride)

	fill := func() {
		id, _ := f.SelectedDriver.Get()
		r, ok := f.Driver(id)
		busy, _ := f.Overriding.Get()
		enable(fu.OverrideButton, ok && !busy)
		enable(fu.ClearButton, ok && !busy && r.Overridden)
		if !ok {
			fu.DriverTitle.SetText("Select a driver to see the details or override the hours")
			fu.DriverInfo.SetText("")
			return
		}
		now, _ := m.Now.Get()
		fu.DriverTitle.SetText(strings.TrimSpace(r.Name + " · " + r.ID))
		fu.DriverInfo.SetText(DriverInfo(r, now))
	}
	// A new selection fills the form with the driver's values (blank where unknown).
	prefill := func() {
		id, _ := f.SelectedDriver.Get()
		r, ok := f.Driver(id)
		if !ok {
			return
		}
		if r.Duty != "" && r.Duty != "UNKNOWN" {
			fu.OverrideDuty.SetSelected(r.Duty)
		} else {
			fu.OverrideDuty.ClearSelected()
		}
		for _, p := range []struct {
			e *widget.Entry
			h model.Hours
		}{{fu.OverrideDriven, r.HoursDriven}, {fu.OverrideDrive, r.Drive}, {fu.OverrideShift, r.Shift}, {fu.OverrideCycle, r.Cycle}, {fu.OverrideBreak, r.Break}} {
			if p.h.Known {
				p.e.SetText(strconv.FormatFloat(roundTo(p.h.Value, 2), 'f', -1, 64))
			} else {
				p.e.SetText("")
			}
		}
		fu.OverrideReason.SetText(r.OverrideReason)
	}
	listen(prefill, f.SelectedDriver)
	listen(fill, f.SelectedDriver, f.DriversRev, f.Overriding)
	listen(func() {
		ok, _ := f.OverrideOK.Get()
		fu.OverrideResult.Importance = widget.DangerImportance
		if ok {
			fu.OverrideResult.Importance = widget.SuccessImportance
		}
		fu.OverrideResult.Refresh()
	}, f.OverrideOK, f.OverrideResult)

	field := func(label string, o fyne.CanvasObject) fyne.CanvasObject {
		return container.NewBorder(nil, nil, widget.NewLabel(label), nil, o)
	}
	clocks := container.NewGridWithColumns(6,
		field("Duty", fu.OverrideDuty), field("Driven", fu.OverrideDriven), field("Drive left", fu.OverrideDrive),
		field("Shift left", fu.OverrideShift), field("Cycle left", fu.OverrideCycle), field("Break in", fu.OverrideBreak))
	reason := container.NewBorder(nil, nil, widget.NewLabel("Reason"),
		container.NewHBox(widget.NewLabel("Ends"), fu.OverrideUntil, fu.OverrideButton, fu.ClearButton), fu.OverrideReason)
	return container.NewPadded(container.NewVBox(widget.NewSeparator(), fu.DriverTitle, fu.DriverInfo, clocks, reason, fu.OverrideResult))
}

func roundTo(v float64, places int) float64 {
	p := 1.0
	for range places {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

// DriverInfo is the details line of a driver: source and age, the note, why it is
// stale, and the override's author, reason and end.
func DriverInfo(r model.DriverRow, now time.Time) string {
	data, _ := DataText(r, now)
	parts := []string{"Data: " + data + " (" + model.SourceName(orDash(r.Source)) + ")"}
	if r.Note != "" {
		parts = append(parts, "Note: "+r.Note)
	}
	if r.Stale {
		parts = append(parts, "Stale: "+orDash(r.Error))
	}
	if r.Overridden {
		until := "until cleared"
		if !r.OverrideUntil.IsZero() {
			until = "until " + r.OverrideUntil.Local().Format("Mon Jan 2 15:04")
		}
		set := ""
		if !r.OverriddenAt.IsZero() {
			set = ", set " + model.Ago(r.OverriddenAt, now)
		}
		parts = append(parts, fmt.Sprintf("Overridden by %s%s, %s. Reason: %s", orDash(r.OverriddenBy), set, until, orDash(r.OverrideReason)))
	}
	return strings.Join(parts, " · ")
}

// submitOverride reads the form and asks the model to override.
func (u *UI) submitOverride() {
	fu := &u.Fleet
	f := u.m.Fleet
	in := model.OverrideInput{Duty: fu.OverrideDuty.Selected, Reason: fu.OverrideReason.Text}
	if in.Duty == "" {
		fu.OverrideResult.SetText("Choose the duty status.")
		return
	}
	for _, p := range []struct {
		name string
		e    *widget.Entry
		v    *float64
	}{{"Driven", fu.OverrideDriven, &in.HoursDriven}, {"Drive left", fu.OverrideDrive, &in.Drive},
		{"Shift left", fu.OverrideShift, &in.Shift}, {"Cycle left", fu.OverrideCycle, &in.Cycle}, {"Break in", fu.OverrideBreak, &in.Break}} {
		v, err := strconv.ParseFloat(strings.TrimSpace(p.e.Text), 64)
		if err != nil {
			fu.OverrideResult.SetText(p.name + ": enter a number of hours.")
			return
		}
		*p.v = v
	}
	for _, e := range expiries {
		if e.label == fu.OverrideUntil.Selected && e.d > 0 {
			in.ExpiresAt = time.Now().Add(e.d)
		}
	}
	f.Override(in)
}

func (u *UI) buildLoads() fyne.CanvasObject {
	m, f := u.m, u.m.Fleet
	fu := &u.Fleet
	fu.LoadSummary = widget.NewLabel("")
	fu.LoadError = widget.NewLabelWithData(f.LoadsError)
	fu.LoadError.Importance = widget.DangerImportance
	listen(func() {
		at, _ := f.LoadsLoadedAt.Get()
		now, _ := m.Now.Get()
		rows, _ := f.Loads.Get()
		short := 0
		for _, r := range rows {
			if r.Short {
				short++
			}
		}
		text := fmt.Sprintf("%d active loads · %d flagged (driver has less drive time left than the trip needs at %.0f mph)", len(rows), short, model.TripSpeedMph)
		if !at.IsZero() {
			text += " · updated " + model.Ago(at, now)
		}
		fu.LoadSummary.SetText(text)
	}, f.LoadsRev, f.LoadsLoadedAt, m.Now)

	t := widget.NewTableWithHeaders(
		func() (int, int) { return f.Loads.Length(), len(loadColumns) },
		newFleetCell,
		func(id widget.TableCellID, o fyne.CanvasObject) {
			r, err := f.Loads.GetValue(id.Row)
			if err != nil {
				setFleetCell(o, "", nil)
				return
			}
			text, c := LoadText(r, id.Col)
			setFleetCell(o, text, c)
		})
	headers(t, len(loadColumns), func(i int) (string, float32) { return loadColumns[i].title, loadColumns[i].width })
	t.OnSelected = func(id widget.TableCellID) {
		if r, err := f.Loads.GetValue(id.Row); err == nil {
			if cur, _ := f.SelectedLoad.Get(); cur != r.ID {
				f.SelectLoad(r.ID)
			}
		}
	}
	fu.LoadTable = t
	listen(visibleRefresh(t), f.LoadsRev)

	fu.LoadTitle = widget.NewLabelWithStyle("Select a load to see diesel prices and the weather at its pickup and delivery", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	listen(func() {
		id, _ := f.SelectedLoad.Get()
		if id == "" {
			fu.LoadTitle.SetText("Select a load to see diesel prices and the weather at its pickup and delivery")
			return
		}
		fu.LoadTitle.SetText("Near load " + id)
	}, f.SelectedLoad)
	label := func(b binding.String) *widget.Label {
		l := widget.NewLabelWithData(b)
		l.Wrapping = fyne.TextWrapWord
		return l
	}
	fu.PickupFuel, fu.DeliveryFuel = label(f.PickupFuel), label(f.DeliveryFuel)
	fu.PickupWeather, fu.DeliveryWeather = label(f.PickupWeather), label(f.DeliveryWeather)
	bold := func(s string) *widget.Label {
		return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	detail := container.NewGridWithColumns(2,
		container.NewVBox(bold("Pickup: weather"), fu.PickupWeather, bold("Pickup: diesel within 25 mi (cheapest first)"), fu.PickupFuel),
		container.NewVBox(bold("Delivery: weather"), fu.DeliveryWeather, bold("Delivery: diesel within 25 mi (cheapest first)"), fu.DeliveryFuel))
	bottom := container.NewPadded(container.NewVBox(widget.NewSeparator(), fu.LoadTitle, detail))
	top := container.NewPadded(container.NewVBox(container.NewHBox(fu.LoadSummary, layout.NewSpacer()), fu.LoadError))
	split := container.NewVSplit(t, container.NewVScroll(bottom))
	split.Offset = 0.62
	return container.NewBorder(top, nil, nil, nil, split)
}

// LoadText is the text (and dot colour, nil for none) of column col of a load row.
func LoadText(r model.LoadRow, col int) (string, color.Color) {
	appt := func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.Local().Format("Mon 15:04")
	}
	switch col {
	case 0:
		return r.ID, nil
	case 1:
		return r.Pickup, nil
	case 2:
		return appt(r.PickupAt), nil
	case 3:
		return r.Delivery, nil
	case 4:
		return appt(r.DeliveryAt), nil
	case 5:
		return model.Title(r.Status), nil
	case 6:
		if !r.Miles.Known {
			return "—", nil
		}
		return fmt.Sprintf("%.0f", r.Miles.Value), nil
	case 7:
		switch {
		case r.DriverID == "":
			return "unassigned", colorUnknown
		case r.DriverName == "":
			return r.DriverID, nil
		}
		return r.DriverName + " · " + r.DriverID, nil
	case 8:
		if r.DriverID == "" {
			return "—", nil
		}
		if !r.DriveLeft.Known {
			return "—", colorUnknown
		}
		return r.DriveLeft.String(), nil
	case 9:
		return r.Need.String(), nil
	case 10:
		switch {
		case r.Short:
			return "SHORT", colorFailing
		case r.DriverID != "" && !r.DriveLeft.Known:
			return "drive time unknown", colorUnknown
		case r.DriverID != "" && !r.Need.Known:
			return "miles unknown", colorUnknown
		}
		return "", nil
	}
	return "", nil
}

// ShowView switches to a view by name: "integrations", "drivers" or "loads"; for
// "loads" it also selects the first load once the loads are there, so that a
// screenshot script shows its surroundings (SALLY_VIEW in main.go).
func (u *UI) ShowView(name string) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "drivers":
		u.Tabs.SelectIndex(1)
	case "loads":
		u.Tabs.SelectIndex(2)
		f := u.m.Fleet
		var once bool
		listen(func() {
			if !once && f.Loads.Length() > 0 {
				once = true
				u.Fleet.LoadTable.Select(widget.TableCellID{Row: 0, Col: 0})
			}
		}, f.LoadsRev)
	default:
		u.Tabs.SelectIndex(0)
	}
}

// newFleetCell is a cell of the fleet tables: a dot (hidden unless it has a colour)
// and a label that fills the rest of the cell and ends in "…" when the text is longer.
func newFleetCell() fyne.CanvasObject {
	_, d := dot(colorDisabled)
	l := widget.NewLabel("")
	l.Truncation = fyne.TextTruncateEllipsis
	return container.NewBorder(nil, nil, d, nil, l)
}

func setFleetCell(o fyne.CanvasObject, text string, c color.Color) {
	box := o.(*fyne.Container) // Border: the label, then the dot
	l, d := box.Objects[0].(*widget.Label), box.Objects[1]
	if c != nil {
		paintDot(d, c)
		d.Show()
	} else {
		d.Hide()
	}
	l.SetText(text)
}

// FleetCellText is the text of a fleet table cell (for tests).
func FleetCellText(o fyne.CanvasObject) string {
	return o.(*fyne.Container).Objects[0].(*widget.Label).Text
}

// AgesEvery is how often a fleet table is redrawn only for its ages ("5m ago") to
// advance: a redraw lays out every visible cell (ellipsis included), too much to do
// every second on a slow machine.
const AgesEvery = 10 * time.Second

// visibleRefresh redraws t when it is shown; a table behind another tab is redrawn
// when its tab is shown.
func visibleRefresh(t *widget.Table) func() {
	return func() {
		if t.Visible() {
			t.Refresh()
		}
	}
}

// agesRefresh redraws t for the clock m.Now at most every AgesEvery.
func agesRefresh(t *widget.Table, m *model.Model) func() {
	var last time.Time
	return func() {
		now, _ := m.Now.Get()
		if now.Sub(last) < AgesEvery {
			return
		}
		last = now
		if t.Visible() {
			t.Refresh()
		}
	}
}
