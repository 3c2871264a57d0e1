// Package gqlclient is the desktop monitor's typed client of the Sally GraphQL API.
//
// The operations live in operations/*.graphql; genqlient checks them against the
// repository's copy of the public contract (graph/contract/schema.graphql) and writes
// generated.go: one Go function and typed response structs per operation
// (Integrations, SyncHistory, TestIntegration, …). Nothing in the desktop builds a
// query string by hand.
//
// Client is the graphql.Client those functions take: it posts to <server>/graphql with
// the session's bearer token. Events runs the SyncEvents subscription over
// graphql-transport-ws and reconnects by itself with backoff.
package gqlclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Khan/genqlient/graphql"
)

// DefaultHTTPTimeout bounds one query or mutation when the caller's context does not;
// a manual sync (retries included) finishes well within it.
const DefaultHTTPTimeout = 3 * time.Minute

// Client sends the generated operations to one server with the session's token. It is
// safe for concurrent use.
type Client struct {
	base     string // http(s)://host[:port][/prefix], no trailing slash
	endpoint string // base + "/graphql"
	ws       string // ws(s)://…/graphql
	httpc    *http.Client
	gql      graphql.Client

	mu    sync.RWMutex
	token string
}

var _ graphql.Client = (*Client)(nil)

// New returns a client of the server at serverURL ("http://localhost:8080",
// "localhost:8080" or the /graphql endpoint itself). httpc may be nil.
func New(serverURL string, httpc *http.Client) (*Client, error) {
	base, err := NormalizeURL(serverURL)
	if err != nil {
		return nil, err
	}
	if httpc == nil {
		httpc = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	c := &Client{base: base, endpoint: base + "/graphql", httpc: httpc}
	c.ws = "ws" + strings.TrimPrefix(c.endpoint, "http")
	c.gql = graphql.NewClient(c.endpoint, authDoer{c})
	return c, nil
}

// NormalizeURL turns what a user typed into the server's base URL: it adds http://
// when no scheme is given and drops a trailing slash or /graphql.
func NormalizeURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("enter the server URL, e.g. http://localhost:8080")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%q is not a server URL (e.g. http://localhost:8080)", s)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("server URL: want http or https, got %s", u.Scheme)
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/graphql")
	u.RawQuery, u.Fragment = "", ""
	return strings.TrimSuffix(u.String(), "/"), nil
}

// BaseURL is the server's base URL as normalized by New.
func (c *Client) BaseURL() string { return c.base }

// Endpoint is the GraphQL endpoint for queries and mutations.
func (c *Client) Endpoint() string { return c.endpoint }

// WebsocketURL is the subscription endpoint (ws:// or wss://).
func (c *Client) WebsocketURL() string { return c.ws }

// SetToken sets the bearer token sent with every request ("" sends none).
func (c *Client) SetToken(token string) {
	c.mu.Lock()
	c.token = token
	c.mu.Unlock()
}

// Token is the current bearer token.
func (c *Client) Token() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.token
}

// MakeRequest implements graphql.Client for the generated functions.
func (c *Client) MakeRequest(ctx context.Context, req *graphql.Request, resp *graphql.Response) error {
	return c.gql.MakeRequest(ctx, req, resp)
}

// SignIn runs the Login mutation and, on success, keeps its token for every later
// request and subscription.
func (c *Client) SignIn(ctx context.Context, email, password string) (*LoginLoginAuthPayload, error) {
	resp, err := Login(ctx, c, email, password)
	if err != nil {
		return nil, err
	}
	c.SetToken(resp.Login.Token)
	return &resp.Login, nil
}

// authDoer adds the bearer token to each request.
type authDoer struct{ c *Client }

func (d authDoer) Do(req *http.Request) (*http.Response, error) {
	if t := d.c.Token(); t != "" {
		req.Header.Set("Authorization", "Bearer "+t)
	}
	return d.c.httpc.Do(req)
}
