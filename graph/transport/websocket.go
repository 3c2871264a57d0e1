package transport

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	gqltransport "github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/sallyhq/sally/apierr"
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
func init() { errcode.RegisterErrorType(apierr.CodeBadUserInput, errcode.KindProtocol) }

// InitTimeout is how long a new socket may take to send connection_init.
const InitTimeout = 10 * time.Second

// SocketWriteBuffer caps the kernel's send buffer of a subscription socket (Linux
// doubles it). Without a cap the kernel grows it to megabytes for a client that
// stopped reading, so that the events' own bound (event.DefaultBuffer) would trip
// only thousands of events later, and the close frame that says why would sit
// behind megabytes the client may never read.
const SocketWriteBuffer = 64 << 10

// Client is a subscriber's connection, as far as ending it goes.
type Client interface {
	// Drop ends the connection of a subscriber that fell too far behind. It must not
	// block: it is called from the publisher's goroutine.
	Drop()
	// Websocket tells the socket apart from an SSE response.
	Websocket() bool
	// Revoke ends the connection of a subscriber whose session ended (user
	// deactivated or deleted, password changed). It must not block.
	Revoke()
}

// clientKey holds the client of a subscription request in its context.
type clientKey struct{}

// ClientFrom returns the connection a subscription request came on; nil when it came
// on none of this package's transports.
func ClientFrom(ctx context.Context) Client {
	c, _ := ctx.Value(clientKey{}).(Client)
	return c
}

// SocketFrom returns the websocket an operation came on; nil for any other transport.
func SocketFrom(ctx context.Context) *Socket {
	c, _ := ctx.Value(clientKey{}).(*Socket)
	return c
}

// websocketTransport is gqlgen's websocket transport on a connection adapter of our
// own (websocketAccepter): each socket is known to its subscriptions, which can close
// it with a code of their own (gqlgen only closes with 1000 from inside), no socket
// outlives a connection_init that gqlgen gave up on without closing it, and messages
// are written without encoding their payload twice.
type websocketTransport struct{ gqltransport.Websocket }

func newWebsocket(init gqltransport.WebsocketInitFunc, origins []string, ping time.Duration) websocketTransport {
	return websocketTransport{gqltransport.Websocket{
		Implementation:   websocketAccepter{websocket.AcceptOptions{OriginPatterns: origins}},
		PingPongInterval: ping,
		InitFunc: func(ctx context.Context, p gqltransport.InitPayload) (context.Context, *gqltransport.InitPayload, error) {
			ctx, ack, err := init(ctx, p)
			if s := SocketFrom(ctx); s != nil && err == nil {
				s.authenticated()
			}
			return ctx, ack, err
		},
		InitTimeout: InitTimeout,
	}}
}

// Do serves one socket.
func (t websocketTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	c := &Socket{}
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
// adapter, which this one follows) and records each in its request's Socket.
type websocketAccepter struct{ opts websocket.AcceptOptions }

// Accept upgrades the request.
func (a websocketAccepter) Accept(w http.ResponseWriter, r *http.Request, opts gqltransport.WebsocketAcceptOptions) (gqltransport.WebsocketConn, error) {
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
	c, ok := r.Context().Value(clientKey{}).(*Socket)
	if !ok {
		c = &Socket{}
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

// Socket is one socket, as its subscriptions see it.
type Socket struct {
	mu          sync.Mutex
	conn        *wsConn
	initialized bool // connection_init was accepted
	closing     bool // a close frame was sent (or is being sent)
	// The protocol ids of operations: the last subscribe message read, then each
	// operation's (see OperationIDs).
	pendingID string
	ids       map[*graphql.OperationContext]string
}

// maxPendingIDs bounds the ids of operations that were never taken (refused
// by a later OperationContextMutator).
const maxPendingIDs = 64

func (c *Socket) subscribeRead(id string) {
	c.mu.Lock()
	c.pendingID = id
	c.mu.Unlock()
}

// bind gives oc the id of the subscribe message being handled.
func (c *Socket) bind(oc *graphql.OperationContext) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil || len(c.ids) >= maxPendingIDs {
		c.ids = map[*graphql.OperationContext]string{}
	}
	c.ids[oc] = c.pendingID
}

// TakeID returns (and forgets) the protocol id of oc, "" when unknown.
func (c *Socket) TakeID(oc *graphql.OperationContext) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.ids[oc]
	delete(c.ids, oc)
	return id
}

// TransportWS tells a graphql-transport-ws socket from a legacy graphql-ws one.
func (c *Socket) TransportWS() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn != nil && c.conn.ws.Subprotocol() == "graphql-transport-ws"
}

