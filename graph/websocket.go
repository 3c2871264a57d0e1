package graph

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/sallyhq/sally/auth"
)

// Close codes of subscription sockets (graphql-transport-ws and RFC 6455).
const (
	// CloseForbidden answers a missing, bad or expired token in connection_init, as
	// the contract and graphql-transport-ws say; gqlgen's default (1000) would make
	// graphql-ws clients reconnect at once, forever.
	CloseForbidden = 4403
	// CloseBadRequest answers a connection_init whose payload is not an object and,
	// on graphql-transport-ws, any message that is not valid JSON, of a type a client
	// may send, with an id where the type needs one.
	CloseBadRequest = 4400
	// CloseInitTimeout closes a socket that sent no connection_init within
	// InitTimeout (gqlgen says 1002 there).
	CloseInitTimeout = 4408
	// CloseUnauthorized closes a socket that subscribed before connection_ack, as
	// graphql-transport-ws prescribes (gqlgen says 1002).
	CloseUnauthorized = 4401
	// CloseTooManyInits closes a socket that sent connection_init twice, as
	// graphql-transport-ws prescribes (gqlgen says 1002).
	CloseTooManyInits = 4429
	// CloseSubscriberExists closes a socket that subscribed with an id already in use,
	// as graphql-transport-ws prescribes (gqlgen ran both).
	CloseSubscriberExists = 4409
	// CloseTooSlow closes the socket of a client that fell more than
	// event.DefaultBuffer events behind: "try again later", which graphql-ws clients
	// retry (with backoff).
	CloseTooSlow = 1013
)

// Close reasons sent with those codes.
const (
	ReasonForbidden = "Forbidden"
	// ReasonInvalidMessage goes with CloseBadRequest for a message the protocol does
	// not know.
	ReasonInvalidMessage = "Invalid message received"
	ReasonTooSlow        = "subscriber too slow: events were dropped"
)

// gqlgen answers a subscribe whose operation could not be created (a document that
// does not parse or validate, variables that do not coerce, a limit) with the
// protocol's "error" message only when the errors' code is of the protocol kind;
// the error presenter has given them the contract's BAD_USER_INPUT by then, so that
// code is registered as one. (gqlgen consults the kinds nowhere else that this
// server uses: its own GET and POST transports are replaced.)
func init() { errcode.RegisterErrorType(CodeBadUserInput, errcode.KindProtocol) }

// InitTimeout is how long a new socket may take to send connection_init.
const InitTimeout = 10 * time.Second

// SocketWriteBuffer caps the kernel's send buffer of a subscription socket (Linux
// doubles it). Without a cap the kernel grows it to megabytes for a client that
// stopped reading, so that the events' own bound (event.DefaultBuffer) would trip
// only thousands of events later, and the close frame that says why would sit
// behind megabytes the client may never read.
const SocketWriteBuffer = 64 << 10

// websocketInit authenticates a subscription socket from connection_init's
// {"Authorization": "Bearer <token>"}; anything else closes it with 4403 before any
// message is sent to it.
func (r *Resolver) websocketInit(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
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
		ctx = transport.AppendCloseReason(ctx, ReasonForbidden)
		ctx = transport.WithWebsocketCloseCode(ctx, CloseForbidden)
		return ctx, nil, errors.New(ReasonForbidden)
	}
	if s, ok := ctx.Value(clientKey{}).(*wsClient); ok {
		s.authenticated()
	}
	return auth.NewContext(ctx, v), nil, nil
}

// client is a subscriber's connection, as far as dropping it goes.
type client interface {
	// drop ends the connection of a subscriber that fell too far behind. It must not
	// block: it is called from the publisher's goroutine.
	drop()
	// websocket tells the socket apart from an SSE response.
	websocket() bool
	// revoke ends the connection of a subscriber whose session ended (user
	// deactivated or deleted, password changed). It must not block.
	revoke()
}

// clientKey holds the client of a subscription request in its context.
type clientKey struct{}

