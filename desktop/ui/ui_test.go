package ui_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/desktop/gqlclient"
	"github.com/sallyhq/sally/desktop/internal/desktoptest"
	"github.com/sallyhq/sally/desktop/model"
	"github.com/sallyhq/sally/desktop/ui"
	"github.com/sallyhq/sally/internal/testkit"
)

func TestMain(m *testing.M) { desktoptest.Main(m) }

// harness is the monitor, headless on Fyne's test driver, against a real server.
// Tests are not parallel: Fyne's test app is process-wide.
type harness struct {
	t     *testing.T
	srv   *desktoptest.Server
	app   fyne.App
	loop  *desktoptest.Loop
	m     *model.Model
	u     *ui.UI
	win   fyne.Window
	notes *notifications
}

type notifications struct {
	mu  sync.Mutex
	got []*fyne.Notification
}

func (n *notifications) add(x *fyne.Notification) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, x)
}

func (n *notifications) has(title string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.ContainsFunc(n.got, func(x *fyne.Notification) bool { return x.Title == title })
}

func setup(t *testing.T, events gqlclient.EventsOptions) *harness {
	t.Helper()
	h := &harness{t: t, notes: &notifications{}}
	h.srv = desktoptest.StartServer(t, desktoptest.FastPolicies...)
	h.app = test.NewTempApp(t)
	h.loop = desktoptest.NewLoop(t)
	// Cleanups run last-first: the model stops, then the window closes on the loop,
	// then the loop ends.
	t.Cleanup(func() { h.loop.Wait(func() { h.win.Close() }) })
	t.Cleanup(func() { noLeaks(t) })
	h.m = model.New(model.Options{
		Prefs:  h.app.Preferences(),
		Do:     h.loop.Do,
		Notify: h.notes.add,
		Events: events,
		Tick:   250 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	t.Cleanup(h.m.Close)
	h.loop.Wait(func() {
		h.win = test.NewWindow(nil)
		h.u = ui.New(h.m, h.win)
		h.win.Resize(fyne.NewSize(1280, 820))
	})
	return h
}

// at is h for a subtest: its helpers fail t.
func (h *harness) at(t *testing.T) *harness {
	c := *h
	c.t = t
	return &c
}

// ui runs fn on the UI goroutine (the loop) and waits for it.
func (h *harness) ui(fn func()) { h.loop.Wait(fn) }

func (h *harness) tap(b *widget.Button) {
	h.t.Helper()
	var disabled bool
	h.ui(func() {
		disabled = b.Disabled()
		if !disabled {
			test.Tap(b)
		}
	})
	require.False(h.t, disabled, "button %q is disabled", b.Text)
}

func (h *harness) typeInto(e *widget.Entry, text string) {
	h.ui(func() {
		e.SetText("")
		test.Type(e, text)
	})
}

func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	desktoptest.Eventually(h.t, desktoptest.Timeout, what, cond)
}

func str(b binding.String) string { v, _ := b.Get(); return v }
func boolean(b binding.Bool) bool { v, _ := b.Get(); return v }

// login fills the form and logs in, then waits for the live feed to connect.
func (h *harness) login() {
	h.t.Helper()
	h.typeInto(h.u.URL, h.srv.URL)
	h.typeInto(h.u.Email, desktoptest.AdminEmail)
	h.typeInto(h.u.Password, desktoptest.AdminPassword)
	h.tap(h.u.LoginButton)
	h.eventually("logged in", func() bool { return boolean(h.m.LoggedIn) })
	h.eventually("online", func() bool { return boolean(h.m.Online) })
	h.eventually("the demo integrations", func() bool { return h.m.Integrations.Length() == len(desktoptest.DemoIntegrations) })
}

func (h *harness) row(name string) model.Integration {
	h.t.Helper()
	rows, _ := h.m.Integrations.Get()
	for _, in := range rows {
		if in.Name == name {
			return in
		}
	}
	h.t.Fatalf("no row %q", name)
	return model.Integration{}
}

// choose selects an integration by clicking its row in the list.
func (h *harness) choose(name string) string {
	h.t.Helper()
	rows, _ := h.m.Integrations.Get()
	i := slices.IndexFunc(rows, func(in model.Integration) bool { return in.Name == name })
	require.GreaterOrEqual(h.t, i, 0, "no row %q", name)
	h.ui(func() { h.u.IntegrationList.Select(widget.TableCellID{Row: i, Col: 1}) })
	h.eventually(name+" selected", func() bool { return str(h.m.Selected) == rows[i].ID && str(h.m.SelectedName) == name })
	return rows[i].ID
}

// noLeaks fails the test when goroutines of the model, the client or its websocket
// outlive the model's Close.
func noLeaks(t *testing.T) {
	t.Helper()
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		buf := make([]byte, 1<<20)
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if strings.Contains(g, "sally/desktop/model.") || strings.Contains(g, "sally/desktop/gqlclient.") || strings.Contains(g, "coder/websocket.") {
				c.Errorf("a goroutine outlived the model:\n%s", g)
			}
		}
	}, 10*time.Second, 50*time.Millisecond, "the model's goroutines to end")
}

