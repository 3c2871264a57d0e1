package graph_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/graph/transport"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/internal/testserver"
)

// TestPostFollowsGraphQLOverHTTP checks the POST transport (graph/transport's jsonPOST) for both media
// types of the GraphQL-over-HTTP specification: the same JSON for answers, field
// errors and request errors; request errors (parse, validation, a body that is not a
// GraphQL request) without a data entry, 200 for application/json and 400 for
// application/graphql-response+json; invalid parameters 400 for both.
func TestPostFollowsGraphQLOverHTTP(t *testing.T) {
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
		name                  string
		token                 string
		body                  []byte
		jsonStatus, gqlStatus int
		data                  bool // the answer has a data entry
	}{
		{"answer", admin, request(`query($id: ID!) { integration(id: $id) { id displayName credentialsHint } me { email } }`, map[string]any{"id": id}), 200, 200, true},
		{"html in a string", admin, request(`mutation($id: ID!) { updateIntegration(id: $id, input: {displayName: "<b>Tom & Jerry</b> \u2028"}) { displayName } }`, map[string]any{"id": id}), 200, 200, true},
		{"field error", admin, request(`{ integration(id: "00000000-0000-7000-8000-000000000000") { id } }`, nil), 200, 200, true},
		{"no token", "", request(`{ me { email } }`, nil), 200, 200, true},
		{"validation error", admin, request(`{ me { nope } }`, nil), 200, 400, false},
		{"syntax error", admin, request(`{ me { `, nil), 200, 400, false},
		{"variables that do not coerce", admin, request(`query($id: ID!) { integration(id: $id) { id } }`, map[string]any{"id": []int{1}}), 200, 400, false},
		{"not a GraphQL request", admin, []byte(`{"query": 42`), 400, 400, false},
		{"no query", admin, []byte(`{"qeury": "{ me { id } }"}`), 400, 400, false},
		{"variables not an object", admin, []byte(`{"query": "{ me { id } }", "variables": "x"}`), 400, 400, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, want, _ := post(MediaJSON, c.token, c.body)
			for _, accept := range []string{"", MediaJSON, "*/*", "text/html, application/json", transport.MediaGraphQLResponse} {
				status, ctype, got, raw := post(accept, c.token, c.body)
				wantStatus, wantType := c.jsonStatus, MediaJSON
				if accept == transport.MediaGraphQLResponse {
					wantStatus, wantType = c.gqlStatus, transport.MediaGraphQLResponse
				}
				require.Equal(t, wantStatus, status, "Accept %q: %s", accept, raw)
				require.Equal(t, wantType, ctype)
				_, hasData := got["data"]
				require.Equal(t, c.data, hasData, "Accept %q: %s", accept, raw)
				require.Equal(t, want, got, "Accept %q", accept)
			}
		})
	}
}

// MediaJSON is the answer's type for clients that accept application/json.
const MediaJSON = "application/json"

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