func clientFrom(ctx context.Context) client {
	c, _ := ctx.Value(clientKey{}).(client)
	return c
}

// websocketTransport is gqlgen's websocket transport on a connection adapter of our
// own (websocketAccepter): each socket is known to its subscriptions, which can close
// it with a code of their own (gqlgen only closes with 1000 from inside), no socket
// outlives a connection_init that gqlgen gave up on without closing it, and messages
// are written without encoding their payload twice.
type websocketTransport struct{ transport.Websocket }

func newWebsocketTransport(r *Resolver, origins []string, ping time.Duration) websocketTransport {
	return websocketTransport{transport.Websocket{
		Implementation:   websocketAccepter{websocket.AcceptOptions{OriginPatterns: origins}},
		PingPongInterval: ping,
		InitFunc:         r.websocketInit,
		InitTimeout:      InitTimeout,
	}}
}

// Do serves one socket.
func (t websocketTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	c := &wsClient{}
	t.Websocket.Do(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, c)), exec)
	c.mu.Lock()
	conn, abandoned := c.conn, c.conn != nil && !c.initialized && !c.closing
	c.mu.Unlock()
	if abandoned {
		// gqlgen returns without a close when connection_init's payload is not a
		// JSON object; the socket would stay open with nobody reading it.
		c.close(CloseBadRequest, "connection_init payload must be an object")
		_ = conn.Close()
	}
}

// websocketAccepter upgrades requests to sockets (coder/websocket, as gqlgen's own
// adapter, which this one follows) and records each in its request's wsClient.
type websocketAccepter struct{ opts websocket.AcceptOptions }

// Accept upgrades the request.
func (a websocketAccepter) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	for k, vs := range opts.ResponseHeader {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	ao := a.opts
	ao.Subprotocols = slices.Clone(ao.Subprotocols)
	for _, p := range opts.Subprotocols {
		if !slices.Contains(ao.Subprotocols, p) {
			ao.Subprotocols = append(ao.Subprotocols, p)
		}
	}
	ws, err := websocket.Accept(hijacker{w}, r, &ao)
	if err != nil {
		return nil, err
	}
	c, ok := r.Context().Value(clientKey{}).(*wsClient)
	if !ok {
		c = &wsClient{}
	}
	conn := &wsConn{ws: ws, client: c}
	c.mu.Lock()
	c.conn = conn
	c.mu.Unlock()
	return conn, nil
}

// hijacker caps the send buffer of the connection it hands to the websocket.
type hijacker struct{ http.ResponseWriter }

// Hijack takes the connection over from net/http.
func (h hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if b, ok := c.(interface{ SetWriteBuffer(int) error }); ok && err == nil {
		_ = b.SetWriteBuffer(SocketWriteBuffer)
	}
	return c, brw, err
}

// wsClient is one socket, as its subscriptions see it.
type wsClient struct {
	mu          sync.Mutex
	conn        *wsConn
	initialized bool // connection_init was accepted
	closing     bool // a close frame was sent (or is being sent)
	// The protocol ids of operations: the last subscribe message read, then each
	// operation's (see operationIDs).
	pendingID string
	ids       map[*graphql.OperationContext]string
}

// maxPendingIDs bounds the ids of operations that never reached renderLive (refused
// by a later OperationContextMutator).
const maxPendingIDs = 64

func (c *wsClient) subscribeRead(id string) {
	c.mu.Lock()
	c.pendingID = id
	c.mu.Unlock()
}

// bind gives oc the id of the subscribe message being handled.
func (c *wsClient) bind(oc *graphql.OperationContext) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil || len(c.ids) >= maxPendingIDs {
		c.ids = map[*graphql.OperationContext]string{}
	}
	c.ids[oc] = c.pendingID
}

// takeID returns (and forgets) the protocol id of oc, "" when unknown.
func (c *wsClient) takeID(oc *graphql.OperationContext) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.ids[oc]
	delete(c.ids, oc)
	return id
}

