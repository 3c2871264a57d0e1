// Command fleetperf measures the Drivers views with a large sandbox fleet: the time
// from an HOS sync's SYNC_SUCCEEDED event to the desktop monitor's Drivers table and
// the web page's Drivers table showing the new values, and the desktop's memory
// while both fleet views stay open over repeated syncs.
//
//	SANDBOX=true DEMO=true ADMIN_PASSWORD=… go run ./server &
//	go run ./cmd/fleetperf -url http://localhost:8080 -password … -drivers 1000 -loads 500 -every 1m -duration 10m
//
// It sets the sandbox fleet (PUT /sandbox/_control/fleet), runs the desktop's real
// model and widgets in this process on Fyne's headless test driver (the widgets are
// built and refreshed as in the app; only the pixels are not drawn on a screen), and
// the web page in headless Chromium (CHROMIUM_PATH or Debian's chromium). Every
// -every it runs a manual sync of the demo's Samsara integration and, for its event
// (SyncEvent.at, the server's clock), waits for
//   - desktop: the Drivers table refreshed from the reloaded list (the model's
//     revision listener, which runs after the table's own);
//   - web: the next re-render of #driver-rows after the event (a MutationObserver).
//
// All on one machine (server, Chromium and this process): the figures include their
// contention, and on a shared machine other work's too.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/test"
	"github.com/chromedp/chromedp"

	"github.com/sallyhq/sally/desktop/model"
	"github.com/sallyhq/sally/desktop/ui"
	"github.com/sallyhq/sally/web/browser"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fleetperf:", err)
		os.Exit(1)
	}
}

