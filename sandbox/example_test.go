package sandbox_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/sallyhq/sally/sandbox"
)

// Mount the sandbox as the server does, make Samsara rate-limit one request, and
// read every driver's HOS clocks the way the Samsara adapter must: retry the 429,
// and follow endCursor until hasNextPage is false (pages may be empty on the way).
func Example() {
	now := func() time.Time { return time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC) }
	sb := sandbox.New(sandbox.Options{Now: now})
	mux := http.NewServeMux()
	mux.Handle("/sandbox/", http.StripPrefix("/sandbox", sb))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	if err := sb.SetFault(sandbox.Samsara, sandbox.Fault{Status: 429, RetryAfterSeconds: 0.40235, Count: 1}); err != nil {
		fmt.Println(err)
		return
	}
	drivers, after := 0, ""
	for {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/sandbox/samsara/fleet/hos/clocks?limit=10&after="+url.QueryEscape(after), nil)
		req.Header.Set("Authorization", "Bearer demo-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		var page struct {
			Data       []json.RawMessage `json:"data"`
			Pagination struct {
				EndCursor   string `json:"endCursor"`
				HasNextPage bool   `json:"hasNextPage"`
			} `json:"pagination"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			fmt.Println("429, Retry-After:", resp.Header.Get("Retry-After"))
			continue
		}
		drivers += len(page.Data)
		if !page.Pagination.HasNextPage {
			fmt.Printf("last endCursor: %q\n", page.Pagination.EndCursor)
			break
		}
		after = page.Pagination.EndCursor
	}
	fmt.Println("drivers:", drivers)
	fmt.Println("faulted:", sb.Stats()[sandbox.Samsara].Faulted)
	// Output:
	// 429, Retry-After: 0.40235
	// last endCursor: ""
	// drivers: 25
	// faulted: 1
}
