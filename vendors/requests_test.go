package vendors_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/vendors"
	"github.com/sallyhq/sally/vendors/internal/vendortest"
)

// resetServer answers {} until armed, then closes the connection without answering
// (RST) for the next resets requests (all when < 0). On a reused keep-alive
// connection, that is what makes net/http's Transport re-send a GET by itself.
type resetServer struct {
	*httptest.Server
	mu     sync.Mutex
	armed  bool
	resets int
	seen   int // requests since armed
	hold   *sync.WaitGroup
}

func newResetServer(t *testing.T) *resetServer {
	t.Helper()
	s := &resetServer{}
	s.Server = vendortest.Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		reset, hold := s.armed && s.resets != 0, s.hold
		if s.armed {
			s.seen++
			s.resets--
		}
		s.mu.Unlock()
		if reset {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				panic(http.ErrAbortHandler)
			}
			_ = conn.(*net.TCPConn).SetLinger(0)
			_ = conn.Close()
			return
		}
		if hold != nil {
			hold.Done()
			hold.Wait() // each warm-up request keeps its connection until all are in
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	return s
}

// warm leaves n idle keep-alive connections to the server in client's pool.
func (s *resetServer) warm(t *testing.T, client *http.Client, n int) {
	t.Helper()
	var hold, done sync.WaitGroup
	hold.Add(n)
	s.mu.Lock()
	s.hold = &hold
	s.mu.Unlock()
	for range n {
		done.Go(func() {
			r := &vendors.Requester{Vendor: "samsara", Client: client}
			if err := r.Get(context.Background(), s.URL, func([]byte) error { return nil }); err != nil {
				t.Errorf("warm-up: %v", err)
			}
		})
	}
	done.Wait()
	s.mu.Lock()
	s.hold = nil
	s.mu.Unlock()
}

func (s *resetServer) arm(resets int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.armed, s.resets, s.seen = true, resets, 0
}

func (s *resetServer) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen
}

func TestRequestCounter(t *testing.T) {
	t.Parallel()

	// get makes one Get under a counter with limit, over a client with idle kept
	// connections, and reports whether the first request went on a reused one.
	get := func(t *testing.T, s *resetServer, client *http.Client, limit int) (counter *vendors.RequestCounter, reused bool, err error) {
		t.Helper()
		var first atomic.Bool
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) {
				if first.CompareAndSwap(false, true) {
					reused = info.Reused
				}
			},
		})
		r := &vendors.Requester{
			Vendor: "samsara",
			Client: client,
			Do: func(ctx context.Context, call func(ctx context.Context) error) error {
				ctx, counter = vendors.WithRequestCounter(ctx, limit)
				return call(ctx)
			},
		}
		err = r.Get(ctx, s.URL, func([]byte) error { return nil })
		return counter, reused, err
	}
	newClient := func(t *testing.T) *http.Client {
		c := vendors.NewHTTPClient()
		t.Cleanup(c.CloseIdleConnections)
		return c
	}

	t.Run("CountsTheTransportsResend", func(t *testing.T) {
		t.Parallel()
		s, client := newResetServer(t), newClient(t)
		s.warm(t, client, 1)
		s.arm(1)

		counter, reused, err := get(t, s, client, 0)

		require.NoError(t, err)
		require.True(t, reused)
		require.Equal(t, 2, s.requests(), "the Transport re-sent the request")
		require.Equal(t, 2, counter.Requests())
	})

	t.Run("RefusesAResendPastTheLimit", func(t *testing.T) {
		t.Parallel()
		s, client := newResetServer(t), newClient(t)
		s.warm(t, client, 4)
		s.arm(-1)

		counter, reused, err := get(t, s, client, 2)

		e := vendortest.RequireKind(t, err, vendors.KindNetwork)
		require.Equal(t, "connection closed before an answer", e.Message)
		require.True(t, reused)
		require.Equal(t, 2, s.requests(), "not one per kept connection, and one more")
		require.Equal(t, 2, counter.Requests())
	})

	t.Run("LimitOneTakesANewConnection", func(t *testing.T) {
		t.Parallel()
		s, client := newResetServer(t), newClient(t)
		s.warm(t, client, 1)
		s.arm(-1)

		counter, reused, err := get(t, s, client, 1)

		vendortest.RequireKind(t, err, vendors.KindNetwork)
		require.False(t, reused)
		require.Equal(t, 1, s.requests())
		require.Equal(t, 1, counter.Requests())

		// The kept connection was left alone for the next calls.
		s.arm(0)
		counter, reused, err = get(t, s, client, 0)
		require.NoError(t, err)
		require.True(t, reused)
		require.Equal(t, 1, counter.Requests())
	})

	t.Run("ARedirectIsNotAResend", func(t *testing.T) {
		t.Parallel()
		var hits atomic.Int32
		srv := vendortest.Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			if r.URL.Path == "/old" {
				http.Redirect(w, r, "/new", http.StatusFound)
				return
			}
			_, _ = w.Write([]byte(`{}`))
		}))
		var counter *vendors.RequestCounter
		r := &vendors.Requester{
			Vendor: "samsara",
			Client: newClient(t),
			Do: func(ctx context.Context, call func(ctx context.Context) error) error {
				ctx, counter = vendors.WithRequestCounter(ctx, 1)
				return call(ctx)
			},
		}

		require.NoError(t, r.Get(context.Background(), srv.URL+"/old", func([]byte) error { return nil }))
		require.Equal(t, int32(2), hits.Load())
		require.Equal(t, 1, counter.Requests())
	})

	t.Run("FailedDialSendsNothing", func(t *testing.T) {
		t.Parallel()
		s, client := newResetServer(t), newClient(t)
		s.Close()

		counter, _, err := get(t, s, client, 3)

		vendortest.RequireKind(t, err, vendors.KindNetwork)
		require.Equal(t, 0, counter.Requests())
	})
}