// transportWS tells a graphql-transport-ws socket from a legacy graphql-ws one.
func (c *wsClient) transportWS() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn != nil && c.conn.ws.Subprotocol() == "graphql-transport-ws"
}

// write sends one message as it is (a frame of a subscription's operation).
func (c *wsClient) write(b []byte) error {
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	if conn == nil {
		return net.ErrClosed
	}
	return conn.ws.Write(context.Background(), websocket.MessageText, b)
}

// operationIDs tells each operation on a socket its protocol id, which gqlgen keeps
// to itself, so that renderLive can write a subscription's messages itself. gqlgen
// reads a subscribe message and creates its operation context on one goroutine, in
// that order: the id read last is the one of the operation being created.
type operationIDs struct{}

var (
	_ graphql.HandlerExtension        = operationIDs{}
	_ graphql.OperationContextMutator = operationIDs{}
)

// ExtensionName names the extension.
func (operationIDs) ExtensionName() string { return "OperationIDs" }

// Validate accepts any schema.
func (operationIDs) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext records the operation's id.
func (operationIDs) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if c, ok := ctx.Value(clientKey{}).(*wsClient); ok {
		c.bind(oc)
	}
	return nil
}

var _ client = (*wsClient)(nil)

func (c *wsClient) authenticated() {
	c.mu.Lock()
	c.initialized = true
	c.mu.Unlock()
}

func (c *wsClient) websocket() bool { return true }

// drop closes the socket with CloseTooSlow. The close handshake runs in the
// background; a client that stopped reading altogether is cut off within seconds.
func (c *wsClient) drop() { c.close(CloseTooSlow, ReasonTooSlow) }

// revoke closes the socket with CloseForbidden: graphql-ws clients do not reconnect
// with a token that no longer works.
func (c *wsClient) revoke() { c.close(CloseForbidden, ReasonForbidden) }

// close starts the close handshake, the first time only.
func (c *wsClient) close(code int, reason string) {
	c.mu.Lock()
	conn, first := c.conn, !c.closing
	c.closing = true
	c.mu.Unlock()
	if conn != nil && first {
		conn.startClose(code, reason)
	}
}

// wsConn is gqlgen's view of a socket.
type wsConn struct {
	ws     *websocket.Conn
	client *wsClient

	mu           sync.Mutex
	readDeadline *time.Timer
	handshake    bool                // a close handshake is running: it closes the connection
	lastType     string              // of the last message read
	active       map[string]struct{} // ids of the subscriptions running (graphql-transport-ws)
	failed       map[string]struct{} // ids whose operation ended with "error", until gqlgen's "complete"
}

var (
	_ transport.WebsocketConn          = (*wsConn)(nil)
	_ transport.WebsocketReadLimiter   = (*wsConn)(nil)
	_ transport.WebsocketReadDeadliner = (*wsConn)(nil)
)

// NextReader reads the next message.
func (c *wsConn) NextReader() (int, io.Reader, error) {
	typ, data, err := c.ws.Read(context.Background())
	if err != nil {
		switch websocket.CloseStatus(err) {
		case websocket.StatusNormalClosure, websocket.StatusNoStatusRcvd:
			return int(typ), nil, transport.ErrWebsocketClosed
		}
		return int(typ), nil, err
	}
	if c.client != nil {
		// Clients send few messages (init, subscribe, complete, pong): each is looked at.
		var m struct{ ID, Type string }
		err := json.Unmarshal(data, &m)
		if c.ws.Subprotocol() == "graphql-transport-ws" && (err != nil || !clientMessage(m.Type, m.ID)) {
			// The protocol closes with 4400 on a message that is not valid (gqlgen said
			// 1002 before connection_init and 1000 after).
			c.client.close(CloseBadRequest, ReasonInvalidMessage)
			return int(typ), nil, transport.ErrWebsocketClosed
		}
		if err == nil {
			c.mu.Lock()
			c.lastType = m.Type
			c.mu.Unlock()
			switch m.Type {
			case "subscribe":
				if c.ws.Subprotocol() == "graphql-transport-ws" && !c.startID(m.ID) {
					// The protocol closes with 4409 on a subscribe whose id is in use.
					c.client.close(CloseSubscriberExists, "Subscriber for "+m.ID+" already exists")
					return int(typ), nil, transport.ErrWebsocketClosed
				}
				c.client.subscribeRead(m.ID)
			case "complete":
				c.mu.Lock()
				delete(c.active, m.ID)
				c.mu.Unlock()
			}
		}
	}
	return int(typ), bytes.NewReader(data), nil
}