type options struct {
	url, email, password string
	drivers, loads       int
	every, duration      time.Duration
	web                  bool
	memprofile           string
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("fleetperf", flag.ContinueOnError)
	fs.StringVar(&o.url, "url", "http://localhost:8080", "the server (with SANDBOX=true and the demo tenant)")
	fs.StringVar(&o.email, "email", "admin@localhost", "log in as")
	fs.StringVar(&o.password, "password", os.Getenv("ADMIN_PASSWORD"), "password (default $ADMIN_PASSWORD)")
	fs.IntVar(&o.drivers, "drivers", 1000, "sandbox fleet: drivers")
	fs.IntVar(&o.loads, "loads", 500, "sandbox fleet: active loads")
	fs.DurationVar(&o.every, "every", time.Minute, "one HOS sync this often")
	fs.DurationVar(&o.duration, "duration", 10*time.Minute, "how long to run")
	fs.StringVar(&o.memprofile, "memprofile", "", "write a heap profile here at the end")
	fs.BoolVar(&o.web, "web", true, "also measure the web page (Chromium's client runs in this process: its memory counts in the heap figures; -web=false measures the desktop alone)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.password == "" {
		return errors.New("-password (or ADMIN_PASSWORD) is required")
	}
	o.url = strings.TrimRight(o.url, "/")

	// The fleet, and one sync of each so that both views have their rows.
	if err := httpDo(ctx, http.MethodPut, o.url+"/sandbox/_control/fleet", "", fmt.Sprintf(`{"drivers":%d,"loads":%d}`, o.drivers, o.loads), nil); err != nil {
		return fmt.Errorf("set the sandbox fleet: %w", err)
	}
	token, err := login(ctx, o)
	if err != nil {
		return err
	}
	ids, err := integrationIDs(ctx, o.url, token)
	if err != nil {
		return err
	}
	samsara, truckbase := ids["Samsara ELD"], ids["Truckbase loads"]
	if samsara == "" || truckbase == "" {
		return fmt.Errorf("the demo's Samsara ELD and Truckbase loads integrations are needed; found %v", ids)
	}
	for _, id := range []string{truckbase, samsara} {
		if err := syncNow(ctx, o.url, token, id); err != nil {
			return err
		}
	}

	// The desktop: the real model and widgets on Fyne's headless driver.
	loop := newLoop()
	defer loop.stop()
	test.NewApp()
	m := model.New(model.Options{Do: loop.Do, Notify: func(*fyne.Notification) {}})
	defer m.Close()
	var u *ui.UI
	var win fyne.Window
	loop.Wait(func() {
		win = test.NewWindow(nil)
		u = ui.New(m, win)
		win.Resize(fyne.NewSize(1280, 820))
	})
	var mu sync.Mutex
	var revs []time.Time
	loop.Wait(func() {
		m.Fleet.DriversRev.AddListener(binding.NewDataListener(func() {
			mu.Lock()
			revs = append(revs, time.Now())
			mu.Unlock()
		}))
	})
	_ = m.ServerURL.Set(o.url)
	_ = m.Email.Set(o.email)
	_ = m.Password.Set(o.password)
	m.Login()
	if err := waitUntil(ctx, 2*time.Minute, "the desktop's drivers and loads", func() bool {
		n, _ := m.Fleet.DriverCount.Get()
		return n == o.drivers && m.Fleet.Loads.Length() == o.loads
	}); err != nil {
		return err
	}
	loop.Wait(func() { u.Tabs.SelectIndex(1) })

	// The web page: log in, open #/drivers, watch #driver-rows.
	var tab context.Context
	if o.web {
		var closeBrowser func()
		var err error
		if tab, closeBrowser, err = openWeb(ctx, o); err != nil {
			return err
		}
		defer closeBrowser()
	}

	fmt.Fprintf(out, "fleet: %d drivers, %d loads; one HOS sync every %s for %s\n", o.drivers, o.loads, o.every, o.duration)
	fmt.Fprintf(out, "%-4s %-12s %-14s %-12s %-14s %-12s %-10s %s\n", "sync", "sync took", "desktop shown", "web shown", "rows changed", "heap inuse", "goroutines", "rss")
	var deskLat, webLat []time.Duration
	var heaps []uint64
	deadline := time.Now().Add(o.duration)
	prev := snapshot(m)
	for i := 1; time.Now().Before(deadline) || i == 1; i++ {
		start := time.Now()
		if err := syncNow(ctx, o.url, token, samsara); err != nil {
			return err
		}
		took := time.Since(start)
		at, err := eventAt(ctx, m, start)
		if err != nil {
			return err
		}
		var desk time.Time
		if err := waitUntil(ctx, time.Minute, "the desktop table", func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, t := range revs {
				if t.After(at) {
					desk = t
					return true
				}
			}
			return false
		}); err != nil {
			return err
		}
		webAt := at
		if tab != nil {
			var web float64
			if err := jsWaitValue(tab, time.Minute, fmt.Sprintf(`(window.__renders.find((t) => t > %d) || 0)`, at.UnixMilli()), &web); err != nil {
				return fmt.Errorf("the web table: %w", err)
			}
			webAt = time.UnixMilli(int64(web))
		}
		cur := snapshot(m)
		changed := countChanged(prev, cur)
		prev = cur
		deskLat = append(deskLat, desk.Sub(at))
		webLat = append(webLat, webAt.Sub(at))
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		heaps = append(heaps, ms.HeapInuse)
		fmt.Fprintf(out, "%-4d %-12s %-14s %-12s %-14d %-12s %-10d %s\n", i, took.Round(time.Millisecond), desk.Sub(at).Round(time.Millisecond),
			webAt.Sub(at).Round(time.Millisecond), changed, mib(ms.HeapInuse), runtime.NumGoroutine(), rss())
		mu.Lock()
		revs = revs[:0]
		mu.Unlock()
		if tab != nil {
			if _, err := chromedp.Run(tab, chromedp.Evaluate[any](`window.__renders.length = 0`)); err != nil {
				return err
			}
		}
		next := start.Add(o.every)
		if !time.Now().Before(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(next)):
		}
	}
	fmt.Fprintf(out, "event → desktop table: p50 %s, max %s (n=%d)\n", pct(deskLat, 50), pct(deskLat, 100), len(deskLat))
	if tab != nil {
		fmt.Fprintf(out, "event → web table:     p50 %s, max %s (n=%d)\n", pct(webLat, 50), pct(webLat, 100), len(webLat))
	}
	fmt.Fprintf(out, "desktop heap in use after GC: first %s, last %s, max %s\n", mib(heaps[0]), mib(heaps[len(heaps)-1]), mib(slices.Max(heaps)))
	if o.memprofile != "" {
		f, err := os.Create(o.memprofile)
		if err != nil {
			return err
		}
		runtime.GC()
		if err := pprof.WriteHeapProfile(f); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	loop.Wait(func() { win.Close() })
	return nil
}

// snapshot is the drivers' shown values by id.
func snapshot(m *model.Model) map[string]model.DriverRow {
	rows, _ := m.Fleet.Drivers.Get()
	out := make(map[string]model.DriverRow, len(rows))
	for _, r := range rows {
		out[r.ID] = r
	}
	return out
}

func countChanged(a, b map[string]model.DriverRow) int {
	n := 0
	for id, r := range b {
		if o, ok := a[id]; !ok || o.Drive != r.Drive || o.Shift != r.Shift || o.Cycle != r.Cycle || o.Break != r.Break || o.Duty != r.Duty {
			n++
		}
	}
	return n
}

// eventAt waits for the desktop's feed to show the Samsara sync that succeeded after
// start, and returns its time (SyncEvent.at).
func eventAt(ctx context.Context, m *model.Model, start time.Time) (time.Time, error) {
	var at time.Time
	err := waitUntil(ctx, time.Minute, "the SYNC_SUCCEEDED event", func() bool {
		feed, _ := m.Events.Get()
		for _, e := range feed {
			if e.Type == "SYNC_SUCCEEDED" && e.Vendor == "SAMSARA_ELD" && e.At.After(start.Add(-time.Second)) {
				at = e.At
				return true
			}
		}
		return false
	})
	return at, err
}

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(0, min(len(s)-1, i-1))].Round(time.Millisecond)
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// rss is this process's resident set from /proc (Linux), "" elsewhere.
func rss() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			return strings.Join(strings.Fields(strings.TrimPrefix(line, "VmRSS:")), " ")
		}
	}
	return ""
}

