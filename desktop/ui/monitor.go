package ui

import (
	"fmt"
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sallyhq/sally/desktop/model"
)

func (u *UI) buildMonitor() fyne.CanvasObject {
	header := u.buildHeader()
	list := widget.NewCard("Integrations", "", u.buildIntegrations())
	details := u.buildDetails()
	feed := widget.NewCard("Live events", "", u.buildFeedPanel())

	top := container.NewHSplit(list, details)
	top.Offset = 0.6
	body := container.NewVSplit(top, feed)
	body.Offset = 0.68
	u.Tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Integrations", theme.StorageIcon(), body),
		container.NewTabItemWithIcon("Drivers", theme.AccountIcon(), u.buildDrivers()),
		container.NewTabItemWithIcon("Loads", theme.ListIcon(), u.buildLoads()))
	return container.NewBorder(header, nil, nil, nil, u.Tabs)
}

func (u *UI) buildHeader() fyne.CanvasObject {
	m := u.m
	title := canvas.NewText(Title, theme.Color(theme.ColorNameForeground))
	title.TextSize = 20
	title.TextStyle.Bold = true

	circle, dotObj := dot(colorDisabled)
	u.ConnectionDot = circle
	u.Connection = widget.NewLabel("")
	u.User = widget.NewLabelWithData(m.User)
	u.LogoutButton = widget.NewButtonWithIcon("Log out", theme.LogoutIcon(), m.Logout)

	bannerText := widget.NewLabelWithData(m.Connection)
	bannerText.Importance = widget.DangerImportance
	bannerText.TextStyle.Bold = true
	bg := canvas.NewRectangle(colorFailing)
	bg.FillColor = withAlpha(colorFailing, 0x30)
	u.OfflineBanner = container.NewStack(bg, container.NewHBox(widget.NewIcon(theme.WarningIcon()), bannerText,
		widget.NewLabel("The list and the feed catch up when the server is back.")))
	u.OfflineBanner.Hide()

	listen(func() {
		online, _ := m.Online.Get()
		in, _ := m.LoggedIn.Get()
		if online {
			u.Connection.SetText("Online")
			circle.FillColor = colorHealthy
			u.OfflineBanner.Hide()
		} else {
			u.Connection.SetText("Offline")
			circle.FillColor = colorFailing
			if in {
				u.OfflineBanner.Show()
			}
		}
		circle.Refresh()
	}, m.Online, m.LoggedIn)

	bar := container.NewHBox(title, layout.NewSpacer(), dotObj, u.Connection, widget.NewSeparator(), u.User, u.LogoutButton)
	return container.NewVBox(container.NewPadded(bar), u.OfflineBanner, widget.NewSeparator())
}

// Columns of the integrations list.
var integrationColumns = []struct {
	title string
	width float32
}{
	{"Health", 134}, {"Integration", 150}, {"Vendor", 100}, {"Last sync", 82},
	{"Status", 92}, {"Next sync", 82}, {"Success 24h", 104},
}

func (u *UI) buildIntegrations() fyne.CanvasObject {
	m := u.m
	t := widget.NewTableWithHeaders(
		func() (int, int) { return m.Integrations.Length(), len(integrationColumns) },
		newCell,
		func(id widget.TableCellID, o fyne.CanvasObject) {
			in, err := m.Integrations.GetValue(id.Row)
			if err != nil {
				setCell(o, "", nil, false)
				return
			}
			now, _ := m.Now.Get()
			IntegrationCell(o, in, id.Col, now)
		})
	t.ShowHeaderColumn = false
	t.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < len(integrationColumns) {
			o.(*widget.Label).SetText(integrationColumns[id.Col].title)
		}
	}
	for i, c := range integrationColumns {
		t.SetColumnWidth(i, c.width)
	}
	t.OnSelected = func(id widget.TableCellID) {
		if in, err := m.Integrations.GetValue(id.Row); err == nil {
			m.Select(in.ID)
		}
	}
	u.IntegrationList = t

	// Keep the table's selection on the model's (it may pick the first row itself).
	syncSelection := func() {
		sel, _ := m.Selected.Get()
		rows, _ := m.Integrations.Get()
		for i, in := range rows {
			if in.ID == sel {
				t.Select(widget.TableCellID{Row: i, Col: 1})
				return
			}
		}
		t.UnselectAll()
	}
	listen(func() { t.Refresh(); syncSelection() }, m.Integrations, m.Selected)
	listen(t.Refresh, m.Now)
	return t
}