// TestGetFollowsGraphQLOverHTTP checks the GET transport (jsonGET) as
// TestPostFollowsGraphQLOverHTTP checks POST: request errors without a data entry, 200
// for application/json and 400 for application/graphql-response+json (gqlgen answered
// 422 with "data": null); invalid parameters 400 with the contract's code; a mutation
// 405 Method Not Allowed with Allow: POST (gqlgen answered 406), and nothing done.
func TestGetFollowsGraphQLOverHTTP(t *testing.T) {
	api := testserver.New(t, testdb.Open(t, testdb.SQLite))
	_, admin := api.SeedTenant(t, "Get Freight")
	id := api.CreateIntegration(t, admin, nil)

	get := func(accept string, params url.Values) (int, http.Header, map[string]any, []byte) {
		req, err := http.NewRequest(http.MethodGet, api.URL+"?"+params.Encode(), nil)
		require.NoError(t, err)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		req.Header.Set("Authorization", "Bearer "+admin)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		var out map[string]any
		require.NoError(t, json.Unmarshal(raw, &out), string(raw))
		return res.StatusCode, res.Header, out, raw
	}
	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	cases := []struct {
		name                  string
		params                url.Values
		jsonStatus, gqlStatus int
		data                  bool
	}{
		{"answer", q("query", `query($id: ID!) { integration(id: $id) { id displayName } }`, "variables", `{"id":"`+id+`"}`), 200, 200, true},
		{"field error", q("query", `{ integration(id: "00000000-0000-7000-8000-000000000000") { id } }`), 200, 200, true},
		{"validation error", q("query", `{ me { nope } }`), 200, 400, false},
		{"syntax error", q("query", `{ me { `), 200, 400, false},
		{"unknown operation", q("query", `query A { me { id } }`, "operationName", "B"), 200, 400, false},
		{"no query", q(), 400, 400, false},
		{"variables not an object", q("query", `{ me { id } }`, "variables", `5`), 400, 400, false},
		{"variables not JSON", q("query", `{ me { id } }`, "variables", `{`), 400, 400, false},
		{"mutation", q("query", `mutation($id: ID!) { deleteIntegration(id: $id) }`, "variables", `{"id":"`+id+`"}`), 405, 405, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, accept := range []string{"", MediaJSON, transport.MediaGraphQLResponse} {
				status, header, got, raw := get(accept, c.params)
				wantStatus, wantType := c.jsonStatus, MediaJSON
				if accept == transport.MediaGraphQLResponse {
					wantStatus, wantType = c.gqlStatus, transport.MediaGraphQLResponse
				}
				require.Equal(t, wantStatus, status, "Accept %q: %s", accept, raw)
				require.Equal(t, wantType, header.Get("Content-Type"))
				_, hasData := got["data"]
				require.Equal(t, c.data, hasData, "Accept %q: %s", accept, raw)
				if !c.data || c.name == "field error" {
					var r testserver.Response
					require.NoError(t, json.Unmarshal(raw, &r))
					require.NotEmpty(t, r.Code(), "every error carries a code: %s", raw)
				}
				if status == http.StatusMethodNotAllowed {
					require.Equal(t, http.MethodPost, header.Get("Allow"))
				}
			}
		})
	}
	// The refused mutation did nothing.
	r := api.Do(t, admin, `query($id: ID!) { integration(id: $id) { id } }`, map[string]any{"id": id})
	require.Empty(t, r.Errors, "the integration is still there: %s", r.Body)
}

// TestUnacceptableAccept: a request that accepts neither application/json nor
// application/graphql-response+json is answered 406 Not Acceptable, as the
// GraphQL-over-HTTP specification recommends, for POST and GET alike, before any work.
func TestUnacceptableAccept(t *testing.T) {
	api := testserver.New(t, testdb.Open(t, testdb.SQLite))
	_, admin := api.SeedTenant(t, "Accept Freight")
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		for _, accept := range []string{"application/xml", "text/html"} {
			var req *http.Request
			var err error
			if method == http.MethodPost {
				req, err = http.NewRequest(method, api.URL, bytes.NewReader([]byte(`{"query":"{ me { id } }"}`)))
				req.Header.Set("Content-Type", "application/json")
			} else {
				req, err = http.NewRequest(method, api.URL+"?query="+url.QueryEscape("{ me { id } }"), nil)
			}
			require.NoError(t, err)
			req.Header.Set("Accept", accept)
			req.Header.Set("Authorization", "Bearer "+admin)
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			raw, err := io.ReadAll(res.Body)
			res.Body.Close()
			require.NoError(t, err)
			require.Equal(t, http.StatusNotAcceptable, res.StatusCode, "%s Accept %q: %s", method, accept, raw)
			var r testserver.Response
			require.NoError(t, json.Unmarshal(raw, &r), string(raw))
			require.Equal(t, "BAD_USER_INPUT", r.Code(), string(raw))
			require.NotContains(t, string(raw), `"data"`)
		}
	}
}
