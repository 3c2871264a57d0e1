package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/web/browser"
)

// TestE2ELifecycle drives the admin console of an integration in headless Chromium
// against the real server: add (a failing, then a passing key test), the
// NEEDS_CREDENTIALS banner and badge, rotating the rejected key back to ACTIVE,
// pause/resume, mute, the alerts page updating live, delete after typing the name,
// and a DISPATCHER who sees no admin controls. With SALLY_SCREENSHOTS=<dir> it saves
// the screenshots of docs/.
func TestE2ELifecycle(t *testing.T) {
	chromium, err := browser.Path()
	if err != nil {
		t.Fatalf("the end-to-end test needs Chromium: %v", err)
	}
	srv := startServer(t)
	token := srv.login(t)
	shots := os.Getenv("SALLY_SCREENSHOTS")

	ctx, cancel := browser.Start(context.Background(), browser.Config{ExecPath: chromium, UserDataDir: t.TempDir(), Width: 1280, Height: 900})
	t.Cleanup(cancel)
	ctx, cancelRun := context.WithTimeout(ctx, 6*time.Minute)
	t.Cleanup(cancelRun)
	_, err = chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: probe + listProbe})
	require.NoError(t, err, "start Chromium at %s", chromium)
	b := &tab{t: t, ctx: ctx}

	b.loginAs(srv, adminEmail, adminPassword)
	b.waitFor(`document.querySelectorAll('#integrations li').length === 4`, waitShort)
	require.Equal(t, true, b.eval(`document.querySelector('#nav a[data-path=alerts]') !== null`), "admins see Alerts")

	t.Log("measure: navigation to the integrations list, and the page's assets")
	// Three fresh loads with the session stored (a measurement, logged; not asserted):
	// from the navigation's start to the first item of the list, and the bytes of
	// every file but the API's answers.
	var times []float64
	for range 3 {
		b.do(chromedp.Navigate("about:blank"))
		b.do(chromedp.Navigate(srv.url + "/#/integrations"))
		b.waitFor(`window.__listAt > 0 && document.readyState === 'complete'`, waitShort)
		times = append(times, b.eval(`window.__listAt`).(float64))
	}
	slices.Sort(times)
	listMs := times[1]
	assets := b.eval(`(() => {
		const nav = performance.getEntriesByType('navigation')[0];
		let bytes = nav.decodedBodySize, files = 1;
		for (const r of performance.getEntriesByType('resource')) {
			if (r.name.includes('/graphql')) continue;
			bytes += r.decodedBodySize; files++;
		}
		return { bytes, files };
	})()`).(map[string]any)
	t.Logf("integrations list rendered %.0f ms after navigation (median of %.0f, %.0f, %.0f); %d files, %.0f bytes of assets (uncompressed)",
		listMs, times[0], times[1], times[2], int(assets["files"].(float64)), assets["bytes"].(float64))

	t.Log("add: a failing test offers only Save anyway; a passing one, Save")
	b.click(`#add-integration`)
	b.waitFor(`document.getElementById('add-form') !== null && location.hash === '#/integrations/new'`, waitShort)
	// The vendors and their names are the server's (Query.vendors), not the page's.
	require.Subset(t, b.eval(`[...document.querySelectorAll('#add-vendor option')].map((o) => o.textContent)`),
		[]any{"Samsara — Hours of service", "Truckbase — Loads (TMS)", "FuelFinder — Fuel prices", "OpenWeather — Weather"})
	b.setValue(`#add-vendor`, "TRUCKBASE_TMS")
	require.Contains(t, b.text("#add-type"), "Loads (TMS)")
	require.Equal(t, "Truckbase", b.eval(`document.getElementById('add-name').value`), "the name follows the vendor")
	require.Equal(t, false, b.eval(`document.getElementById('add-secret').closest('.field').hidden`), "Truckbase asks for its secret")
	b.setValue(`#add-name`, "Road Loads")
	b.setValue(`#add-key`, "invalid-e2e-key")
	b.setValue(`#add-secret`, "e2e-secret")
	b.click(`#add-test`)
	b.waitFor(`document.getElementById('add-test-result').textContent.includes('Truckbase refused')`, waitShort)
	require.Contains(t, strings.ToLower(b.text("#add-test-result")), "unauthorized")
	require.Equal(t, "Save anyway", b.text(`#add-form button[type=submit]`))
	require.Equal(t, false, b.eval(`document.querySelector('#add-form .message[data-tone=warn]').hidden`))
	b.setValue(`#add-key`, "e2e-good-key")
	require.Equal(t, "", b.text("#add-test-result"), "an edited key is untested")
	b.click(`#add-test`)
	b.waitFor(`document.getElementById('add-test-result').textContent.includes('Connection OK')`, waitShort)
	require.Equal(t, "Save", b.text(`#add-form button[type=submit]`))
	b.requireNamedControls()
	if shots != "" {
		b.shot(filepath.Join(shots, "web-add-integration.png"), 1280, 900)
	}
	b.click(`#add-form button[type=submit]`)
	b.waitFor(`document.getElementById('detail-title').textContent === 'Road Loads' && /^#\/integrations\/[0-9a-f-]+$/.test(location.hash)`, waitShort)
	roadID := strings.TrimPrefix(b.eval(`location.hash`).(string), "#/integrations/")
	// Due at once: its first sync arrives live, without a reload.
	b.waitFor(`document.querySelectorAll('#history-rows tr[data-status=SUCCESS]').length >= 1`, waitLong)

	t.Log("an integration whose key the vendor keeps rejecting: badge, banner, alert count")
	var created struct{ CreateIntegration struct{ ID string } }
	srv.do(t, token, `mutation($in: CreateIntegrationInput!) { createIntegration(input: $in) { id } }`, map[string]any{
		"in": map[string]any{"integrationType": "HOS_ELD", "vendor": "SAMSARA_ELD", "displayName": "Night shift ELD",
			"credentials": map[string]any{"apiKey": "invalid-revoked-key"}, "syncIntervalSeconds": 86400},
	}, &created)
	rejectedID := created.CreateIntegration.ID
	for range 3 {
		srv.do(t, token, `mutation($id: ID!) { syncIntegration(id: $id) { status } }`, map[string]any{"id": rejectedID}, nil)
	}
	b.waitFor(fmt.Sprintf(`(() => { const a = document.querySelector('a[data-id=%q]'); return a && a.dataset.state === 'NEEDS_CREDENTIALS' && a.textContent.includes('Needs new key'); })()`, rejectedID), waitShort)
	b.waitFor(`Number(document.querySelector('#nav a[data-path=alerts] .nav-count').textContent) >= 1`, waitShort)
	b.click(fmt.Sprintf(`a[data-id=%q]`, rejectedID))
	b.waitFor(`!document.getElementById('state-banner').hidden && document.getElementById('state-banner').dataset.state === 'NEEDS_CREDENTIALS'`, waitShort)
	require.Contains(t, b.text("#state-banner"), "Needs new credentials")
	require.Contains(t, strings.ToLower(b.text("#state-banner")), "unauthorized", "the vendor's refusal")
	require.Equal(t, true, b.eval(`document.getElementById('sync-now').disabled`))
	if shots != "" {
		b.shot(filepath.Join(shots, "web-needs-credentials.png"), 1280, 900)
	}

	t.Log("Enter a new key: a rejected one fails its test, a good one makes it ACTIVE")
	b.click(`#enter-new-key`)
	b.waitFor(`!document.getElementById('settings-slot').hidden && document.activeElement === document.getElementById('rotate-key')`, waitShort)
	b.setValue(`#rotate-key`, "invalid-still-revoked")
	b.click(`#rotate-test`)
	b.waitFor(`document.getElementById('rotate-test-result').textContent.includes('refused')`, waitShort)
	require.Equal(t, "Replace anyway", b.text(`#rotate-form button[type=submit]`))
	b.setValue(`#rotate-key`, "fresh-e2e-key")
	b.click(`#rotate-test`)
	b.waitFor(`document.getElementById('rotate-test-result').textContent.includes('Connection OK')`, waitShort)
	b.click(`#rotate-form button[type=submit]`)
	b.waitFor(`document.getElementById('state-banner').hidden && document.getElementById('rotate-form').textContent.includes('Key replaced')`, waitShort)
	require.Contains(t, b.text("#key-hint"), "-key", "the new key's hint")
	// Due at once: the first sync with the new key succeeds and resolves the alert.
	b.waitFor(`document.querySelectorAll('#history-rows tr[data-status=SUCCESS]').length >= 1`, waitLong)
	b.waitFor(`document.querySelector('#nav a[data-path=alerts] .nav-count').hidden`, waitShort)
	if shots != "" {
		b.shot(filepath.Join(shots, "web-settings.png"), 1280, 1500)
	}

	t.Log("every control of the settings has an accessible name; no sideways scrolling on a phone")
	b.requireNamedControls()
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	b.waitFor(`document.documentElement.scrollWidth <= window.innerWidth`, waitShort)
	b.do(chromedp.ResetViewport())

	t.Log("pause and resume")
	b.click(`#pause-toggle`)
	b.waitFor(`document.getElementById('state-banner').dataset.state === 'PAUSED' && document.getElementById('pause-toggle').textContent === 'Resume'`, waitShort)
	require.Equal(t, true, b.eval(`document.getElementById('sync-now').disabled`))
	b.waitFor(fmt.Sprintf(`document.querySelector('a[data-id=%q]').dataset.state === 'PAUSED'`, rejectedID), waitShort)
	b.click(`#pause-toggle`)
	b.waitFor(`document.getElementById('state-banner').hidden && document.getElementById('pause-toggle').textContent === 'Pause'`, waitShort)

	t.Log("mute alerts for 8 h, then unmute")
	b.click(`[data-mute="8h"]`)
	b.waitFor(`document.getElementById('mute-status').textContent.startsWith('Muted until')`, waitShort)
	var muted struct {
		Integration struct{ AlertsMutedUntil *time.Time }
	}
	srv.do(t, token, `query($id: ID!) { integration(id: $id) { alertsMutedUntil } }`, map[string]any{"id": rejectedID}, &muted)
	require.NotNil(t, muted.Integration.AlertsMutedUntil)
	require.WithinDuration(t, time.Now().Add(8*time.Hour), *muted.Integration.AlertsMutedUntil, 5*time.Minute)
	b.click(`#unmute`)
	b.waitFor(`document.getElementById('mute-status').textContent.startsWith('Not muted')`, waitShort)

	t.Log("the alerts page updates live")
	b.click(`#nav a[data-path=alerts]`)
	b.waitFor(`document.querySelectorAll('#recent-alerts li').length >= 2`, waitShort)
	require.Contains(t, b.text(`#recent-alerts li[data-kind=credentials]`), "Credentials rejected")
	require.Contains(t, b.text("#open-alerts-state"), "No open alerts")
	before := int(b.eval(`document.querySelectorAll('#recent-alerts li').length`).(float64))
	// Road Loads fails once with an alert threshold of 1: an alert is raised elsewhere.
	srv.do(t, token, `mutation($id: ID!) { updateIntegration(id: $id, input: {alertFailureThreshold: 1}) { id } }`, map[string]any{"id": roadID}, nil)
	srv.sandbox(t, "PUT", "/faults/truckbase", `{"status":503}`)
	srv.do(t, token, `mutation($id: ID!) { syncIntegration(id: $id) { status } }`, map[string]any{"id": roadID}, nil)
	srv.sandbox(t, "DELETE", "/faults/truckbase", "")
	b.waitFor(fmt.Sprintf(`document.querySelectorAll('#recent-alerts li').length > %d && document.querySelectorAll('#open-alerts li[data-kind=failure]').length === 1`, before), waitShort)
	b.waitFor(`document.querySelector('#nav a[data-path=alerts] .nav-count').textContent === '1'`, waitShort)
	require.Contains(t, b.text(`#open-alerts li`), "Road Loads")
	require.Equal(t, "#/integrations/"+roadID, b.eval(`document.querySelector('#open-alerts li a.alert-integration').getAttribute('href')`))
	if shots != "" {
		b.shot(filepath.Join(shots, "web-alerts.png"), 1280, 900)
	}

	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	b.waitFor(`document.documentElement.scrollWidth <= window.innerWidth`, waitShort)
	b.do(chromedp.ResetViewport())

	t.Log("a failed sync's error is readable whole")
	b.click(`#open-alerts li a.alert-integration`)
	b.waitFor(`document.querySelector('#history-rows tr[data-status=FAILED]') !== null`, waitShort)
	var failed struct{ SyncHistory []struct{ Error *string } }
	srv.do(t, token, `query($id: ID!) { syncHistory(integrationId: $id, status: FAILED, limit: 1) { error } }`, map[string]any{"id": roadID}, &failed)
	require.NotNil(t, failed.SyncHistory[0].Error)
	require.Contains(t, b.text(`#history-rows tr[data-status=FAILED]`), *failed.SyncHistory[0].Error)

	t.Log("delete after typing the name")
	b.click(`#settings-link`)
	b.waitFor(`!document.getElementById('settings-slot').hidden && document.getElementById('set-name').value === 'Road Loads'`, waitShort)
	b.setValue(`#delete-confirm`, "road loads")
	require.Equal(t, true, b.eval(`document.getElementById('delete-integration').disabled`), "the name must match exactly")
	b.setValue(`#delete-confirm`, "Road Loads")
	require.Equal(t, false, b.eval(`document.getElementById('delete-integration').disabled`))
	b.click(`#delete-integration`)
	b.waitFor(fmt.Sprintf(`location.hash === '#/integrations' && document.querySelector('a[data-id=%q]') === null`, roadID), waitShort)

	t.Log("a DISPATCHER sees no admin controls")
	srv.do(t, token, `mutation { createUser(input: {email: "dispatch@example.com", password: "dispatcher long password", role: DISPATCHER}) { id } }`, nil, nil)
	b.click(`#account-menu summary`)
	b.click(`#logout`)
	b.waitFor(`!document.getElementById('login-view').hidden`, waitShort)
	b.loginAs(srv, "dispatch@example.com", "dispatcher long password")
	b.waitFor(`document.querySelectorAll('#integrations li').length >= 5`, waitShort)
	require.Equal(t, true, b.eval(`document.querySelector('#nav a[data-path=alerts]') === null && document.getElementById('add-integration') === null`))
	b.do(chromedp.Navigate(srv.url + "/#/integrations/" + rejectedID + "/settings"))
	b.waitFor(`document.getElementById('detail-title').textContent === 'Night shift ELD'`, waitShort)
	require.Equal(t, true, b.eval(`document.getElementById('settings-link') === null && document.getElementById('settings-panel') === null`))
	b.eval(`location.hash = '#/alerts'`)
	b.waitFor(`document.querySelector('#nav a[data-path=integrations][aria-current=page]') !== null && document.getElementById('alerts-title') === null`, waitShort)
	// The server refuses them anyway.
	dispatcherToken := srv.loginAs(t, "dispatch@example.com", "dispatcher long password")
	body := srv.raw(t, dispatcherToken, `mutation($id: ID!) { updateIntegration(id: $id, input: {enabled: false}) { id } }`, map[string]any{"id": rejectedID})
	require.Contains(t, body, `"FORBIDDEN"`)

	require.Equal(t, []any{}, b.eval(`window.__e2e.errors`), "uncaught errors in the page")
	require.Equal(t, []any{}, b.eval(`window.__e2e.csp`), "Content-Security-Policy violations")
}

