// Package transport is how GraphQL requests reach graph's schema and how answers
// leave it: gqlgen's transports (POST, GET, graphql-transport-ws and graphql-ws
// websockets, SSE) made to follow the contract and the GraphQL-over-HTTP
// specification, and the encoders of the paths that write responses themselves.
//
// Each piece restates part of gqlgen for a measured or specified reason, written
// once beside it; this package is what to re-check at each gqlgen upgrade:
//   - http.go: POST and GET per GraphQL over HTTP (statuses, no data entry on request
//     errors, 405 for a mutation over GET, 406), data written without a second
//     json.Marshal (a tenth of a history page's CPU), bodies bounded (413), and the
//     contract's code on what no transport takes.
//   - websocket.go: gqlgen's websocket transport on a connection adapter of our own:
//     the graphql-transport-ws close codes gqlgen does not send (4400, 4401, 4403,
//     4408, 4409, 4429), sockets that subscriptions can close with a reason (1013 for
//     a subscriber too slow, 4403 when its session ends), a capped kernel send buffer,
//     protocol messages framed without encoding their payload twice, and the
//     operations' protocol ids (OperationIDs) so that one rendering of an event is
//     written to every socket that selected the same (Socket.WriteNext).
//   - sse.go: gqlgen's SSE transport with a handle on each response, so that a slow
//     or revoked subscriber is cut off even while a write to it is blocked.
//   - encode.go: value encoders byte-identical to gqlgen's marshalers, and pooled
//     pages, for graph's flat history and syncLogs paths.
//
// Relied-on gqlgen behaviour, checked by graph's tests (closecodes_test.go,
// post_test.go, httpaudit_test.go's graphql-http audits, subscription_test.go and
// the flat paths' parity tests): the close reasons "connection initialisation
// timeout" and "unexpected message"; the protocol message structs' shape
// {Payload json.RawMessage, ID, Type}; one goroutine reading a subscribe message and
// creating its operation context, in that order; a subscribe refused with the
// protocol's "error" only for errors of errcode.KindProtocol.
package transport

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	gqltransport "github.com/99designs/gqlgen/graphql/handler/transport"
)

// Options tune the transports.
type Options struct {
	// AllowedOrigins are the browser origins allowed besides the server's own;
	// websocket upgrades from others get 403.
	AllowedOrigins []string
	// PingInterval is the keep-alive ping interval of subscriptions: graphql-transport-ws
	// pings (a client that answers none of two is dropped) and SSE comments. 10s if 0.
	PingInterval time.Duration
	// Init authenticates a websocket's connection_init. An error closes the socket
	// with the code and reason it put in the context (gqltransport.WithWebsocketCloseCode).
	Init func(context.Context, gqltransport.InitPayload) (context.Context, *gqltransport.InitPayload, error)
}

// Add registers every transport on srv, in the order they are tried; what none
// takes is answered 400 BAD_USER_INPUT.
func Add(srv *handler.Server, o Options) {
	ping := o.PingInterval
	if ping == 0 {
		ping = 10 * time.Second
	}
	srv.AddTransport(newWebsocket(o.Init, o.AllowedOrigins, ping))
	srv.AddTransport(sseTransport{gqltransport.SSE{KeepAlivePingInterval: ping}})
	srv.AddTransport(gqltransport.Options{})
	srv.AddTransport(jsonGET{})
	srv.AddTransport(jsonPOST{})
	srv.AddTransport(unsupported{})
}
