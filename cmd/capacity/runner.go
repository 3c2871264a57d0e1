package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/privacy"
	"github.com/lib/pq"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/integration"
	_ "github.com/sallyhq/sally/ent/runtime" // privacy policies and defaults
	"github.com/sallyhq/sally/ent/user"
	"github.com/sallyhq/sally/store"
)

// vendorsOf maps the short vendor names to the integration's type and vendor.
var vendorsOf = []struct {
	name string
	typ  integration.IntegrationType
	v    integration.Vendor
}{
	{"samsara", integration.IntegrationTypeHOS_ELD, integration.VendorSAMSARA_ELD},
	{"truckbase", integration.IntegrationTypeTMS, integration.VendorTRUCKBASE_TMS},
	{"fuelfinder", integration.IntegrationTypeFUEL, integration.VendorFUELFINDER},
	{"openweather", integration.IntegrationTypeWEATHER, integration.VendorOPENWEATHER},
}

func validVendor(name string) bool {
	return slices.ContainsFunc(vendorsOf, func(v struct {
		name string
		typ  integration.IntegrationType
		v    integration.Vendor
	}) bool {
		return v.name == name
	})
}

func shortName(v string) string {
	for _, x := range vendorsOf {
		if string(x.v) == v {
			return x.name
		}
	}
	return v
}

// manualTenants is how many tenants get an ADMIN the program signs in as, to send
// manual syncs.
const manualTenants = 5

const password = "capacity-run-password-1"

type runner struct {
	o   options
	out io.Writer
	log io.Writer

	tmp      string
	due0     time.Time
	dbName   string
	dbURL    string
	db       *sql.DB
	st       *store.Store
	sandbox  *proc
	sbURL    string
	replicas []*proc

	tokens  []string // one per manual tenant
	manuals [][]manualTarget

	notifies atomic.Int64

	mu      sync.Mutex
	samples []connSample
	manual  []manualResult
}

type manualTarget struct {
	id, vendor string
}

type connSample struct {
	at    time.Time
	byApp map[string]int
	total int
}

type manualResult struct {
	at      time.Time
	vendor  string
	latency time.Duration
	status  string
	err     string
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.log, "%s  %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func (r *runner) cleanup() {
	for _, p := range r.replicas {
		p.stop(30 * time.Second)
	}
	r.sandbox.stop(5 * time.Second)
	if r.st != nil {
		r.st.Close()
	}
	if r.db != nil {
		r.db.Close()
	}
	if r.dbName != "" && !r.o.keep {
		if err := dropDatabase(r.o.adminURL, r.dbName); err != nil {
			r.logf("drop database %s: %v", r.dbName, err)
		}
	}
	if r.tmp != "" && !r.o.keep {
		os.RemoveAll(r.tmp)
	}
}

