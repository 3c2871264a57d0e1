package graph

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	gqltransport "github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/graph/generated"
	"github.com/sallyhq/sally/graph/model"
	"github.com/sallyhq/sally/graph/transport"
)

// Subscriptions: how syncEvents reaches thousands of clients cheaply.
//
// The resolver opens an event.Stream (no goroutine, no buffer until events wait)
// and returns a channel that gqlgen reads. The operation interceptor renderLive sits
// between gqlgen's response loop and that channel: for each event it asks the
// event's Delivery (shared by every subscriber) for the rendering of this
// subscription's selection, which the first subscriber with that selection computes
// through gqlgen and the others reuse. So an event is rendered once per distinct
// selection (query text, operation name and variables; plus the viewer when the
// selection reaches fields that query the database, which differ by viewer), not once
// per subscriber. On graphql-transport-ws sockets renderLive also writes the next
// messages itself (it learns each operation's id through transport.OperationIDs): the shared
// payload goes out as it is, where gqlgen would encode it again for every socket.
// Errors, completion and every other message still go through gqlgen.
//
// A subscription ends when the client stops it or goes away; when the token expires
// (websocket: an "error" message with UNAUTHENTICATED, the socket stays open and
// further subscriptions on it are refused until the client reconnects with a new
// token; SSE: a last event with that error); or when the subscriber falls more than
// event.DefaultBuffer events behind (websocket: the socket is closed with
// CloseTooSlow "subscriber too slow: events were dropped"; SSE: the response ends).

// live ties one subscription's resolver to renderLive, through the operation's
// context.
type live struct {
	stream *event.Stream
	events chan *model.SyncEvent // what gqlgen reads, fed one event at a time
	cancel context.CancelFunc    // ends the stream's deadline (token expiry)
	key    renderKey
	ws     bool
	// direct, when set, is the graphql-transport-ws socket that renderLive writes
	// the subscription's next messages to itself, as operation id.
	direct *transport.Socket
	id     string
	done   bool
}

type liveKey struct{}

// renderKey identifies what a rendering of an event depends on.
type renderKey struct {
	query, operation, variables string
	viewer                      string // empty when no field of the selection depends on the viewer
}

// rendering is an event rendered for one selection, as gqlgen would send it.
type rendering struct {
	data    []byte // the response's data
	payload []byte // {"data":…}: the payload of a next message
}

func newRendering(data []byte) *rendering {
	payload := make([]byte, 0, len(data)+len(`{"data":}`))
	payload = append(append(append(payload, `{"data":`...), data...), '}')
	return &rendering{data: payload[len(`{"data":`) : len(payload)-1], payload: payload}
}

// modelKey memoizes an event's GraphQL model in its Delivery.
type modelKey struct{}

// websocketInit authenticates a subscription socket from connection_init's
// {"Authorization": "Bearer <token>"}; anything else closes it with 4403 before any
// message is sent to it.
func (r *Resolver) websocketInit(ctx context.Context, p gqltransport.InitPayload) (context.Context, *gqltransport.InitPayload, error) {
	v, err := r.Tokens.ParseAuthorization(p.Authorization())
	if err == nil && !v.ExpiresAt.IsZero() && !r.now().Before(v.ExpiresAt) {
		err = auth.ErrExpiredToken // the tokens' clock may be another than ours
	}
	if err == nil {
		// A token whose session ended (user deactivated or deleted, password changed)
		// is refused here too, not only on each subscribe. A database error lets the
		// socket open: its subscribe asks again.
		if _, cerr := r.current(ctx, v); cerr != nil {
			if e, ok := cerr.(*Error); ok && e.Code == CodeUnauthenticated {
				err = cerr
			}
		}
	}
	if err != nil {
		r.logger().Debug("websocket refused", "err", err)
		ctx = gqltransport.AppendCloseReason(ctx, transport.ReasonForbidden)
		ctx = gqltransport.WithWebsocketCloseCode(ctx, transport.CloseForbidden)
		return ctx, nil, errors.New(transport.ReasonForbidden)
	}
	return auth.NewContext(ctx, v), nil, nil
}