func (h *harness) event(pred func(model.Event) bool) bool {
	feed, _ := h.m.Events.Get()
	return slices.ContainsFunc(feed, pred)
}

// rowIs reports whether the list has a row named name for which pred holds; unlike
// row it does not fail the test, so a condition of eventually may use it.
func (h *harness) rowIs(name string, pred func(model.Integration) bool) bool {
	rows, _ := h.m.Integrations.Get()
	return slices.ContainsFunc(rows, func(in model.Integration) bool { return in.Name == name && pred(in) })
}

func (h *harness) historyHas(pred func(model.SyncRow) bool) bool {
	rows, _ := h.m.History.Get()
	return slices.ContainsFunc(rows, pred)
}

func TestLogin(t *testing.T) {
	h := setup(t, gqlclient.EventsOptions{})
	var showing bool
	h.ui(func() { showing = h.u.Showing() })
	require.False(t, showing, "the login form comes first")

	t.Run("WrongPassword", func(t *testing.T) {
		h := h.at(t)
		h.typeInto(h.u.URL, h.srv.URL)
		h.typeInto(h.u.Email, desktoptest.AdminEmail)
		h.typeInto(h.u.Password, "not-the-password-at-all")
		h.tap(h.u.LoginButton)
		h.eventually("a login error", func() bool { return !boolean(h.m.LoggingIn) && str(h.m.LoginError) != "" })
		require.Equal(t, "Wrong email or password.", str(h.m.LoginError))
		require.False(t, boolean(h.m.LoggedIn))
	})

	t.Run("OK", func(t *testing.T) {
		h := h.at(t)
		h.login()
		require.Empty(t, str(h.m.LoginError))
		var showing bool
		var rows int
		h.ui(func() {
			showing = h.u.Showing()
			rows, _ = h.u.IntegrationList.Length()
		})
		require.True(t, showing, "the monitor replaces the login form")
		require.Equal(t, len(desktoptest.DemoIntegrations), rows)

		rowsNow, _ := h.m.Integrations.Get()
		var names []string
		for _, in := range rowsNow {
			names = append(names, in.Name)
			require.NotEmpty(t, in.Vendor)
			require.True(t, in.Enabled)
		}
		require.ElementsMatch(t, desktoptest.DemoIntegrations, names)
		// The vendor column names each vendor as the server does (Query.vendors).
		vendorCol := map[string]string{}
		for _, in := range rowsNow {
			vendorCol[in.Name], _ = ui.IntegrationText(in, 2, time.Now())
		}
		require.Equal(t, map[string]string{
			"Truckbase loads": "Truckbase", "Samsara ELD": "Samsara", "Fuel Finder prices": "FuelFinder", "OpenWeather": "OpenWeather",
		}, vendorCol)
		require.Equal(t, desktoptest.AdminEmail+" · Demo Fleet", str(h.m.User))
		require.Equal(t, "Online", str(h.m.Connection))
		h.eventually("the first integration selected", func() bool { return str(h.m.Selected) == rowsNow[0].ID })

		// The server URL and email are remembered; the password is not.
		prefs := h.app.Preferences()
		require.Equal(t, h.srv.URL, prefs.String(model.PrefServerURL))
		require.Equal(t, desktoptest.AdminEmail, prefs.String(model.PrefEmail))
		for _, k := range []string{model.PrefServerURL, model.PrefEmail, "password"} {
			require.NotContains(t, prefs.String(k), desktoptest.AdminPassword)
		}
	})

	t.Run("DemoSyncsArrive", func(t *testing.T) {
		h := h.at(t)
		// The demo integrations sync a few seconds after the server's first start.
		h.eventually("a scheduled sync in the feed and its row", func() bool {
			return h.event(func(e model.Event) bool { return e.Type == "SYNC_SUCCEEDED" && e.Trigger == "SCHEDULED" })
		})
		h.eventually("a row with a successful last sync", func() bool {
			rows, _ := h.m.Integrations.Get()
			return slices.ContainsFunc(rows, func(in model.Integration) bool {
				return in.LastSyncStatus == "SUCCESS" && !in.LastSyncAt.IsZero() && in.Health == model.Healthy
			})
		})
	})

	t.Run("Logout", func(t *testing.T) {
		h := h.at(t)
		h.tap(h.u.LogoutButton)
		h.eventually("logged out", func() bool { return !boolean(h.m.LoggedIn) })
		var showing bool
		h.ui(func() { showing = h.u.Showing() })
		require.False(t, showing)
		require.Empty(t, str(h.m.Password))
		require.Equal(t, h.srv.URL, str(h.m.ServerURL), "the URL stays filled in")
		require.Zero(t, h.m.Integrations.Length())
	})
}

