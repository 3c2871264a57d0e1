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

	"github.com/sallyhq/sally/internal/testkit"
	"github.com/sallyhq/sally/web/browser"
)

// TestE2ETeam drives the team pages in Chromium against the real server: an admin
// invites a dispatcher; the link opens in a fresh browser context (no shared storage)
// where the dispatcher sets a password and lands signed in; the dispatcher changes
// their own password and keeps working; the admin deactivates the dispatcher while
// the dispatcher's page is open, and that page loses access.
//
// With SALLY_SCREENSHOTS=<dir> it also saves team.png and set-password.png there
// (docs/ holds the ones in the README).
func TestE2ETeam(t *testing.T) {
	chromium, err := browser.Path()
	if err != nil {
		t.Fatalf("the end-to-end test needs Chromium: %v", err)
	}
	srv := startServer(t)
	token := srv.login(t)
	// A colleague who already signed in, for the screenshot's variety.
	var inv struct{ InviteUser struct{ URL string } }
	srv.do(t, token, `mutation { inviteUser(email: "maria.ops@example.com", role: ADMIN) { url } }`, nil, &inv)
	srv.do(t, "", `mutation($t: String!) { setPassword(token: $t, newPassword: "maria picks long words") { token } }`,
		map[string]any{"t": inv.InviteUser.URL[strings.LastIndex(inv.InviteUser.URL, "/")+1:]}, nil)
	srv.do(t, token, `mutation { inviteUser(email: "sam.night-shift@example.com", role: DISPATCHER) { url } }`, nil, nil)

	browserCtx, cancel := browser.Start(context.Background(), browser.Config{ExecPath: chromium, UserDataDir: t.TempDir(), Width: 1280, Height: 900})
	t.Cleanup(cancel)
	browserCtx, cancelRun := context.WithTimeout(browserCtx, 5*time.Minute)
	t.Cleanup(cancelRun)
	newTab := func(ctx context.Context) *tab {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: probe})
		require.NoError(t, err, "start Chromium at %s", chromium)
		return &tab{t: t, ctx: ctx}
	}
	admin := newTab(browserCtx)
	// The invited person's browser: a separate browser context, as another person's.
	otherCtx, cancelOther := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancelOther)
	person := newTab(otherCtx)
	shots := os.Getenv("SALLY_SCREENSHOTS")

	t.Log("the admin opens Team")
	admin.do(chromedp.Navigate(srv.url + "/"))
	admin.waitFor(`!document.getElementById('login-view').hidden`, waitShort)
	admin.do(
		chromedp.SendKeys(chromedp.CSS("#email"), adminEmail),
		chromedp.SendKeys(chromedp.CSS("#password"), adminPassword),
		chromedp.Click(chromedp.CSS("#login-submit")),
	)
	admin.waitFor(`document.querySelector('#nav a[data-path=team]') !== null`, waitShort)
	admin.click(`#nav a[data-path=team]`)
	admin.waitFor(`document.querySelectorAll('#team-rows tr').length === 3`, waitShort)
	require.Equal(t, "Team · Sally Integrations", admin.eval(`document.title`))
	require.Contains(t, admin.text(`#team-rows tr[data-email="sam.night-shift@example.com"]`), "Invitation pending")
	require.Contains(t, admin.text(`#team-rows tr[data-email="sam.night-shift@example.com"]`), "Never")

	t.Log("the server's refusals show with its message")
	admin.click(fmt.Sprintf(`#team-rows tr[data-email=%q] [data-action=deactivate]`, adminEmail))
	admin.waitFor(`document.getElementById('team-message').dataset.tone === 'bad'`, waitShort)
	require.Contains(t, admin.text("#team-message"), "You cannot deactivate yourself")
	admin.do(chromedp.SendKeys(chromedp.CSS("#invite-email"), "maria.ops@example.com"))
	admin.click("#invite-submit")
	admin.waitFor(`document.getElementById('team-message').textContent.includes('already taken')`, waitShort)

	t.Log("invite a dispatcher: the link is shown once, not emailed (no SMTP)")
	admin.eval(`document.getElementById('invite-email').value = ''`)
	admin.do(chromedp.SendKeys(chromedp.CSS("#invite-email"), "new.dispatcher@example.com"))
	admin.eval(`(() => { const s = document.getElementById('invite-role'); s.value = 'DISPATCHER'; s.dispatchEvent(new Event('change')); })()`)
	admin.click("#invite-submit")
	admin.waitFor(`!document.getElementById('link-box').hidden && document.querySelectorAll('#team-rows tr').length === 4`, waitShort)
	link := admin.eval(`document.getElementById('link-url').value`).(string)
	require.True(t, strings.HasPrefix(link, srv.url+"/#/set-password/"), link)
	require.Contains(t, admin.text("#link-note"), "Not emailed: no SMTP configured")
	require.Contains(t, admin.text("#link-box"), "new.dispatcher@example.com")
	admin.click("#link-copy")
	admin.waitFor(`['Copied', 'Press Ctrl+C'].includes(document.getElementById('link-copy').textContent)`, waitShort)
	if shots != "" {
		admin.screenshot(filepath.Join(shots, "team.png"))
	}

	t.Log("the link in a fresh browser context: set password, signed in")
	person.do(chromedp.Navigate(link))
	person.waitFor(`document.getElementById('set-password-form') !== null && document.getElementById('login-view').hidden`, waitShort)
	require.True(t, person.eval(`document.getElementById('nav').hidden && sessionStorage.length === 0`).(bool))
	person.do(
		chromedp.SendKeys(chromedp.CSS("#new-password"), "password1234"),
		chromedp.SendKeys(chromedp.CSS("#confirm-password"), "password1234"),
	)
	person.click("#set-password-submit")
	person.waitFor(`!document.getElementById('set-password-error').hidden`, waitShort)
	require.Contains(t, person.text("#set-password-error"), "must not be easy to guess")
	if shots != "" {
		person.screenshot(filepath.Join(shots, "set-password.png"))
	}
	const first, second = "copper valley lighthouse", "seventeen quiet harbours"
	person.eval(`document.getElementById('new-password').value = ''; document.getElementById('confirm-password').value = ''`)
	person.do(
		chromedp.SendKeys(chromedp.CSS("#new-password"), first),
		chromedp.SendKeys(chromedp.CSS("#confirm-password"), first),
	)
	person.click("#set-password-submit")
	person.waitFor(`location.hash.startsWith('#/integrations') && document.querySelectorAll('#integrations li').length >= 1`, waitShort)
	require.Equal(t, "new.dispatcher@example.com", person.text("#who"))
	require.Nil(t, person.eval(`document.querySelector('#nav a[data-path=team]')`), "a dispatcher has no Team page")
	person.waitFor(`document.getElementById('live').dataset.state === 'live'`, waitShort)

	t.Log("the link works once")
	res := srv.raw(t, "", `mutation($t: String!) { setPassword(token: $t, newPassword: "another fine passphrase") { token } }`,
		map[string]any{"t": link[strings.LastIndex(link, "/")+1:]})
	require.Contains(t, res, "already used")

	t.Log("the admin's list shows the sign-in")
	admin.click("#team-refresh")
	admin.waitFor(`(() => { const tr = document.querySelector('#team-rows tr[data-email="new.dispatcher@example.com"]'); return tr && !tr.textContent.includes('Invitation pending') && !tr.textContent.includes('Never'); })()`, waitShort)

	t.Log("the dispatcher changes their password through the account menu and keeps working")
	person.click("#account-menu summary")
	person.click("#change-password-link")
	person.waitFor(`document.getElementById('change-password-form') !== null`, waitShort)
	person.do(
		chromedp.SendKeys(chromedp.CSS("#current-password"), "not the password at all"),
		chromedp.SendKeys(chromedp.CSS("#account-new-password"), second),
		chromedp.SendKeys(chromedp.CSS("#account-confirm-password"), second),
	)
	person.click("#change-password-submit")
	person.waitFor(`document.getElementById('account-message').dataset.tone === 'bad'`, waitShort)
	require.Contains(t, person.text("#account-message"), "currentPassword is wrong.")
	person.eval(`document.getElementById('current-password').value = ''`)
	person.do(chromedp.SendKeys(chromedp.CSS("#current-password"), first))
	person.click("#change-password-submit")
	person.waitFor(`document.getElementById('account-message').dataset.tone === 'good'`, waitShort)
	require.Contains(t, person.text("#account-message"), "Password changed")
	if shots != "" {
		person.click("#account-menu summary")
		person.waitFor(`document.getElementById('account-menu').open`, waitShort)
		person.screenshot(filepath.Join(shots, "account.png"))
		person.eval(`document.body.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }))`)
		person.waitFor(`!document.getElementById('account-menu').open`, waitShort)
	}
	person.waitFor(`document.getElementById('live').dataset.state === 'live'`, waitShort)
	person.click(`#nav a[data-path=integrations]`)
	person.waitFor(`document.querySelectorAll('#integrations li').length >= 1 && !document.getElementById('app-view').hidden`, waitShort)
	// The old password no longer signs in; the new one does.
	require.Contains(t, srv.raw(t, "", `mutation { login(email: "new.dispatcher@example.com", password: "copper valley lighthouse") { token } }`, nil), "UNAUTHENTICATED")
	require.Contains(t, srv.raw(t, "", `mutation { login(email: "new.dispatcher@example.com", password: "seventeen quiet harbours") { token } }`, nil), `"token"`)

	t.Log("the admin deactivates the dispatcher, whose open page loses access")
	person.eval(`window.__notReloaded = true`)
	admin.click(`#team-rows tr[data-email="new.dispatcher@example.com"] [data-action=deactivate]`)
	admin.waitFor(`document.querySelector('#team-rows tr[data-email="new.dispatcher@example.com"]').dataset.active === 'false'`, waitShort)
	require.Contains(t, admin.text(`#team-rows tr[data-email="new.dispatcher@example.com"]`), "Deactivated")
	// The live socket is closed by the server (4403): the page shows the login at once,
	// without the person doing anything.
	person.waitFor(`!document.getElementById('login-view').hidden && sessionStorage.getItem('sally.session') === null`, waitShort)
	require.Contains(t, person.text("#login-error"), "Your session has ended")
	require.Equal(t, true, person.eval(`window.__notReloaded === true`))
	require.Contains(t, srv.raw(t, "", `mutation { login(email: "new.dispatcher@example.com", password: "seventeen quiet harbours") { token } }`, nil), "UNAUTHENTICATED")

	t.Log("reactivate, then delete with confirmation")
	admin.click(`#team-rows tr[data-email="new.dispatcher@example.com"] [data-action=reactivate]`)
	admin.waitFor(`document.querySelector('#team-rows tr[data-email="new.dispatcher@example.com"]').dataset.active === 'true'`, waitShort)
	admin.click(`#team-rows tr[data-email="new.dispatcher@example.com"] [data-action=delete]`)
	admin.waitFor(`document.querySelector('#team-rows tr[data-email="new.dispatcher@example.com"] [data-action=confirm-delete]') !== null`, waitShort)
	admin.click(`#team-rows tr[data-email="new.dispatcher@example.com"] [data-action=confirm-delete]`)
	admin.waitFor(`document.querySelector('#team-rows tr[data-email="new.dispatcher@example.com"]') === null && document.getElementById('team-message').textContent.includes('Deleted new.dispatcher@example.com')`, waitShort)

	t.Log("every control has an accessible name")
	unnamed := admin.eval(`[...document.querySelectorAll('button, input, select, a[href], summary')].filter((e) => {
		if (e.closest('[hidden]')) return false;
		const name = e.getAttribute('aria-label') || (e.labels && e.labels.length && e.labels[0].textContent) || e.textContent;
		return !name || !name.trim();
	}).map((e) => e.outerHTML)`).([]any)
	require.Empty(t, unnamed)

	for _, b := range []*tab{admin, person} {
		require.Equal(t, []any{}, b.eval(`window.__e2e.errors`), "uncaught errors in the page")
		require.Equal(t, []any{}, b.eval(`window.__e2e.csp`), "Content-Security-Policy violations")
	}
}

// screenshot saves the tab's viewport as a PNG.
func (b *tab) screenshot(path string) {
	b.t.Helper()
	b.do(chromedp.EmulateViewport(1280, 1000))
	time.Sleep(300 * time.Millisecond) // let the last paint settle: a picture, not an assertion
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	require.NoError(b.t, err)
	b.do(chromedp.ResetViewport())
	require.NoError(b.t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(b.t, os.WriteFile(path, png, 0o644))
}

// raw sends a GraphQL operation and returns the response body, errors included.
func (s *server) raw(t *testing.T, token, query string, vars map[string]any) string {
	t.Helper()
	_, raw := testkit.PostGraphQL(t, s.url, token, query, vars)
	return string(raw)
}
