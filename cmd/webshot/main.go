// Command webshot takes a screenshot of the web UI of a running server with
// headless Chromium, as docs/web.png was made: it logs in through the page, opens an
// integration, optionally presses "Sync now" a few times, and saves the page as PNG.
//
//	go run ./server &   # ADMIN_PASSWORD=… for a known password
//	go run ./cmd/webshot -url http://localhost:8080 -password … -out docs/web.png
//
// It needs Debian's chromium package (or CHROMIUM_PATH).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sallyhq/sally/web/browser"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "webshot:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("webshot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://localhost:8080", "the server's base URL")
	email := fs.String("email", "admin@localhost", "log in as")
	password := fs.String("password", os.Getenv("ADMIN_PASSWORD"), "password (default $ADMIN_PASSWORD)")
	name := fs.String("integration", "Truckbase loads", "display name of the integration to open")
	view := fs.String("view", "integrations", "the view to show: integrations, drivers or loads")
	selectID := fs.String("select", "", "drivers or loads view: the driver or load to open (#/<view>/<id>)")
	syncs := fs.Int("syncs", 0, `press "Sync now" this many times before the screenshot`)
	width := fs.Int("width", 1280, "window width in CSS pixels")
	height := fs.Int("height", 900, "window height in CSS pixels")
	full := fs.Bool("full", false, "capture the whole page, not only the window")
	out := fs.String("out", "docs/web.png", "PNG file to write")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *password == "" {
		return errors.New("-password (or ADMIN_PASSWORD) is required")
	}
	chromium, err := browser.Path()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "webshot-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	tab, closeBrowser := browser.Start(ctx, browser.Config{ExecPath: chromium, UserDataDir: dir, Width: *width, Height: *height})
	defer closeBrowser()

	step := func(what string, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	if err := step("open the page", chromedp.Do(tab,
		chromedp.EmulateViewport(int64(*width), int64(*height)),
		chromedp.Navigate(*url+"/"),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("#email"), *email),
		chromedp.SendKeys(chromedp.CSS("#password"), *password),
		chromedp.Click(chromedp.CSS("#login-submit")),
	)); err != nil {
		return err
	}
	if err := step("log in", waitFor(tab, `document.querySelectorAll('#integrations li').length > 0 || !document.getElementById('login-error').hidden`)); err != nil {
		return err
	}
	if msg, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById('login-error').hidden ? '' : document.getElementById('login-error').textContent`)); msg != "" {
		return fmt.Errorf("log in: %s", msg)
	}
	if *view != "integrations" {
		return fleetShot(tab, stdout, *view, *selectID, *width, *height, *full, *out)
	}
	open := fmt.Sprintf(`(() => {
		const a = [...document.querySelectorAll('#integrations a')].find((a) => a.querySelector('.integration-name').textContent === %s);
		if (a) a.click();
		return !!a;
	})()`, strconv.Quote(*name))
	if found, err := chromedp.Run(tab, chromedp.Evaluate[bool](open)); err != nil || !found {
		return fmt.Errorf("no integration named %q (%v)", *name, err)
	}
	if err := step("load the history", waitFor(tab, `document.getElementById('history-state').hidden && document.querySelectorAll('#history-rows tr').length > 0`)); err != nil {
		return err
	}
	for i := range *syncs {
		if err := step("sync now", chromedp.Do(tab, chromedp.Click(chromedp.CSS("#sync-now")))); err != nil {
			return err
		}
		if err := step("sync now", waitFor(tab, `!document.getElementById('sync-now').disabled && !document.getElementById('action-result').textContent.endsWith('…')`)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "sync %d of %d done\n", i+1, *syncs)
	}
	if *width <= 800 && !*full {
		// One column: show the integration, not the list above it.
		if _, err := chromedp.Run(tab, chromedp.Evaluate[any](`document.getElementById('detail-body').scrollIntoView()`)); err != nil {
			return step("scroll", err)
		}
	}
	// Let the live rows' highlight fade and the stats settle.
	if err := chromedp.Do(tab, chromedp.Sleep(3500*time.Millisecond)); err != nil {
		return err
	}
	shot := chromedp.CaptureScreenshot()
	if *full {
		shot = chromedp.FullScreenshot(100)
	}
	png, err := chromedp.Run(tab, shot)
	if err != nil {
		return step("screenshot", err)
	}
	if err := os.WriteFile(*out, png, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d bytes)\n", *out, len(png))
	return nil
}

// waitFor polls a JavaScript expression until it is true or the context ends.
func waitFor(ctx context.Context, expr string) error {
	for {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && v {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last error: %v)", expr, ctx.Err(), err)
		case <-time.After(150 * time.Millisecond):
		}
	}
}

// fleetShot shows the drivers or loads view (with one driver or load open) and saves
// it.
func fleetShot(tab context.Context, stdout io.Writer, view, id string, width, height int, full bool, out string) error {
	hash := "#/" + view
	if id != "" {
		hash += "/" + id
	}
	if _, err := chromedp.Run(tab, chromedp.Evaluate[any](fmt.Sprintf(`location.hash = %s`, strconv.Quote(hash)))); err != nil {
		return err
	}
	ready := `document.querySelectorAll('#driver-rows tr').length > 0`
	if view == "loads" {
		ready = `document.querySelectorAll('#load-rows tr').length > 0`
		if id != "" {
			ready += ` && [...document.querySelectorAll('.surrounding-body')].every((b) => !b.hidden && b.dataset.kind !== 'loading')`
		}
	}
	if err := waitFor(tab, ready); err != nil {
		return fmt.Errorf("show %s: %w", view, err)
	}
	if err := chromedp.Do(tab, chromedp.EmulateViewport(int64(width), int64(height)), chromedp.Sleep(1500*time.Millisecond)); err != nil {
		return err
	}
	shot := chromedp.CaptureScreenshot()
	if full {
		shot = chromedp.FullScreenshot(100)
	}
	png, err := chromedp.Run(tab, shot)
	if err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d bytes)\n", out, len(png))
	return nil
}
