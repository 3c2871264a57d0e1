// Package vendortest holds helpers for the adapters' tests: HTTP servers that answer
// with fixtures or misbehave in the ways real networks do. It is imported only by
// _test.go files.
package vendortest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/vendors"
)

// Fixture returns the contents of testdata/name.
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// External returns the contents of vendors/testdata/external/name: a body the vendor
// wrote or another client recorded (see the README there for each file's source).
// It is called from an adapter's directory, one level below vendors/.
func External(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "external", filepath.FromSlash(name)))
	require.NoError(t, err)
	return b
}

// Answer is one canned HTTP answer.
type Answer struct {
	Status int               // 0 = 200
	Header map[string]string // added to the answer
	Body   []byte
}

// ServeHTTP writes the answer.
func (a Answer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	for k, v := range a.Header {
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	status := a.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(a.Body)
}

// Server starts an httptest server for h, closed when the test ends.
func Server(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// Recorder is a handler that remembers every request it answered, then passes it on.
type Recorder struct {
	Next http.Handler

	mu   sync.Mutex
	reqs []*http.Request
}

// ServeHTTP records r and calls Next.
func (rec *Recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, r.Clone(context.Background()))
	rec.mu.Unlock()
	rec.Next.ServeHTTP(w, r)
}

// Requests returns the requests recorded so far.
func (rec *Recorder) Requests() []*http.Request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]*http.Request(nil), rec.reqs...)
}

// Reset closes the connection without answering, as a crashed proxy would.
var Reset http.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("vendortest: the server cannot hijack")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close()
	}
})

// Truncated announces a longer body than it sends, then closes the connection.
var Truncated http.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", "1000")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"data":[{"driver":`))
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	// Returning from the handler closes the connection short of Content-Length.
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
		}
	}
})

// Hang returns a handler that answers only when the client goes away, and a channel
// that receives once per request when it has arrived.
func Hang() (http.Handler, <-chan struct{}) {
	arrived := make(chan struct{}, 16)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-r.Context().Done()
	}), arrived
}

// Oversized answers 200 with a JSON body just over vendors.MaxBodyBytes, streamed
// without a Content-Length so that only the reader's cap can catch it.
var Oversized http.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	chunk := make([]byte, 64<<10)
	for i := range chunk {
		chunk[i] = ' '
	}
	_, _ = w.Write([]byte(`{"data":[`))
	for written := 0; written <= vendors.MaxBodyBytes; written += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
	_, _ = w.Write([]byte(`]}`))
})

// RequireKind asserts that err is a *vendors.Error of kind and returns it.
func RequireKind(t testing.TB, err error, kind vendors.Kind) *vendors.Error {
	t.Helper()
	require.Error(t, err)
	e, ok := vendors.AsError(err)
	require.Truef(t, ok, "want a *vendors.Error, got %T: %v", err, err)
	require.Equalf(t, kind, e.Kind, "error: %v", err)
	return e
}
