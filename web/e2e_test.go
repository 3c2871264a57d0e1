package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/internal/testkit"
	"github.com/sallyhq/sally/web/browser"
)

// The e2e test drives Debian's headless Chromium against the real server, built from
// ./server and run on SQLite with the vendor sandbox and the demo tenant, as a user
// would: it logs in, opens an integration, syncs it and watches the page update.

const (
	adminEmail    = "admin@localhost"
	adminPassword = "e2e-admin-password-0123"
	// waitLong bounds a wait for something the server does on its own schedule (the
	// demo's first syncs come seconds after the start).
	waitLong = 60 * time.Second
	// waitShort bounds a wait for the page to react to what the test did.
	waitShort = 30 * time.Second
)

// probe is run in the page before its own scripts: it records uncaught errors and
// Content-Security-Policy violations, which the test requires to stay empty.
const probe = `
window.__e2e = { errors: [], csp: [] };
window.addEventListener('error', (e) => window.__e2e.errors.push(String(e.message)));
window.addEventListener('unhandledrejection', (e) => window.__e2e.errors.push('unhandled rejection: ' + String(e.reason)));
document.addEventListener('securitypolicyviolation', (e) => window.__e2e.csp.push(e.violatedDirective + ' ' + e.blockedURI));
`

func TestE2E(t *testing.T) {
	chromium, err := browser.Path()
	if err != nil {
		t.Fatalf("the end-to-end test needs Chromium: %v", err)
	}
	srv := startServer(t)
	token := srv.login(t)

	// Served through the real server's routes: the page with its security headers.
	res, err := http.Get(srv.url + "/")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, res.Header.Get("Content-Security-Policy"), "default-src 'self'")
	require.Contains(t, res.Header.Get("Content-Type"), "text/html")

	// An integration whose name is HTML: the page must show it as text.
	const htmlName = `<img src=x onerror="window.__pwned=1">Evil <b>Co</b>`
	var created struct {
		CreateIntegration struct{ ID string }
	}
	srv.do(t, token, `mutation($in: CreateIntegrationInput!) { createIntegration(input: $in) { id } }`, map[string]any{
		"in": map[string]any{
			"integrationType": "HOS_ELD", "vendor": "SAMSARA_ELD", "displayName": htmlName,
			"credentials": map[string]any{"apiKey": "e2e-html-name-key"}, "syncIntervalSeconds": 86400,
			"enabled": false, // paused: a new integration is due at once, and this one must stay without syncs
		},
	}, &created)
	htmlID := created.CreateIntegration.ID
	truckbaseID := srv.integrationID(t, token, "Truckbase loads")

	ctx, cancel := browser.Start(context.Background(), browser.Config{ExecPath: chromium, UserDataDir: t.TempDir(), Width: 1280, Height: 900})
	t.Cleanup(cancel)
	ctx, cancelRun := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(cancelRun)
	_, err = chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: probe})
	require.NoError(t, err, "start Chromium at %s", chromium)
	b := &tab{t: t, ctx: ctx}

	t.Log("a wrong password shows an error")
	b.do(chromedp.Navigate(srv.url + "/"))
	b.waitFor(`!document.getElementById('login-view').hidden`, waitShort)
	b.do(
		chromedp.SendKeys(chromedp.CSS("#email"), adminEmail),
		chromedp.SendKeys(chromedp.CSS("#password"), "not-the-password-123"),
		chromedp.Click(chromedp.CSS("#login-submit")),
	)
	b.waitFor(`!document.getElementById('login-error').hidden`, waitShort)
	require.Contains(t, b.text("#login-error"), "Invalid email or password")
	require.True(t, b.eval(`document.getElementById('app-view').hidden && sessionStorage.length === 0`).(bool))

	t.Log("log in")
	b.eval(`document.getElementById('password').value = ''`)
	b.do(
		chromedp.SendKeys(chromedp.CSS("#password"), adminPassword),
		chromedp.Click(chromedp.CSS("#login-submit")),
	)
	b.waitFor(`document.querySelectorAll('#integrations li').length === 5`, waitShort)
	require.Equal(t, adminEmail, b.text("#who"))
	// The token lives in sessionStorage only: not in the URL, not in a cookie.
	session := b.eval(`sessionStorage.getItem('sally.session') || ''`).(string)
	require.Contains(t, session, `"token":"`)
	sessionToken := regexp.MustCompile(`"token":"([^"]+)"`).FindStringSubmatch(session)[1]
	require.NotContains(t, b.eval(`location.href`).(string), sessionToken)
	require.Equal(t, "", b.eval(`document.cookie`))
	// The live subscription is connected (graphql-transport-ws, token in connection_init).
	b.waitFor(`document.getElementById('live').dataset.state === 'live'`, waitShort)

	t.Log("the navigation bar, and a route the router does not know shows the integrations")
	require.Contains(t, b.eval(`[...document.querySelectorAll('#nav a')].map((a) => a.textContent)`), "Integrations")
	b.eval(`location.hash = '#/no-such-page/1'`)
	b.waitFor(`document.querySelector('#nav a[data-path=integrations][aria-current=page]') !== null && document.querySelectorAll('#integrations li').length === 5`, waitShort)
	require.Equal(t, "Integrations · Sally Integrations", b.eval(`document.title`))

	t.Log("an integration named with HTML shows as text")
	require.Equal(t, htmlName, b.eval(fmt.Sprintf(`document.querySelector('a[data-id=%q] .integration-name').textContent`, htmlID)))
	require.Equal(t, true, b.eval(`document.querySelector('#integrations img, #integrations b') === null && window.__pwned === undefined`))

	t.Log("open an integration: stat cards and history")
	b.click(fmt.Sprintf(`a[data-id=%q]`, truckbaseID))
	b.waitFor(`document.getElementById('detail-title').textContent === 'Truckbase loads'`, waitShort)
	require.Contains(t, b.eval(`location.hash`).(string), truckbaseID)
	for _, label := range []string{"Total Syncs", "Success Rate", "Successful", "Failed"} {
		require.Contains(t, b.text(".stats"), label)
	}
	// The demo's first scheduled sync comes about two seconds after the start.
	b.waitFor(`document.querySelectorAll('#history-rows tr[data-status=SUCCESS]').length >= 1 && Number(document.querySelector('[data-stat=total]').textContent) >= 1`, waitLong)
	first := b.eval(`(() => { const tds = document.querySelectorAll('#history-rows tr[data-status=SUCCESS] td'); return [...tds].slice(0, 5).map((td) => td.textContent); })()`).([]any)
	require.Len(t, first, 5)
	require.Contains(t, first[0], "Success")
	require.Contains(t, first[1], "Load sync")
	require.Regexp(t, `ago|just now`, first[2])
	require.Regexp(t, `^\d+(\.\d+)? (ms|s)$`, first[3])
	require.Regexp(t, `^\d[\d,]*$`, first[4])
	require.Regexp(t, `^\d+(\.\d)?%$`, b.text("[data-stat=rate]"))

	t.Log("Sync now adds a row and changes the counts without a reload")
	before := b.counts()
	b.eval(`window.__notReloaded = true`)
	b.click("#sync-now")
	b.waitFor(fmt.Sprintf(`(() => {
		const ids = new Set(%s);
		const added = [...document.querySelectorAll('#history-rows tr[data-status=SUCCESS]')].some((tr) => !ids.has(tr.dataset.id));
		return added && Number(document.querySelector('[data-stat=total]').textContent) > %d
			&& Number(document.querySelector('[data-stat=successful]').textContent) > %d;
	})()`, jsonString(t, before.ids), before.total, before.successful), waitShort)
	b.waitFor(`document.getElementById('action-result').textContent.startsWith('Sync finished')`, waitShort)
	require.Equal(t, true, b.eval(`window.__notReloaded === true`))
	// The result links to that sync in full, and the link names a row the table shows.
	require.Equal(t, true, b.eval(`(() => {
		const a = document.querySelector('#action-result a.result-link');
		if (!a) return false;
		const id = decodeURIComponent(a.getAttribute('href').replace('#/sync-log/', ''));
		return document.querySelector('#history-rows tr[data-id="' + id + '"]') !== null;
	})()`))

	t.Log("a sync started elsewhere arrives live through the subscription")
	before = b.counts()
	var synced struct {
		SyncIntegration struct{ ID, Status string }
	}
	srv.do(t, token, `mutation($id: ID!) { syncIntegration(id: $id) { id status } }`, map[string]any{"id": truckbaseID}, &synced)
	require.Equal(t, "SUCCESS", synced.SyncIntegration.Status)
	b.waitFor(fmt.Sprintf(`document.querySelector('#history-rows tr[data-id=%q][data-status=SUCCESS]') !== null && Number(document.querySelector('[data-stat=total]').textContent) > %d`,
		synced.SyncIntegration.ID, before.total), waitShort)
	require.Equal(t, true, b.eval(`window.__notReloaded === true`))

	t.Log("Test connection")
	b.click("#test-connection")
	b.waitFor(`document.getElementById('action-result').textContent.startsWith('Connection OK')`, waitShort)

	t.Log("a failed sync, and the status filter")
	srv.sandbox(t, http.MethodPut, "/faults/truckbase", `{"status":401}`)
	srv.do(t, token, `mutation($id: ID!) { syncIntegration(id: $id) { id status } }`, map[string]any{"id": truckbaseID}, &synced)
	srv.sandbox(t, http.MethodDelete, "/faults/truckbase", "")
	require.Equal(t, "FAILED", synced.SyncIntegration.Status)
	b.waitFor(fmt.Sprintf(`document.querySelector('#history-rows tr[data-id=%q][data-status=FAILED]') !== null && Number(document.querySelector('[data-stat=failed]').textContent) >= 1`,
		synced.SyncIntegration.ID), waitShort)
	b.selectStatus("FAILED")
	b.waitFor(`(() => { const rows = [...document.querySelectorAll('#history-rows tr')]; return rows.length >= 1 && rows.every((tr) => tr.dataset.status === 'FAILED'); })()`, waitShort)
	b.selectStatus("RUNNING")
	b.waitFor(`document.getElementById('history-state').textContent.includes('No syncs with status Running.')`, waitShort)
	b.selectStatus("")
	b.waitFor(`document.querySelectorAll('#history-rows tr').length >= 4`, waitShort)

	t.Log("paging")
	for range 8 {
		srv.do(t, token, `mutation($id: ID!) { syncIntegration(id: $id) { id } }`, map[string]any{"id": truckbaseID}, nil)
	}
	b.waitFor(`!document.getElementById('next-page').disabled && document.querySelectorAll('#history-rows tr').length === 10`, waitShort)
	firstPage := b.eval(`[...document.querySelectorAll('#history-rows tr')].map((tr) => tr.dataset.id)`).([]any)
	b.click("#next-page")
	b.waitFor(`document.getElementById('page-label').textContent === 'Page 2' && document.querySelectorAll('#history-rows tr').length >= 1`, waitShort)
	secondPage := b.eval(`[...document.querySelectorAll('#history-rows tr')].map((tr) => tr.dataset.id)`).([]any)
	for _, id := range secondPage {
		require.NotContains(t, firstPage, id)
	}
	b.click("#prev-page")
	b.waitFor(`document.getElementById('page-label').textContent === 'Page 1' && document.getElementById('prev-page').disabled`, waitShort)

	t.Log("an error state with Retry")
	_, err = chromedp.Call(ctx, network.Enable, network.EnableParams{})
	require.NoError(t, err)
	_, err = chromedp.Call(ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{
		URLPatterns: []*network.BlockPattern{{URLPattern: srv.url + "/graphql", Block: true}},
	})
	require.NoError(t, err)
	b.selectStatus("SUCCESS")
	b.waitFor(`document.getElementById('history-state').dataset.kind === 'error' && document.querySelector('#history-state button.retry') !== null`, waitShort)
	require.Contains(t, b.text("#history-state"), "Cannot reach the server")
	_, err = chromedp.Call(ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: []*network.BlockPattern{}})
	require.NoError(t, err)
	b.click("#history-state button.retry")
	b.waitFor(`document.getElementById('history-state').hidden && document.querySelectorAll('#history-rows tr[data-status=SUCCESS]').length >= 1`, waitShort)
	b.selectStatus("")

	t.Log("an integration without syncs: the empty state")
	b.click(fmt.Sprintf(`a[data-id=%q]`, htmlID))
	b.waitFor(`document.getElementById('history-state').textContent.includes('No sync history yet.')`, waitShort)
	require.Equal(t, htmlName, b.text("#detail-title"))
	require.Equal(t, "0", b.text("[data-stat=total]"))

	t.Log("phone width: no horizontal scrolling, history rows as cards")
	b.click(fmt.Sprintf(`a[data-id=%q]`, truckbaseID))
	b.waitFor(`document.querySelectorAll('#history-rows tr').length >= 1`, waitShort)
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	b.waitFor(`getComputedStyle(document.querySelector('#history-rows tr')).display === 'block'`, waitShort)
	require.Equal(t, true, b.eval(`document.documentElement.scrollWidth <= window.innerWidth`), "the page scrolls sideways at phone width")
	b.do(chromedp.ResetViewport())

	t.Log("every control has an accessible name")
	unnamed := b.eval(`[...document.querySelectorAll('button, input, select, a[href]')].filter((e) => {
		if (e.closest('[hidden]')) return false;
		const name = e.getAttribute('aria-label') || (e.labels && e.labels.length && e.labels[0].textContent) || e.textContent;
		return !name || !name.trim();
	}).map((e) => e.outerHTML)`).([]any)
	require.Empty(t, unnamed)

	t.Log("log out")
	b.click("#logout")
	b.waitFor(`!document.getElementById('login-view').hidden && sessionStorage.getItem('sally.session') === null`, waitShort)

	require.Equal(t, []any{}, b.eval(`window.__e2e.errors`), "uncaught errors in the page")
	require.Equal(t, []any{}, b.eval(`window.__e2e.csp`), "Content-Security-Policy violations")
}