// IntegrationCell fills one cell of the integrations list: the text of column col of
// in at time now (and the health dot in the first column).
func IntegrationCell(o fyne.CanvasObject, in model.Integration, col int, now time.Time) {
	text, colour := IntegrationText(in, col, now)
	setCell(o, text, colour, col == 0 || col == 4)
}

// IntegrationText is the text (and dot colour) of column col of in at time now.
func IntegrationText(in model.Integration, col int, now time.Time) (string, color.Color) {
	switch col {
	case 0:
		return in.Health.String(), HealthColor(in.Health)
	case 1:
		return in.Name, nil
	case 2:
		return in.VendorName, nil
	case 3:
		return model.Ago(in.LastSyncAt, now), nil
	case 4:
		switch {
		case in.Retrying:
			return "Retrying", colorRetrying
		case in.Running:
			return "Running", colorRunning
		}
		if in.LastSyncStatus == "" {
			return "—", nil
		}
		return model.Title(in.LastSyncStatus), statusColor(in.LastSyncStatus)
	case 5:
		if !in.Enabled {
			return "—", nil
		}
		return model.Until(in.NextSyncAt, now), nil
	case 6:
		return model.Rate24h(in), nil
	}
	return "", nil
}

// StateText is the banner of an integration that does not sync: the server's reason
// and where an admin fixes it (the web page's settings of the integration, on server);
// "" while it is ACTIVE. Dispatchers cannot change credentials or resume it themselves.
func StateText(in model.Integration, server string) (string, widget.Importance) {
	var fix string
	importance := widget.WarningImportance
	switch in.Health {
	case model.NeedsCredentials:
		fix, importance = "An admin enters a new key in the web page", widget.DangerImportance
	case model.Disabled:
		fix = "An admin resumes it in the web page"
	default:
		return "", widget.MediumImportance
	}
	reason := strings.TrimSpace(in.StateReason)
	if reason == "" {
		reason = "No sync runs."
	} else if !strings.HasSuffix(reason, ".") {
		reason += "."
	}
	if server != "" {
		fix += ": " + strings.TrimRight(server, "/") + "/#/integrations/" + in.ID + "/settings"
	}
	return reason + " " + fix + ".", importance
}

