package gqlclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Subprotocol is the websocket subprotocol of the subscription endpoint.
const Subprotocol = "graphql-transport-ws"

// closeForbidden is the close code a server sends for a missing, bad or expired token
// in connection_init (graphql-transport-ws 4403).
const closeForbidden = 4403

// Defaults of EventsOptions.
const (
	DefaultMinBackoff  = 500 * time.Millisecond
	DefaultMaxBackoff  = 15 * time.Second
	DefaultIdleTimeout = 45 * time.Second // the server pings every 10 s
	DefaultDialTimeout = 10 * time.Second
)

// EventsOptions tune Events; the zero value uses the defaults.
type EventsOptions struct {
	// IntegrationID limits the feed to one integration; nil means the whole tenant.
	IntegrationID *string
	// MinBackoff and MaxBackoff bound the wait between reconnection attempts; it
	// doubles per failed attempt, with jitter.
	MinBackoff, MaxBackoff time.Duration
	// IdleTimeout is how long a connection may stay silent (no event, no ping) before
	// it is taken for dead and replaced.
	IdleTimeout time.Duration
	// DialTimeout bounds connecting and the connection_init handshake.
	DialTimeout time.Duration
}

// ConnState is the subscription's connection as the UI shows it.
type ConnState struct {
	// Online is true from the server's connection_ack until the connection is lost.
	Online bool
	// Attempt counts the failed connection attempts since the last success.
	Attempt int
	// RetryIn is the wait before the next attempt (when offline).
	RetryIn time.Duration
	// Err is why the connection was lost or could not be made (when offline).
	Err error
}

// Event is one event of the SyncEvents subscription.
type Event = SyncEventFields

// Events runs the SyncEvents subscription until ctx ends: it connects, reports each
// event to onEvent and each change of the connection to onState, and when the server
// or the network goes away it reconnects by itself with exponential backoff. Events
// published while it was offline are not replayed: callers refresh their state when
// onState reports Online again. It returns nil when ctx ends and ErrUnauthenticated
// when the server refuses the token (log in again, then call Events again).
// onEvent and onState run on Events' goroutine, one at a time.
func (c *Client) Events(ctx context.Context, opts EventsOptions, onEvent func(Event), onState func(ConnState)) error {
	opts = opts.withDefaults()
	attempt := 0
	for {
		err := c.subscribeOnce(ctx, opts, onEvent, func() {
			attempt = 0
			onState(ConnState{Online: true})
		})
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrUnauthenticated) {
			onState(ConnState{Err: err})
			return err
		}
		attempt++
		wait := Backoff(attempt, opts.MinBackoff, opts.MaxBackoff)
		onState(ConnState{Attempt: attempt, RetryIn: wait, Err: err})
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

func (o EventsOptions) withDefaults() EventsOptions {
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(DefaultMaxBackoff, o.MinBackoff)
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	return o
}

// Backoff is the wait before reconnection attempt n (1-based): min doubled per
// attempt, capped at max, minus up to a quarter of jitter so that many desktops do
// not reconnect in step.
func Backoff(n int, minWait, maxWait time.Duration) time.Duration {
	d := minWait
	for i := 1; i < n && d < maxWait; i++ {
		d *= 2
	}
	d = min(d, maxWait)
	return d - time.Duration(rand.Int64N(int64(d)/4+1))
}

// wsMessage is a graphql-transport-ws message.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// subscribeOnce runs one connection: handshake, subscribe, then read until it fails
// or ctx ends. up is called once the server acknowledged the connection.
func (c *Client) subscribeOnce(ctx context.Context, opts EventsOptions, onEvent func(Event), up func()) error {
	dctx, cancel := context.WithTimeout(ctx, opts.DialTimeout)
	defer cancel()
	conn, _, err := websocket.Dial(dctx, c.ws, &websocket.DialOptions{
		Subprotocols: []string{Subprotocol},
	})
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	if conn.Subprotocol() != Subprotocol {
		return fmt.Errorf("the server does not speak %s", Subprotocol)
	}

	init, _ := json.Marshal(map[string]string{"Authorization": "Bearer " + c.Token()})
	if err := writeMsg(dctx, conn, wsMessage{Type: "connection_init", Payload: init}); err != nil {
		return err
	}
	for acked := false; !acked; {
		m, err := readMsg(dctx, conn)
		if err != nil {
			return err
		}
		switch m.Type {
		case "connection_ack":
			acked = true
		case "ping":
			if err := writeMsg(dctx, conn, wsMessage{Type: "pong"}); err != nil {
				return err
			}
		}
	}

	vars, err := json.Marshal(map[string]any{"integrationId": opts.IntegrationID})
	if err != nil {
		return err
	}
	req, err := json.Marshal(struct {
		OperationName string          `json:"operationName"`
		Query         string          `json:"query"`
		Variables     json.RawMessage `json:"variables"`
	}{"SyncEvents", SyncEvents_Operation, vars})
	if err != nil {
		return err
	}
	const id = "1"
	if err := writeMsg(dctx, conn, wsMessage{ID: id, Type: "subscribe", Payload: req}); err != nil {
		return err
	}
	up()

	for {
		rctx, cancel := context.WithTimeout(ctx, opts.IdleTimeout)
		m, err := readMsg(rctx, conn)
		idle := rctx.Err() != nil && ctx.Err() == nil
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				_ = conn.Close(websocket.StatusNormalClosure, "")
				return ctx.Err()
			}
			if idle {
				return fmt.Errorf("no message from the server for %s", opts.IdleTimeout)
			}
			return err
		}
		switch m.Type {
		case "ping":
			if err := writeMsg(ctx, conn, wsMessage{Type: "pong"}); err != nil {
				return err
			}
		case "next":
			if m.ID != id {
				continue
			}
			var resp graphql.BaseResponse[*SyncEventsResponse]
			if err := json.Unmarshal(m.Payload, &resp); err != nil {
				return fmt.Errorf("decode event: %w", err)
			}
			if len(resp.Errors) > 0 {
				return subscriptionError(resp.Errors)
			}
			if resp.Data != nil {
				onEvent(resp.Data.SyncEvents.SyncEventFields)
			}
		case "error":
			var errs gqlerror.List
			if err := json.Unmarshal(m.Payload, &errs); err != nil {
				return fmt.Errorf("subscription failed: %s", m.Payload)
			}
			return subscriptionError(errs)
		case "complete":
			return errors.New("the server ended the subscription")
		}
	}
}

func subscriptionError(errs gqlerror.List) error {
	if Code(errs) == CodeUnauthenticated {
		return fmt.Errorf("%w (%s)", ErrUnauthenticated, Message(errs))
	}
	return errs
}

func writeMsg(ctx context.Context, conn *websocket.Conn, m wsMessage) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
		return wsError(err)
	}
	return nil
}

func readMsg(ctx context.Context, conn *websocket.Conn) (wsMessage, error) {
	_, b, err := conn.Read(ctx)
	if err != nil {
		return wsMessage{}, wsError(err)
	}
	var m wsMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return wsMessage{}, fmt.Errorf("bad message from the server: %w", err)
	}
	return m, nil
}

// wsError maps the server's 4403 close to ErrUnauthenticated.
func wsError(err error) error {
	if websocket.CloseStatus(err) == closeForbidden {
		return ErrUnauthenticated
	}
	return err
}
