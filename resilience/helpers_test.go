package resilience_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/resilience"
	"github.com/sallyhq/sally/vendors"
)

// step is one scripted answer of the flaky server.
type step struct {
	status     int           // HTTP status; 0 means 200
	retryAfter string        // Retry-After header, if any
	reset      bool          // close the connection without answering
	malformed  bool          // 200 with a body that is not JSON
	hang       bool          // wait until the client goes away
	latency    time.Duration // wait before answering
}

// flakyServer answers with a scripted sequence of steps; after the script ends it
// repeats the last step. It counts requests and the most it saw in flight at once,
// and keeps when each request arrived.
type flakyServer struct {
	*httptest.Server
	t *testing.T

	mu          sync.Mutex
	script      []step
	arrivals    []time.Time
	inFlight    int
	maxInFlight int
}

func newFlakyServer(t *testing.T, script ...step) *flakyServer {
	t.Helper()
	s := &flakyServer{t: t, script: script}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *flakyServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	n := len(s.arrivals)
	s.arrivals = append(s.arrivals, time.Now())
	st := step{}
	if len(s.script) > 0 {
		st = s.script[min(n, len(s.script)-1)]
	}
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()

	if st.latency > 0 {
		select {
		case <-time.After(st.latency):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case st.hang:
		<-r.Context().Done()
		return
	case st.reset:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			s.t.Errorf("hijack: %v", err)
			return
		}
		if tcp, ok := conn.(*net.TCPConn); ok {
			_ = tcp.SetLinger(0) // RST instead of FIN
		}
		_ = conn.Close()
		return
	case st.malformed:
		_, _ = io.WriteString(w, `{"data": [`)
		return
	}
	if st.retryAfter != "" {
		w.Header().Set("Retry-After", st.retryAfter)
	}
	status := st.status
	if status == 0 {
		status = http.StatusOK
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if status == http.StatusOK {
		_, _ = io.WriteString(w, `{"data": []}`)
	} else {
		_, _ = fmt.Fprintf(w, `{"message": "scripted %d"}`, status)
	}
}

// requests returns how many requests arrived.
func (s *flakyServer) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.arrivals)
}

// gaps returns the time between consecutive arrivals.
func (s *flakyServer) gaps() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var g []time.Duration
	for i := 1; i < len(s.arrivals); i++ {
		g = append(g, s.arrivals[i].Sub(s.arrivals[i-1]))
	}
	return g
}

func (s *flakyServer) peakInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// call returns a vendor call against the server: a tiny adapter that turns answers
// into vendors.Error the way the real adapters do. Keep-alives are off so Go's
// transport never silently retries a request on a reused connection.
func (s *flakyServer) call() func(ctx context.Context) error {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/v1/drivers", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			switch {
			case errors.Is(err, context.Canceled):
				return &vendors.Error{Kind: vendors.KindCanceled, Vendor: "samsara", Err: err}
			case errors.Is(err, context.DeadlineExceeded):
				return &vendors.Error{Kind: vendors.KindTimeout, Vendor: "samsara", Err: err}
			}
			return &vendors.Error{Kind: vendors.KindNetwork, Vendor: "samsara", Err: err}
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return &vendors.Error{Kind: vendors.KindNetwork, Vendor: "samsara", Status: resp.StatusCode, Err: err}
		}
		e := &vendors.Error{Vendor: "samsara", Status: resp.StatusCode}
		switch {
		case resp.StatusCode == http.StatusOK:
			if !json.Valid(body) {
				e.Kind = vendors.KindBadResponse
				return e
			}
			return nil
		case resp.StatusCode == http.StatusUnauthorized:
			e.Kind = vendors.KindUnauthorized
		case resp.StatusCode == http.StatusForbidden:
			e.Kind = vendors.KindForbidden
		case resp.StatusCode == http.StatusNotFound:
			e.Kind = vendors.KindNotFound
		case resp.StatusCode == http.StatusTooManyRequests:
			e.Kind = vendors.KindRateLimited
		case resp.StatusCode >= 500:
			e.Kind = vendors.KindUnavailable
		default:
			e.Kind = vendors.KindBadRequest
		}
		if d, ok := vendors.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			e.RetryAfter = d
		}
		return e
	}
}

// fastConfig has millisecond delays so tests run quickly.
func fastConfig() resilience.Config {
	return resilience.Config{
		MaxAttempts:      3,
		BaseDelay:        time.Millisecond,
		MaxDelay:         5 * time.Millisecond,
		MaxRetryAfter:    time.Second,
		AttemptTimeout:   2 * time.Second,
		MaxTotal:         10 * time.Second,
		FailureThreshold: 5,
		OpenDelay:        time.Hour,
		MaxConcurrent:    16,
		MaxWait:          time.Second,
	}
}

// transitions records breaker transitions as "FROM>TO".
type transitions struct {
	mu   sync.Mutex
	seen []string
}

func (tr *transitions) record(from, to resilience.State) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.seen = append(tr.seen, string(from)+">"+string(to))
}

func (tr *transitions) get() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.seen...)
}

// setup bundles what most policy tests need: a flaky server, a policy and the
// transitions it reported.
type setup struct {
	server *flakyServer
	policy *resilience.Policy
	trans  *transitions
}

func newSetup(t *testing.T, cfg resilience.Config, script ...step) *setup {
	t.Helper()
	s := &setup{server: newFlakyServer(t, script...), trans: &transitions{}}
	s.policy = resilience.New(resilience.Options{
		Vendor:        "samsara",
		Config:        cfg,
		OnStateChange: s.trans.record,
	})
	return s
}

// do runs one Do against the server.
func (s *setup) do(t *testing.T) (int, error) {
	t.Helper()
	return s.policy.Do(context.Background(), s.server.call(), resilience.Hooks{})
}

// requireClass fails unless err classifies as want.
func requireClass(t *testing.T, err error, want resilience.Class) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, want, resilience.Classify(err), "error: %v", err)
}
