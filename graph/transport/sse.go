package transport

import (
	"context"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	gqltransport "github.com/99designs/gqlgen/graphql/handler/transport"
)

// sseTransport is gqlgen's SSE transport with a handle on each response, so that a
// subscriber that fell behind is cut off even while a write to it is blocked.
type sseTransport struct{ gqltransport.SSE }

// Do serves one SSE request.
func (t sseTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	c := &sseClient{rc: http.NewResponseController(w)}
	t.SSE.Do(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, c)), exec)
}

type sseClient struct{ rc *http.ResponseController }

var _ Client = (*sseClient)(nil)

// Websocket is false: the client is an SSE response.
func (c *sseClient) Websocket() bool { return false }

// Drop makes every further write fail at once, which ends the response.
func (c *sseClient) Drop() { _ = c.rc.SetWriteDeadline(time.Now()) }

// Revoke ends the response as Drop does.
func (c *sseClient) Revoke() { c.Drop() }
