// Package openweather is the adapter for OpenWeather, the weather vendor: the current
// weather at a point, from its documented current-weather API
// (openweathermap.org/current). The API key travels in the URL as appid, so no URL
// of this package ever reaches an error message.
package openweather

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sallyhq/sally/vendors"
)

// Vendor is the name this adapter puts in every vendors.Error.
const Vendor = "openweather"

// DefaultBaseURL is OpenWeather's API.
const DefaultBaseURL = "https://api.openweathermap.org/data/2.5"

// testPoint is where TestConnection looks: the geographic centre of the contiguous
// United States, near Lebanon, Kansas.
const testLat, testLon = 39.8283, -98.5795

// Config configures a Client.
type Config struct {
	BaseURL    string        // "" = DefaultBaseURL
	APIKey     string        // sent as the appid query parameter
	HTTPClient *http.Client  // nil = vendors.SharedHTTPClient()
	Timeout    time.Duration // per request; 0 = vendors.DefaultTimeout
	// Do, if set, wraps every single HTTP request — this is where the resilience
	// policies go. Nil runs each request directly.
	Do func(ctx context.Context, call func(ctx context.Context) error) error
}

// Client reads the current weather. It does not cache: OpenWeather asks clients to
// query one location at most every 10 minutes, which the caller must see to.
// It is safe for concurrent use.
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
			Vendor:       Vendor,
			Client:       cfg.HTTPClient,
			Timeout:      cfg.Timeout,
			Secrets:      []string{cfg.APIKey, url.QueryEscape(cfg.APIKey)},
			ErrorMessage: errorMessage,
			Do:           cfg.Do,
		},
	}
}

// TestConnection checks the key with one request for the weather at one point.
func (c *Client) TestConnection(ctx context.Context) error {
	_, err := c.Current(ctx, testLat, testLon)
	return err
}

// Current returns the current weather at (lat, lon) in imperial units. Input outside
// lat −90..90 or lon −180..180 is KindBadRequest without a call.
func (c *Client) Current(ctx context.Context, lat, lon float64) (vendors.Weather, error) {
	switch {
	case !(lat >= -90 && lat <= 90):
		return vendors.Weather{}, vendors.BadRequest(Vendor, "latitude must be between -90 and 90")
	case !(lon >= -180 && lon <= 180):
		return vendors.Weather{}, vendors.BadRequest(Vendor, "longitude must be between -180 and 180")
	}
	if strings.TrimSpace(c.key) == "" {
		return vendors.Weather{}, &vendors.Error{Kind: vendors.KindUnauthorized, Vendor: Vendor, Message: "no API key configured"}
	}
	q := url.Values{
		"lat":   {strconv.FormatFloat(lat, 'f', -1, 64)},
		"lon":   {strconv.FormatFloat(lon, 'f', -1, 64)},
		"units": {"imperial"},
		"appid": {c.key},
	}
	var out vendors.Weather
	err := c.req.Get(ctx, c.base+"/weather?"+q.Encode(), func(body []byte) error {
		var err error
		out, err = decodeWeather(body, lat, lon)
		return err
	})
	if err != nil {
		return vendors.Weather{}, err
	}
	return out, nil
}

// wireError is OpenWeather's error body; cod is a number for 401 and 429 and a
// string for 400 and 404, which vendors.Text reads either way.
type wireError struct {
	Cod     vendors.Text `json:"cod"`
	Message vendors.Text `json:"message"`
}

// errorMessage extracts the message of an OpenWeather error body, falling back to
// the shared reader for bodies from elsewhere (a proxy's plain text).
func errorMessage(body []byte) string {
	var e wireError
	if json.Unmarshal(body, &e) == nil && (e.Message != "" || e.Cod != "") {
		if e.Message != "" {
			return string(e.Message)
		}
		return "code " + string(e.Cod)
	}
	return vendors.ErrorBodyMessage(body)
}

// codError turns a 200 answer whose cod says otherwise (older OpenWeather endpoints
// answered errors so) into the error its code means.
func codError(e wireError) error {
	code, err := strconv.Atoi(strings.TrimSpace(string(e.Cod)))
	if err != nil || code == 0 || (code >= 200 && code < 300) {
		return nil
	}
	if code < 300 || code > 599 {
		return fmt.Errorf("unexpected cod %d", code)
	}
	return &vendors.Error{Kind: vendors.KindForStatus(code), Vendor: Vendor, Status: code, Message: string(e.Message)}
}

var errNoTemp = errors.New("decode weather: no main.temp in the answer")