func (u *UI) buildDetails() fyne.CanvasObject {
	m := u.m
	u.DetailTitle = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	listen(func() {
		name, _ := m.SelectedName.Get()
		if name == "" {
			name = "Select an integration"
		}
		u.DetailTitle.SetText(name)
	}, m.SelectedName)
	u.StateBanner = widget.NewLabel("")
	u.StateBanner.Wrapping = fyne.TextWrapWord
	u.StateBanner.Hide()
	listen(func() {
		sel, _ := m.Selected.Get()
		rows, _ := m.Integrations.Get()
		server, _ := m.ServerURL.Get()
		text, importance := "", widget.MediumImportance
		for _, in := range rows {
			if in.ID == sel {
				text, importance = StateText(in, server)
			}
		}
		if text == u.StateBanner.Text && importance == u.StateBanner.Importance {
			return
		}
		u.StateBanner.Importance = importance
		u.StateBanner.SetText(text)
		if text == "" {
			u.StateBanner.Hide()
		} else {
			u.StateBanner.Show()
		}
	}, m.Selected, m.Integrations, m.ServerURL, m.Now) // Now: a row changed in place does not notify the list

	u.TestButton = widget.NewButtonWithIcon("Test connection", theme.MediaPlayIcon(), m.TestConnection)
	u.SyncButton = widget.NewButtonWithIcon("Sync now", theme.ViewRefreshIcon(), m.SyncNow)
	u.SyncButton.Importance = widget.HighImportance
	u.TestProgress, u.TestResult = widget.NewProgressBarInfinite(), widget.NewLabelWithData(m.TestResult)
	u.SyncProgress, u.SyncResult = widget.NewProgressBarInfinite(), widget.NewLabelWithData(m.SyncResult)
	u.TestResult.Wrapping = fyne.TextWrapWord
	u.SyncResult.Wrapping = fyne.TextWrapWord
	action(u.TestButton, u.TestProgress, u.TestResult, m.Testing, m.TestOK, m.Selected)
	action(u.SyncButton, u.SyncProgress, u.SyncResult, m.Syncing, m.SyncOK, m.Selected)

	u.StatTotal, u.StatRate, u.StatOK, u.StatFailed = statText(), statText(), statText(), statText()
	listen(func() {
		total, _ := m.StatTotal.Get()
		ok, _ := m.StatSuccessful.Get()
		failed, _ := m.StatFailed.Get()
		rate, _ := m.StatSuccessRate.Get()
		setStat(u.StatTotal, fmt.Sprint(total), nil)
		setStat(u.StatRate, model.Percent(rate), nil)
		setStat(u.StatOK, fmt.Sprint(ok), colorHealthy)
		if failed > 0 {
			setStat(u.StatFailed, fmt.Sprint(failed), colorFailing)
		} else {
			setStat(u.StatFailed, "0", nil)
		}
	}, m.StatTotal, m.StatSuccessful, m.StatFailed, m.StatSuccessRate)
	cards := container.NewGridWithColumns(4,
		statCard("Total Syncs", u.StatTotal), statCard("Success Rate", u.StatRate),
		statCard("Successful", u.StatOK), statCard("Failed", u.StatFailed))

	buttons := container.NewGridWithColumns(2,
		container.NewVBox(u.TestButton, u.TestProgress, u.TestResult),
		container.NewVBox(u.SyncButton, u.SyncProgress, u.SyncResult))

	u.History = u.buildHistory()
	u.PrevButton = widget.NewButtonWithIcon("Newer", theme.NavigateBackIcon(), m.PrevPage)
	u.NextButton = widget.NewButtonWithIcon("Older", theme.NavigateNextIcon(), m.NextPage)
	u.PageLabel = widget.NewLabel("")
	listen(func() {
		p, _ := m.HistoryPage.Get()
		more, _ := m.HistoryHasNext.Get()
		n := m.History.Length()
		u.PageLabel.SetText(fmt.Sprintf("Page %d", p+1))
		enable(u.PrevButton, p > 0)
		enable(u.NextButton, more)
		if n == 0 {
			u.PageLabel.SetText("No syncs yet")
		}
	}, m.HistoryPage, m.HistoryHasNext, m.History)
	pager := container.NewHBox(layout.NewSpacer(), u.PrevButton, u.PageLabel, u.NextButton)

	top := container.NewVBox(u.DetailTitle, u.StateBanner, buttons, cards, widget.NewLabelWithStyle("Sync history", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	return container.NewPadded(container.NewBorder(top, pager, nil, nil, u.History))
}

// action wires a button to its running flag: disabled with a progress bar while it
// runs, and its result coloured after.
func action(b *widget.Button, bar *widget.ProgressBarInfinite, result *widget.Label, running, ok binding.Bool, selected binding.String) {
	bar.Hide()
	listen(func() {
		busy, _ := running.Get()
		good, _ := ok.Get()
		sel, _ := selected.Get()
		enable(b, !busy && sel != "")
		if busy {
			bar.Show()
			bar.Start()
			result.Importance = widget.MediumImportance
		} else {
			bar.Stop()
			bar.Hide()
			result.Importance = widget.DangerImportance
			if good {
				result.Importance = widget.SuccessImportance
			}
		}
		result.Refresh()
	}, running, ok, selected)
}

func enable(w fyne.Disableable, on bool) {
	if on {
		w.Enable()
	} else {
		w.Disable()
	}
}

var historyColumns = []struct {
	title string
	width float32
}{
	{"Status", 110}, {"Type", 120}, {"Started", 90}, {"Duration", 80}, {"Records", 70}, {"Error", 260},
}

func (u *UI) buildHistory() *widget.Table {
	m := u.m
	t := widget.NewTableWithHeaders(
		func() (int, int) { return m.History.Length(), len(historyColumns) },
		newCell,
		func(id widget.TableCellID, o fyne.CanvasObject) {
			r, err := m.History.GetValue(id.Row)
			if err != nil {
				setCell(o, "", nil, false)
				return
			}
			now, _ := m.Now.Get()
			text, colour := HistoryText(r, id.Col, now)
			setCell(o, text, colour, id.Col == 0)
		})
	t.ShowHeaderColumn = false
	t.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < len(historyColumns) {
			o.(*widget.Label).SetText(historyColumns[id.Col].title)
		}
	}
	for i, c := range historyColumns {
		t.SetColumnWidth(i, c.width)
	}
	t.OnSelected = u.openSyncFromHistory // the sync's detail, with its tries
	listen(t.Refresh, m.History, m.Now)
	return t
}

// HistoryText is the text (and dot colour) of column col of a history row.
func HistoryText(r model.SyncRow, col int, now time.Time) (string, color.Color) {
	switch col {
	case 0:
		return model.Title(r.Status), statusColor(r.Status)
	case 1:
		return model.Title(r.Type), nil
	case 2:
		return model.Ago(r.StartedAt, now), nil
	case 3:
		return model.Duration(r.DurationMs), nil
	case 4:
		return fmt.Sprint(r.Records), nil
	case 5:
		if r.Error == "" {
			return "—", nil
		}
		if r.ErrorClass != "" {
			return r.ErrorClass + ": " + r.Error, nil
		}
		return r.Error, nil
	}
	return "", nil
}

func (u *UI) buildFeed() fyne.CanvasObject {
	m := u.m
	u.Feed = widget.NewListWithData(m.Feed,
		func() fyne.CanvasObject {
			at := widget.NewLabelWithStyle("00:00:00", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
			_, d := dot(colorDisabled)
			text := widget.NewLabel("")
			text.Truncation = fyne.TextTruncateEllipsis
			return container.NewBorder(nil, nil, container.NewHBox(at, d), nil, text)
		},
		func(item binding.DataItem, o fyne.CanvasObject) {
			e, err := item.(binding.Item[model.Event]).Get()
			if err != nil {
				return
			}
			row := o.(*fyne.Container) // Border: the text, then the left box
			text, left := row.Objects[0].(*widget.Label), row.Objects[1].(*fyne.Container)
			left.Objects[0].(*widget.Label).SetText(e.At.Local().Format("15:04:05"))
			paintDot(left.Objects[1], statusColor(e.Type))
			text.SetText(e.Text)
		})
	// An event of a sync opens that sync's detail (its tries, its whole error); any
	// other event selects its integration.
	u.Feed.OnSelected = func(id widget.ListItemID) {
		u.Feed.Unselect(id)
		e, err := m.Feed.GetValue(id)
		switch {
		case err != nil:
		case e.SyncID != "":
			m.OpenSync(e.SyncID)
		case e.IntegrationID != "":
			m.Select(e.IntegrationID)
		}
	}
	empty := widget.NewLabel("Waiting for events…")
	listen(func() {
		if m.Feed.Length() == 0 {
			empty.Show()
		} else {
			empty.Hide()
		}
	}, m.Feed)
	return container.NewStack(u.Feed, container.NewVBox(empty))
}
