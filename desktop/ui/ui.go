// Package ui builds the desktop monitor's widgets from a model.Model: a login form,
// then the integrations list, the selected integration's details (buttons, stat cards,
// paged history) and the live event feed. It makes no network calls: buttons call the
// model, and widgets follow the model's bindings. Binding listeners run on the UI
// goroutine (the model sends every change through fyne.Do).
package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/widget"

	"github.com/sallyhq/sally/desktop/model"
)

// Title is the window's title (xwd -name finds the window by it).
const Title = "Sally Integrations"

// UI is the window's widgets. Fields are exported for tests, which tap and type into
// them through Fyne's test driver.
type UI struct {
	m   *model.Model
	win fyne.Window

	// Login form.
	URL, Email, Password *widget.Entry
	LoginButton          *widget.Button
	LoginError           *widget.Label
	LoginProgress        *widget.ProgressBarInfinite

	// Header.
	ConnectionDot   *canvas.Circle
	Connection      *widget.Label
	OfflineBanner   *fyne.Container
	User            *widget.Label
	LogoutButton    *widget.Button
	IntegrationList *widget.Table

	// Details of the selected integration.
	DetailTitle *widget.Label
	// StateBanner says why the selected integration does not sync (paused, or its key
	// rejected) and where an admin fixes it; hidden while it is ACTIVE.
	StateBanner  *widget.Label
	TestButton   *widget.Button
	SyncButton   *widget.Button
	TestProgress *widget.ProgressBarInfinite
	SyncProgress *widget.ProgressBarInfinite
	TestResult   *widget.Label
	SyncResult   *widget.Label
	StatTotal    *canvas.Text
	StatRate     *canvas.Text
	StatOK       *canvas.Text
	StatFailed   *canvas.Text
	History      *widget.Table
	PrevButton   *widget.Button
	NextButton   *widget.Button
	PageLabel    *widget.Label

	// Feed is the live event feed, newest on top.
	Feed *widget.List

	// The feed's filter and pins, and the sync detail (synclog.go).
	syncWidgets

	// Tabs switch between Integrations, Drivers and Loads; Fleet holds the widgets of
	// the last two (fleet.go).
	Tabs  *container.AppTabs
	Fleet FleetUI

	login, monitor fyne.CanvasObject
}

// New builds the widgets for m and shows them in win: the login form until the model
// is logged in, then the monitor. Call it on the UI goroutine.
func New(m *model.Model, win fyne.Window) *UI {
	u := &UI{m: m, win: win}
	u.login = u.buildLogin()
	u.monitor = u.buildMonitor()
	u.watchSyncDetail()
	win.SetContent(u.login)
	m.LoggedIn.AddListener(binding.NewDataListener(func() {
		in, _ := m.LoggedIn.Get()
		if in {
			win.SetContent(u.monitor)
		} else {
			win.SetContent(u.login)
			win.Canvas().Focus(u.Password)
		}
	}))
	return u
}

// Showing reports whether the monitor (rather than the login form) is shown.
func (u *UI) Showing() bool { return u.win.Content() == u.monitor }

// Health colours: fixed, so they mean the same in the light and dark themes.
var (
	colorHealthy     = color.NRGBA{R: 0x2e, G: 0x9d, B: 0x4f, A: 0xff}
	colorRetrying    = color.NRGBA{R: 0xf2, G: 0xa9, B: 0x00, A: 0xff}
	colorFailing     = color.NRGBA{R: 0xd3, G: 0x2f, B: 0x2f, A: 0xff}
	colorCircuitOpen = color.NRGBA{R: 0x8e, G: 0x24, B: 0xaa, A: 0xff}
	colorDisabled    = color.NRGBA{R: 0x9e, G: 0x9e, B: 0x9e, A: 0xff}
	colorRunning     = color.NRGBA{R: 0x1e, G: 0x88, B: 0xe5, A: 0xff}
)

// HealthColor is the indicator colour of h.
func HealthColor(h model.Health) color.Color {
	switch h {
	case model.Healthy:
		return colorHealthy
	case model.Retrying:
		return colorRetrying
	case model.Failing:
		return colorFailing
	case model.CircuitOpen:
		return colorCircuitOpen
	case model.NeedsCredentials:
		return colorFailing
	}
	return colorDisabled
}

// statusColor colours a sync status (SUCCESS, FAILED, RUNNING) or an event type.
func statusColor(s string) color.Color {
	switch s {
	case "SUCCESS", "SYNC_SUCCEEDED", "CIRCUIT_CLOSED", "ALERT_RESOLVED":
		return colorHealthy
	case "FAILED", "SYNC_FAILED", "ALERT_RAISED":
		return colorFailing
	case "SYNC_RETRYING", "CIRCUIT_HALF_OPENED":
		return colorRetrying
	case "CIRCUIT_OPENED":
		return colorCircuitOpen
	case "RUNNING", "SYNC_STARTED":
		return colorRunning
	}
	return colorDisabled
}

// dot is a small filled circle with a fixed size.
func dot(c color.Color) (*canvas.Circle, fyne.CanvasObject) {
	circle := canvas.NewCircle(c)
	return circle, container.NewCenter(container.NewGridWrap(fyne.NewSize(12, 12), circle))
}

// paintDot recolours a dot made by dot (a reused cell's).
func paintDot(d fyne.CanvasObject, c color.Color) {
	circle := d.(*fyne.Container).Objects[0].(*fyne.Container).Objects[0].(*canvas.Circle)
	circle.FillColor = c
	circle.Refresh()
}

// listen calls fn now and whenever one of items changes.
func listen(fn func(), items ...binding.DataItem) {
	for _, it := range items {
		it.AddListener(binding.NewDataListener(fn))
	}
}