// renderLive serves subscriptions through their live stream, rendering each event
// once per distinct selection (see the comment at the top of this file).
func (r *Resolver) renderLive(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	ws := transport.SocketFrom(ctx)
	var id string
	if ws != nil && oc != nil {
		id = ws.TakeID(oc)
	}
	if oc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
		return next(ctx)
	}
	lv := &live{}
	rh := next(context.WithValue(ctx, liveKey{}, lv)) // runs the resolver
	if lv.stream == nil {
		return rh // refused: rh answers why
	}
	lv.key = keyOf(ctx, oc)
	if ws != nil && id != "" && ws.TransportWS() {
		lv.direct, lv.id = ws, id
	}
	return func(ctx context.Context) *graphql.Response { return lv.next(ctx, rh) }
}

// next returns the subscription's next response for gqlgen to send; in direct mode
// it writes the shared renderings itself and returns only at the end (or with a
// response that is not shared).
func (lv *live) next(ctx context.Context, rh graphql.ResponseHandler) *graphql.Response {
	for !lv.done {
		d, err := lv.stream.Next(ctx)
		if err != nil {
			lv.stop()
			return lv.end(ctx, err)
		}
		var mine *graphql.Response
		shared, _ := d.Memo(lv.key, func() any {
			mine = lv.render(ctx, rh, d)
			if mine == nil || len(mine.Errors) > 0 || len(mine.Extensions) > 0 {
				return (*rendering)(nil) // not shareable: each renders its own
			}
			return newRendering(mine.Data)
		}).(*rendering)
		switch {
		case shared == nil && mine != nil:
			return mine
		case shared == nil:
			return lv.render(ctx, rh, d)
		case lv.direct == nil:
			return &graphql.Response{Data: shared.data} // only read from here on
		}
		if err := lv.direct.WriteNext(lv.id, shared.payload); err != nil {
			lv.stop() // the socket is closing
			return nil
		}
	}
	return nil
}

func (lv *live) stop() {
	lv.done = true
	lv.cancel()
	lv.stream.Close()
}

// render has gqlgen render d for this subscription.
func (lv *live) render(ctx context.Context, rh graphql.ResponseHandler, d *event.Delivery) *graphql.Response {
	select {
	case lv.events <- modelOf(d):
	case <-ctx.Done():
		return nil
	}
	return rh(ctx)
}

// end finishes a subscription whose stream ended with err.
func (lv *live) end(ctx context.Context, err error) *graphql.Response {
	var gerr *gqlerror.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		gerr = &gqlerror.Error{Message: "your session has expired: log in again",
			Extensions: map[string]any{"code": CodeUnauthenticated}}
	case errors.Is(err, event.ErrSlowSubscriber) && !lv.ws:
		gerr = &gqlerror.Error{Message: transport.ReasonTooSlow + ": subscribe again",
			Extensions: map[string]any{"code": CodeInternal}}
	default:
		return nil // the client left, or its socket is being closed with a reason
	}
	if lv.ws {
		gqltransport.AddSubscriptionError(ctx, gerr) // sent as the operation's "error"
		return nil
	}
	return &graphql.Response{Errors: gqlerror.List{gerr}}
}

// modelOf is d's GraphQL model, built once per event.
func modelOf(d *event.Delivery) *model.SyncEvent {
	return d.Memo(modelKey{}, func() any { return ToSyncEvent(d.Event) }).(*model.SyncEvent)
}

// keyOf is what renderings of the operation's events depend on.
func keyOf(ctx context.Context, oc *graphql.OperationContext) renderKey {
	k := renderKey{query: oc.RawQuery, operation: oc.OperationName}
	if len(oc.Variables) > 0 {
		b, err := json.Marshal(oc.Variables) // maps marshal with sorted keys
		if err != nil {
			b = []byte(oc.RawQuery) // unshareable in practice: keyed by the viewer below
			k.viewer = "?"
		}
		k.variables = string(b)
	}
	if !viewerFree(oc.Operation.SelectionSet, oc.Doc.Fragments, true) || k.viewer != "" {
		if v, ok := auth.FromContext(ctx); ok {
			k.viewer = v.UserID + "/" + string(v.Role)
		}
	}
	return k
}

