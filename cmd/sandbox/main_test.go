package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe to read while run writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func getenv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// run serves the sandbox under /sandbox/ on the port asked for, then stops cleanly.
func TestRun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr syncBuffer
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"-drivers", "40", "-loads", "5", "-latency-median", "2ms", "-latency-p99", "20ms"}, getenv(map[string]string{"PORT": "0"}), &stdout, &stderr)
	}()

	var base string
	re := regexp.MustCompile(`(http://localhost:\d+/sandbox)`)
	require.Eventually(t, func() bool {
		m := re.FindStringSubmatch(stdout.String())
		if m == nil {
			return false
		}
		base = m[1]
		return true
	}, 10*time.Second, 10*time.Millisecond, "no address printed; stderr: %s", stderr.String())

	get := func(path string, header ...string) (int, string) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+path, nil)
		require.NoError(t, err)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	status, body := get("/samsara/fleet/drivers?limit=512", "Authorization", "Bearer demo")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 40, strings.Count(body, `"driverActivationStatus"`))
	status, body = get("/_control/fleet")
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, `{"drivers":40,"loads":5,"withoutClocks":0,"disconnected":0,"inViolation":0}`, body)
	status, _ = get("/truckbase/loads?status=active", "X-API-Key", "demo", "X-API-Secret", "demo-secret")
	require.Equal(t, http.StatusOK, status)
	resp, err := http.Get(strings.TrimSuffix(base, "/sandbox") + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	cancel()
	select {
	case err := <-errc:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
}

func TestRunRejectsBadSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"PortNotANumber", nil, map[string]string{"PORT": "http"}},
		{"PortOutOfRange", []string{"-port", "70000"}, nil},
		{"UnknownFlag", []string{"-verbose"}, nil},
		{"ExtraArgument", []string{"serve"}, nil},
		{"TooManyDrivers", []string{"-drivers", "100001"}, nil},
		{"NegativeLoads", []string{"-loads", "-1"}, nil},
		{"BadLogLevel", []string{"-log-level", "loud"}, nil},
		{"NegativeLatency", []string{"-latency-median", "-5ms"}, nil},
		{"P99BelowMedian", []string{"-latency-median", "100ms", "-latency-p99", "50ms"}, nil},
		{"LatencyTooLong", []string{"-latency-median", "1s", "-latency-p99", "2m"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out syncBuffer
			err := run(t.Context(), tt.args, getenv(tt.env), &out, &out)
			require.Error(t, err)
		})
	}
}
