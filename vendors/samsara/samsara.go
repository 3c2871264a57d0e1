// Package samsara is the adapter for Samsara, the HOS/ELD vendor: its drivers and
// their hours-of-service clocks, read over Samsara's REST API as documented at
// developers.samsara.com (see the repository's vendors.md).
package samsara

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sallyhq/sally/vendors"
)

// Vendor is the name this adapter puts in every vendors.Error.
const Vendor = "samsara"

// Named defaults.
const (
	// DefaultBaseURL is Samsara's US API; the EU one is https://api.eu.samsara.com.
	DefaultBaseURL = "https://api.samsara.com"
	// PageLimit is the page size asked of every list, Samsara's maximum.
	PageLimit = 512
	// BatchSize is how many driver ids one clocks request names, keeping its URL a
	// few kilobytes long at most.
	BatchSize = 100
	// Concurrency bounds the clocks batches requested at once.
	Concurrency = 4
	// MaxPages stops a listing that never ends (a vendor bug) with KindBadResponse.
	MaxPages = 10000
)

// Config configures a Client.
type Config struct {
	BaseURL    string        // "" = DefaultBaseURL
	APIKey     string        // the API token, sent as a Bearer token
	HTTPClient *http.Client  // nil = vendors.SharedHTTPClient()
	Timeout    time.Duration // per request; 0 = vendors.DefaultTimeout
	// Do, if set, wraps every single HTTP request (each page) — this is where the
	// resilience policies go. Nil runs each request directly.
	Do func(ctx context.Context, call func(ctx context.Context) error) error
}

// Client reads drivers and HOS clocks from Samsara. It is safe for concurrent use.
type Client struct {
	base string
	key  string
	req  *vendors.Requester
}

// New returns a Client for cfg.
func New(cfg Config) *Client {
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	return &Client{
		base: base,
		key:  cfg.APIKey,
		req: &vendors.Requester{
			Vendor:  Vendor,
			Client:  cfg.HTTPClient,
			Timeout: cfg.Timeout,
			Header:  http.Header{"Authorization": {"Bearer " + cfg.APIKey}},
			Secrets: []string{cfg.APIKey},
			Do:      cfg.Do,
		},
	}
}

// TestConnection checks the token with one cheap request (one driver).
func (c *Client) TestConnection(ctx context.Context) error {
	if err := c.checkKey(); err != nil {
		return err
	}
	q := url.Values{"limit": {"1"}}
	return c.req.Get(ctx, c.base+"/fleet/drivers?"+q.Encode(), func(body []byte) error {
		_, _, err := decodeDriversPage(body)
		return err
	})
}

