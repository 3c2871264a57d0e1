package graph_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain ends the package's tests with a goroutine-leak check (gqlgen's chat_test
// idea, without goleak): once every test and its cleanups are done, nothing they
// started — servers, connections, pools, subscriptions — may still run.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := settledGoroutines(10 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutines leaked by the tests:\n\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// settledGoroutines waits up to limit for the goroutines other than this one to end
// (closing connections and servers takes a moment) and returns the stacks of those
// still running, "" when none are.
func settledGoroutines(limit time.Duration) string {
	deadline := time.Now().Add(limit)
	for {
		leaked := otherGoroutines()
		if len(leaked) == 0 {
			return ""
		}
		if time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func otherGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 { // this goroutine
			continue
		}
		if strings.Contains(g, "testing.(*M).") || strings.Contains(g, "runtime.ensureSigM") ||
			strings.Contains(g, "os/signal.signal_recv") {
			continue
		}
		out = append(out, g)
	}
	return out
}
