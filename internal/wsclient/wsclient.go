// Package wsclient is a small graphql-transport-ws client on coder/websocket, for the
// tests and cmd/subbench (gqlgen's test client speaks only the legacy protocol).
//
// Dial sends connection_init with the token and waits for connection_ack; a reader
// goroutine answers pings and hands each subscription its messages. A subscriber that
// stops reading is simulated with Stall, which parks that goroutine.
package wsclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Protocol is the websocket subprotocol of graphql-transport-ws.
const Protocol = "graphql-transport-ws"

// Message is one protocol message; Received is when the client read it.
type Message struct {
	ID       string          `json:"id,omitempty"`
	Type     string          `json:"type"`
	Payload  json.RawMessage `json:"payload,omitempty"`
	Received time.Time       `json:"-"`
}

// Options tune Dial.
type Options struct {
	// Token goes into connection_init as {"Authorization": "Bearer <token>"};
	// empty sends an empty payload. InitPayload, when set, is sent instead.
	Token       string
	InitPayload map[string]any
	// ReadBuffer, when positive, is the socket's receive buffer (SO_RCVBUF): small
	// values let a stalled client's backlog reach the server quickly.
	ReadBuffer int
	// Buffer is how many messages a subscription holds before the reader waits
	// (256 if 0).
	Buffer int
	// Raw, when set, sees every message after connection_ack first, as it arrived
	// (b is valid only during the call); returning true consumes it: it is neither
	// decoded nor delivered. cmd/subbench keeps the load client's own cost per event
	// low with it.
	Raw func(b []byte, received time.Time) bool
}

// Client is one socket.
type Client struct {
	conn   *websocket.Conn
	tcp    *net.TCPConn // with Options.ReadBuffer
	raw    func([]byte, time.Time) bool
	buffer int
	stall  sync.Mutex
	done   chan struct{}

	mu   sync.Mutex
	subs map[string]chan Message
	next int
	err  error
}

// Dial connects to url (http:// or ws://) and completes connection_init. A refusal
// is an error whose CloseStatus is the server's close code (4403 for a bad token).
func Dial(ctx context.Context, url string, o Options) (*Client, error) {
	opts := &websocket.DialOptions{Subprotocols: []string{Protocol}}
	var tcp *net.TCPConn
	if o.ReadBuffer > 0 {
		d := &net.Dialer{}
		opts.HTTPClient = &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := d.DialContext(ctx, network, addr)
				if tc, ok := c.(*net.TCPConn); ok {
					_ = tc.SetReadBuffer(o.ReadBuffer)
					tcp = tc
				}
				return c, err
			},
		}}
	}
	conn, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	payload := o.InitPayload
	if payload == nil && o.Token != "" {
		payload = map[string]any{"Authorization": "Bearer " + o.Token}
	}
	c := &Client{conn: conn, tcp: tcp, raw: o.Raw, buffer: o.Buffer, done: make(chan struct{}), subs: map[string]chan Message{}}
	if c.buffer <= 0 {
		c.buffer = 256
	}
	if err := c.send(ctx, "", "connection_init", payload); err != nil {
		conn.CloseNow()
		return nil, err
	}
	for {
		m, err := c.read(ctx)
		if err != nil {
			conn.CloseNow()
			return nil, err
		}
		if m.Type == "connection_ack" {
			break
		}
		if m.Type != "ping" && m.Type != "pong" {
			conn.CloseNow()
			return nil, fmt.Errorf("wsclient: want connection_ack, got %q", m.Type)
		}
	}
	go c.readLoop()
	return c, nil
}