func TestSyncNowAndTest(t *testing.T) {
	h := setup(t, gqlclient.EventsOptions{})
	h.login()
	id := h.choose("OpenWeather")
	before := time.Now().Add(-time.Second)

	t.Run("SyncNow", func(t *testing.T) {
		h := h.at(t)
		h.tap(h.u.SyncButton)
		h.eventually("the sync's result", func() bool {
			return !boolean(h.m.Syncing) && str(h.m.SyncResult) != "" && !strings.HasSuffix(str(h.m.SyncResult), "…")
		})
		require.True(t, boolean(h.m.SyncOK), "result: %s", str(h.m.SyncResult))
		require.Contains(t, str(h.m.SyncResult), "Sync succeeded")

		manual := func(typ string) func(model.Event) bool {
			return func(e model.Event) bool {
				return e.Type == typ && e.IntegrationID == id && e.Trigger == "MANUAL" && !e.At.Before(before)
			}
		}
		h.eventually("SYNC_STARTED and SYNC_SUCCEEDED of the manual sync in the feed", func() bool {
			return h.event(manual("SYNC_STARTED")) && h.event(manual("SYNC_SUCCEEDED"))
		})
		feed, _ := h.m.Events.Get()
		require.True(t, feed[0].At.Compare(feed[len(feed)-1].At) >= 0, "newest on top")
		var listed int
		h.ui(func() { listed = h.u.Feed.Length() })
		require.Equal(t, len(feed), listed)

		h.eventually("the row updated by the sync", func() bool {
			return h.rowIs("OpenWeather", func(in model.Integration) bool {
				return in.LastSyncStatus == "SUCCESS" && !in.LastSyncAt.Before(before) && in.Syncs24h >= 1 && in.Health == model.Healthy
			})
		})
		h.eventually("the manual sync in the history and the stat cards", func() bool {
			total, _ := h.m.StatTotal.Get()
			ok, _ := h.m.StatSuccessful.Get()
			return h.historyHas(func(r model.SyncRow) bool { return r.Trigger == "MANUAL" && r.Status == "SUCCESS" }) && total >= 1 && ok >= 1
		})
		var cell string
		h.ui(func() {
			in := h.row("OpenWeather")
			cell, _ = ui.IntegrationText(in, 4, time.Now())
		})
		require.Equal(t, "Success", cell)
	})

	t.Run("TestConnection", func(t *testing.T) {
		h := h.at(t)
		h.tap(h.u.TestButton)
		h.eventually("the test's result", func() bool { return !boolean(h.m.Testing) && strings.HasPrefix(str(h.m.TestResult), "Connection") })
		require.True(t, boolean(h.m.TestOK), "result: %s", str(h.m.TestResult))
		require.Contains(t, str(h.m.TestResult), "Connection OK")
	})
}

