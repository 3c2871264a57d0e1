package graph

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/sallyhq/sally/auth"
)

// CloseForbidden is graphql-transport-ws's close code for a refused connection_init;
// graphql-ws clients stop retrying on it (gqlgen's default 1000 makes them reconnect
// forever).
const CloseForbidden = 4403

// websocketInit authenticates a subscription socket from connection_init's
// {"Authorization": "Bearer <token>"}; anything else closes it with 4403.
func (r *Resolver) websocketInit(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	header := p.Authorization()
	if header == "" {
		// Some clients send the key in lower case.
		if s, ok := p["authorization"].(string); ok {
			header = s
		}
	}
	v, err := r.Tokens.ParseAuthorization(header)
	if err != nil {
		ctx = transport.AppendCloseReason(ctx, "Forbidden")
		ctx = transport.WithWebsocketCloseCode(ctx, CloseForbidden)
		return ctx, nil, errors.New("Forbidden")
	}
	return auth.NewContext(ctx, v), nil, nil
}
