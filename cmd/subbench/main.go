// Command subbench measures live sync events under load: it holds N concurrent
// graphql-transport-ws subscribers (syncEvents) on one server, triggers syncs, and
// prints the latency from each event's `at` to its receipt (p50/p99/max) and the
// server's memory per subscriber.
//
// Without -url it builds ./server and starts it on SQLite with the sandbox vendors
// in a temporary directory (a separate process, so that its memory is its own). With
// -url it targets a running server (-email/-password of an ADMIN; the server must
// serve /metrics and have SANDBOX=true or real vendors for the integration it creates).
//
//	go run ./cmd/subbench -n 1000 -syncs 10
//	go run ./cmd/subbench -n 5000 -syncs 10
//
// The latency includes the load client's own scheduling: it runs on the same
// machine as the server. Memory per subscriber is the growth of the server's Go heap
// and stacks (go_memstats_heap_inuse_bytes + go_memstats_stack_inuse_bytes) and of its
// resident set (process_resident_memory_bytes) from before the subscribers to after
// the syncs, divided by N.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sallyhq/sally/internal/wsclient"
)

// query is what every subscriber selects: a dashboard's view of an event.
const query = `subscription { syncEvents {
  type at integrationId integrationName vendor circuitState message attempt retryInMs
  syncLog { id status trigger startedAt completedAt durationMs attempts recordsProcessed error }
} }`

var verbose bool

