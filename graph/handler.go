package graph

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/graph/generated"
	"github.com/sallyhq/sally/graph/transport"
)

// Limits that protect the server from expensive or abusive requests.
const (
	MaxBodyBytes = transport.MaxBodyBytes // a GraphQL request body
	MaxDepth     = 10                     // nesting of selections, fragments expanded
)

// HandlerOptions tune the transport.
type HandlerOptions struct {
	// AllowedOrigins are the browser origins allowed besides the server's own
	// (CORS_ALLOWED_ORIGINS); websocket upgrades from others get 403.
	AllowedOrigins []string
	// TrustedProxies are the load balancers whose X-Forwarded-For names the client
	// (TRUSTED_PROXIES); from any other peer the header is ignored.
	TrustedProxies []netip.Prefix
	// PingInterval is the keep-alive ping interval of subscriptions: graphql-transport-ws
	// pings (a client that answers none of two is dropped) and SSE comments. 10s if 0.
	PingInterval time.Duration
}

// NewHandler returns the GraphQL endpoint: POST/GET queries and mutations, websocket
// (graphql-transport-ws) and SSE subscriptions, with auth, limits and error codes.
func NewHandler(r *Resolver, opts HandlerOptions) http.Handler {
	logger := r.logger()
	cfg := generated.Config{Resolvers: r}
	srv := handler.New(generated.NewExecutableSchema(cfg))

	transport.Add(srv, transport.Options{AllowedOrigins: opts.AllowedOrigins, PingInterval: opts.PingInterval, Init: r.websocketInit})
	// The schema is the public contract: clients and code generators may introspect it.
	srv.Use(extension.Introspection{})
	// Parsed and validated documents are kept, keyed by query text: clients send the
	// same few operations over and over, and parsing was a third of a history page's CPU.
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(costLimit{count: r.countList})
	srv.Use(transport.OperationIDs{}) // after the mutators that may refuse an operation
	srv.SetErrorPresenter(presentError(logger))
	srv.SetRecoverFunc(recoverPanic(logger))
	srv.AroundOperations(limitDepth)
	srv.AroundOperations(r.renderLive)
	srv.AroundRootFields(checkArguments)
	srv.AroundRootFields(r.requireViewer)
	srv.AroundRootFields(r.limitRate) // inside requireViewer: it needs the viewer
	srv.AroundFields(markInternal)
	srv.AroundRootFields(r.flatHistory) // inside requireViewer: it needs the viewer

	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx, id := withRequestID(req.Context())
		ctx = context.WithValue(ctx, clientAddrKey{}, ClientAddr(req, opts.TrustedProxies))
		w.Header().Set(RequestIDHeader, id)
		req = req.WithContext(ctx)
		req, ok := transport.ReadBody(w, req)
		if !ok {
			return
		}
		srv.ServeHTTP(w, req)
	})
}

// publicRootFields need no token: logging in, using a set-password link, and the
// (public) schema itself.
var publicRootFields = map[string]bool{"login": true, "setPassword": true, "__schema": true, "__type": true, "__typename": true}

// requireViewer answers UNAUTHENTICATED for every root field but the public ones when
// the request has no valid token, in one place rather than in each resolver.
func (r *Resolver) requireViewer(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	fc := graphql.GetRootFieldContext(ctx)
	if fc != nil && !publicRootFields[fc.Field.Name] {
		// Errors name the field in their path, as any field error does (there is no
		// field context yet to take it from).
		fail := func(e *Error) graphql.Marshaler {
			graphql.AddError(ctx, &gqlerror.Error{Err: e, Message: e.Message, Path: ast.Path{ast.PathName(fc.Field.Alias)}})
			return graphql.Null
		}
		v, err := auth.Require(ctx)
		if err != nil {
			return fail(unauthenticated(err))
		}
		cur, err := r.current(ctx, v)
		var e *Error
		if errors.As(err, &e) {
			return fail(e)
		}
		if err != nil {
			graphql.AddError(ctx, &gqlerror.Error{Err: &internalError{cause: err}, Message: "internal error", Path: ast.Path{ast.PathName(fc.Field.Alias)}})
			return graphql.Null
		}
		ctx = auth.NewContext(ctx, cur)
	}
	return next(ctx)
}

func unauthenticated(err error) *Error {
	switch {
	case errors.Is(err, auth.ErrExpiredToken):
		return errUnauthenticated("your session has expired: log in again")
	case errors.Is(err, auth.ErrInvalidToken):
		return errUnauthenticated("invalid token: log in again")
	default:
		return errUnauthenticated("authentication required: send Authorization: Bearer <token> (from the login mutation)")
	}
}

// limitDepth refuses operations nested deeper than MaxDepth before they run.
func limitDepth(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc != nil && oc.Operation != nil {
		if d := depth(withoutIntrospection(oc.Operation.SelectionSet), oc.Doc.Fragments, 0); d > MaxDepth {
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{
				Message:    "query is nested too deeply",
				Extensions: map[string]any{"code": CodeBadUserInput},
			}}})
		}
	}
	return next(ctx)
}

// withoutIntrospection drops __schema and __type: standard introspection queries
// nest deeper than any data query needs, and the schema is public anyway.
func withoutIntrospection(set ast.SelectionSet) ast.SelectionSet {
	out := make(ast.SelectionSet, 0, len(set))
	for _, s := range set {
		if f, ok := s.(*ast.Field); ok && strings.HasPrefix(f.Name, "__") {
			continue
		}
		out = append(out, s)
	}
	return out
}

func depth(set ast.SelectionSet, frags ast.FragmentDefinitionList, seen int) int {
	if seen > MaxDepth+1 {
		return seen // deep enough to refuse; also stops fragment cycles
	}
	most := seen
	for _, s := range set {
		var d int
		switch s := s.(type) {
		case *ast.Field:
			if len(s.SelectionSet) == 0 {
				d = seen + 1
			} else {
				d = depth(s.SelectionSet, frags, seen+1)
			}
		case *ast.InlineFragment:
			d = depth(s.SelectionSet, frags, seen)
		case *ast.FragmentSpread:
			if f := frags.ForName(s.Name); f != nil {
				d = depth(f.SelectionSet, frags, seen)
			}
		}
		if d > most {
			most = d
		}
	}
	return most
}

func (r *Resolver) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.New(slog.DiscardHandler)
}
