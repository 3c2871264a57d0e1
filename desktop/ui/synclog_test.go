package ui_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/desktop/gqlclient"
	"github.com/sallyhq/sally/desktop/internal/desktoptest"
	"github.com/sallyhq/sally/desktop/model"
	"github.com/sallyhq/sally/desktop/ui"
)

// TestSyncDetail: a history row opens the sync's detail with its tries as a timeline
// (a 503, then a success: the test server allows two tries), and the history shows errors in their own column.
func TestSyncDetail(t *testing.T) {
	h := setup(t, gqlclient.EventsOptions{})
	h.login()
	id := h.choose("Truckbase loads")

	h.srv.Fault("truckbase", `{"status":503,"count":1}`)
	h.tap(h.u.SyncButton)
	h.eventually("the sync's result", func() bool {
		return !boolean(h.m.Syncing) && strings.HasPrefix(str(h.m.SyncResult), "Sync ") && !strings.HasPrefix(str(h.m.SyncResult), "Syncing")
	})
	require.True(t, strings.HasPrefix(str(h.m.SyncResult), "Sync succeeded"), str(h.m.SyncResult))
	var row int
	h.eventually("the two-try sync in the history", func() bool {
		rows, _ := h.m.History.Get()
		row = slices.IndexFunc(rows, func(r model.SyncRow) bool { return r.Attempts == 2 })
		return row >= 0
	})
	h.ui(func() { h.u.History.Select(widget.TableCellID{Row: row, Col: 1}) })
	h.eventually("the detail loaded", func() bool {
		d, _ := h.m.Detail.Get()
		return boolean(h.m.DetailOpen) && !boolean(h.m.DetailLoading) && len(d.Tries) == 2
	})
	d, _ := h.m.Detail.Get()
	require.Equal(t, "Truckbase loads", d.Integration)
	require.Equal(t, "Manual, by "+desktoptest.AdminEmail, d.Who())
	for i, try := range d.Tries {
		require.Equal(t, "loads", try.Call)
		require.Equal(t, i+1, try.Attempt)
		if i == 0 {
			require.Equal(t, 503, try.HTTPStatus)
			require.Equal(t, "unavailable", try.ErrorClass)
			require.Positive(t, try.RetryInMs)
		} else {
			require.Equal(t, 200, try.HTTPStatus)
			require.Equal(t, -1, try.RetryInMs)
		}
	}

	var (
		shown             bool
		title, who, state string
		tries             []string
	)
	h.ui(func() {
		shown = h.u.SyncDialog != nil
		v := h.u.SyncDetail
		title, who, state = v.Title.Text, v.Who.Text, v.Status.Text
		for _, o := range v.Tries.Objects {
			tries = append(tries, o.(*ui.TryRow).Text.Text)
		}
	})
	require.True(t, shown, "the detail dialog is open")
	require.Equal(t, "Load sync of Truckbase loads", title)
	require.Equal(t, "Trigger: Manual, by "+desktoptest.AdminEmail, who)
	require.Equal(t, "Status: Success", state)
	require.Len(t, tries, 2)
	require.Contains(t, tries[0], "loads · try 1 · HTTP 503 unavailable")
	require.Contains(t, tries[0], "before the next try")
	require.Contains(t, tries[1], "HTTP 200")
	require.NotContains(t, tries[1], "waited")

	h.ui(func() { h.u.SyncDialog.Hide() })
	h.eventually("the detail closed", func() bool { return !boolean(h.m.DetailOpen) })

	// The same sync from the live feed: its SYNC_SUCCEEDED event opens the detail.
	ofSync := func(e model.Event) bool { return e.Type == "SYNC_SUCCEEDED" && e.SyncID == d.ID }
	h.eventually("the sync's end in the feed", func() bool { return h.event(ofSync) })
	h.ui(func() { // on the UI goroutine: newer events move the item down
		feed, _ := h.m.Feed.Get()
		h.u.Feed.Select(slices.IndexFunc(feed, ofSync))
	})
	h.eventually("the detail opened from the feed", func() bool {
		fd, _ := h.m.Detail.Get()
		return boolean(h.m.DetailOpen) && !boolean(h.m.DetailLoading) && fd.ID == d.ID && len(fd.Tries) == 2
	})
	h.ui(func() { h.u.SyncDialog.Hide() })
	h.eventually("the detail closed", func() bool { return !boolean(h.m.DetailOpen) })

	// The error column.
	now := time.Now()
	text, _ := ui.HistoryText(model.SyncRow{Error: "unauthorized: the vendor rejected the API key", ErrorClass: "auth"}, 5, now)
	require.Equal(t, "auth: unauthorized: the vendor rejected the API key", text)
	text, _ = ui.HistoryText(model.SyncRow{Status: "SUCCESS"}, 5, now)
	require.Equal(t, "—", text)
	_ = id
}