type options struct {
	url, server, email, password string
	n, syncs, warmup, dialers    int
	interval, timeout            time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "", "server base URL (e.g. http://localhost:8080); empty: start one")
	flag.StringVar(&o.server, "server", "", "server binary to start (empty: go build ./server)")
	flag.StringVar(&o.email, "email", "bench@example.com", "ADMIN email")
	flag.StringVar(&o.password, "password", "subbench-password-1234", "ADMIN password")
	flag.IntVar(&o.n, "n", 1000, "concurrent subscribers")
	flag.IntVar(&o.syncs, "syncs", 10, "manual syncs to trigger (2 events each)")
	flag.IntVar(&o.warmup, "warmup", 1, "syncs to trigger first, whose events are reported apart")
	flag.IntVar(&o.dialers, "dialers", 32, "concurrent dials while connecting")
	flag.DurationVar(&o.interval, "interval", 500*time.Millisecond, "pause between syncs")
	flag.DurationVar(&o.timeout, "timeout", 2*time.Minute, "give up waiting for events after")
	flag.BoolVar(&verbose, "v", false, "print the latency of each event")
	cpuprofile := flag.String("cpuprofile", "", "write the load client's CPU profile to this file")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "subbench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "subbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	// The load client keeps every sample: collecting less often leaves it more of
	// the machine's two cores for the server it measures.
	debug.SetGCPercent(400)
	if err := raiseFileLimit(2*o.n + 256); err != nil {
		return err
	}
	base := strings.TrimSuffix(o.url, "/")
	if base == "" {
		srv, err := startServer(ctx, o, stderr)
		if err != nil {
			return err
		}
		defer srv.stop()
		base = srv.url
	}
	api := &client{base: base, http: &http.Client{Timeout: time.Minute}}
	token, err := api.login(ctx, o.email, o.password)
	if err != nil {
		return err
	}
	integrationID, err := api.createIntegration(ctx, token)
	if err != nil {
		return err
	}
	before, err := api.metrics(ctx)
	if err != nil {
		return err
	}
	baseSubs := before["sally_event_subscribers"]

	fmt.Fprintf(stderr, "connecting %d subscribers to %s\n", o.n, base)
	start := time.Now()
	subs, err := connect(ctx, base+"/graphql", token, o)
	defer func() {
		for _, s := range subs {
			_ = s.c.CloseNow()
		}
	}()
	if err != nil {
		return err
	}
	connected := time.Since(start)
	// Wait until the server has registered every subscription.
	for {
		m, err := api.metrics(ctx)
		if err != nil {
			return err
		}
		if _, ok := m["sally_event_subscribers"]; !ok || m["sally_event_subscribers"]-baseSubs >= float64(o.n) {
			break
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	subscribed, err := api.metrics(ctx)
	if err != nil {
		return err
	}

	// Warm-up syncs: the first events after subscribing pay one-off costs (goroutine
	// stacks growing, buffers allocated) on both sides; they are reported apart.
	var warm []time.Duration
	measured := subscribed // CPU is counted from here
	if o.warmup > 0 {
		fmt.Fprintf(stderr, "warming up with %d syncs\n", o.warmup)
		if err := syncs(ctx, api, token, integrationID, o.warmup, o.interval); err != nil {
			return err
		}
		if err := awaitEvents(ctx, subs, 2*o.warmup, time.Now().Add(o.timeout)); err != nil {
			return err
		}
		for _, s := range subs {
			l, _, err := s.reset()
			if err != nil {
				return err
			}
			warm = append(warm, l...)
		}
		slices.Sort(warm)
		if measured, err = api.metrics(ctx); err != nil {
			return err
		}
		if err := sleep(ctx, o.interval); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "triggering %d syncs\n", o.syncs)
	if err := syncs(ctx, api, token, integrationID, o.syncs, o.interval); err != nil {
		return err
	}
	want := 2 * o.syncs
	if err := awaitEvents(ctx, subs, want, time.Now().Add(o.timeout)); err != nil {
		return err
	}
	after, err := api.metrics(ctx)
	if err != nil {
		return err
	}

	var lat []time.Duration
	var missing, failed int
	perEvent := map[time.Time][]time.Duration{}
	for _, s := range subs {
		l, ats, err := s.latencies()
		if err != nil {
			return err
		}
		lat = append(lat, l...)
		for i, at := range ats {
			perEvent[at] = append(perEvent[at], l[i])
		}
		missing += max(0, want-int(s.count.Load()))
		if s.err.Load() != nil {
			failed++
		}
	}
	if verbose {
		events := slices.SortedFunc(maps.Keys(perEvent), func(a, b time.Time) int { return a.Compare(b) })
		for _, at := range events {
			l := perEvent[at]
			slices.Sort(l)
			fmt.Fprintf(stderr, "event at %s: n=%d first=%s p50=%s last=%s\n",
				at.Format("15:04:05.000"), len(l), ms(l[0]), ms(l[len(l)/2]), ms(l[len(l)-1]))
		}
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	per := func(name string) float64 { return (after[name] - before[name]) / float64(o.n) / 1024 }
	goMem := per("go_memstats_heap_inuse_bytes") + per("go_memstats_stack_inuse_bytes")
	fmt.Fprintf(stdout, "subscribers=%d syncs=%d events=%d missing=%d failed_subscribers=%d connect=%s\n",
		o.n, o.syncs, len(lat), missing, failed, connected.Round(time.Millisecond))
	fmt.Fprintf(stdout, "latency p50=%s p99=%s max=%s\n", ms(q(0.50)), ms(q(0.99)), ms(q(1)))
	if len(warm) > 0 {
		fmt.Fprintf(stdout, "  (warm-up: %d syncs, latency p50=%s p99=%s max=%s)\n", o.warmup,
			ms(warm[len(warm)/2]), ms(warm[min(len(warm)-1, len(warm)*99/100)]), ms(warm[len(warm)-1]))
	}
	fmt.Fprintf(stdout, "server memory per subscriber: go heap+stacks=%.1f KiB (heap %.1f, stacks %.1f) rss=%.1f KiB; goroutines per subscriber=%.1f\n",
		goMem, per("go_memstats_heap_inuse_bytes"), per("go_memstats_stack_inuse_bytes"),
		per("process_resident_memory_bytes"), (after["go_goroutines"]-before["go_goroutines"])/float64(o.n))
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	clientCPU := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	if len(lat) > 0 {
		fmt.Fprintf(stdout, "cpu per event delivered: server %.1fµs (syncs included), load client %.1fµs (whole run)\n",
			(after["process_cpu_seconds_total"]-measured["process_cpu_seconds_total"])*1e6/float64(len(lat)),
			float64(clientCPU.Microseconds())/float64(len(lat)))
	}
	fmt.Fprintf(stdout, "  (subscribed, before the syncs: go heap+stacks=%.1f KiB)\n",
		((subscribed["go_memstats_heap_inuse_bytes"]+subscribed["go_memstats_stack_inuse_bytes"])-
			(before["go_memstats_heap_inuse_bytes"]+before["go_memstats_stack_inuse_bytes"]))/float64(o.n)/1024)
	if missing > 0 {
		return fmt.Errorf("%d events did not arrive", missing)
	}
	return nil
}

// syncs triggers n manual syncs, interval apart.
func syncs(ctx context.Context, api *client, token, integrationID string, n int, interval time.Duration) error {
	for i := range n {
		if err := api.sync(ctx, token, integrationID); err != nil {
			return err
		}
		if i < n-1 {
			if err := sleep(ctx, interval); err != nil {
				return err
			}
		}
	}
	return nil
}

// awaitEvents waits until every subscriber has want events, or deadline.
func awaitEvents(ctx context.Context, subs []*subscriber, want int, deadline time.Time) error {
	for _, s := range subs {
		for s.count.Load() < int64(want) && time.Now().Before(deadline) && s.err.Load() == nil {
			if err := sleep(ctx, 10*time.Millisecond); err != nil {
				return err
			}
		}
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// subscriber is one socket with one syncEvents subscription.
type subscriber struct {
	c      *wsclient.Client
	count  atomic.Int64
	err    atomic.Pointer[error]
	mu     sync.Mutex
	lat    []time.Duration // of the events whose at was read on arrival
	ats    []time.Time
	msgs   []time.Time // when each other frame arrived
	frames [][]byte
}

// reset returns the latencies so far and starts counting anew.
func (s *subscriber) reset() ([]time.Duration, []time.Time, error) {
	lat, ats, err := s.latencies()
	s.mu.Lock()
	s.lat, s.ats, s.msgs, s.frames = nil, nil, nil, nil
	s.count.Store(0)
	s.mu.Unlock()
	return lat, ats, err
}

// latencies parses the frames received: the time from each event's at to its
// receipt, and the events' at.
func (s *subscriber) latencies() (lat []time.Duration, ats []time.Time, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lat, ats = slices.Clone(s.lat), slices.Clone(s.ats)
	for i, b := range s.frames {
		var f struct {
			Type    string `json:"type"`
			Payload struct {
				Data struct {
					SyncEvents struct {
						At time.Time `json:"at"`
					} `json:"syncEvents"`
				} `json:"data"`
				Errors json.RawMessage `json:"errors"`
			} `json:"payload"`
		}
		if err := json.Unmarshal(b, &f); err != nil || f.Type != "next" || len(f.Payload.Errors) > 0 || f.Payload.Data.SyncEvents.At.IsZero() {
			return nil, nil, fmt.Errorf("bad event %s: %v", b, err)
		}
		at := f.Payload.Data.SyncEvents.At
		lat = append(lat, s.msgs[i].Sub(at))
		ats = append(ats, at)
	}
	return lat, ats, nil
}

func connect(ctx context.Context, url, token string, o options) ([]*subscriber, error) {
	subs := make([]*subscriber, o.n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, o.dialers)
	for range o.dialers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= o.n {
					return
				}
				s, err := subscribe(ctx, url, token)
				if err != nil {
					errs <- fmt.Errorf("subscriber %d: %w", i, err)
					return
				}
				subs[i] = s
			}
		})
	}
	wg.Wait()
	close(errs)
	out := slices.DeleteFunc(subs, func(s *subscriber) bool { return s == nil })
	return out, <-errs
}

