package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func decodeStd(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// pct is the nearest-rank percentile of sorted values.
func pct(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func secs(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	if v < 1 {
		return fmt.Sprintf("%.0f ms", v*1000)
	}
	return fmt.Sprintf("%.2f s", v)
}

func (r *runner) report(ctx context.Context, phases []phaseReport) error {
	w := r.out
	fmt.Fprintf(w, "\n== capacity run ==\n")
	fmt.Fprintf(w, "machine: %d cores (GOMAXPROCS %d), load average now %s; the replicas, PostgreSQL, the sandbox and this program all ran on it\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), loadavg())
	fmt.Fprintf(w, "replicas %d, tenants %d, integrations %d at %s intervals (%.1f due syncs/s), sandbox latency median %s p99 %s, extra env %v\n",
		r.o.replicas, r.o.tenants, r.o.tenants*4, r.o.interval,
		float64(r.o.tenants*4)/r.o.interval.Seconds(), r.o.latencyMedian, r.o.latencyP99, []string(r.o.env))

	for _, p := range phases {
		if p.to.IsZero() {
			continue
		}
		if err := r.reportPhase(ctx, p); err != nil {
			return err
		}
	}
	// Stop the replicas first (SIGTERM: they finish or close their syncs), so that
	// a run claimed in the last moment has its sync log when the checks look.
	for _, p := range r.replicas {
		p.stop(40 * time.Second)
	}
	return r.reportChecks(ctx, phases)
}

func (r *runner) reportPhase(ctx context.Context, p phaseReport) error {
	w := r.out
	dt := p.to.Sub(p.from).Seconds()
	fmt.Fprintf(w, "\n-- phase: %s (%s … %s, %.0f s) --\n", p.name, p.from.UTC().Format("15:04:05"), p.to.UTC().Format("15:04:05"), dt)

	var done, failed int64
	err := r.db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'FAILED')
		FROM sync_logs WHERE completed_at >= $1 AND completed_at < $2`, p.from, p.to).Scan(&done, &failed)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "syncs finished: %d (%.1f/s), failed %d\n", done, float64(done)/dt, failed)

	// Schedule lag of the scheduled runs due in the phase.
	rows, err := r.db.QueryContext(ctx, `SELECT i.vendor, EXTRACT(EPOCH FROM s.started_at - s.due_at)::float8
		FROM sync_logs s JOIN integrations i ON i.id = s.integration_id
		WHERE s.trigger = 'SCHEDULED' AND s.due_at >= $1 AND s.due_at < $2`, p.from, p.to)
	if err != nil {
		return err
	}
	lags := map[string][]float64{}
	for rows.Next() {
		var v string
		var lag float64
		if err := rows.Scan(&v, &lag); err != nil {
			rows.Close()
			return err
		}
		v = shortName(v)
		lags[v] = append(lags[v], lag)
		lags["all"] = append(lags["all"], lag)
		if v != p.down {
			lags["all healthy"] = append(lags["all healthy"], lag)
		}
	}
	rows.Close()
	fmt.Fprintf(w, "schedule lag (start − due) of scheduled runs due in the phase:\n")
	keys := []string{"samsara", "truckbase", "fuelfinder", "openweather", "all"}
	if p.down != "" {
		keys = append(keys, "all healthy")
	}
	for _, k := range keys {
		l := lags[k]
		slices.Sort(l)
		fmt.Fprintf(w, "  %-12s n=%-6d p50 %-9s p99 %-9s max %s\n", k, len(l), secs(pct(l, .5)), secs(pct(l, .99)), secs(pct(l, 1)))
	}
	// Due but not started when the phase ended: their lag is at least this.
	if o := p.after.overdue; o.n > 0 {
		fmt.Fprintf(w, "  not started when the phase ended: %d runs, the oldest due %.1f s before\n", o.n, o.worst)
	} else {
		fmt.Fprintf(w, "  not started when the phase ended: none (more than 5 s overdue)\n")
	}

	// Manual syncs.
	r.mu.Lock()
	var ml []float64
	var merr []string
	for _, m := range r.manual {
		if m.at.Before(p.from) || !m.at.Before(p.to) {
			continue
		}
		if m.err != "" {
			merr = append(merr, m.vendor+": "+m.err)
			continue
		}
		ml = append(ml, m.latency.Seconds())
	}
	// Connections.
	maxTotal, sum, n := 0, 0, 0
	maxBy := map[string]int{}
	for _, s := range r.samples {
		if s.at.Before(p.from) || s.at.After(p.to) {
			continue
		}
		maxTotal = max(maxTotal, s.total)
		sum += s.total
		n++
		for app, c := range s.byApp {
			maxBy[app] = max(maxBy[app], c)
		}
	}
	r.mu.Unlock()
	slices.Sort(ml)
	fmt.Fprintf(w, "manual syncs of healthy vendors: n=%d p50 %s p99 %s max %s, errors %d\n", len(ml), secs(pct(ml, .5)), secs(pct(ml, .99)), secs(pct(ml, 1)), len(merr))
	for i, e := range merr {
		if i == 3 {
			break
		}
		fmt.Fprintf(w, "  error: %s\n", e)
	}
	if n > 0 {
		apps := make([]string, 0, len(maxBy))
		for a := range maxBy {
			apps = append(apps, a)
		}
		slices.Sort(apps)
		var per []string
		for _, a := range apps {
			per = append(per, fmt.Sprintf("%s %d", a, maxBy[a]))
		}
		fmt.Fprintf(w, "database connections of the replicas: max %d, mean %.1f (max per replica: %s)\n", maxTotal, float64(sum)/float64(n), strings.Join(per, ", "))
	}

	// Counters.
	b, a := p.before, p.after
	var syncs, stmts, notified float64
	for k := range r.replicas {
		if k >= len(a.replica) || k >= len(b.replica) {
			continue
		}
		ds := a.replica[k]["sally_syncs_total"] - b.replica[k]["sally_syncs_total"]
		syncs += ds
		stmts += a.replica[k]["sally_db_statements_total"] - b.replica[k]["sally_db_statements_total"]
		notified += a.replica[k]["sally_events_notified_total"] - b.replica[k]["sally_events_notified_total"]
		cpu := (a.cpu[k] - b.cpu[k]).Seconds()
		perSync := "—"
		if ds > 0 {
			perSync = fmt.Sprintf("%.1f ms", cpu/ds*1000)
		}
		fmt.Fprintf(w, "replica-%d: %.0f syncs, CPU %.1f s (%.0f%% of one core), %s CPU per sync\n", k+1, ds, cpu, cpu/dt*100, perSync)
	}
	var waits, waited float64
	for k := range r.replicas {
		if k < len(a.replica) && k < len(b.replica) {
			waits += a.replica[k]["go_sql_wait_count_total"] - b.replica[k]["go_sql_wait_count_total"]
			waited += a.replica[k]["go_sql_wait_duration_seconds_total"] - b.replica[k]["go_sql_wait_duration_seconds_total"]
		}
	}
	fmt.Fprintf(w, "connection pool: %.0f waits for a free connection, %.1f s waited in all\n", waits, waited)
	if syncs > 0 {
		fmt.Fprintf(w, "per sync: %.1f statements (ent, BEGIN/COMMIT included), %.2f NOTIFY, %.1f PostgreSQL transactions\n",
			stmts/syncs, notified/syncs, float64(a.xacts-b.xacts)/syncs)
	}
	fmt.Fprintf(w, "NOTIFY rate: %.1f/s heard by a listener (%.1f/s sent by the replicas)\n", float64(a.notifies-b.notifies)/dt, notified/dt)
	var rq int64
	for v, n := range a.sandboxRq {
		rq += n - b.sandboxRq[v]
	}
	fmt.Fprintf(w, "vendor requests (sandbox): %.1f/s\n", float64(rq)/dt)
	if !p.faultOn.IsZero() {
		if p.detected.IsZero() {
			fmt.Fprintf(w, "vendor-wide down: NOT detected during the %s outage\n", p.to.Sub(p.faultOn).Round(time.Second))
		} else {
			fmt.Fprintf(w, "vendor-wide down: detected %.1f s after the outage began\n", p.detected.Sub(p.faultOn).Seconds())
		}
		if p.recovered.IsZero() {
			fmt.Fprintf(w, "vendor-wide recovery: NOT seen within %s of the outage ending\n", r.o.healAfter)
		} else {
			fmt.Fprintf(w, "vendor-wide recovery: %.1f s after the outage ended\n", p.recovered.Sub(p.faultOff).Seconds())
		}
	}
	return nil
}

// reportChecks looks for due runs that ran twice or not at all.
func (r *runner) reportChecks(ctx context.Context, phases []phaseReport) error {
	w := r.out
	dups, err := queryInt(ctx, r.db, `SELECT count(*) FROM (SELECT 1 FROM sync_logs WHERE due_at IS NOT NULL
		GROUP BY integration_id, due_at HAVING count(*) > 1) d`)
	if err != nil {
		return err
	}
	// A claimed run moves next_sync_at to at most claim + interval + 5% (≤ 30 s) of
	// jitter, and the claim comes before the start: a later due time means a claimed
	// run left no sync log. (Runs due before the schedule started are left out: the
	// program itself moved the primed TMS integrations' due times.)
	gaps, err := queryInt(ctx, r.db, `SELECT count(*) FROM (
		SELECT s.due_at, lag(s.started_at) OVER (PARTITION BY s.integration_id ORDER BY s.due_at) AS prev,
		       lag(s.due_at) OVER (PARTITION BY s.integration_id ORDER BY s.due_at) AS prev_due,
		       i.sync_interval_seconds AS iv
		FROM sync_logs s JOIN integrations i ON i.id = s.integration_id
		WHERE s.due_at IS NOT NULL) g
		WHERE prev_due >= $1 AND due_at > prev + make_interval(secs => iv + least(iv / 20.0, 30) + 1)`, r.due0)
	if err != nil {
		return err
	}
	// Claimed (next_sync_at moved) without any scheduled sync log.
	lost, err := queryInt(ctx, r.db, `SELECT count(*) FROM integrations i
		WHERE NOT EXISTS (SELECT 1 FROM sync_logs s WHERE s.integration_id = i.id AND s.trigger = 'SCHEDULED')
		AND next_sync_at >= $1`, r.due0.Add(r.o.interval))
	if err != nil {
		return err
	}
	end := phases[len(phases)-1].to
	overdue, err := queryInt(ctx, r.db, `SELECT count(*) FROM integrations WHERE enabled AND next_sync_at < $1`, end.Add(-30*time.Second))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n-- checks (whole run, in the database, after the replicas stopped) --\n")
	fmt.Fprintf(w, "due runs run twice: %d\n", dups)
	fmt.Fprintf(w, "due runs lost (a later due time than the previous run allows): %d\n", gaps)
	fmt.Fprintf(w, "integrations claimed without a scheduled sync log: %d\n", lost)
	fmt.Fprintf(w, "integrations more than 30 s overdue when the run ended (late, not lost): %d\n", overdue)
	return nil
}

// notifyBench measures how many notifications a second PostgreSQL takes from
// `senders` connections sending event-sized payloads (600 bytes, about a SYNC_*
// event) while one listener hears them: the ceiling of LISTEN/NOTIFY for live events.
func (r *runner) notifyBench(ctx context.Context, d time.Duration, senders int) error {
	payload := strings.Repeat("x", 600)
	heard := r.notifies.Load()
	var sent atomic.Int64
	bctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for range senders {
		wg.Go(func() {
			for bctx.Err() == nil {
				if _, err := r.db.ExecContext(bctx, `SELECT pg_notify('sally_events:public', $1)`, payload); err == nil {
					sent.Add(1)
				}
			}
		})
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	time.Sleep(500 * time.Millisecond) // the last ones arrive
	fmt.Fprintf(r.out, "\n-- NOTIFY ceiling: %d senders, 600-byte payloads, %.0f s --\n%.0f notifications/s sent, %.0f/s heard by one listener\n",
		senders, el, float64(sent.Load())/el, float64(r.notifies.Load()-heard)/el)
	return nil
}
