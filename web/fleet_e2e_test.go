package web_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/web/browser"
)

// minutesOf reads "5h 07m" back into minutes; -1 for "—" (unknown).
func minutesOf(t *testing.T, s string) int {
	t.Helper()
	if s == "—" {
		return -1
	}
	var h, m int
	_, err := fmt.Sscanf(s, "%dh %dm", &h, &m)
	require.NoError(t, err, "hours %q", s)
	return h*60 + m
}

// TestFleetViewsE2E drives the Drivers (#/drivers) and Loads (#/loads) views in
// headless Chromium against the real server with the sandbox: sorted by least drive
// time left, searchable; a clock the vendor stops reporting shows "—" (never 0) as soon
// as the HOS sync's event arrives, without a reload; an override asks for a reason and
// shows who set it and until when; loads are flagged exactly when their driver has
// less drive time left than the trip needs at 50 mph, and a load shows the weather and
// diesel prices at both ends with source and age.
func TestFleetViewsE2E(t *testing.T) {
	chromium, err := browser.Path()
	if err != nil {
		t.Fatalf("the end-to-end test needs Chromium: %v", err)
	}
	srv := startServer(t)
	token := srv.login(t)
	samsaraID := srv.integrationID(t, token, "Samsara ELD")

	ctx, cancel := browser.Start(context.Background(), browser.Config{ExecPath: chromium, UserDataDir: t.TempDir(), Width: 1400, Height: 900})
	t.Cleanup(cancel)
	ctx, cancelRun := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(cancelRun)
	_, err = chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: probe})
	require.NoError(t, err, "start Chromium at %s", chromium)
	b := &tab{t: t, ctx: ctx}

	b.do(chromedp.Navigate(srv.url + "/#/drivers"))
	b.waitFor(`!document.getElementById('login-view').hidden`, waitShort)
	b.do(
		chromedp.SendKeys(chromedp.CSS("#email"), adminEmail),
		chromedp.SendKeys(chromedp.CSS("#password"), adminPassword),
		chromedp.Click(chromedp.CSS("#login-submit")),
	)
	b.waitFor(`document.getElementById('live').dataset.state === 'live'`, waitShort)
	b.eval(`location.hash = '#/drivers'`)

	t.Log("the drivers, sorted by least drive time left")
	b.waitFor(`document.querySelectorAll('#driver-rows tr').length === 25 && [...document.querySelectorAll('#driver-rows td[data-col=drive]')].every((td) => td.textContent !== '—')`, waitLong)
	require.Contains(t, b.eval(`[...document.querySelectorAll('#nav a')].map((a) => a.textContent)`), "Drivers")
	require.Equal(t, "Drivers · Sally Integrations", b.eval(`document.title`))
	drives := b.eval(`[...document.querySelectorAll('#driver-rows td[data-col=drive]')].map((td) => td.textContent)`).([]any)
	prev := -1
	for _, d := range drives {
		m := minutesOf(t, d.(string))
		require.GreaterOrEqual(t, m, prev, "sorted by drive time left: %v", drives)
		prev = m
	}
	require.Contains(t, b.text("#drivers-summary"), "25 drivers")

	t.Log("search")
	name := b.eval(`document.querySelector('#driver-rows tr[data-driver-id="52007"] .name').textContent`).(string)
	b.do(chromedp.SendKeys(chromedp.CSS("#driver-search"), strings.ToUpper(name)))
	b.waitFor(fmt.Sprintf(`[...document.querySelectorAll('#driver-rows tr .name')].every((n) => n.textContent.toLowerCase() === %q.toLowerCase()) && document.querySelectorAll('#driver-rows tr').length >= 1`, name), waitShort)
	require.Contains(t, b.text("#drivers-summary"), "of 25 drivers")
	b.eval(`(() => { const s = document.getElementById('driver-search'); s.value = ''; s.dispatchEvent(new Event('input')); })()`)
	b.waitFor(`document.querySelectorAll('#driver-rows tr').length === 25`, waitShort)

	t.Log("clocks the vendor stops reporting show as — after the next HOS sync, live")
	b.eval(`window.__noReload = true`)
	srv.sandbox(t, "PUT", "/fleet", `{"withoutClocks":1}`)
	srv.do(t, token, `mutation($id: ID!) { syncIntegration(id: $id) { status } }`, map[string]any{"id": samsaraID}, nil)
	b.waitFor(`(() => { const r = document.querySelector('#driver-rows tr[data-driver-id="52001"]'); return !!r && r.querySelector('td[data-col=drive]').textContent === '—'; })()`, waitShort)
	require.Equal(t, true, b.eval(`window.__noReload === true`), "the page was not reloaded")
	cells := b.eval(`[...document.querySelectorAll('#driver-rows tr[data-driver-id="52001"] td[data-col]')].map((td) => td.dataset.col + '=' + td.textContent)`).([]any)
	require.Contains(t, cells, "drive=—")
	require.Contains(t, cells, "shift=—")
	require.Contains(t, cells, "cycle=—")
	require.Contains(t, cells, "break=—")
	require.Equal(t, true, b.eval(`document.querySelector('#driver-rows tr[data-driver-id="52001"] [data-mark=unknown]') !== null`))
	require.Contains(t, b.text(`#driver-rows tr[data-driver-id="52001"]`), "no clocks reported")
	require.Equal(t, "52001", b.eval(`document.querySelector('#driver-rows tr').dataset.driverId`), "unknown drive time sorts first: it may be none at all")
	srv.sandbox(t, "PUT", "/fleet", `{}`)

	t.Log("stale and violation marks")
	b.eval(`import('/views/drivers.js').then((m) => { window.__marks = m.marks({ driverId: 'x', hosManualOverride: false, hos: {
		dutyStatus: 'DRIVING', driveRemainingHours: 1, shiftRemainingHours: 2, cycleRemainingHours: 3, timeUntilBreakHours: 4,
		stale: true, error: 'the last HOS sync failed', cycleViolationHours: 1, shiftDrivingViolationHours: 0, dataSource: 'samsara_eld' } }).map((x) => x.key + ':' + x.title); })`)
	b.waitFor(`Array.isArray(window.__marks)`, waitShort)
	require.Equal(t, []any{"stale:the last HOS sync failed", "violation:The vendor reports the driver in violation."}, b.eval(`window.__marks`))

	t.Log("override with a reason and an expiry, then clear")
	b.click(`#driver-rows tr[data-driver-id="52003"]`)
	b.waitFor(`!document.getElementById('driver-detail').hidden && document.getElementById('driver-detail-title').textContent.includes('52003')`, waitShort)
	b.eval(`(() => {
		const set = (id, v) => { const e = document.getElementById(id); e.value = v; };
		set('ov-duty', 'ON_DUTY'); set('ov-driven', '3'); set('ov-drive', '8'); set('ov-shift', '10'); set('ov-cycle', '55'); set('ov-break', '5');
		set('ov-until', '4'); set('ov-reason', '');
	})()`)
	b.click("#override-submit")
	b.waitFor(`!document.getElementById('override-result').hidden && document.getElementById('override-result').textContent.includes('reason')`, waitShort)
	b.eval(`document.getElementById('ov-reason').value = 'ELD tablet replaced, paper log checked'`)
	b.click("#override-submit")
	b.waitFor(`document.getElementById('override-result').dataset.tone === 'good'`, waitShort)
	b.waitFor(`document.querySelector('#driver-rows tr[data-driver-id="52003"] [data-mark=override]') !== null`, waitShort)
	title := b.eval(`document.querySelector('#driver-rows tr[data-driver-id="52003"] [data-mark=override]').title`).(string)
	require.Contains(t, title, "By admin@localhost, until ")
	require.Contains(t, title, "ELD tablet replaced, paper log checked")
	require.Equal(t, "8h 00m", b.eval(`document.querySelector('#driver-rows tr[data-driver-id="52003"] td[data-col=drive]').textContent`))
	require.Contains(t, b.text("#driver-detail-info"), "Overridden. By admin@localhost")
	b.click("#override-clear")
	b.waitFor(`document.querySelector('#driver-rows tr[data-driver-id="52003"] [data-mark=override]') === null && document.getElementById('override-result').dataset.tone === 'good'`, waitShort)

	t.Log("loads: flagged exactly when the driver is short of drive time at 50 mph")
	b.eval(`location.hash = '#/loads'`)
	b.waitFor(`document.querySelectorAll('#load-rows tr').length === 10`, waitShort)
	rows := b.eval(`[...document.querySelectorAll('#load-rows tr')].map((tr) => [...tr.children].map((td) => td.textContent))`).([]any)
	for _, r := range rows {
		c := r.([]any)
		miles, drive, need, flag := c[6].(string), c[8].(string), c[9].(string), c[10].(string)
		if miles == "—" || drive == "—" {
			require.NotEqual(t, "Short of drive time", flag)
			continue
		}
		n, err := strconv.Atoi(strings.ReplaceAll(miles, ",", ""))
		require.NoError(t, err)
		require.InDelta(t, float64(n)/50*60, float64(minutesOf(t, need)), 1, "trip needs miles / 50 mph")
		short := minutesOf(t, drive) < minutesOf(t, need)
		if minutesOf(t, drive) == minutesOf(t, need) {
			continue // equal at the minute shown: the exact values decide
		}
		require.Equal(t, short, flag == "Short of drive time", "load %v", c)
	}

	t.Log("a load: weather and diesel at both ends, with source and age")
	first := b.eval(`document.querySelector('#load-rows tr').dataset.loadId`).(string)
	b.click(`#load-rows tr`)
	b.waitFor(`['pickup-weather', 'delivery-weather'].every((id) => document.getElementById(id).textContent.includes('OpenWeather, observed')) &&
		['pickup-fuel', 'delivery-fuel'].every((id) => document.getElementById(id).textContent.includes('Fuel Finder, price'))`, waitLong)
	require.Equal(t, "Near load "+first, b.text("#load-detail-title"))
	require.Contains(t, b.eval(`location.hash`).(string), first)

	t.Log("a fleet too large for one request (1,300 drivers): the board reads it 500 at a time")
	b.eval(`location.hash = '#/drivers'`)
	b.waitFor(`document.querySelectorAll('#driver-rows tr').length === 25`, waitShort)
	b.eval(`(() => { window.__pages = []; const f = window.fetch;
		window.fetch = (u, o) => { if (o && typeof o.body === 'string' && o.body.includes('driverPage')) window.__pages.push(JSON.parse(o.body).variables); return f(u, o); }; })()`)
	srv.sandbox(t, "PUT", "/fleet", `{"drivers":1300}`)
	srv.do(t, token, `mutation($id: ID!) { syncIntegration(id: $id) { status } }`, map[string]any{"id": samsaraID}, nil)
	b.waitFor(`document.querySelectorAll('#driver-rows tr').length === 1300 && document.querySelector('#driver-rows tr[data-driver-id="53300"]') !== null`, waitLong)
	pages := b.eval(`window.__pages.slice(-3)`).([]any)
	require.Len(t, pages, 3, "three pages: 500, 500 and 300")
	require.Equal(t, map[string]any{"first": float64(500), "after": nil}, pages[0])
	require.Equal(t, float64(500), pages[2].(map[string]any)["first"])
	require.NotNil(t, pages[2].(map[string]any)["after"])
	require.Contains(t, b.text("#drivers-summary"), "1,300 drivers")
	srv.sandbox(t, "PUT", "/fleet", `{}`)

	require.Equal(t, []any{}, b.eval(`window.__e2e.errors`), "uncaught errors in the page")
	require.Equal(t, []any{}, b.eval(`window.__e2e.csp`), "Content-Security-Policy violations")
}
