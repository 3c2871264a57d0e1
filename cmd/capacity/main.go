// Command capacity is the capacity load program: it starts K replicas of the real
// server (the binary of ./server) on one fresh PostgreSQL database, plus the
// standalone vendor sandbox (./cmd/sandbox) with realistic latency, creates T tenants
// with one integration per vendor each, lets the scheduler run them, and prints what
// the deployment achieved, measured in the database and on the replicas' /metrics:
//
//   - syncs per second, by outcome;
//   - schedule lag (a scheduled sync's start minus its due time) p50/p99/max, per vendor;
//   - manual sync ("Sync now" through GraphQL) latency under that load;
//   - database connections (pg_stat_activity, per replica), statements per sync
//     (sally_db_statements_total) and transactions per sync (pg_stat_database);
//   - CPU seconds per sync, per replica (process_cpu_seconds_total);
//   - NOTIFY rate (counted by a LISTEN of its own, and sally_events_notified_total);
//   - any due run that ran twice or not at all (checked in the database).
//
// With -outage VENDOR, a second phase makes that vendor answer 503 to everyone, then
// heals it, and reports how fast vendor-wide health saw the outage and the recovery,
// the other vendors' lag and the manual sync latency meanwhile.
//
// Everything listens on loopback only. A run is bounded (-duration, -outage-for): keep
// it within a few minutes on a shared machine.
//
//	go run ./cmd/capacity -replicas 3 -tenants 250 -duration 2m -outage samsara -outage-for 90s
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "capacity:", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	adminURL      string
	replicas      int
	tenants       int
	interval      time.Duration
	startIn       time.Duration
	duration      time.Duration
	outage        string
	outageFor     time.Duration
	healAfter     time.Duration
	manualEvery   time.Duration
	latencyMedian time.Duration
	latencyP99    time.Duration
	drivers       int
	loads         int
	binDir        string
	keep          bool
	notifyBench   time.Duration
	env           envFlags
}

type envFlags []string

func (e *envFlags) String() string     { return fmt.Sprint(*e) }
func (e *envFlags) Set(v string) error { *e = append(*e, v); return nil }

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("capacity", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.adminURL, "db", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"PostgreSQL URL of a database to connect to while creating (and dropping) the run's own database")
	fs.IntVar(&o.replicas, "replicas", 3, "server replicas")
	fs.IntVar(&o.tenants, "tenants", 100, "tenants, each with one integration per vendor (4)")
	fs.DurationVar(&o.interval, "interval", 5*time.Minute, "every integration's sync interval")
	fs.DurationVar(&o.startIn, "start-in", 20*time.Second, "the first integrations are due this long after seeding (replicas start meanwhile)")
	fs.DurationVar(&o.duration, "duration", 2*time.Minute, "the healthy phase")
	fs.StringVar(&o.outage, "outage", "", "after the healthy phase, this vendor (samsara, truckbase, fuelfinder, openweather) answers 503 to everyone")
	fs.DurationVar(&o.outageFor, "outage-for", 90*time.Second, "how long the outage lasts")
	fs.DurationVar(&o.healAfter, "heal-for", 45*time.Second, "how long to watch after the outage ends")
	fs.DurationVar(&o.manualEvery, "manual-every", 3*time.Second, "one manual sync of a healthy vendor this often")
	fs.DurationVar(&o.latencyMedian, "latency-median", 80*time.Millisecond, "sandbox latency median")
	fs.DurationVar(&o.latencyP99, "latency-p99", 600*time.Millisecond, "sandbox latency 99th percentile")
	fs.IntVar(&o.drivers, "drivers", 25, "sandbox drivers per key")
	fs.IntVar(&o.loads, "loads", 10, "sandbox active loads per key")
	fs.StringVar(&o.binDir, "bin", "", "directory holding prebuilt server and sandbox binaries (default: go build them)")
	fs.BoolVar(&o.keep, "keep", false, "keep the run's database")
	fs.DurationVar(&o.notifyBench, "notify-bench", 0, "instead of a load run: measure how many NOTIFYs a second PostgreSQL takes, for this long")
	fs.Var(&o.env, "env", "KEY=VALUE added to every replica's environment (repeatable), e.g. -env SYNC_CONCURRENCY=128")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case o.replicas < 1 || o.replicas > 16:
		return o, errors.New("-replicas: want 1..16")
	case o.tenants < 1 || o.tenants > 100_000:
		return o, errors.New("-tenants: want 1..100000")
	case o.interval < time.Minute:
		return o, errors.New("-interval: want at least 1m")
	case o.duration <= 0 || o.duration > 10*time.Minute:
		return o, errors.New("-duration: want up to 10m")
	case o.outage != "" && !validVendor(o.outage):
		return o, fmt.Errorf("-outage: want one of samsara, truckbase, fuelfinder, openweather, got %q", o.outage)
	case o.outageFor <= 0 || o.outageFor > 10*time.Minute:
		return o, errors.New("-outage-for: want up to 10m")
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	r := &runner{o: o, out: stdout, log: stderr}
	defer r.cleanup()
	return r.run(ctx)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// queryInt runs a one-number query.
func queryInt(ctx context.Context, db *sql.DB, q string, args ...any) (int64, error) {
	var n sql.NullInt64
	err := db.QueryRowContext(ctx, q, args...).Scan(&n)
	return n.Int64, err
}
