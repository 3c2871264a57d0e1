// Command sandbox serves the fake vendor APIs on their own, mounted under /sandbox/
// exactly as the server mounts them, so that a server started with the real-vendor
// settings (SANDBOX=false) can be pointed at it by URL, e.g.
// SAMSARA_API_URL=http://localhost:8090/sandbox/samsara.
//
// Usage:
//
//	go run ./cmd/sandbox [-port 8090] [-drivers 25] [-loads 10] [-log-level info]
//	                     [-latency-median 0] [-latency-p99 0]
//
// With -latency-median (and -latency-p99, at least the median), every vendor request
// waits a log-normally distributed time with that median and 99th percentile before
// it is answered, the shape real APIs' latencies have (cmd/capacity uses it); the
// control API and /healthz never wait.
//
// PORT in the environment sets the default port; 0 picks a free one and logs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sallyhq/sally/sandbox"
)

const defaultPort = 8090

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run serves the sandbox until ctx is done.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	port := defaultPort
	if v := getenv("PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 || p > 65535 {
			return fmt.Errorf("PORT %q: want a port number", v)
		}
		port = p
	}
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&port, "port", port, "HTTP port (0 = pick a free one); default from PORT")
	drivers := fs.Int("drivers", sandbox.DefaultDrivers, "drivers per key")
	loads := fs.Int("loads", sandbox.DefaultLoads, "active loads per key")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	median := fs.Duration("latency-median", 0, "median latency added to every vendor request (0 = none)")
	p99 := fs.Duration("latency-p99", 0, "99th percentile of that latency (default: the median, i.e. constant)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if port < 0 || port > 65535 {
		return fmt.Errorf("port %d: want 0..65535", port)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if *drivers < 0 || *drivers > sandbox.MaxDrivers || *loads < 0 || *loads > sandbox.MaxLoads {
		return fmt.Errorf("fleet: drivers must be 0..%d and loads 0..%d", sandbox.MaxDrivers, sandbox.MaxLoads)
	}
	if *median < 0 || *p99 < 0 || (*p99 > 0 && *p99 < *median) || *p99 > time.Minute {
		return fmt.Errorf("latency: want 0 <= -latency-median <= -latency-p99 <= 1m")
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("log level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}))

	sb := sandbox.New(sandbox.Options{Logger: log})
	if *drivers != sandbox.DefaultDrivers || *loads != sandbox.DefaultLoads {
		sb.SetFleet(*drivers, *loads)
	}
	mux := http.NewServeMux()
	var vendors http.Handler = sb
	if *median > 0 {
		vendors = withLatency(sb, *median, max(*p99, *median))
	}
	mux.Handle("/sandbox/", http.StripPrefix("/sandbox", vendors))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})

	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	base := fmt.Sprintf("http://localhost:%d/sandbox", ln.Addr().(*net.TCPAddr).Port)
	log.Info("sandbox listening", "addr", ln.Addr().String(), "base", base)
	fmt.Fprintf(stdout, "sandbox: %s/{samsara,truckbase,fuelfinder,openweather}, control at %s/_control\n", base, base)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close() // requests still waiting out a latency fault
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// withLatency delays every request but the control API's by a log-normal time with
// the given median and 99th percentile (capped at twice the 99th), or until the
// client gives up.
func withLatency(next http.Handler, median, p99 time.Duration) http.Handler {
	sigma := math.Log(float64(p99)/float64(median)) / 2.326 // z of the 99th percentile
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/_control") {
			d := time.Duration(float64(median) * math.Exp(sigma*rand.NormFloat64()))
			t := time.NewTimer(min(d, 2*p99))
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
