package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sallyhq/sally/desktop/model"
)

// The sync detail (opened from the history), and the live feed's filter and pins.

// syncWidgets are the widgets this file adds to UI (exported for tests).
type syncWidgets struct {
	// ProblemsOnly filters the feed; Pinned holds the circuit, alert and credentials
	// events until their Dismiss button is tapped.
	ProblemsOnly *widget.Check
	Pinned       *fyne.Container
	// SyncDetail is the open sync's window content (nil until one was opened);
	// SyncDialog the dialog that shows it.
	SyncDetail *SyncDetailView
	SyncDialog dialog.Dialog
}

// SyncDetailView is the content of the sync detail dialog.
type SyncDetailView struct {
	Title, Status, Who, Timings, Records, Error *widget.Label
	// Tries holds one row per vendor request: a TryRow.
	Tries   *fyne.Container
	content fyne.CanvasObject
}

// TryRow is one request of the timeline: its text, and its bar (and the wait after
// it) on the sync's time axis.
type TryRow struct {
	widget.BaseWidget
	Text        *widget.Label
	Error       *widget.Label
	start, span float32 // of the bar, as fractions of the axis
	waitSpan    float32
	failed      bool
}

// buildFeedPanel is the live feed with its filter and pinned events.
func (u *UI) buildFeedPanel() fyne.CanvasObject {
	m := u.m
	u.ProblemsOnly = widget.NewCheck("Problems only", m.SetProblemsOnly)
	u.Pinned = container.NewVBox()
	listen(func() {
		pins, _ := m.Pinned.Get()
		rows := make([]fyne.CanvasObject, 0, len(pins))
		for i, e := range pins {
			_, d := dot(statusColor(e.Type))
			text := widget.NewLabel(e.At.Local().Format("15:04:05") + "  " + e.Text)
			text.Truncation = fyne.TextTruncateEllipsis
			text.TextStyle.Bold = true
			dismiss := widget.NewButtonWithIcon("Dismiss", theme.CancelIcon(), func() { m.Dismiss(i) })
			dismiss.Importance = widget.LowImportance
			bg := canvas.NewRectangle(withAlpha(colorFailing, 0x22))
			bg.CornerRadius = 4
			rows = append(rows, container.NewStack(bg, container.NewBorder(nil, nil, d, dismiss, text)))
		}
		u.Pinned.Objects = rows
		u.Pinned.Refresh()
	}, m.Pinned)
	top := container.NewVBox(container.NewHBox(u.ProblemsOnly), u.Pinned)
	return container.NewBorder(top, nil, nil, nil, u.buildFeed())
}

// openSyncFromHistory opens the detail of the history row tapped.
func (u *UI) openSyncFromHistory(id widget.TableCellID) {
	u.History.UnselectAll()
	if r, err := u.m.History.GetValue(id.Row); err == nil {
		u.m.OpenSync(r.ID)
	}
}

// watchSyncDetail shows the detail dialog while the model says it is open.
func (u *UI) watchSyncDetail() {
	m := u.m
	listen(func() {
		open, _ := m.DetailOpen.Get()
		loading, _ := m.DetailLoading.Get()
		why, _ := m.DetailError.Get()
		d, _ := m.Detail.Get()
		if !open {
			if u.SyncDialog != nil {
				u.SyncDialog.Hide()
				u.SyncDialog = nil
			}
			return
		}
		if u.SyncDetail == nil {
			u.SyncDetail = newSyncDetailView()
		}
		u.SyncDetail.show(d, loading, why)
		if u.SyncDialog == nil {
			dlg := dialog.NewCustom("Sync", "Close", u.SyncDetail.content, u.win)
			dlg.SetOnClosed(m.CloseSync)
			u.SyncDialog = dlg
			dlg.Show()
			dlg.Resize(fyne.NewSize(900, 680)) // after Show: Show sizes it to its minimum
		}
	}, m.DetailOpen, m.DetailLoading, m.DetailError, m.Detail)
}

