package graph_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/internal/testserver"
)

// TestJSONPostMatchesGqlgen checks the application/json POST transport (jsonPOST)
// against gqlgen's transport.POST, which still answers clients that ask for
// application/graphql-response+json: the same JSON for answers, field errors,
// request errors and bodies that are not GraphQL requests, with the status codes
// gqlgen gives application/json answers.
func TestJSONPostMatchesGqlgen(t *testing.T) {
	api := testserver.New(t, testdb.Open(t, testdb.SQLite))
	_, admin := api.SeedTenant(t, "Post Freight")
	id := api.CreateIntegration(t, admin, nil)

	post := func(accept, token string, body []byte) (int, string, map[string]any, []byte) {
		req, err := http.NewRequest(http.MethodPost, api.URL, bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		var out map[string]any
		require.NoError(t, json.Unmarshal(raw, &out), string(raw))
		return res.StatusCode, res.Header.Get("Content-Type"), out, raw
	}
	request := func(query string, vars map[string]any) []byte {
		b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
		require.NoError(t, err)
		return b
	}
	cases := []struct {
		name   string
		token  string
		body   []byte
		status int // of the application/json answer
	}{
		{"answer", admin, request(`query($id: ID!) { integration(id: $id) { id displayName credentialsHint } me { email } }`, map[string]any{"id": id}), http.StatusOK},
		{"html in a string", admin, request(`mutation($id: ID!) { updateIntegration(id: $id, input: {displayName: "<b>Tom & Jerry</b> \u2028"}) { displayName } }`, map[string]any{"id": id}), http.StatusOK},
		{"field error", admin, request(`{ integration(id: "00000000-0000-7000-8000-000000000000") { id } }`, nil), http.StatusOK},
		{"no token", "", request(`{ me { email } }`, nil), http.StatusOK},
		{"validation error", admin, request(`{ me { nope } }`, nil), http.StatusUnprocessableEntity},
		{"syntax error", admin, request(`{ me { `, nil), http.StatusUnprocessableEntity},
		{"not a GraphQL request", admin, []byte(`{"query": 42`), http.StatusBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, accept := range []string{"", "application/json", "*/*", "text/html, application/json"} {
				status, ctype, got, raw := post(accept, c.token, c.body)
				require.Equal(t, c.status, status, "Accept %q: %s", accept, raw)
				require.Equal(t, "application/json", ctype)
				_, wantType, want, _ := post("application/graphql-response+json", c.token, c.body)
				require.Equal(t, "application/graphql-response+json", wantType)
				require.Equal(t, want, got, "Accept %q", accept)
			}
		})
	}
}

// TestUnsupportedTransport: a request no transport takes gets a coded error too.
func TestUnsupportedTransport(t *testing.T) {
	api := testserver.New(t, testdb.Open(t, testdb.SQLite))
	for _, c := range []struct{ method, ctype string }{
		{http.MethodPost, "text/plain"},
		{http.MethodPost, ""},
		{http.MethodPut, "application/json"},
	} {
		req, err := http.NewRequest(c.method, api.URL, bytes.NewReader([]byte(`{"query":"{ me { id } }"}`)))
		require.NoError(t, err)
		if c.ctype != "" {
			req.Header.Set("Content-Type", c.ctype)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		raw, err := io.ReadAll(res.Body)
		res.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, res.StatusCode, "%s %q: %s", c.method, c.ctype, raw)
		var r testserver.Response
		require.NoError(t, json.Unmarshal(raw, &r), string(raw))
		require.Equal(t, "BAD_USER_INPUT", r.Code(), "%s %q: %s", c.method, c.ctype, raw)
		require.Contains(t, r.Message(), "transport not supported")
	}
}
