package vendors

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
)

// RequestCounter counts the sends of the HTTP request that Requester makes under one
// context, and bounds them. It exists because net/http's Transport re-sends a GET by
// itself, inside one Client.Do, when a reused keep-alive connection fails before the
// first byte of the answer (see persistConn.shouldRetryRequest): a retry policy that
// counts calls would count those re-sends as nothing.
type RequestCounter struct {
	limit int // most sends; 0: no bound

	mu      sync.Mutex
	n       int  // the first send and each re-send
	waiting bool // the last send has no answer yet: another one is a re-send
	stopped bool // a re-send was refused at the limit
	dropped bool // ...on a connection closed before the write: nothing went out
	status  int  // the HTTP status of the last answer; 0 before one arrives
}

type requestCounterKey struct{}

// WithRequestCounter returns ctx with a new RequestCounter, meant for one try of a
// vendor call. Every send of a request Requester makes under the returned context is
// counted, the Transport's hidden re-sends included, and a re-send that would pass
// limit (0: no bound) is refused, which fails the request with KindNetwork. With
// limit 1 the request goes on a new connection: on a reused one, a stale connection
// would fail it and the re-send that usually cures this is not allowed.
func WithRequestCounter(ctx context.Context, limit int) (context.Context, *RequestCounter) {
	c := &RequestCounter{limit: max(limit, 0)}
	return context.WithValue(ctx, requestCounterKey{}, c), c
}

// Requests returns how many times the request was written to a connection: once,
// plus once per re-send, or 0 when it never was (a failed dial). A redirect that was
// followed is part of the same send. A send whose connection broke before its bytes
// left is counted too.
func (c *RequestCounter) Requests() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// Status returns the HTTP status of the last answer a request counted here
// received, or 0 when none arrived.
func (c *RequestCounter) Status() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

func (c *RequestCounter) gotStatus(code int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status = code
}

func requestCounterFrom(ctx context.Context) *RequestCounter {
	c, _ := ctx.Value(requestCounterKey{}).(*RequestCounter)
	return c
}

// errRequestLimit cancels a request whose Transport re-send the counter refused.
var errRequestLimit = errors.New("request limit reached")

// trace counts sends and refuses the connection of a re-send past the limit: the
// Transport gets a connection before every send, and only re-sends when no byte of
// an answer came (a write after an answer is a redirect).
func (c *RequestCounter) trace(cancel context.CancelCauseFunc) *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			c.mu.Lock()
			refuse := c.waiting && c.limit > 0 && c.n >= c.limit && !c.stopped
			if refuse {
				c.stopped = true
				c.dropped = !isHTTP2(info.Conn)
			}
			drop := refuse && c.dropped
			c.mu.Unlock()
			if !refuse {
				return
			}
			// The Transport looks at the context before a re-send, but then writes on
			// the connection it got without looking: closing an HTTP/1 connection (the
			// request's alone) makes sure nothing goes out. An HTTP/2 one is shared:
			// the cancel has to do, and HTTP/2 only re-sends what the server refused
			// unprocessed.
			cancel(errRequestLimit)
			if drop {
				_ = info.Conn.Close()
			}
		},
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err != nil {
				return
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			switch {
			case c.dropped:
			case c.waiting:
				c.n++ // a re-send
			case c.n == 0:
				c.n = 1
			}
			c.waiting = true
		},
		GotFirstResponseByte: func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.waiting = false
		},
	}
}

func isHTTP2(conn net.Conn) bool {
	tc, ok := conn.(interface{ ConnectionState() tls.ConnectionState })
	return ok && tc.ConnectionState().NegotiatedProtocol == "h2"
}

// freshClient returns a copy of c whose Transport keeps no connection alive, so that
// the Transport never re-sends: it only does on a reused connection. It is built for
// the request at hand: only a try with one request of budget left (after failures,
// or with MaxAttempts 1) and a connection test take this path, and a Transport that
// keeps nothing alive holds nothing once the request is done. A Transport that is not
// an *http.Transport cannot be copied; c is returned as it is.
func freshClient(c *http.Client) *http.Client {
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	t, ok := rt.(*http.Transport)
	if !ok {
		return c
	}
	t = t.Clone()
	t.DisableKeepAlives = true
	return &http.Client{Transport: t, CheckRedirect: c.CheckRedirect, Jar: c.Jar, Timeout: c.Timeout}
}