func waitUntil(ctx context.Context, limit time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("waited %s for %s", limit, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

func jsWait(tab context.Context, limit time.Duration, expr string) error {
	var ok float64
	return jsWaitValue(tab, limit, `(`+expr+`) ? 1 : 0`, &ok)
}

// jsWaitValue polls expr until it is truthy and stores it in v.
func jsWaitValue[T any](tab context.Context, limit time.Duration, expr string, v *T) error {
	deadline := time.Now().Add(limit)
	for {
		if raw, err := chromedp.Run(tab, chromedp.Evaluate[any](expr)); err == nil {
			if f, ok := raw.(float64); ok && f != 0 {
				b, _ := json.Marshal(raw)
				_ = json.Unmarshal(b, v)
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waited %s for %s", limit, expr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ---- the server's API over HTTP -------------------------------------------------------

func httpDo(ctx context.Context, method, url, token, body string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, url, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func gql(ctx context.Context, url, token, query string, vars map[string]any, data any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	var resp struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := httpDo(ctx, http.MethodPost, url+"/graphql", token, string(body), &resp); err != nil {
		return err
	}
	if len(resp.Errors) > 0 {
		return fmt.Errorf("graphql: %s", resp.Errors[0].Message)
	}
	return json.Unmarshal(resp.Data, data)
}

func login(ctx context.Context, o options) (string, error) {
	var out struct{ Login struct{ Token string } }
	err := gql(ctx, o.url, "", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
		map[string]any{"e": o.email, "p": o.password}, &out)
	return out.Login.Token, err
}

func integrationIDs(ctx context.Context, url, token string) (map[string]string, error) {
	var out struct {
		Integrations []struct{ ID, DisplayName string }
	}
	if err := gql(ctx, url, token, `{ integrations { id displayName } }`, nil, &out); err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, in := range out.Integrations {
		m[in.DisplayName] = in.ID
	}
	return m, nil
}

func syncNow(ctx context.Context, url, token, id string) error {
	var out struct {
		SyncIntegration struct{ Status, Error string }
	}
	if err := gql(ctx, url, token, `mutation($id: ID!) { syncIntegration(id: $id) { status error } }`, map[string]any{"id": id}, &out); err != nil {
		return err
	}
	if out.SyncIntegration.Status != "SUCCESS" {
		return fmt.Errorf("sync %s: %s %s", id, out.SyncIntegration.Status, out.SyncIntegration.Error)
	}
	return nil
}

// ---- the UI goroutine ------------------------------------------------------------------

// loop plays Fyne's UI goroutine: the model's changes and the widget work run on it,
// one at a time, as in the app.
type loop struct {
	fns  chan func()
	done chan struct{}
}

func newLoop() *loop {
	l := &loop{fns: make(chan func(), 1024), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for fn := range l.fns {
			fn()
		}
	}()
	return l
}

func (l *loop) Do(fn func()) {
	defer func() { _ = recover() }() // after stop
	l.fns <- fn
}

func (l *loop) Wait(fn func()) {
	ran := make(chan struct{})
	l.Do(func() { defer close(ran); fn() })
	<-ran
}

func (l *loop) stop() {
	close(l.fns)
	<-l.done
}

// openWeb logs in to the web page in headless Chromium, opens #/drivers with every
// driver shown, and records each re-render of its rows in window.__renders.
func openWeb(ctx context.Context, o options) (context.Context, func(), error) {
	chromium, err := browser.Path()
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "fleetperf-")
	if err != nil {
		return nil, nil, err
	}
	tab, closeBrowser := browser.Start(ctx, browser.Config{ExecPath: chromium, UserDataDir: dir, Width: 1400, Height: 900})
	done := func() {
		closeBrowser()
		_ = os.RemoveAll(dir)
	}
	fail := func(err error) (context.Context, func(), error) {
		done()
		return nil, nil, err
	}
	if err := chromedp.Do(tab,
		chromedp.Navigate(o.url+"/"),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("#email"), o.email),
		chromedp.SendKeys(chromedp.CSS("#password"), o.password),
		chromedp.Click(chromedp.CSS("#login-submit")),
	); err != nil {
		return fail(fmt.Errorf("web login: %w", err))
	}
	if err := jsWait(tab, 2*time.Minute, `document.getElementById('live').dataset.state === 'live'`); err != nil {
		return fail(err)
	}
	if _, err := chromedp.Run(tab, chromedp.Evaluate[any](`location.hash = '#/drivers'`)); err != nil {
		return fail(err)
	}
	if err := jsWait(tab, 2*time.Minute, fmt.Sprintf(`document.querySelectorAll('#driver-rows tr').length === %d`, o.drivers)); err != nil {
		return fail(err)
	}
	if _, err := chromedp.Run(tab, chromedp.Evaluate[any](`(() => {
		window.__renders = [];
		new MutationObserver(() => window.__renders.push(Date.now())).observe(document.getElementById('driver-rows'), { childList: true });
		return true;
	})()`)); err != nil {
		return fail(err)
	}

	return tab, done, nil
}