// messageBuffers hold next messages while they are written: one per subscriber and
// event would be most of the fan-out's garbage.
var messageBuffers = sync.Pool{New: func() any { return new([]byte) }}

// WriteNext sends payload ({"data":…}, JSON already) to operation id as a next
// message, as gqlgen would frame it but without encoding the payload again: one
// rendering of an event goes out to every socket that selected the same.
func (c *Socket) WriteNext(id string, payload []byte) error {
	bp := messageBuffers.Get().(*[]byte)
	b := append((*bp)[:0], `{"payload":`...)
	b = append(b, payload...)
	b = append(b, `,"id":`...)
	b = AppendString(b, id)
	b = append(b, `,"type":"next"}`...)
	err := c.write(b) // copies b before it returns
	if cap(b) <= 64<<10 {
		*bp = b
		messageBuffers.Put(bp)
	}
	return err
}

// write sends one message as it is (a frame of a subscription's operation).
func (c *Socket) write(b []byte) error {
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	if conn == nil {
		return net.ErrClosed
	}
	return conn.ws.Write(context.Background(), websocket.MessageText, b)
}

// OperationIDs tells each operation on a socket its protocol id, which gqlgen keeps
// to itself, so that a subscription (graph's renderLive) can write its own next
// messages (Socket.WriteNext). gqlgen reads a subscribe message and creates its
// operation context on one goroutine, in that order: the id read last is the one of
// the operation being created.
//
// Register it with the server's Use after the mutators that may refuse an operation.
type OperationIDs struct{}

var (
	_ graphql.HandlerExtension        = OperationIDs{}
	_ graphql.OperationContextMutator = OperationIDs{}
)

// ExtensionName names the extension.
func (OperationIDs) ExtensionName() string { return "OperationIDs" }

// Validate accepts any schema.
func (OperationIDs) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext records the operation's id.
func (OperationIDs) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if c, ok := ctx.Value(clientKey{}).(*Socket); ok {
		c.bind(oc)
	}
	return nil
}

var _ Client = (*Socket)(nil)

func (c *Socket) authenticated() {
	c.mu.Lock()
	c.initialized = true
	c.mu.Unlock()
}

// Websocket is true: the client is a socket.
func (c *Socket) Websocket() bool { return true }

// Drop closes the socket with CloseTooSlow. The close handshake runs in the
// background; a client that stopped reading altogether is cut off within seconds.
func (c *Socket) Drop() { c.close(CloseTooSlow, ReasonTooSlow) }

// Revoke closes the socket with CloseForbidden: graphql-ws clients do not reconnect
// with a token that no longer works.
func (c *Socket) Revoke() { c.close(CloseForbidden, ReasonForbidden) }

// close starts the close handshake, the first time only.
func (c *Socket) close(code int, reason string) {
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
	client *Socket

	mu           sync.Mutex
	readDeadline *time.Timer
	handshake    bool                // a close handshake is running: it closes the connection
	lastType     string              // of the last message read
	active       map[string]struct{} // ids of the subscriptions running (graphql-transport-ws)
	failed       map[string]struct{} // ids whose operation ended with "error", until gqlgen's "complete"
}

var (
	_ gqltransport.WebsocketConn          = (*wsConn)(nil)
	_ gqltransport.WebsocketReadLimiter   = (*wsConn)(nil)
	_ gqltransport.WebsocketReadDeadliner = (*wsConn)(nil)
)

// NextReader reads the next message.
func (c *wsConn) NextReader() (int, io.Reader, error) {
	typ, data, err := c.ws.Read(context.Background())
	if err != nil {
		switch websocket.CloseStatus(err) {
		case websocket.StatusNormalClosure, websocket.StatusNoStatusRcvd:
			return int(typ), nil, gqltransport.ErrWebsocketClosed
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
			return int(typ), nil, gqltransport.ErrWebsocketClosed
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
					return int(typ), nil, gqltransport.ErrWebsocketClosed
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
	if code == gqltransport.WebsocketCloseProtocolError && c.ws.Subprotocol() == "graphql-transport-ws" {
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
	} else if code == gqltransport.WebsocketCloseProtocolError && reason == "connection initialisation timeout" {
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
		b = AppendString(b, id)
		b = append(b, ',')
	}
	b = append(b, `"type":`...)
	b = AppendString(b, typ)
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