func subscribe(ctx context.Context, url, token string) (*subscriber, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s := &subscriber{}
	// Only stamp and keep each event here: parsing waits until the end, so that the
	// load client's own work disturbs the measure as little as possible.
	next, atKey := []byte(`"type":"next"`), []byte(`"at":"`)
	c, err := wsclient.Dial(dctx, url, wsclient.Options{Token: token, Raw: func(b []byte, received time.Time) bool {
		if !bytes.Contains(b, next) {
			return false // pings and the like: the client handles them
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.count.Add(1)
		if i := bytes.Index(b, atKey); i >= 0 && !bytes.Contains(b, []byte(`"errors"`)) {
			rest := b[i+len(atKey):]
			if j := bytes.IndexByte(rest, '"'); j > 0 {
				if at, err := time.Parse(time.RFC3339Nano, string(rest[:j])); err == nil {
					s.lat = append(s.lat, received.Sub(at))
					s.ats = append(s.ats, at)
					return true
				}
			}
		}
		s.msgs = append(s.msgs, received) // parsed at the end, where it fails loudly
		s.frames = append(s.frames, bytes.Clone(b))
		return true
	}})
	if err != nil {
		return nil, err
	}
	s.c = c
	sub, err := c.Subscribe(dctx, query, nil)
	if err != nil {
		_ = c.CloseNow()
		return nil, err
	}
	go func() {
		for m := range sub.C { // what Raw let through: errors, complete
			err := fmt.Errorf("%s: %s", m.Type, m.Payload)
			s.err.Store(&err)
		}
		if err := c.Err(); err != nil && s.err.Load() == nil {
			err = fmt.Errorf("socket closed: %w", err)
			s.err.Store(&err)
		}
	}()
	return s, nil
}

// client sends queries and mutations and reads /metrics.
type client struct {
	base string
	http *http.Client
}

func (c *client) do(ctx context.Context, token, q string, vars map[string]any, out any) error {
	body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("HTTP %d: %s", res.StatusCode, raw)
	}
	if len(r.Errors) > 0 {
		return errors.New(r.Errors[0].Message)
	}
	return json.Unmarshal(r.Data, out)
}

