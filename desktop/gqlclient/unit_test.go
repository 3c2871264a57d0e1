package gqlclient_test

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/sallyhq/sally/desktop/gqlclient"
)

func TestNormalizeURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want, err string }{
		{"OK", "http://localhost:8080", "http://localhost:8080", ""},
		{"NoScheme", "localhost:8080", "http://localhost:8080", ""},
		{"TrailingSlash", "https://sally.example.com/ ", "https://sally.example.com", ""},
		{"Endpoint", "http://localhost:8080/graphql", "http://localhost:8080", ""},
		{"Prefix", "https://example.com/sally/graphql/", "https://example.com/sally", ""},
		{"Empty", "  ", "", "enter the server URL"},
		{"BadScheme", "ftp://example.com", "", "want http or https"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := gqlclient.NormalizeURL(tc.in)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestClientURLs(t *testing.T) {
	t.Parallel()
	c, err := gqlclient.New("https://sally.example.com", nil)
	require.NoError(t, err)
	require.Equal(t, "https://sally.example.com/graphql", c.Endpoint())
	require.Equal(t, "wss://sally.example.com/graphql", c.WebsocketURL())
	c, err = gqlclient.New("localhost:8080", nil)
	require.NoError(t, err)
	require.Equal(t, "ws://localhost:8080/graphql", c.WebsocketURL())
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	lo, hi := 100*time.Millisecond, 2*time.Second
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 5: 1600 * time.Millisecond, 6: hi, 50: hi} {
		for range 20 {
			got := gqlclient.Backoff(n, lo, hi)
			require.LessOrEqual(t, got, want, "attempt %d", n)
			require.GreaterOrEqual(t, got, want*3/4, "attempt %d", n)
		}
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	unauth := gqlerror.List{{Message: "invalid token: log in again", Extensions: map[string]any{"code": "UNAUTHENTICATED"}}}
	refused := &url.Error{Op: "Post", URL: "http://localhost:1/graphql", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}
	for _, tc := range []struct {
		name    string
		err     error
		code    string
		network bool
		msg     string
	}{
		{"Unauthenticated", fmt.Errorf("query: %w", unauth), "UNAUTHENTICATED", false, "invalid token: log in again"},
		{"ErrUnauthenticated", gqlclient.ErrUnauthenticated, "UNAUTHENTICATED", false, gqlclient.ErrUnauthenticated.Error()},
		{"HTTPError", &graphql.HTTPError{StatusCode: 422, Response: graphql.Response{Errors: gqlerror.List{{Message: "bad", Extensions: map[string]any{"code": "BAD_USER_INPUT"}}}}}, "BAD_USER_INPUT", false, "bad"},
		{"BadGateway", &graphql.HTTPError{StatusCode: 502, Response: graphql.Response{Errors: gqlerror.List{{Message: "<html>"}}}}, "", true, "cannot reach the server"},
		{"Refused", refused, "", true, "cannot reach the server"},
		{"Other", errors.New("boom"), "", false, "boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.code, gqlclient.Code(tc.err))
			require.Equal(t, tc.network, gqlclient.IsNetwork(tc.err))
			require.Equal(t, tc.msg, gqlclient.Message(tc.err))
		})
	}
}