func TestFailureNotifies(t *testing.T) {
	h := setup(t, gqlclient.EventsOptions{})
	h.login()
	id := h.choose("Samsara ELD")
	h.srv.Fault("samsara", `{"status":503}`)

	t.Run("TestConnection", func(t *testing.T) {
		h := h.at(t)
		h.tap(h.u.TestButton)
		h.eventually("the test's result", func() bool { return !boolean(h.m.Testing) && strings.HasPrefix(str(h.m.TestResult), "Connection") })
		require.False(t, boolean(h.m.TestOK))
		require.Contains(t, str(h.m.TestResult), "Connection failed")
	})

	t.Run("SyncNow", func(t *testing.T) {
		h := h.at(t)
		h.tap(h.u.SyncButton)
		h.eventually("the sync's result", func() bool { return !boolean(h.m.Syncing) && strings.HasPrefix(str(h.m.SyncResult), "Sync failed") })
		require.False(t, boolean(h.m.SyncOK))
		h.eventually("SYNC_FAILED in the feed", func() bool {
			return h.event(func(e model.Event) bool { return e.Type == "SYNC_FAILED" && e.IntegrationID == id })
		})
		h.eventually("a notification of the failure", func() bool { return h.notes.has("Sync failed: Samsara ELD") })
		h.eventually("the row failing or its circuit open", func() bool {
			return h.rowIs("Samsara ELD", func(in model.Integration) bool {
				return in.Health == model.Failing || in.Health == model.CircuitOpen
			})
		})
		h.eventually("the failure in the history", func() bool {
			failed, _ := h.m.StatFailed.Get()
			return failed >= 1 && h.historyHas(func(r model.SyncRow) bool { return r.Status == "FAILED" && r.Error != "" })
		})
	})

	t.Run("CircuitOpens", func(t *testing.T) {
		h := h.at(t)
		// FastPolicies open the circuit after two failed calls: a sync's two tries.
		h.eventually("CIRCUIT_OPENED in the feed", func() bool {
			return h.event(func(e model.Event) bool { return e.Type == "CIRCUIT_OPENED" && e.IntegrationID == id })
		})
		h.eventually("a notification that the circuit opened", func() bool { return h.notes.has("Circuit open: Samsara ELD") })
		h.eventually("the row's indicator", func() bool {
			return h.rowIs("Samsara ELD", func(in model.Integration) bool { return in.Health == model.CircuitOpen })
		})
	})
}

func TestOfflineAndBack(t *testing.T) {
	// A slow first retry, so that what happens while the desktop is still offline after
	// the restart can only reach it through the refresh on reconnection.
	h := setup(t, gqlclient.EventsOptions{MinBackoff: 2 * time.Second, MaxBackoff: 3 * time.Second})
	h.login()
	id := h.choose("Fuel Finder prices")

	h.srv.Stop()
	h.eventually("offline", func() bool { return !boolean(h.m.Online) })
	h.eventually("the header says offline", func() bool { return strings.Contains(str(h.m.Connection), "Offline") })
	var banner bool
	h.ui(func() { banner = h.u.OfflineBanner.Visible() })
	require.True(t, banner, "the offline banner shows")
	require.True(t, boolean(h.m.LoggedIn), "still logged in")

	h.srv.Restart()
	other, err := gqlclient.New(h.srv.URL, nil)
	require.NoError(t, err)
	_, err = other.SignIn(context.Background(), desktoptest.AdminEmail, desktoptest.AdminPassword)
	require.NoError(t, err)
	run, err := gqlclient.SyncIntegration(context.Background(), other, id)
	require.NoError(t, err)

	h.eventually("online again", func() bool { return boolean(h.m.Online) })
	require.Equal(t, "Online", str(h.m.Connection))
	h.ui(func() { banner = h.u.OfflineBanner.Visible() })
	require.False(t, banner, "the offline banner is gone")
	h.eventually("the sync made meanwhile in the history", func() bool {
		return h.historyHas(func(r model.SyncRow) bool { return r.ID == run.SyncIntegration.Id })
	})
	h.eventually("its row refreshed", func() bool {
		return h.rowIs("Fuel Finder prices", func(in model.Integration) bool {
			return in.LastSyncStatus == "SUCCESS" && !in.LastSyncAt.Before(run.SyncIntegration.StartedAt.Add(-time.Second))
		})
	})
}