// Drivers returns every active driver, following Samsara's pagination to the end.
// Drivers without an id are skipped (nothing could link to them), and a driver listed
// twice is returned once.
func (c *Client) Drivers(ctx context.Context) ([]vendors.Driver, error) {
	if err := c.checkKey(); err != nil {
		return nil, err
	}
	q := url.Values{"limit": {strconv.Itoa(PageLimit)}, "driverActivationStatus": {"active"}}
	var out []vendors.Driver
	seen := make(map[string]bool)
	err := c.paginate(ctx, "/fleet/drivers", q.Encode(), func(body []byte) (page, error) {
		drivers, p, err := decodeDriversPage(body)
		if err != nil {
			return p, err
		}
		for _, d := range drivers {
			if !seen[d.ID] {
				seen[d.ID] = true
				out = append(out, d)
			}
		}
		return p, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// HOSClocks returns the current HOS clocks of the drivers with driverIDs, or of every
// driver when driverIDs is empty. Ids are requested in batches of BatchSize, up to
// Concurrency batches at once; the result keeps the order of the batches (the order
// of driverIDs, duplicates and empty ids dropped) and, within one, Samsara's order.
// Drivers Samsara does not know are simply absent. The first failing request fails
// the whole call and stops the other batches.
func (c *Client) HOSClocks(ctx context.Context, driverIDs []string) ([]vendors.HOS, error) {
	if err := c.checkKey(); err != nil {
		return nil, err
	}
	ids := uniqueIDs(driverIDs)
	if len(ids) == 0 {
		return c.clocks(ctx, "")
	}
	var batches [][]string
	for len(ids) > 0 {
		n := min(BatchSize, len(ids))
		batches = append(batches, ids[:n])
		ids = ids[n:]
	}
	if len(batches) == 1 {
		return c.clocks(ctx, joinIDs(batches[0]))
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([][]vendors.HOS, len(batches))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	sem := make(chan struct{}, Concurrency)
	for i, batch := range batches {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			hos, err := c.clocks(vendors.WithCall(ctx, "clocks batch "+strconv.Itoa(i+1)+" of "+strconv.Itoa(len(batches))), joinIDs(batch))
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				cancel()
				return
			}
			results[i] = hos
		}()
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		// The caller gave up before every batch started.
		firstErr = &vendors.Error{Kind: canceledKind(ctx), Vendor: Vendor, Err: ctx.Err()}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	var out []vendors.HOS
	for _, r := range results {
		out = append(out, r...)
	}
	return out, nil
}

// HOS returns one driver's clocks; a driver Samsara does not return is KindNotFound.
func (c *Client) HOS(ctx context.Context, driverID string) (vendors.HOS, error) {
	if strings.TrimSpace(driverID) == "" {
		return vendors.HOS{}, vendors.BadRequest(Vendor, "driver id is empty")
	}
	all, err := c.HOSClocks(ctx, []string{driverID})
	if err != nil {
		return vendors.HOS{}, err
	}
	for _, h := range all {
		if h.DriverID == driverID {
			return h, nil
		}
	}
	return vendors.HOS{}, &vendors.Error{Kind: vendors.KindNotFound, Vendor: Vendor, Message: "no HOS clocks for the driver"}
}

// clocks lists the clocks of the drivers in csv (already escaped), or of all drivers.
func (c *Client) clocks(ctx context.Context, csv string) ([]vendors.HOS, error) {
	query := "limit=" + strconv.Itoa(PageLimit)
	if csv != "" {
		query = "driverIds=" + csv + "&" + query
	}
	var out []vendors.HOS
	err := c.paginate(ctx, "/fleet/hos/clocks", query, func(body []byte) (page, error) {
		hos, p, err := decodeClocksPage(body)
		if err != nil {
			return p, err
		}
		out = append(out, hos...)
		return p, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// paginate requests path?query, then follows after=<endCursor> while hasNextPage,
// handing each body to decode. Each page is one call through the Do hook.
func (c *Client) paginate(ctx context.Context, path, query string, decode func([]byte) (page, error)) error {
	seen := make(map[string]bool)
	cursor := ""
	// Each page is named for SyncLog.tries: "drivers page 2", or the batch's name
	// with the page after the first ("clocks batch 3 of 10, page 2").
	label := vendors.CallFrom(ctx)
	pageName := func(n int) string {
		switch {
		case label == "":
			return strings.TrimPrefix(strings.TrimPrefix(path, "/fleet/"), "hos/") + " page " + strconv.Itoa(n)
		case n == 1:
			return label
		}
		return label + ", page " + strconv.Itoa(n)
	}
	for pages := 0; ; pages++ {
		if pages >= MaxPages {
			return vendors.BadResponse(Vendor, "pagination did not end after "+strconv.Itoa(MaxPages)+" pages")
		}
		u := c.base + path + "?" + query
		if cursor != "" {
			u += "&after=" + url.QueryEscape(cursor)
		}
		var p page
		err := c.req.Get(vendors.WithCall(ctx, pageName(pages+1)), u, func(body []byte) error {
			var err error
			p, err = decode(body)
			return err
		})
		if err != nil {
			return err
		}
		if !p.HasNextPage {
			return nil
		}
		if p.EndCursor == "" {
			return vendors.BadResponse(Vendor, "pagination: hasNextPage without an endCursor")
		}
		if seen[p.EndCursor] {
			return vendors.BadResponse(Vendor, "pagination: the same endCursor came twice")
		}
		seen[p.EndCursor] = true
		cursor = p.EndCursor
	}
}

func (c *Client) checkKey() error {
	if strings.TrimSpace(c.key) == "" {
		return &vendors.Error{Kind: vendors.KindUnauthorized, Vendor: Vendor, Message: "no API token configured"}
	}
	return nil
}

func uniqueIDs(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	var out []string
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, id)
	}
	return out
}

// joinIDs escapes each id and joins them with literal commas, as Samsara expects.
func joinIDs(ids []string) string {
	esc := make([]string, len(ids))
	for i, id := range ids {
		esc[i] = url.QueryEscape(id)
	}
	return strings.Join(esc, ",")
}

func canceledKind(ctx context.Context) vendors.Kind {
	if ctx.Err() == context.DeadlineExceeded {
		return vendors.KindTimeout
	}
	return vendors.KindCanceled
}