func newSyncDetailView() *SyncDetailView {
	v := &SyncDetailView{
		Title:  widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		Status: widget.NewLabel(""), Who: widget.NewLabel(""), Timings: widget.NewLabel(""),
		Records: widget.NewLabel(""), Error: widget.NewLabel(""), Tries: container.NewVBox(),
	}
	v.Error.Wrapping = fyne.TextWrapWord
	v.Error.Importance = widget.DangerImportance
	facts := container.NewVBox(v.Title, v.Status, v.Who, v.Timings, v.Records, v.Error,
		widget.NewLabelWithStyle("Requests to the vendor", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	v.content = container.NewBorder(facts, nil, nil, nil, container.NewVScroll(v.Tries))
	return v
}

// show fills the view with d (or says it is loading, or why it failed).
func (v *SyncDetailView) show(d model.SyncDetail, loading bool, why string) {
	switch {
	case loading:
		v.Title.SetText("Loading the sync…")
		d = model.SyncDetail{}
	case why != "":
		v.Title.SetText(why)
		d = model.SyncDetail{}
	default:
		v.Title.SetText(fmt.Sprintf("%s of %s", model.Title(d.Type), d.Integration))
	}
	if d.ID == "" {
		for _, l := range []*widget.Label{v.Status, v.Who, v.Timings, v.Records, v.Error} {
			l.SetText("")
		}
		v.Tries.Objects = nil
		v.Tries.Refresh()
		return
	}
	status := model.Title(d.Status)
	if d.ErrorClass != "" {
		status += " (" + d.ErrorClass + ")"
	}
	v.Status.SetText("Status: " + status)
	v.Status.Importance = widget.SuccessImportance
	if d.Status == "FAILED" {
		v.Status.Importance = widget.DangerImportance
	}
	v.Status.Refresh()
	v.Who.SetText("Trigger: " + d.Who())
	timings := "Started " + d.StartedAt.Local().Format("Jan 2 15:04:05")
	if !d.CompletedAt.IsZero() {
		timings += " · completed " + d.CompletedAt.Local().Format("15:04:05")
	}
	v.Timings.SetText(timings + " · took " + model.Duration(d.DurationMs))
	v.Records.SetText(fmt.Sprintf("Records: %d processed, %d created, %d updated", d.Processed, d.Created, d.Upded))
	v.Error.SetText(d.Error)
	if d.Error == "" {
		v.Error.Hide()
	} else {
		v.Error.Show()
	}
	v.Tries.Objects = tryRows(d)
	v.Tries.Refresh()
}

// tryRows lays the tries out on the sync's time axis.
func tryRows(d model.SyncDetail) []fyne.CanvasObject {
	if len(d.Tries) == 0 {
		msg := "This sync made no vendor request."
		if d.ErrorClass == "circuit_open" {
			msg = "No request was made: the circuit breaker was open."
		}
		return []fyne.CanvasObject{widget.NewLabel(msg)}
	}
	t0 := d.StartedAt
	end := d.CompletedAt
	for _, t := range d.Tries {
		if e := t.StartedAt.Add(time.Duration(t.DurationMs) * time.Millisecond); e.After(end) {
			end = e
		}
	}
	axis := float32(max(end.Sub(t0).Milliseconds(), 1))
	out := make([]fyne.CanvasObject, len(d.Tries))
	for i, t := range d.Tries {
		r := &TryRow{Text: widget.NewLabel(model.TryText(t)), failed: t.ErrorClass != ""}
		if t.Error != "" {
			r.Error = widget.NewLabel(t.Error)
			r.Error.Wrapping = fyne.TextWrapWord
			r.Error.Importance = widget.DangerImportance
		}
		r.start = float32(t.StartedAt.Sub(t0).Milliseconds()) / axis
		r.span = max(float32(t.DurationMs)/axis, 0.004)
		if t.RetryInMs >= 0 {
			r.waitSpan = float32(t.RetryInMs) / axis
		}
		r.ExtendBaseWidget(r)
		out[i] = r
	}
	return out
}

// CreateRenderer draws the try's text over its bar.
func (r *TryRow) CreateRenderer() fyne.WidgetRenderer {
	track := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	track.CornerRadius = 3
	c := colorHealthy
	if r.failed {
		c = colorFailing
	}
	bar := canvas.NewRectangle(c)
	bar.CornerRadius = 3
	wait := canvas.NewRectangle(withAlpha(colorDisabled, 0x80))
	axis := container.New(&barLayout{r: r}, track, bar, wait)
	rows := []fyne.CanvasObject{r.Text, axis}
	if r.Error != nil {
		rows = append(rows, r.Error)
	}
	return widget.NewSimpleRenderer(container.NewVBox(rows...))
}

// barLayout places a try's bar and wait on the full-width track.
type barLayout struct{ r *TryRow }

func (l *barLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(200, 10) }

func (l *barLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	objs[0].Move(fyne.NewPos(0, 0))
	objs[0].Resize(size)
	x := l.r.start * size.Width
	w := max(l.r.span*size.Width, 2)
	objs[1].Move(fyne.NewPos(x, 0))
	objs[1].Resize(fyne.NewSize(w, size.Height))
	objs[2].Move(fyne.NewPos(x+w, size.Height/3))
	objs[2].Resize(fyne.NewSize(l.r.waitSpan*size.Width, size.Height/3))
}
