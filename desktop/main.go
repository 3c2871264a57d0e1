// Command desktop is Sally's monitor for dispatchers: it logs in to a Sally server and
// shows its integrations, their health and history, and the live event feed. See
// docs/desktop.md.
//
// SALLY_URL, SALLY_EMAIL and SALLY_PASSWORD, when all set, log in at start (for
// scripts such as the screenshot in docs/); otherwise the login form asks.
// SALLY_OPEN_SYNC=<sync id> then opens that sync's detail.
// SALLY_VIEW (integrations, drivers or loads) picks the view shown first.
package main

import (
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/sallyhq/sally/desktop/model"
	"github.com/sallyhq/sally/desktop/ui"
)

func main() {
	a := app.NewWithID("com.sallyhq.sally.desktop")
	w := a.NewWindow(ui.Title)
	m := model.New(model.Options{Prefs: a.Preferences()})
	u := ui.New(m, w)
	u.ShowView(os.Getenv("SALLY_VIEW"))
	m.AutoLogin(os.Getenv)
	m.AutoOpenSync(os.Getenv) // SALLY_OPEN_SYNC=<sync id>: its detail, once logged in
	w.Resize(fyne.NewSize(1280, 820))
	w.ShowAndRun()
	m.Close()
}
