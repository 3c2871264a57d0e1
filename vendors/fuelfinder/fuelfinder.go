// Package fuelfinder is the adapter for Fuel Finder, the fuel-price vendor: stations
// near a point. Fuel Finder publishes no API documentation; the wire format is the
// product's adapter design in the repository's vendors.md, read leniently.
package fuelfinder

import (
	"context"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sallyhq/sally/vendors"
)

// Vendor is the name this adapter puts in every vendors.Error.
const Vendor = "fuelfinder"

// Named defaults and limits.
const (
	// DefaultBaseURL is Fuel Finder's API.
	DefaultBaseURL = "https://api.fuelfinder.com/v1"
	// MaxLimit is the most stations one call may ask for.
	MaxLimit = 50
	// MaxRadiusMiles is the widest search radius accepted.
	MaxRadiusMiles = 250.0
)

// testPoint is where TestConnection looks: the geographic centre of the contiguous
// United States, near Lebanon, Kansas.
const testLat, testLon = 39.8283, -98.5795

// Config configures a Client.
type Config struct {
	BaseURL    string        // "" = DefaultBaseURL
	APIKey     string        // sent as X-API-Key
	HTTPClient *http.Client  // nil = vendors.SharedHTTPClient()
	Timeout    time.Duration // per request; 0 = vendors.DefaultTimeout
	// Do, if set, wraps every single HTTP request — this is where the resilience
	// policies go. Nil runs each request directly.
	Do func(ctx context.Context, call func(ctx context.Context) error) error
}

// Client finds fuel stations. It is safe for concurrent use.
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
			Header:  http.Header{"X-Api-Key": {cfg.APIKey}},
			Secrets: []string{cfg.APIKey},
			Do:      cfg.Do,
		},
	}
}

// TestConnection checks the key with one request for a single station.
func (c *Client) TestConnection(ctx context.Context) error {
	_, err := c.Stations(ctx, testLat, testLon, 1, 1)
	return err
}

// Stations returns up to limit stations within radiusMiles of (lat, lon), in Fuel
// Finder's order (nearest first). Input outside lat −90..90, lon −180..180,
// 0 < radiusMiles ≤ MaxRadiusMiles or 1 ≤ limit ≤ MaxLimit is KindBadRequest without
// a call. A station without an id or coordinates is skipped: it could not be shown
// on a map or told apart from the others.
func (c *Client) Stations(ctx context.Context, lat, lon, radiusMiles float64, limit int) ([]vendors.FuelStation, error) {
	switch {
	case !(lat >= -90 && lat <= 90):
		return nil, vendors.BadRequest(Vendor, "latitude must be between -90 and 90")
	case !(lon >= -180 && lon <= 180):
		return nil, vendors.BadRequest(Vendor, "longitude must be between -180 and 180")
	case !(radiusMiles > 0 && radiusMiles <= MaxRadiusMiles) || math.IsNaN(radiusMiles):
		return nil, vendors.BadRequest(Vendor, "radius must be more than 0 and at most "+strconv.FormatFloat(MaxRadiusMiles, 'f', -1, 64)+" miles")
	case limit < 1 || limit > MaxLimit:
		return nil, vendors.BadRequest(Vendor, "limit must be between 1 and "+strconv.Itoa(MaxLimit))
	}
	if strings.TrimSpace(c.key) == "" {
		return nil, &vendors.Error{Kind: vendors.KindUnauthorized, Vendor: Vendor, Message: "no API key configured"}
	}
	q := url.Values{
		"lat":    {formatFloat(lat)},
		"lon":    {formatFloat(lon)},
		"radius": {formatFloat(radiusMiles)},
		"limit":  {strconv.Itoa(limit)},
	}
	var out []vendors.FuelStation
	err := c.req.Get(ctx, c.base+"/stations?"+q.Encode(), func(body []byte) error {
		var err error
		out, err = decodeStations(body)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