func (c *Client) send(ctx context.Context, id, typ string, payload any) error {
	m := map[string]any{"type": typ}
	if id != "" {
		m["id"] = id
	}
	if payload != nil {
		m["payload"] = payload
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return c.conn.Write(ctx, websocket.MessageText, b)
}

func (c *Client) read(ctx context.Context) (Message, error) {
	_, b, err := c.conn.Read(ctx)
	if err != nil {
		return Message{}, err
	}
	m := Message{Received: time.Now()}
	if err := json.Unmarshal(b, &m); err != nil {
		return Message{}, fmt.Errorf("wsclient: bad message %q: %w", b, err)
	}
	return m, nil
}

func (c *Client) readLoop() {
	var err error
	defer func() {
		c.mu.Lock()
		c.err = err
		for id, ch := range c.subs {
			close(ch)
			delete(c.subs, id)
		}
		c.mu.Unlock()
		close(c.done)
	}()
	var buf bytes.Buffer
	for {
		c.stall.Lock() // held by Stall
		//lint:ignore SA2001 waiting for Stall to let go is the point
		c.stall.Unlock()
		var r io.Reader
		if _, r, err = c.conn.Reader(context.Background()); err != nil {
			return
		}
		buf.Reset()
		if _, err = buf.ReadFrom(r); err != nil {
			return
		}
		received := time.Now()
		if c.raw != nil && c.raw(buf.Bytes(), received) {
			continue
		}
		m := Message{Received: received}
		if err = json.Unmarshal(buf.Bytes(), &m); err != nil {
			err = fmt.Errorf("wsclient: bad message %q: %w", buf.Bytes(), err)
			return
		}
		switch m.Type {
		case "ping":
			_ = c.send(context.Background(), "", "pong", nil)
		case "next", "error", "complete":
			c.mu.Lock()
			ch := c.subs[m.ID]
			if m.Type != "next" {
				delete(c.subs, m.ID)
			}
			c.mu.Unlock()
			if ch != nil {
				ch <- m // blocks when the subscriber is behind: backpressure, as a real client
				if m.Type != "next" {
					close(ch)
				}
			}
		}
	}
}

// Subscription is one operation on a Client.
type Subscription struct {
	ID string
	// C receives the operation's next, error and complete messages; it is closed
	// after error or complete, or when the socket closes.
	C <-chan Message
	c *Client
}

// Subscribe starts an operation.
func (c *Client) Subscribe(ctx context.Context, query string, vars map[string]any) (*Subscription, error) {
	ch := make(chan Message, c.buffer)
	c.mu.Lock()
	if c.err != nil || c.isDone() {
		c.mu.Unlock()
		return nil, c.Err()
	}
	c.next++
	id := strconv.Itoa(c.next)
	c.subs[id] = ch
	c.mu.Unlock()
	payload := map[string]any{"query": query}
	if vars != nil {
		payload["variables"] = vars
	}
	if err := c.send(ctx, id, "subscribe", payload); err != nil {
		return nil, err
	}
	return &Subscription{ID: id, C: ch, c: c}, nil
}

// Stop sends complete for the operation.
func (s *Subscription) Stop(ctx context.Context) error { return s.c.send(ctx, s.ID, "complete", nil) }

// Next returns the operation's next message; io errors and the end of the socket
// come back as errors (ErrEnded when the operation ended normally).
func (s *Subscription) Next(ctx context.Context) (Message, error) {
	select {
	case m, ok := <-s.C:
		if !ok {
			if err := s.c.Err(); err != nil {
				return Message{}, err
			}
			return Message{}, ErrEnded
		}
		return m, nil
	case <-ctx.Done():
		return Message{}, ctx.Err()
	}
}

// ErrEnded is Next's error after the operation's error or complete message.
var ErrEnded = errors.New("wsclient: subscription ended")

// Stall makes the client stop reading from the socket (as a frozen client would)
// until Resume.
func (c *Client) Stall() { c.stall.Lock() }

// Resume undoes Stall (and lifts Options.ReadBuffer, to catch up quickly).
func (c *Client) Resume() {
	if c.tcp != nil {
		_ = c.tcp.SetReadBuffer(1 << 20)
	}
	c.stall.Unlock()
}

// Done is closed when the socket has closed.
func (c *Client) Done() <-chan struct{} { return c.done }

func (c *Client) isDone() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Err is why the socket closed (nil while open): CloseStatus and CloseReason read it.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// CloseStatus is the close code the server sent, -1 if none (yet).
func CloseStatus(err error) int { return int(websocket.CloseStatus(err)) }

// CloseReason is the reason the server sent with its close frame.
func CloseReason(err error) string {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Reason
	}
	return ""
}

// Close closes the socket normally.
func (c *Client) Close() error { return c.conn.Close(websocket.StatusNormalClosure, "") }

// CloseNow closes the socket without a close handshake.
func (c *Client) CloseNow() error { return c.conn.CloseNow() }
