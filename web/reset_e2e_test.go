package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/internal/testserver"
	"github.com/sallyhq/sally/web"
	"github.com/sallyhq/sally/web/browser"
)

// TestStreamResetRefetches: on a STREAM_RESET event (the server may have missed
// events for this page) the page reads again what it shows, the open integration's
// history included. The API runs in process, so that the test can tell its bus to
// reset; the page reaches it over HTTP and a websocket as always.
func TestStreamResetRefetches(t *testing.T) {
	chromium, err := browser.Path()
	if err != nil {
		t.Fatalf("this test needs Chromium: %v", err)
	}
	api := testserver.New(t, testdb.Open(t, testdb.SQLite))
	tenantID, admin := api.SeedTenant(t, "Reset Freight")
	user := api.SeedUser(t, tenantID, auth.RoleAdmin)
	id := api.CreateIntegration(t, admin, map[string]any{"displayName": "Reset ELD"})
	mux := http.NewServeMux()
	mux.Handle("/graphql", api.Handler)
	mux.Handle("/", web.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	ctx, cancel := browser.Start(context.Background(), browser.Config{ExecPath: chromium, UserDataDir: t.TempDir(), Width: 1280, Height: 900})
	t.Cleanup(cancel)
	ctx, cancelRun := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelRun)
	_, err = chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: probe})
	require.NoError(t, err)
	b := &tab{t: t, ctx: ctx}

	b.do(chromedp.Navigate(srv.URL + "/"))
	b.waitFor(`!document.getElementById('login-view').hidden`, waitShort)
	b.do(
		chromedp.SendKeys(chromedp.CSS("#email"), user.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), testserver.Password),
		chromedp.Click(chromedp.CSS("#login-submit")),
	)
	b.waitFor(`document.querySelectorAll('#integrations li').length === 1`, waitShort)
	b.waitFor(`document.getElementById('live').dataset.state === 'live'`, waitShort)
	b.click(fmt.Sprintf(`a[data-id=%q]`, id))
	b.waitFor(`document.getElementById('detail-title').textContent === 'Reset ELD'`, waitShort)
	// The stat cards load after the title: read them once they show numbers.
	b.waitFor(`!isNaN(Number(document.querySelector('[data-stat=total]').textContent))`, waitShort)
	require.Empty(t, b.counts().ids)

	// A sync the page hears nothing about (as when its events were lost between
	// replicas), then the reset.
	now := time.Now().UTC()
	lg, err := api.Store.Client.SyncLog.Create().SetTenantID(uuid.MustParse(tenantID)).SetIntegrationID(uuid.MustParse(id)).
		SetSyncType(synclog.SyncTypeHOS_SYNC).SetTrigger(synclog.TriggerSCHEDULED).SetStatus(synclog.StatusSUCCESS).
		SetStartedAt(now.Add(-time.Second)).SetCompletedAt(now).SetDurationMs(1000).SetAttempts(1).Save(testserver.System())
	require.NoError(t, err)
	api.Bus.Reset(context.Background(), "the server lost its database connection for a while")
	b.waitFor(fmt.Sprintf(`[...document.querySelectorAll('#history-rows tr')].some((tr) => tr.dataset.id === %q)`, lg.ID.String()), waitShort)
	require.Equal(t, 1, b.counts().total)
	require.Equal(t, "[]", b.eval(`JSON.stringify(window.__e2e.errors.concat(window.__e2e.csp))`))
}