// startID marks id in use by a subscription; false when it is already.
func (c *wsConn) startID(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, used := c.active[id]; used {
		return false
	}
	if c.active == nil {
		c.active = map[string]struct{}{}
	}
	c.active[id] = struct{}{}
	// gqlgen writes the "complete" after a refused subscribe's "error" before it reads
	// the next message; an error that ended a running subscription has none to wait for.
	delete(c.failed, id)
	return true
}

// endID frees id: its operation completed or failed, or the client completed it.
// failed remembers that an "error" ended it; false means the "complete" gqlgen
// sends after that error, not to be sent.
func (c *wsConn) endID(id string, failed bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.active, id)
	if failed {
		if c.failed == nil {
			c.failed = map[string]struct{}{}
		}
		c.failed[id] = struct{}{}
		return true
	}
	if _, ok := c.failed[id]; ok {
		delete(c.failed, id)
		return false
	}
	return true
}

// idAndType reads the id and type of one of gqlgen's protocol messages.
func idAndType(v any) (id, typ string) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return "", ""
	}
	rv = rv.Elem()
	if f := rv.FieldByName("ID"); f.IsValid() && f.Kind() == reflect.String {
		id = f.String()
	}
	if f := rv.FieldByName("Type"); f.IsValid() && f.Kind() == reflect.String {
		typ = f.String()
	}
	return id, typ
}

// clientMessage tells the messages a graphql-transport-ws client may send: its types,
// and an id on those that need one.
func clientMessage(typ, id string) bool {
	switch typ {
	case "connection_init", "ping", "pong":
		return true
	case "subscribe", "complete":
		return id != ""
	}
	return false
}

// WriteJSON writes one message. gqlgen's protocol messages have a payload that it
// encoded already: they are framed as they are, without a second encoding.
func (c *wsConn) WriteJSON(v any) error {
	if id, typ := idAndType(v); id != "" && (typ == "complete" || typ == "error") {
		if !c.endID(id, typ == "error") {
			// gqlgen completes an operation after its "error" too; the protocol says
			// nothing follows an error.
			return nil
		}
	}
	b, ok := frame(v)
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			return err
		}
	}
	return c.ws.Write(context.Background(), websocket.MessageText, b)
}

// WriteClose sends a close frame (the first time only) and closes the connection
// once the client answered or after a few seconds. It does not wait.
func (c *wsConn) WriteClose(code int, reason string) error {
	// gqlgen closes with 1002 where graphql-transport-ws has codes of its own.
	if code == transport.WebsocketCloseProtocolError && c.ws.Subprotocol() == "graphql-transport-ws" {
		c.mu.Lock()
		last := c.lastType
		c.mu.Unlock()
		switch {
		case reason == "connection initialisation timeout":
			code = CloseInitTimeout
		case reason == "unexpected message" && last == "subscribe":
			code, reason = CloseUnauthorized, "Unauthorized"
		case reason == "unexpected message" && last == "connection_init":
			code, reason = CloseTooManyInits, "Too many initialisation requests"
		}
	} else if code == transport.WebsocketCloseProtocolError && reason == "connection initialisation timeout" {
		code = CloseInitTimeout
	}
	c.client.close(code, reason)
	return nil
}

func (c *wsConn) startClose(code int, reason string) {
	c.mu.Lock()
	c.stopReadDeadline()
	c.handshake = true
	c.mu.Unlock()
	go func() { _ = c.ws.Close(websocket.StatusCode(code), reason) }()
}

