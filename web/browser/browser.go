// Package browser starts headless Chromium for the web UI's end-to-end test and its
// screenshot program (cmd/webshot), with the flags the project's machines need: no
// sandbox (they run as root), no GPU, and no background traffic to Google's hosts,
// which a closed network refuses.
//
// It is the Chromium of Debian's "chromium" package at /usr/bin/chromium, or the
// program named by CHROMIUM_PATH. Only tests and cmd/webshot import this package; the
// server does not.
package browser

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/chromedp/chromedp"
)

// DefaultPath is where Debian's chromium package installs the browser.
const DefaultPath = "/usr/bin/chromium"

// ErrNotFound says that there is no Chromium to run.
var ErrNotFound = errors.New("chromium not found: install Debian's chromium package (apt-get install -y chromium; scripts/test.sh does) or set CHROMIUM_PATH")

// Path returns the browser to run: CHROMIUM_PATH when set, else DefaultPath. It
// returns an error wrapping ErrNotFound when that is not an executable file.
func Path() (string, error) {
	p := os.Getenv("CHROMIUM_PATH")
	if p == "" {
		p = DefaultPath
	}
	fi, err := os.Stat(p)
	if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%w (looked for %s)", ErrNotFound, p)
	}
	return p, nil
}

// Config is one browser to start.
type Config struct {
	ExecPath    string // from Path
	UserDataDir string // a fresh, empty directory
	Width       int    // window size in CSS pixels; 0 = 1280x900
	Height      int
	// Output, when set, receives the browser's own stdout and stderr.
	Output io.Writer
}

// Options are the exec allocator options for c: headless and the flags the machine
// needs, after chromedp's defaults.
func Options(c Config) []chromedp.ExecAllocatorOption {
	w, h := c.Width, c.Height
	if w == 0 || h == 0 {
		w, h = 1280, 900
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(c.ExecPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(c.UserDataDir),
		chromedp.WindowSize(w, h),
	)
	if c.Output != nil {
		opts = append(opts, chromedp.CombinedOutput(c.Output))
	}
	return opts
}

// Start starts the browser and opens one tab: run actions with the returned context;
// cancel closes the browser and waits for it to exit.
func Start(ctx context.Context, c Config) (context.Context, context.CancelFunc) {
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, Options(c)...)
	tab, cancelTab := chromedp.NewContext(actx)
	return tab, func() {
		cancelTab()
		cancelAlloc()
	}
}