func (r *runner) run(ctx context.Context) error {
	var err error
	if r.tmp, err = os.MkdirTemp("", "sally-capacity-"); err != nil {
		return err
	}
	bin := r.o.binDir
	if bin == "" {
		bin = r.tmp
		if err := build(ctx, bin, r.log); err != nil {
			return err
		}
	}
	if r.dbName, err = createDatabase(ctx, r.o.adminURL); err != nil {
		return err
	}
	r.dbURL = withDatabase(r.o.adminURL, r.dbName)
	r.logf("database %s; logs in %s", r.dbName, r.tmp)
	if r.db, err = sql.Open("postgres", withParam(r.dbURL, "application_name", "capacity")); err != nil {
		return err
	}
	if r.st, err = store.Open(ctx, "postgres", withParam(r.dbURL, "application_name", "capacity")); err != nil {
		return err
	}
	if err := r.st.Migrate(ctx); err != nil {
		return err
	}

	if r.o.notifyBench > 0 {
		bg, stop := context.WithCancel(ctx)
		defer stop()
		go r.listen(bg)
		time.Sleep(time.Second) // the listener listens
		return r.notifyBench(ctx, r.o.notifyBench, 8)
	}

	// The sandbox, with realistic latency.
	r.sandbox, err = start(bin+"/sandbox", "sandbox", r.tmp, []string{
		"-port", "0", "-log-level", "warn",
		"-drivers", strconv.Itoa(r.o.drivers), "-loads", strconv.Itoa(r.o.loads),
		"-latency-median", r.o.latencyMedian.String(), "-latency-p99", r.o.latencyP99.String(),
	}, nil)
	if err != nil {
		return err
	}
	if r.sbURL, err = sandboxURL(ctx, r.sandbox); err != nil {
		return err
	}

	credsKey := randomKey()
	if err := r.seed(ctx, credsKey); err != nil {
		return err
	}

	// The replicas.
	jwt := randomHex(32)
	for k := range r.o.replicas {
		port, err := freePort()
		if err != nil {
			return err
		}
		env := []string{
			"PORT=" + strconv.Itoa(port),
			"DATABASE_URL=" + withParam(r.dbURL, "application_name", fmt.Sprintf("replica-%d", k+1)),
			"JWT_SECRET=" + jwt, "CREDENTIALS_KEY=" + credsKey,
			"SANDBOX=false", "DEMO=false", "LOG_LEVEL=warn", "DATA_DIR=" + r.tmp,
			"SAMSARA_API_URL=" + r.sbURL + "/samsara", "TRUCKBASE_API_URL=" + r.sbURL + "/truckbase",
			"FUELFINDER_API_URL=" + r.sbURL + "/fuelfinder", "OPENWEATHER_API_URL=" + r.sbURL + "/openweather",
		}
		env = append(env, r.o.env...)
		p, err := start(bin+"/server", fmt.Sprintf("replica-%d", k+1), r.tmp, nil, env)
		if err != nil {
			return err
		}
		p.url = fmt.Sprintf("http://127.0.0.1:%d", port)
		r.replicas = append(r.replicas, p)
	}
	for _, p := range r.replicas {
		if err := waitOK(ctx, p, p.url+"/readyz", 2*time.Minute); err != nil {
			return err
		}
	}
	if err := r.signIn(ctx); err != nil {
		return err
	}
	// Fuel and weather syncs work on the tenant's active loads: every tenant's TMS
	// integration syncs once before the measured schedule starts, as it would have
	// in a deployment that has been running.
	if err := r.prime(ctx); err != nil {
		return err
	}
	due0 := r.due0
	r.logf("%d replicas up; the schedule starts at %s", len(r.replicas), due0.Format("15:04:05"))

	bg, stopBG := context.WithCancel(ctx)
	defer stopBG()
	var wg sync.WaitGroup
	wg.Go(func() { r.listen(bg) })
	wg.Go(func() { r.sampleConns(bg) })

	if d := time.Until(due0); d > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
	healthy := r.phase(ctx, "healthy", "", due0, r.o.duration)
	phases := []phaseReport{healthy}
	if r.o.outage != "" && ctx.Err() == nil {
		phases = append(phases, r.outagePhase(ctx))
	}
	stopBG()
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return r.report(ctx, phases)
}