func (c *client) login(ctx context.Context, email, password string) (string, error) {
	var out struct{ Login struct{ Token string } }
	err := c.do(ctx, "", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
		map[string]any{"e": email, "p": password}, &out)
	if err != nil {
		return "", fmt.Errorf("login: %w", err)
	}
	return out.Login.Token, nil
}

func (c *client) createIntegration(ctx context.Context, token string) (string, error) {
	var out struct{ CreateIntegration struct{ ID string } }
	err := c.do(ctx, token, `mutation($in: CreateIntegrationInput!) { createIntegration(input: $in) { id } }`,
		map[string]any{"in": map[string]any{
			"integrationType": "HOS_ELD", "vendor": "SAMSARA_ELD", "displayName": "subbench",
			"credentials": map[string]any{"apiKey": "subbench-key"}, "syncIntervalSeconds": 86400,
		}}, &out)
	if err != nil {
		return "", fmt.Errorf("create integration: %w", err)
	}
	return out.CreateIntegration.ID, nil
}

func (c *client) sync(ctx context.Context, token, id string) error {
	var out struct{ SyncIntegration struct{ Status string } }
	if err := c.do(ctx, token, `mutation($id: ID!) { syncIntegration(id: $id) { status } }`, map[string]any{"id": id}, &out); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	return nil
}

// metrics reads the server's unlabelled Prometheus samples.
func (c *client) metrics(ctx context.Context) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: HTTP %d", res.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") || strings.Contains(name, "{") {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
			out[name] = v
		}
	}
	return out, sc.Err()
}

// server is a server process started by subbench.
type server struct {
	url  string
	cmd  *exec.Cmd
	dir  string
	done chan struct{}
}

var listening = regexp.MustCompile(`msg=listening .*url=(\S+)`)

func startServer(ctx context.Context, o options, stderr io.Writer) (*server, error) {
	dir, err := os.MkdirTemp("", "subbench-")
	if err != nil {
		return nil, err
	}
	bin := o.server
	if bin == "" {
		bin = filepath.Join(dir, "sally-server")
		fmt.Fprintln(stderr, "building ./server")
		b := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/sallyhq/sally/server")
		b.Stdout, b.Stderr = stderr, stderr
		if err := b.Run(); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("build server: %w", err)
		}
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"PORT=0", "DATA_DIR="+filepath.Join(dir, "data"), "DATABASE_URL=", "SANDBOX=true", "DEMO=false",
		"ADMIN_EMAIL="+o.email, "ADMIN_PASSWORD="+o.password, "LOG_LEVEL=info", "LOG_FORMAT=text")
	out, err := cmd.StderrPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &server{cmd: cmd, dir: dir, done: make(chan struct{})}
	urls := make(chan string, 1)
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			} else if strings.Contains(sc.Text(), "level=ERROR") || strings.Contains(sc.Text(), "level=WARN") {
				fmt.Fprintln(stderr, "server:", sc.Text())
			}
		}
	}()
	select {
	case s.url = <-urls:
		return s, nil
	case <-s.done:
		s.stop()
		return nil, errors.New("the server exited before listening")
	case <-time.After(time.Minute):
		s.stop()
		return nil, errors.New("the server did not log its address within a minute")
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
	}
	_ = s.cmd.Wait()
	os.RemoveAll(s.dir)
}

// raiseFileLimit lifts the soft limit on open files to what n sockets need (the
// server started here inherits it).
func raiseFileLimit(n int) error {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return err
	}
	if l.Cur >= uint64(n) {
		return nil
	}
	if l.Max < uint64(n) {
		return fmt.Errorf("open files are limited to %d; %d subscribers need %d: raise it (ulimit -n)", l.Max, n/2, n)
	}
	l.Cur = l.Max
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
}