// viewerFree tells whether a selection reads only the event itself: no field with
// a resolver of its own (those query the database as the viewer). root skips the
// subscription field, which has one.
func viewerFree(set ast.SelectionSet, frags ast.FragmentDefinitionList, root bool) bool {
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			if !root && s.ObjectDefinition != nil && resolverFields()[strings.ToLower(s.ObjectDefinition.Name+"."+s.Name)] {
				return false
			}
			if !viewerFree(s.SelectionSet, frags, false) {
				return false
			}
		case *ast.InlineFragment:
			if !viewerFree(s.SelectionSet, frags, root) {
				return false
			}
		case *ast.FragmentSpread:
			f := s.Definition
			if f == nil {
				f = frags.ForName(s.Name)
			}
			if f == nil || !viewerFree(f.SelectionSet, frags, root) {
				return false
			}
		}
	}
	return true
}

// resolverFields are the fields with resolvers of their own, "type.field" in lower
// case, read from the generated ResolverRoot (e.g. SyncLog() SyncLogResolver with
// Integration(...) gives "synclog.integration").
var resolverFields = sync.OnceValue(func() map[string]bool {
	out := map[string]bool{}
	root := reflect.TypeFor[generated.ResolverRoot]()
	for i := range root.NumMethod() {
		m := root.Method(i)
		if m.Type.NumOut() != 1 || m.Type.Out(0).Kind() != reflect.Interface {
			continue
		}
		t := m.Type.Out(0)
		for j := range t.NumMethod() {
			out[strings.ToLower(m.Name+"."+t.Method(j).Name)] = true
		}
	}
	return out
})

// ToSyncEvent converts a bus event to its GraphQL form.
func ToSyncEvent(e event.Event) *model.SyncEvent {
	m := &model.SyncEvent{
		Type: model.SyncEventType(e.Type), At: e.At.UTC(), IntegrationID: e.IntegrationID,
		IntegrationName: e.IntegrationName, Vendor: model.Vendor(e.Vendor), Attempt: e.Attempt,
		RetryInMs: e.RetryInMs, CircuitState: model.CircuitState(e.CircuitState), Message: e.Message,
	}
	if l := e.SyncLog; l != nil {
		sl := &model.SyncLog{
			ID: l.ID, IntegrationID: l.IntegrationID, SyncType: model.SyncType(l.SyncType),
			Status: model.SyncStatus(l.Status), Trigger: model.SyncTrigger(l.Trigger), StartedAt: l.StartedAt.UTC(),
			CompletedAt: utcPtr(l.CompletedAt), Attempts: l.Attempts, RecordsProcessed: l.RecordsProcessed,
			RecordsCreated: l.RecordsCreated, RecordsUpdated: l.RecordsUpdated, Error: l.Error, ErrorClass: l.ErrorClass,
		}
		if l.DurationMs != nil {
			d := int(*l.DurationMs)
			sl.DurationMs = &d
		}
		if l.TriggeredByID != nil {
			if id, err := uuid.Parse(*l.TriggeredByID); err == nil {
				sl.TriggeredByID = &id
			}
		}
		sl.Tries = make([]*model.SyncTry, len(l.Tries))
		for i, t := range l.Tries {
			sl.Tries[i] = &model.SyncTry{Call: t.Call, Attempt: t.Attempt, StartedAt: t.StartedAt.UTC(),
				DurationMs: int(t.DurationMs), HTTPStatus: t.HTTPStatus, ErrorClass: t.ErrorClass, Error: t.Error}
			if t.RetryInMs != nil {
				ms := int(*t.RetryInMs)
				sl.Tries[i].RetryInMs = &ms
			}
		}
		m.SyncLog = sl
	}
	return m
}