// prime waits until every TMS integration has synced once, then spreads every
// integration's due time evenly over one interval starting startIn from now (in
// creation order: the vendors interleave).
func (r *runner) prime(ctx context.Context) error {
	r.logf("priming: one TMS sync per tenant")
	deadline := time.Now().Add(5 * time.Minute)
	for {
		n, err := queryInt(ctx, r.db, `SELECT count(*) FROM integrations WHERE vendor = 'TRUCKBASE_TMS' AND last_sync_status IS NOT NULL AND last_sync_status <> 'RUNNING'`)
		if err != nil {
			return err
		}
		if int(n) >= r.o.tenants {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("priming: only %d of %d TMS integrations synced within 5 minutes", n, r.o.tenants)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	// Let the last TMS syncs finish their bookkeeping.
	time.Sleep(time.Second)
	r.due0 = time.Now().Add(r.o.startIn).UTC().Truncate(time.Microsecond)
	step := r.o.interval / time.Duration(r.o.tenants*len(vendorsOf))
	_, err := r.db.ExecContext(ctx, `WITH o AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM integrations)
		UPDATE integrations i SET next_sync_at = $1::timestamptz + o.k * $2::bigint * interval '1 microsecond'
		FROM o WHERE o.id = i.id`, r.due0, step.Microseconds())
	return err
}

// seed creates the tenants, their integrations (only the TMS ones due: see prime)
// and the ADMINs of the manual tenants.
func (r *runner) seed(ctx context.Context, credsKey string) error {
	sys := privacy.DecisionContext(ctx, privacy.Allow)
	key, _ := base64Decode(credsKey)
	sealer, err := auth.NewSealer(key)
	if err != nil {
		return err
	}
	hash, err := auth.DefaultHasher.Hash(password)
	if err != nil {
		return err
	}
	c := r.st.Client
	n := r.o.tenants * len(vendorsOf)
	r.logf("seeding %d tenants, %d integrations", r.o.tenants, n)
	now := time.Now()
	r.manuals = make([][]manualTarget, manualTenants)
	for chunk := range slices.Chunk(seq(r.o.tenants), 250) {
		tenants := make([]*ent.TenantCreate, len(chunk))
		for i, t := range chunk {
			tenants[i] = c.Tenant.Create().SetName(fmt.Sprintf("Carrier %05d", t))
		}
		ts, err := c.Tenant.CreateBulk(tenants...).Save(sys)
		if err != nil {
			return fmt.Errorf("seed tenants: %w", err)
		}
		var ins []*ent.IntegrationCreate
		for i, t := range ts {
			for _, v := range vendorsOf {
				creds := auth.Credentials{APIKey: fmt.Sprintf("%s-key-%05d", v.name, chunk[i])}
				if v.name == "truckbase" {
					creds.APISecret = "secret-" + creds.APIKey
				}
				sealed, err := sealer.SealCredentials(creds)
				if err != nil {
					return err
				}
				in := c.Integration.Create().SetTenantID(t.ID).
					SetIntegrationType(v.typ).SetVendor(v.v).SetDisplayName(v.name).
					SetCredentials(sealed).SetCredentialsHint("••••" + creds.APIKey[len(creds.APIKey)-4:]).
					SetSyncIntervalSeconds(int(r.o.interval.Seconds()))
				if v.name == "truckbase" {
					in.SetNextSyncAt(now)
				}
				ins = append(ins, in)
			}
			if chunk[i] < manualTenants {
				_, err := c.User.Create().SetTenantID(t.ID).SetEmail(fmt.Sprintf("admin%d@capacity.test", chunk[i])).
					SetPasswordHash(hash).SetRole(user.RoleADMIN).Save(sys)
				if err != nil {
					return fmt.Errorf("seed user: %w", err)
				}
			}
		}
		saved, err := c.Integration.CreateBulk(ins...).Save(sys)
		if err != nil {
			return fmt.Errorf("seed integrations: %w", err)
		}
		for _, in := range saved {
			for i, t := range ts {
				if t.ID == in.TenantID && chunk[i] < manualTenants {
					r.manuals[chunk[i]] = append(r.manuals[chunk[i]], manualTarget{in.ID.String(), shortName(string(in.Vendor))})
				}
			}
		}
	}
	return nil
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// gql posts one operation to a replica.
func gql(ctx context.Context, base, token, query string, vars map[string]any, out any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	var env struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return fmt.Errorf("HTTP %d: %s", res.StatusCode, b)
	}
	if len(env.Errors) > 0 {
		return fmt.Errorf("%s", env.Errors[0].Message)
	}
	return json.Unmarshal(env.Data, out)
}

func (r *runner) signIn(ctx context.Context) error {
	for t := range manualTenants {
		if t >= r.o.tenants {
			break
		}
		var out struct{ Login struct{ Token string } }
		err := gql(ctx, r.replicas[t%len(r.replicas)].url, "",
			`mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
			map[string]any{"e": fmt.Sprintf("admin%d@capacity.test", t), "p": password}, &out)
		if err != nil {
			return fmt.Errorf("sign in: %w", err)
		}
		r.tokens = append(r.tokens, out.Login.Token)
	}
	return nil
}

// listen counts the NOTIFYs of the replicas' event channel.
func (r *runner) listen(ctx context.Context) {
	l := pq.NewListener(r.dbURL, time.Second, 10*time.Second, nil)
	defer l.Close()
	if err := l.Listen("sally_events:public"); err != nil {
		r.logf("listen: %v", err)
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-l.Notify:
			if n != nil {
				r.notifies.Add(1)
			}
		}
	}
}

// sampleConns records the database's connections per application every 2 s.
func (r *runner) sampleConns(ctx context.Context) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		rows, err := r.db.QueryContext(ctx,
			`SELECT application_name, count(*) FROM pg_stat_activity WHERE datname = $1 GROUP BY 1`, r.dbName)
		if err == nil {
			s := connSample{at: time.Now(), byApp: map[string]int{}}
			for rows.Next() {
				var app string
				var n int
				if rows.Scan(&app, &n) == nil && strings.HasPrefix(app, "replica-") {
					s.byApp[app] = n
					s.total += n
				}
			}
			rows.Close()
			r.mu.Lock()
			r.samples = append(r.samples, s)
			r.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// manualLoop sends one manual sync of a healthy vendor every manualEvery.
func (r *runner) manualLoop(ctx context.Context, down string) {
	t := time.NewTicker(r.o.manualEvery)
	defer t.Stop()
	i := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		tn := i % len(r.tokens)
		var targets []manualTarget
		for _, m := range r.manuals[tn] {
			if m.vendor != down {
				targets = append(targets, m)
			}
		}
		m := targets[rand.N(len(targets))]
		base := r.replicas[i%len(r.replicas)].url
		i++
		go func() {
			start := time.Now()
			var out struct{ SyncIntegration struct{ Status string } }
			err := gql(ctx, base, r.tokens[tn], `mutation($id: ID!) { syncIntegration(id: $id) { status } }`,
				map[string]any{"id": m.id}, &out)
			res := manualResult{at: start, vendor: m.vendor, latency: time.Since(start), status: out.SyncIntegration.Status}
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				res.err = err.Error()
			}
			r.mu.Lock()
			r.manual = append(r.manual, res)
			r.mu.Unlock()
		}()
	}
}

// metrics scrapes a replica's /metrics and sums each metric over its labels.
func metrics(ctx context.Context, base string) (map[string]float64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		name := line[:sp]
		labels := ""
		if b := strings.IndexByte(name, '{'); b >= 0 {
			name, labels = name[:b], name[b:]
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			continue
		}
		out[name] += v
		if name == "sally_syncs_total" && strings.Contains(labels, `status="FAILED"`) {
			out["sally_syncs_failed"] += v
		}
		if name == "sally_vendor_up" {
			out["sally_vendor_up"+labels] = v
		}
	}
	return out, sc.Err()
}

// snapshot is what the replicas and the database had counted at one moment.
type snapshot struct {
	at        time.Time
	replica   []map[string]float64
	cpu       []time.Duration
	xacts     int64
	notifies  int64
	sandboxRq map[string]int64
	overdue   struct {
		n     int64
		worst float64
	}
}

func (r *runner) snapshot(ctx context.Context) snapshot {
	s := snapshot{at: time.Now(), notifies: r.notifies.Load()}
	for _, p := range r.replicas {
		m, err := metrics(ctx, p.url)
		if err != nil {
			m = map[string]float64{}
		}
		s.replica = append(s.replica, m)
		cpu, _ := procCPU(p.cmd.Process.Pid)
		s.cpu = append(s.cpu, cpu)
	}
	s.xacts, _ = queryInt(ctx, r.db, `SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1`, r.dbName)
	s.sandboxRq = r.sandboxStats(ctx)
	_ = r.db.QueryRowContext(ctx, `SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(next_sync_at)), 0)::float8
		FROM integrations WHERE enabled AND next_sync_at < now() - interval '5 seconds'`).Scan(&s.overdue.n, &s.overdue.worst)
	return s
}

func (r *runner) sandboxStats(ctx context.Context) map[string]int64 {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.sbURL+"/_control/stats", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer res.Body.Close()
	var st map[string]struct{ Requests int64 }
	if json.NewDecoder(res.Body).Decode(&st) != nil {
		return nil
	}
	out := map[string]int64{}
	for v, s := range st {
		out[v] = s.Requests
	}
	return out
}

func (r *runner) fault(ctx context.Context, vendor string, on bool) error {
	method, body := http.MethodDelete, ""
	if on {
		method, body = http.MethodPut, `{"status":503}`
	}
	req, _ := http.NewRequestWithContext(ctx, method, r.sbURL+"/_control/faults/"+vendor, strings.NewReader(body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("sandbox fault: HTTP %d", res.StatusCode)
	}
	return nil
}

// phaseReport is one phase's window and the counters around it.
type phaseReport struct {
	name     string
	down     string
	from, to time.Time
	before   snapshot
	after    snapshot
	// outage phases
	faultOn, detected, faultOff, recovered time.Time
}

// phase lets the deployment run for d with manual syncs, between two snapshots.
func (r *runner) phase(ctx context.Context, name, down string, from time.Time, d time.Duration) phaseReport {
	r.logf("phase %s: %s", name, d)
	p := phaseReport{name: name, down: down, from: from, before: r.snapshot(ctx)}
	mctx, stop := context.WithCancel(ctx)
	go r.manualLoop(mctx, down)
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
	stop()
	p.to = time.Now()
	p.after = r.snapshot(ctx)
	return p
}

// outagePhase makes one vendor fail for everyone, then heals it.
func (r *runner) outagePhase(ctx context.Context) phaseReport {
	v := r.o.outage
	p := phaseReport{name: "outage of " + v, down: v, from: time.Now(), before: r.snapshot(ctx)}
	if err := r.fault(ctx, v, true); err != nil {
		r.logf("outage: %v", err)
		return p
	}
	p.faultOn = time.Now()
	r.logf("phase %s: %s, then %s healed", p.name, r.o.outageFor, r.o.healAfter)
	mctx, stop := context.WithCancel(ctx)
	go r.manualLoop(mctx, v)
	end := time.After(r.o.outageFor)
	poll := time.NewTicker(250 * time.Millisecond)
	defer poll.Stop()
wait:
	for {
		select {
		case <-ctx.Done():
			stop()
			return p
		case <-end:
			break wait
		case <-poll.C:
			if p.detected.IsZero() {
				var up bool
				var at time.Time
				if r.db.QueryRowContext(ctx, `SELECT up, changed_at FROM vendor_healths WHERE vendor = $1`, v).Scan(&up, &at) == nil && !up {
					p.detected = time.Now()
					r.logf("%s judged down (changed_at %s)", v, at.UTC().Format("15:04:05.000"))
				}
			}
		}
	}
	stop()
	p.to = time.Now()
	p.after = r.snapshot(ctx)
	if err := r.fault(ctx, v, false); err != nil {
		r.logf("heal: %v", err)
	}
	p.faultOff = time.Now()
	healEnd := time.After(r.o.healAfter)
	for p.recovered.IsZero() {
		select {
		case <-ctx.Done():
			return p
		case <-healEnd:
			return p
		case <-poll.C:
			var up bool
			if r.db.QueryRowContext(ctx, `SELECT up FROM vendor_healths WHERE vendor = $1`, v).Scan(&up) == nil && up {
				p.recovered = time.Now()
				r.logf("%s back up", v)
			}
		}
	}
	return p
}

func base64Decode(s string) ([]byte, error) {
	return decodeStd(s)
}