// TestIntegrationStateShown: an integration whose key the vendor keeps rejecting, and
// one an admin paused, say so in the list and in a banner over the details, with the
// server's reason and where an admin fixes it; the banner goes once it syncs again.
func TestIntegrationStateShown(t *testing.T) {
	h := setup(t, gqlclient.EventsOptions{})
	h.login()
	token := h.adminToken()
	gql := func(query string, vars map[string]any) (data map[string]any, errs []any) {
		t.Helper()
		_, raw := testkit.PostGraphQL(t, h.srv.URL, token, query, vars)
		var out struct {
			Data   map[string]any
			Errors []any
		}
		require.NoError(t, json.Unmarshal(raw, &out), "%s", raw)
		return out.Data, out.Errors
	}
	id := h.row("Samsara ELD").ID

	t.Log("the vendor rejects the new key: syncs until the integration needs credentials")
	_, errs := gql(`mutation($id: ID!) { updateIntegration(id: $id, input: {credentials: {apiKey: "invalid-revoked-key"}}) { id } }`, map[string]any{"id": id})
	require.Empty(t, errs)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		gql(`mutation($id: ID!) { syncIntegration(id: $id) { status } }`, map[string]any{"id": id}) // refused once it needs credentials
		data, errs := gql(`query($id: ID!) { integration(id: $id) { state } }`, map[string]any{"id": id})
		require.Empty(c, errs)
		require.Equal(c, "NEEDS_CREDENTIALS", data["integration"].(map[string]any)["state"])
	}, desktoptest.Timeout, 200*time.Millisecond)
	h.eventually("the row needs a new key", func() bool {
		return h.rowIs("Samsara ELD", func(in model.Integration) bool {
			return in.Health == model.NeedsCredentials && in.State == "NEEDS_CREDENTIALS" && strings.Contains(in.StateReason, "rejected")
		})
	})
	text, _ := ui.IntegrationText(h.row("Samsara ELD"), 0, time.Now())
	require.Equal(t, "needs new key", text)
	h.choose("Samsara ELD")
	settings := h.srv.URL + "/#/integrations/" + id + "/settings"
	banner := func() (string, bool, widget.Importance) {
		var s string
		var visible bool
		var imp widget.Importance
		h.ui(func() { s, visible, imp = h.u.StateBanner.Text, h.u.StateBanner.Visible(), h.u.StateBanner.Importance })
		return s, visible, imp
	}
	h.eventually("the banner says why and where an admin fixes it", func() bool {
		s, visible, imp := banner()
		return visible && imp == widget.DangerImportance && strings.Contains(s, "rejected the credentials") &&
			strings.Contains(s, "An admin enters a new key in the web page: "+settings)
	})

	t.Log("a new key: active again, the banner gone")
	_, errs = gql(`mutation($id: ID!) { updateIntegration(id: $id, input: {credentials: {apiKey: "desktop-good-key"}}) { state } }`, map[string]any{"id": id})
	require.Empty(t, errs)
	h.eventually("the row active again", func() bool {
		return h.rowIs("Samsara ELD", func(in model.Integration) bool { return in.State == "ACTIVE" && in.Health != model.NeedsCredentials })
	})
	h.eventually("the banner hidden", func() bool { s, visible, _ := banner(); return !visible && s == "" })

	t.Log("paused by an admin")
	_, errs = gql(`mutation($id: ID!) { updateIntegration(id: $id, input: {enabled: false}) { state } }`, map[string]any{"id": id})
	require.Empty(t, errs)
	h.eventually("the row paused", func() bool {
		return h.rowIs("Samsara ELD", func(in model.Integration) bool { return in.Health == model.Disabled && in.State == "PAUSED" })
	})
	text, _ = ui.IntegrationText(h.row("Samsara ELD"), 0, time.Now())
	require.Equal(t, "paused", text)
	h.eventually("the banner says it is paused", func() bool {
		s, visible, imp := banner()
		return visible && imp == widget.WarningImportance && strings.HasPrefix(s, "Paused") &&
			strings.Contains(s, "An admin resumes it in the web page: "+settings)
	})
}

// adminToken logs the demo admin in over GraphQL, as another client would.
func (h *harness) adminToken() string {
	h.t.Helper()
	_, raw := testkit.PostGraphQL(h.t, h.srv.URL, "", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
		map[string]any{"e": desktoptest.AdminEmail, "p": desktoptest.AdminPassword})
	var out struct {
		Data struct{ Login struct{ Token string } }
	}
	require.NoError(h.t, json.Unmarshal(raw, &out), "%s", raw)
	require.NotEmpty(h.t, out.Data.Login.Token, "%s", raw)
	return out.Data.Login.Token
}
