// Package truckbase is the adapter for Truckbase, the TMS vendor: its active loads.
// Truckbase publishes no API documentation; the wire format is the product's adapter
// design in the repository's vendors.md, read leniently (alternative field names,
// three list envelopes) so that it can drift without breaking syncs.
package truckbase

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sallyhq/sally/vendors"
)

// Vendor is the name this adapter puts in every vendors.Error.
const Vendor = "truckbase"

// DefaultBaseURL is Truckbase's API.
const DefaultBaseURL = "https://api.truckbase.io/v1"

// Config configures a Client.
type Config struct {
	BaseURL    string        // "" = DefaultBaseURL
	APIKey     string        // sent as X-API-Key
	APISecret  string        // sent as X-API-Secret (omitted when empty)
	HTTPClient *http.Client  // nil = vendors.SharedHTTPClient()
	Timeout    time.Duration // per request; 0 = vendors.DefaultTimeout
	// Do, if set, wraps every single HTTP request — this is where the resilience
	// policies go. Nil runs each request directly.
	Do func(ctx context.Context, call func(ctx context.Context) error) error
}

// Client reads loads from Truckbase. It is safe for concurrent use.
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
	header := http.Header{"X-Api-Key": {cfg.APIKey}}
	if cfg.APISecret != "" {
		header.Set("X-Api-Secret", cfg.APISecret)
	}
	return &Client{
		base: base,
		key:  cfg.APIKey,
		req: &vendors.Requester{
			Vendor:  Vendor,
			Client:  cfg.HTTPClient,
			Timeout: cfg.Timeout,
			Header:  header,
			Secrets: []string{cfg.APIKey, cfg.APISecret},
			Do:      cfg.Do,
		},
	}
}

// TestConnection checks the credentials with one request: the active loads.
func (c *Client) TestConnection(ctx context.Context) error {
	_, err := c.ActiveLoads(ctx)
	return err
}

// ActiveLoads returns the active loads, in Truckbase's order. A load without an id
// is skipped: nothing could update or link it. Truckbase's list is not paginated.
func (c *Client) ActiveLoads(ctx context.Context) ([]vendors.Load, error) {
	if err := c.checkKey(); err != nil {
		return nil, err
	}
	var out []vendors.Load
	err := c.req.Get(vendors.WithCall(ctx, "loads"), c.base+"/loads?status=active", func(body []byte) error {
		var err error
		out, err = decodeLoads(body)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Load returns one load; an unknown id is KindNotFound (Truckbase's 404), and an
// answer without a load id is KindBadResponse.
func (c *Client) Load(ctx context.Context, id string) (vendors.Load, error) {
	if strings.TrimSpace(id) == "" {
		return vendors.Load{}, vendors.BadRequest(Vendor, "load id is empty")
	}
	if err := c.checkKey(); err != nil {
		return vendors.Load{}, err
	}
	var out vendors.Load
	err := c.req.Get(ctx, c.base+"/loads/"+url.PathEscape(id), func(body []byte) error {
		var err error
		out, err = decodeLoad(body)
		return err
	})
	if err != nil {
		return vendors.Load{}, err
	}
	return out, nil
}

func (c *Client) checkKey() error {
	if strings.TrimSpace(c.key) == "" {
		return &vendors.Error{Kind: vendors.KindUnauthorized, Vendor: Vendor, Message: "no API key configured"}
	}
	return nil
}
