package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/web/browser"
)

// TestE2ESyncLog drives the sync log page in Chromium against the real server: the
// filters change the URL, a URL opened afresh restores them, a sync that starts while
// the list is open shows as "new" instead of moving the rows, and a sync's detail
// shows its requests as a timeline (two 503s, then a success).
//
// With SALLY_SCREENSHOTS=<dir> it also saves web-sync-log.png and web-sync-detail.png there (the docs' pictures)
// (docs/ holds the ones in the README).
func TestE2ESyncLog(t *testing.T) {
	chromium, err := browser.Path()
	if err != nil {
		t.Fatalf("the end-to-end test needs Chromium: %v", err)
	}
	srv := startServer(t)
	token := srv.login(t)
	truckbase := srv.integrationID(t, token, "Truckbase loads")
	weather := srv.integrationID(t, token, "OpenWeather")

	// A sync that needed three tries, and one that failed.
	srv.sandbox(t, "PUT", "/faults/truckbase", `{"status":503,"count":2}`)
	var retried struct{ SyncIntegration struct{ ID string } }
	srv.do(t, token, `mutation($id: ID!) { syncIntegration(id: $id) { id } }`, map[string]any{"id": truckbase}, &retried)
	srv.sandbox(t, "PUT", "/faults/openweather", `{"status":401}`)
	var failed struct{ SyncIntegration struct{ ID, Status string } }
	srv.do(t, token, `mutation($id: ID!) { syncIntegration(id: $id) { id status } }`, map[string]any{"id": weather}, &failed)
	require.Equal(t, "FAILED", failed.SyncIntegration.Status)
	srv.sandbox(t, "DELETE", "/faults", "")

	ctx, cancel := browser.Start(context.Background(), browser.Config{ExecPath: chromium, UserDataDir: t.TempDir(), Width: 1280, Height: 900})
	t.Cleanup(cancel)
	ctx, cancelRun := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(cancelRun)
	_, err = chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: probe})
	require.NoError(t, err, "start Chromium at %s", chromium)
	b := &tab{t: t, ctx: ctx}
	shots := os.Getenv("SALLY_SCREENSHOTS")

	t.Log("log in and open the sync log from the navigation bar")
	b.do(chromedp.Navigate(srv.url + "/"))
	b.waitFor(`!document.getElementById('login-view').hidden`, waitShort)
	b.do(
		chromedp.SendKeys(chromedp.CSS("#email"), adminEmail),
		chromedp.SendKeys(chromedp.CSS("#password"), adminPassword),
		chromedp.Click(chromedp.CSS("#login-submit")),
	)
	b.waitFor(`document.querySelector('#nav a[data-path="sync-log"]') !== null`, waitShort)
	b.click(`#nav a[data-path="sync-log"]`)
	b.waitFor(`document.querySelectorAll('#sync-log-rows tr').length >= 2`, waitShort)
	require.Equal(t, "Sync log · Sally Integrations", b.eval(`document.title`))
	b.waitFor(`/\d+ syncs? match/.test(document.getElementById('sync-log-summary').textContent)`, waitShort)

	t.Log("a filter goes into the URL and narrows the rows")
	b.eval(`(() => { const s = document.getElementById('f-status'); s.value = 'FAILED'; s.dispatchEvent(new Event('change', { bubbles: true })); })()`)
	b.waitFor(`location.hash.includes('status=FAILED')`, waitShort)
	b.waitFor(fmt.Sprintf(`document.querySelector('#sync-log-rows tr[data-id=%q]') !== null`, failed.SyncIntegration.ID), waitShort)
	statuses := b.eval(`[...document.querySelectorAll('#sync-log-rows tr .badge.bad, #sync-log-rows tr .badge.good')].filter((e) => e.closest('td').dataset.label === 'Status').map((e) => e.textContent)`).([]any)
	require.NotEmpty(t, statuses)
	for _, s := range statuses {
		require.Equal(t, "Failed", s)
	}
	b.eval(`(() => { const s = document.getElementById('f-vendor'); s.value = 'OPENWEATHER'; s.dispatchEvent(new Event('change', { bubbles: true })); })()`)
	b.waitFor(`location.hash.includes('vendor=OPENWEATHER') && location.hash.includes('status=FAILED')`, waitShort)
	b.waitFor(`document.querySelectorAll('#sync-log-rows tr').length >= 1 && [...document.querySelectorAll('#sync-log-rows tr')].every((tr) => tr.textContent.includes('OpenWeather'))`, waitShort)
	require.Contains(t, b.text(fmt.Sprintf(`#sync-log-rows tr[data-id=%q]`, failed.SyncIntegration.ID)), "auth")

	t.Log("the URL opened afresh restores the filters")
	shared := b.eval(`location.href`).(string)
	b.do(chromedp.Navigate("about:blank"))
	b.do(chromedp.Navigate(shared))
	b.waitFor(`document.getElementById('f-status') !== null && document.getElementById('f-status').value === 'FAILED' && document.getElementById('f-vendor').value === 'OPENWEATHER'`, waitShort)
	b.waitFor(fmt.Sprintf(`document.querySelector('#sync-log-rows tr[data-id=%q]') !== null`, failed.SyncIntegration.ID), waitShort)

	t.Log("a sync that ends while the list is open is announced, not inserted")
	b.click(`#sync-log-clear`)
	b.waitFor(`location.hash === '#/sync-log' && document.getElementById('f-status').value === ''`, waitShort)
	b.waitFor(`document.querySelectorAll('#sync-log-rows tr').length >= 2`, waitShort)
	rowsBefore := b.eval(`document.querySelectorAll('#sync-log-rows tr').length`)
	srv.do(t, token, `mutation($id: ID!) { syncIntegration(id: $id) { id } }`, map[string]any{"id": weather}, nil)
	b.waitFor(`!document.getElementById('sync-log-new').hidden`, waitShort)
	require.Regexp(t, `^\d+ new syncs? since this list was loaded\.$`, b.text("#sync-log-new-text"))
	require.Equal(t, rowsBefore, b.eval(`document.querySelectorAll('#sync-log-rows tr').length`), "the rows stay put")
	b.click(`#sync-log-show-new`)
	b.waitFor(`document.getElementById('sync-log-new').hidden`, waitShort)

	t.Log("CSV export of the current filter")
	b.eval(`(import('/views/sync-log.js').then((m) => { window.__csv = m.toCSV([{ id: '1', integration: { displayName: 'A, "quoted"', vendor: 'OPENWEATHER' }, status: 'FAILED', error: 'line\nbreak' }]); }), true)`)
	b.waitFor(`window.__csv !== undefined`, waitShort)
	csv := b.eval(`window.__csv`)
	require.Equal(t, "id,integration,vendor,syncType,status,trigger,triggeredBy,startedAt,completedAt,durationMs,attempts,recordsProcessed,recordsCreated,recordsUpdated,errorClass,error\r\n"+
		"1,\"A, \"\"quoted\"\"\",OPENWEATHER,,FAILED,,,,,,,,,,,\"line\nbreak\"\r\n", csv)
	b.click(`#sync-log-export`)
	b.waitFor(`/^Exported \d+ syncs?/.test(document.getElementById('sync-log-summary').textContent)`, waitShort)
	if shots != "" {
		b.screenshot(filepath.Join(shots, "web-sync-log.png"))
	}

	t.Log("a sync's detail: who, the error, and the tries as a timeline")
	b.click(fmt.Sprintf(`#sync-log-rows tr[data-id=%q] a.row-link`, retried.SyncIntegration.ID))
	b.waitFor(`document.querySelectorAll('#tries li').length === 3`, waitShort)
	require.Contains(t, b.eval(`location.hash`).(string), retried.SyncIntegration.ID)
	require.Equal(t, "Manual, by "+adminEmail, b.text("#sync-trigger"))
	require.Equal(t, "Success", b.text("#sync-status"))
	tries := b.eval(`[...document.querySelectorAll('#tries li')].map((li) => li.querySelector('.try-head').textContent)`).([]any)
	require.Contains(t, tries[0], "loads")
	require.Contains(t, tries[0], "HTTP 503")
	require.Contains(t, tries[1], "HTTP 503")
	require.Contains(t, tries[2], "HTTP 200")
	waits := b.eval(`[...document.querySelectorAll('#tries li .try-wait-text')].map((p) => p.textContent)`).([]any)
	require.Len(t, waits, 2, "the waits before the two retries")
	for _, w := range waits {
		require.True(t, strings.HasPrefix(w.(string), "Waited "), w)
	}
	// The bars sit on the time axis (placed through CSSOM: the CSP forbids inline styles).
	require.Equal(t, true, b.eval(`[...document.querySelectorAll('#tries .try-bar')].every((e) => e.style.left !== '' && e.style.width !== '')`))
	if shots != "" {
		b.screenshot(filepath.Join(shots, "web-sync-detail.png"))
	}

	t.Log("the failed sync's detail has its full error; back keeps the list")
	b.eval(fmt.Sprintf(`location.hash = '#/sync-log/%s'`, failed.SyncIntegration.ID))
	b.waitFor(`document.getElementById('sync-error') !== null`, waitShort)
	require.Contains(t, strings.ToLower(b.text("#sync-error")), "api key")
	b.click(`#sync-back`)
	b.waitFor(`document.getElementById('sync-log-form') !== null && document.querySelectorAll('#sync-log-rows tr').length >= 2`, waitShort)

	t.Log("an integration's history opens the same detail")
	b.eval(fmt.Sprintf(`location.hash = '#/integrations/%s'`, truckbase))
	b.click(fmt.Sprintf(`#history-rows tr[data-id=%q] a.row-link`, retried.SyncIntegration.ID))
	b.waitFor(`document.querySelectorAll('#tries li').length === 3`, waitShort)

	require.Equal(t, []any{}, b.eval(`window.__e2e.errors`), "uncaught errors in the page")
	require.Equal(t, []any{}, b.eval(`window.__e2e.csp`), "Content-Security-Policy violations")
}