// TestFeedProblemsPinsAndResult: the feed filters to problems, a credentials failure
// stays pinned until dismissed, and the result message of an earlier sync is replaced
// when a later sync of that integration ends.
func TestFeedProblemsPinsAndResult(t *testing.T) {
	h := setup(t, gqlclient.EventsOptions{})
	h.login()
	id := h.choose("OpenWeather")

	h.srv.Fault("openweather", `{"status":401}`)
	h.tap(h.u.SyncButton)
	h.eventually("the failed result", func() bool { return strings.HasPrefix(str(h.m.SyncResult), "Sync failed after") })
	h.srv.ClearFaults()
	h.eventually("the credentials failure pinned", func() bool {
		pins, _ := h.m.Pinned.Get()
		return slices.ContainsFunc(pins, func(e model.Event) bool { return e.IntegrationID == id && e.ErrorClass == "auth" })
	})
	var pinned int
	h.ui(func() { pinned = len(h.u.Pinned.Objects) })
	require.Positive(t, pinned)

	t.Run("ProblemsOnly", func(t *testing.T) {
		h := h.at(t)
		h.eventually("a success in the feed", func() bool {
			feed, _ := h.m.Feed.Get()
			return slices.ContainsFunc(feed, func(e model.Event) bool { return e.Type == "SYNC_SUCCEEDED" || e.Type == "SYNC_STARTED" })
		})
		h.ui(func() { test.Tap(h.u.ProblemsOnly) })
		h.eventually("only problems", func() bool {
			feed, _ := h.m.Feed.Get()
			return boolean(h.m.ProblemsOnly) && len(feed) > 0 && !slices.ContainsFunc(feed, func(e model.Event) bool { return !model.IsProblem(e) })
		})
		feed, _ := h.m.Feed.Get()
		require.True(t, slices.ContainsFunc(feed, func(e model.Event) bool { return e.Type == "SYNC_FAILED" && e.IntegrationID == id }))
		h.ui(func() { test.Tap(h.u.ProblemsOnly) })
		h.eventually("everything again", func() bool {
			feed, _ := h.m.Feed.Get()
			return !boolean(h.m.ProblemsOnly) && h.m.Feed.Length() == h.m.Events.Length() && len(feed) > 0
		})
	})

	t.Run("LaterSyncReplacesTheResult", func(t *testing.T) {
		h := h.at(t)
		require.False(t, boolean(h.m.SyncOK))
		// Someone else syncs it (another client): its end replaces the old failure.
		token := apiLogin(t, h.srv.URL)
		apiDo(t, h.srv.URL, token, `mutation($id: ID!) { syncIntegration(id: $id) { id } }`, map[string]any{"id": id})
		h.eventually("the result replaced", func() bool {
			return boolean(h.m.SyncOK) && strings.HasPrefix(str(h.m.SyncResult), "Sync succeeded")
		})
	})

	t.Run("Dismiss", func(t *testing.T) {
		h := h.at(t)
		before := h.m.Pinned.Length()
		h.ui(func() { test.Tap(findButton(h.u.Pinned, "Dismiss")) })
		h.eventually("one pin fewer", func() bool { return h.m.Pinned.Length() == before-1 })
		h.eventually("its row gone", func() bool {
			var n int
			h.ui(func() { n = len(h.u.Pinned.Objects) })
			return n == before-1
		})
	})
}

// findButton returns the first button labelled text under o.
func findButton(o fyne.CanvasObject, text string) *widget.Button {
	switch v := o.(type) {
	case *widget.Button:
		if v.Text == text {
			return v
		}
	case *fyne.Container:
		for _, c := range v.Objects {
			if b := findButton(c, text); b != nil {
				return b
			}
		}
	}
	return nil
}

func apiLogin(t *testing.T, url string) string {
	t.Helper()
	var out struct {
		Login struct{ Token string }
	}
	apiDecode(t, url, "", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
		map[string]any{"e": desktoptest.AdminEmail, "p": desktoptest.AdminPassword}, &out)
	return out.Login.Token
}

func apiDo(t *testing.T, url, token, query string, vars map[string]any) {
	t.Helper()
	apiDecode(t, url, token, query, vars, nil)
}

func apiDecode(t *testing.T, url, token, query string, vars map[string]any, out any) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var r struct {
		Data   json.RawMessage
		Errors []any
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&r))
	require.Empty(t, r.Errors)
	if out != nil {
		require.NoError(t, json.Unmarshal(r.Data, out))
	}
}