// listProbe records when the integrations list first shows an item (ms after the
// navigation started), checked every animation frame.
const listProbe = `
window.__listAt = 0;
(function watch() {
  if (document.querySelector('#integrations li')) { window.__listAt = performance.now(); return; }
  requestAnimationFrame(watch);
})();
`

// requireNamedControls fails the test when a visible control has no accessible name.
func (b *tab) requireNamedControls() {
	b.t.Helper()
	unnamed := b.eval(`[...document.querySelectorAll('button, input, select, a[href], summary')].filter((e) => {
		if (e.closest('[hidden]')) return false;
		const name = e.getAttribute('aria-label') || (e.labels && e.labels.length && e.labels[0].textContent) || e.textContent;
		return !name || !name.trim();
	}).map((e) => e.outerHTML)`).([]any)
	require.Empty(b.t, unnamed)
}

// loginAs logs in through the form.
func (b *tab) loginAs(srv *server, email, password string) {
	b.t.Helper()
	b.do(chromedp.Navigate(srv.url + "/"))
	b.waitFor(`!document.getElementById('login-view').hidden`, waitShort)
	b.setValue(`#email`, email)
	b.setValue(`#password`, password)
	b.click(`#login-submit`)
	b.waitFor(`document.getElementById('login-view').hidden && document.querySelector('#integrations li') !== null`, waitShort)
}

// setValue sets an input's or select's value as typing or picking would, with the
// input and change events.
func (b *tab) setValue(sel, value string) {
	b.t.Helper()
	b.waitFor(fmt.Sprintf(`document.querySelector(%q) !== null`, sel), waitShort)
	b.eval(fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %q;
		e.dispatchEvent(new Event('input', { bubbles: true })); e.dispatchEvent(new Event('change', { bubbles: true })); return true; })()`, sel, value))
}

// shot saves the page at width × height as a PNG.
func (b *tab) shot(path string, width, height int64) {
	b.t.Helper()
	b.do(chromedp.EmulateViewport(width, height))
	b.eval(`window.scrollTo(0, 0)`)
	time.Sleep(300 * time.Millisecond) // let the last paint settle: a picture, not an assertion
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	require.NoError(b.t, err)
	b.do(chromedp.ResetViewport())
	require.NoError(b.t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(b.t, os.WriteFile(path, png, 0o644))
}

func (s *server) loginAs(t *testing.T, email, password string) string {
	t.Helper()
	var out struct{ Login struct{ Token string } }
	s.do(t, "", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
		map[string]any{"e": email, "p": password}, &out)
	return out.Login.Token
}