// Close closes the connection, unless a close handshake will.
func (c *wsConn) Close() error {
	c.mu.Lock()
	c.stopReadDeadline()
	handshake := c.handshake
	c.mu.Unlock()
	if handshake {
		return nil
	}
	return c.ws.CloseNow()
}

// Subprotocol is the protocol the client chose.
func (c *wsConn) Subprotocol() string { return c.ws.Subprotocol() }

// SetReadLimit bounds the size of a client's message.
func (c *wsConn) SetReadLimit(n int64) { c.ws.SetReadLimit(n) }

// SetReadDeadline is how gqlgen drops a client that stops answering pings: the
// connection closes at t unless the deadline moves first.
func (c *wsConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopReadDeadline()
	if !t.IsZero() {
		c.readDeadline = time.AfterFunc(time.Until(t), func() { _ = c.ws.CloseNow() })
	}
	return nil
}

func (c *wsConn) stopReadDeadline() {
	if c.readDeadline != nil {
		c.readDeadline.Stop()
		c.readDeadline = nil
	}
}

// frame encodes gqlgen's protocol messages ({payload, id, type}, the payload being
// JSON that gqlgen produced or decoded) without encoding the payload again; ok is
// false for any other value.
func frame(v any) (b []byte, ok bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return nil, false
	}
	rv = rv.Elem()
	if !isProtocolMessage(rv.Type()) {
		return nil, false
	}
	payload := rv.FieldByName("Payload").Bytes()
	id := rv.FieldByName("ID").String()
	typ := rv.FieldByName("Type").String()
	b = make([]byte, 0, len(payload)+len(id)+len(typ)+32)
	b = append(b, '{')
	if len(payload) > 0 {
		b = append(b, `"payload":`...)
		b = append(b, payload...)
		b = append(b, ',')
	}
	if id != "" {
		b = append(b, `"id":`...)
		b = appendGQLString(b, id)
		b = append(b, ',')
	}
	b = append(b, `"type":`...)
	b = appendGQLString(b, typ)
	return append(b, '}'), true
}

// isProtocolMessage tells gqlgen's message structs: Payload json.RawMessage
// `json:"payload,omitempty"`, ID string `json:"id,omitempty"`, Type (a string kind
// without a MarshalJSON of its own) `json:"type"`.
var isProtocolMessage = func() func(reflect.Type) bool {
	var known sync.Map // reflect.Type -> bool
	raw := reflect.TypeFor[json.RawMessage]()
	return func(t reflect.Type) bool {
		if v, ok := known.Load(t); ok {
			return v.(bool)
		}
		p, okP := t.FieldByName("Payload")
		id, okID := t.FieldByName("ID")
		typ, okT := t.FieldByName("Type")
		ok := okP && okID && okT && p.Type == raw && p.Tag.Get("json") == "payload,omitempty" &&
			id.Type.Kind() == reflect.String && id.Tag.Get("json") == "id,omitempty" &&
			typ.Type.Kind() == reflect.String && typ.Tag.Get("json") == "type" &&
			!typ.Type.Implements(reflect.TypeFor[json.Marshaler]())
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && f.Name != "Payload" && f.Name != "ID" && f.Name != "Type" {
				ok = false // a field this encoder would leave out
			}
		}
		known.Store(t, ok)
		return ok
	}
}()

// sseTransport is gqlgen's SSE transport with a handle on each response, so that a
// subscriber that fell behind is cut off even while a write to it is blocked.
type sseTransport struct{ transport.SSE }

// Do serves one SSE request.
func (t sseTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	c := &sseClient{rc: http.NewResponseController(w)}
	t.SSE.Do(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, c)), exec)
}

type sseClient struct{ rc *http.ResponseController }

var _ client = (*sseClient)(nil)

func (c *sseClient) websocket() bool { return false }

// drop makes every further write fail at once, which ends the response.
func (c *sseClient) drop() { _ = c.rc.SetWriteDeadline(time.Now()) }

// revoke ends the response as drop does.
func (c *sseClient) revoke() { c.drop() }