// tab is the browser tab of a test.
type tab struct {
	t   *testing.T
	ctx context.Context
}

func (b *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, actions...))
}

// click clicks what the selector finds at the moment of the click: the page
// re-renders live (scheduled syncs arrive through the subscription), so a node that
// chromedp looked up a moment earlier may be gone when its click lands.
func (b *tab) click(sel string) {
	b.t.Helper()
	b.waitFor(fmt.Sprintf(`document.querySelector(%q) !== null`, sel), waitShort)
	b.eval(fmt.Sprintf(`(document.querySelector(%q).click(), true)`, sel))
}

func (b *tab) eval(expr string) any {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](expr))
	require.NoError(b.t, err, "evaluate %s", expr)
	return v
}

func (b *tab) text(selector string) string {
	b.t.Helper()
	v := b.eval(fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ''`, selector))
	return strings.TrimSpace(v.(string))
}

// waitFor polls the JavaScript expression until it is true (chromedp.Poll compiles
// its predicate with new Function, which the page's CSP rightly refuses).
func (b *tab) waitFor(expr string, timeout time.Duration) {
	b.t.Helper()
	if assert.EventuallyWithT(b.t, func(c *assert.CollectT) {
		v, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](expr))
		require.NoError(c, err)
		assert.Equal(c, true, v)
	}, timeout, 150*time.Millisecond, "waited %s for %s", timeout, expr) {
		return
	}
	state, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
	b.t.Fatalf("the page shows:\n%s", state)
}

// selectStatus picks a value of the history's status filter, as a user does.
func (b *tab) selectStatus(v string) {
	b.t.Helper()
	b.eval(fmt.Sprintf(`(() => { const s = document.getElementById('status-filter'); s.value = %q; s.dispatchEvent(new Event('change', { bubbles: true })); })()`, v))
}

type counts struct {
	total, successful int
	ids               []string
}

// counts reads the stat cards and the ids of the rows shown.
func (b *tab) counts() counts {
	b.t.Helper()
	v := b.eval(`({
		total: Number(document.querySelector('[data-stat=total]').textContent),
		successful: Number(document.querySelector('[data-stat=successful]').textContent),
		ids: [...document.querySelectorAll('#history-rows tr')].map((tr) => tr.dataset.id),
	})`).(map[string]any)
	c := counts{total: int(v["total"].(float64)), successful: int(v["successful"].(float64))}
	for _, id := range v["ids"].([]any) {
		c.ids = append(c.ids, id.(string))
	}
	return c
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// server is the real server, built from ./server and run in a temp directory.
type server struct {
	url string
}

// configVars are the variables the server reads; the test sets its own and drops
// whatever the environment has of the others.
var configVars = regexp.MustCompile(`^(PORT|DATA_DIR|DATABASE_URL|JWT_SECRET|TOKEN_TTL|CREDENTIALS_KEY|ADMIN_EMAIL|ADMIN_PASSWORD|SANDBOX|DEMO|[A-Z]+_API_URL|SMTP_[A-Z]+|ALERT_FROM_EMAIL|SYNC_LOG_RETENTION_DAYS|RETRY_[A-Z_]+|CIRCUIT_[A-Z_]+|CORS_ALLOWED_ORIGINS|PUBLIC_URL|LOG_LEVEL|LOG_FORMAT)=`)

var listening = regexp.MustCompile(`msg=listening .*url=(\S+)`)

func startServer(t *testing.T) *server {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sally-server")
	build := exec.Command("go", "build", "-o", bin, "./server")
	build.Dir = ".." // the module root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./server:\n%s", out)

	env := []string{}
	for _, kv := range os.Environ() {
		if !configVars.MatchString(kv) {
			env = append(env, kv)
		}
	}
	env = append(env, "PORT=0", "DATA_DIR="+t.TempDir(), "ADMIN_EMAIL="+adminEmail, "ADMIN_PASSWORD="+adminPassword,
		"SANDBOX=true", "DEMO=true", "LOG_FORMAT=text")

	cmd := exec.Command(bin)
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	cmd.Stdout = io.Discard
	require.NoError(t, cmd.Start())

	var logs syncBuffer
	urlc := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			logs.WriteLine(line)
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case urlc <- m[1]:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		exited := make(chan struct{})
		go func() {
			<-done
			_ = cmd.Wait()
			close(exited)
		}()
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})

	var url string
	select {
	case url = <-urlc:
	case <-done:
		t.Fatalf("the server exited before listening:\n%s", logs.String())
	case <-time.After(waitLong):
		t.Fatalf("the server did not log its url within %s:\n%s", waitLong, logs.String())
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		res, err := http.Get(url + "/readyz")
		require.NoError(c, err)
		res.Body.Close()
		assert.Equal(c, http.StatusOK, res.StatusCode)
	}, waitLong, 100*time.Millisecond, "%s/readyz not ready within %s", url, waitLong)
	return &server{url: url}
}

// do sends a GraphQL operation and decodes its data into out (unless nil); it fails
// the test on any error.
func (s *server) do(t *testing.T, token, query string, vars map[string]any, out any) {
	t.Helper()
	_, raw := testkit.PostGraphQL(t, s.url, token, query, vars)
	var r struct {
		Data   json.RawMessage
		Errors []any
	}
	require.NoError(t, json.Unmarshal(raw, &r), "response %s", raw)
	require.Empty(t, r.Errors, "response %s", raw)
	if out != nil {
		require.NoError(t, json.Unmarshal(r.Data, out))
	}
}

func (s *server) login(t *testing.T) string {
	t.Helper()
	var out struct {
		Login struct{ Token string }
	}
	s.do(t, "", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
		map[string]any{"e": adminEmail, "p": adminPassword}, &out)
	return out.Login.Token
}

func (s *server) integrationID(t *testing.T, token, name string) string {
	t.Helper()
	var out struct {
		Integrations []struct{ ID, DisplayName string }
	}
	s.do(t, token, `{ integrations { id displayName } }`, nil, &out)
	for _, i := range out.Integrations {
		if i.DisplayName == name {
			return i.ID
		}
	}
	t.Fatalf("no integration %q in %+v", name, out.Integrations)
	return ""
}

// sandbox calls the vendor sandbox's control API.
func (s *server) sandbox(t *testing.T, method, path, body string) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+"/sandbox/_control"+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Less(t, res.StatusCode, 300, "%s %s", method, path)
}

// syncBuffer collects the server's log lines for a failure message.
type syncBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *syncBuffer) WriteLine(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, s)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}
