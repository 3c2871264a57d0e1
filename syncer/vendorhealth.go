package syncer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/vendorcallwindow"
	"github.com/sallyhq/sally/ent/vendorhealth"
	"github.com/sallyhq/sally/resilience"
)

// Vendor-wide health.
//
// A breaker per integration protects one tenant's key. When a vendor is down for
// everyone, each of its thousands of integrations would still fail on its own,
// holding a sync slot through its retries and backoff before its breaker opens.
// Vendor-wide health sees it once for all of them:
//
//   - Every try of every vendor call is counted per vendor, in a sliding window of
//     one-second buckets in each server: answered (the vendor sent a response it
//     meant: success, auth and other 4xx, a bad body) or failed with a
//     vendor-health error (network, timeout, 429, 5xx). Calls our side refused
//     (open breaker, full bulkhead, cancelled) say nothing and are not counted.
//   - Every HealthOptions.Every, each server writes its window's two counts to its
//     own vendor_call_windows row and reads every server's fresh rows: when together
//     they hold at least MinCalls calls of which at least Ratio failed, the vendor
//     goes down, by a compare-and-set of its vendor_healths row, so exactly one
//     server records the change (and publishes VENDOR_DOWN); the others read it.
//   - While down, due syncs of the vendor are recorded as failed at once (class
//     circuit_open, "… is down for everyone") without calling it. Every
//     ProbeInterval one server takes the probe (a compare-and-set of next_probe_at)
//     and calls the vendor once with an integration's credentials, bypassing that
//     integration's breaker. An answer brings the vendor back up (VENDOR_UP); a
//     vendor-health failure leaves it down until the next probe.
//   - A vendor that just came back is not judged again for one Window, so failures
//     from before its recovery cannot take it down again at once.

// Named defaults of vendor-wide health (config: VENDOR_DOWN_RATIO, …).
const (
	DefaultVendorDownRatio     = 0.8
	DefaultVendorDownMinCalls  = 20
	DefaultVendorDownWindow    = 20 * time.Second
	DefaultVendorProbeInterval = 30 * time.Second
	DefaultHealthEvery         = 2 * time.Second
	// probeLease bounds how long a server may hold a probe it never finished (it died).
	probeLease = time.Minute
	// staleWindowAfter: rows of servers silent this long are swept.
	staleWindowAfter = 10 * time.Minute
)

// HealthOptions tune vendor-wide health; zero fields take the defaults.
type HealthOptions struct {
	Ratio         float64       // failed share of the window's calls that means down
	MinCalls      int           // calls the window needs before it can mean down
	Window        time.Duration // how far back the window looks
	ProbeInterval time.Duration // between probes while down
	Every         time.Duration // how often each server shares its window and reads the others'
}

func (o HealthOptions) withDefaults() HealthOptions {
	if !(o.Ratio > 0 && o.Ratio <= 1) {
		o.Ratio = DefaultVendorDownRatio
	}
	if o.MinCalls <= 0 {
		o.MinCalls = DefaultVendorDownMinCalls
	}
	if o.Window <= 0 {
		o.Window = DefaultVendorDownWindow
	}
	if o.ProbeInterval <= 0 {
		o.ProbeInterval = DefaultVendorProbeInterval
	}
	if o.Every <= 0 {
		o.Every = min(DefaultHealthEvery, max(o.Window/5, 10*time.Millisecond))
	}
	return o
}

// VendorStatus is a vendor's health as the database says.
type VendorStatus struct {
	Vendor      string
	Up          bool
	ChangedAt   time.Time
	Reason      string
	NextProbeAt time.Time // zero while up
}

// callWindow counts one vendor's tries in one-second buckets.
type callWindow struct {
	sec      []int64 // the second each bucket counts
	answered []int
	failed   []int
}

func newCallWindow(window time.Duration) *callWindow {
	n := int(math.Ceil(window.Seconds())) + 1
	return &callWindow{sec: make([]int64, n), answered: make([]int, n), failed: make([]int, n)}
}

func (w *callWindow) add(now time.Time, failed bool) {
	s := now.Unix()
	i := int(s % int64(len(w.sec)))
	if w.sec[i] != s {
		w.sec[i], w.answered[i], w.failed[i] = s, 0, 0
	}
	if failed {
		w.failed[i]++
	} else {
		w.answered[i]++
	}
}

// sum counts the calls of the last window (the current second included).
func (w *callWindow) sum(now time.Time, window time.Duration) (answered, failed int) {
	from := now.Add(-window).Unix()
	for i, s := range w.sec {
		if s > from && s <= now.Unix() {
			answered += w.answered[i]
			failed += w.failed[i]
		}
	}
	return answered, failed
}

func (w *callWindow) reset() {
	clear(w.sec)
	clear(w.answered)
	clear(w.failed)
}

// health is the engine's vendor-wide health.
type health struct {
	client   *ent.Client
	instance string
	opts     HealthOptions
	vendors  []string
	now      func() time.Time
	log      *slog.Logger
	// changed is told about every change this server records or reads.
	changed func(ctx context.Context, st VendorStatus, recordedHere bool)

	mu      sync.Mutex
	windows map[string]*callWindow
	status  map[string]VendorStatus
	ready   bool // the rows exist
	shares  int  // share calls so far (only the health loop calls share)
}

func newHealth(client *ent.Client, instance string, vendors []string, opts HealthOptions, now func() time.Time, log *slog.Logger,
	changed func(context.Context, VendorStatus, bool)) *health {
	opts = opts.withDefaults()
	h := &health{
		client: client, instance: instance, opts: opts, vendors: vendors, now: now, log: log, changed: changed,
		windows: map[string]*callWindow{}, status: map[string]VendorStatus{},
	}
	for _, v := range vendors {
		h.windows[v] = newCallWindow(opts.Window)
		h.status[v] = VendorStatus{Vendor: v, Up: true}
	}
	return h
}

// observe counts one try of a call to vendor; err is what the try returned.
func (h *health) observe(vendor string, err error) {
	class := resilience.Classify(err)
	var failed bool
	switch {
	case err == nil, class == resilience.ClassAuth, class == resilience.ClassBadResponse:
	case class.VendorHealth():
		failed = true
	default:
		return // refused on our side, cancelled or not understood: nothing learned
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if w := h.windows[vendor]; w != nil {
		w.add(h.now(), failed)
	}
}

// down reports whether vendor is down for everyone, as last read from the database.
func (h *health) down(vendor string) (VendorStatus, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st, ok := h.status[vendor]
	return st, ok && !st.Up
}

// Status returns every vendor's health as last read.
func (h *health) statuses() []VendorStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]VendorStatus, 0, len(h.vendors))
	for _, v := range h.vendors {
		out = append(out, h.status[v])
	}
	return out
}

// ensureRows creates the vendors' rows (up) once.
func (h *health) ensureRows(ctx context.Context) error {
	h.mu.Lock()
	ready := h.ready
	h.mu.Unlock()
	if ready {
		return nil
	}
	now := h.now()
	creates := make([]*ent.VendorHealthCreate, 0, len(h.vendors))
	for _, v := range h.vendors {
		creates = append(creates, h.client.VendorHealth.Create().SetVendor(v).SetChangedAt(now))
	}
	err := h.client.VendorHealth.CreateBulk(creates...).OnConflictColumns(vendorhealth.FieldVendor).Ignore().Exec(ctx)
	if err != nil {
		return fmt.Errorf("vendor health rows: %w", err)
	}
	h.mu.Lock()
	h.ready = true
	h.mu.Unlock()
	return nil
}

// share writes this server's windows, judges every vendor on every server's fresh
// windows, and reads the vendors' states.
func (h *health) share(ctx context.Context) error {
	if err := h.ensureRows(ctx); err != nil {
		return err
	}
	now := h.now()
	type counts struct{ answered, failed int }
	mine := map[string]counts{}
	h.mu.Lock()
	for v, w := range h.windows {
		a, f := w.sum(now, h.opts.Window)
		mine[v] = counts{a, f}
	}
	h.mu.Unlock()
	creates := make([]*ent.VendorCallWindowCreate, 0, len(mine))
	for _, v := range h.vendors {
		c := mine[v]
		creates = append(creates, h.client.VendorCallWindow.Create().SetVendor(v).SetInstance(h.instance).
			SetAnswered(c.answered).SetFailed(c.failed).SetUpdatedAt(now))
	}
	err := h.client.VendorCallWindow.CreateBulk(creates...).
		OnConflictColumns(vendorcallwindow.FieldVendor, vendorcallwindow.FieldInstance).
		UpdateNewValues().Exec(ctx)
	if err != nil {
		return fmt.Errorf("share vendor call window: %w", err)
	}
	// Rows older than a few shares belong to servers that stopped (or lag): their
	// counts are not of this window.
	fresh, err := h.client.VendorCallWindow.Query().
		Where(vendorcallwindow.UpdatedAtGTE(now.Add(-3 * h.opts.Every))).All(ctx)
	if err != nil {
		return fmt.Errorf("read vendor call windows: %w", err)
	}
	total := map[string]counts{}
	for _, r := range fresh {
		c := total[r.Vendor]
		total[r.Vendor] = counts{c.answered + r.Answered, c.failed + r.Failed}
	}
	rows, err := h.client.VendorHealth.Query().All(ctx)
	if err != nil {
		return fmt.Errorf("read vendor health: %w", err)
	}
	for _, r := range rows {
		c := total[r.Vendor]
		n := c.answered + c.failed
		if r.Up && n >= h.opts.MinCalls && float64(c.failed) >= h.opts.Ratio*float64(n) &&
			now.Sub(r.ChangedAt) >= h.opts.Window {
			reason := fmt.Sprintf("%d%% of the last %d calls to %s failed within %s, from every tenant",
				c.failed*100/n, n, r.Vendor, h.opts.Window)
			if _, err := h.markDown(ctx, r, now, reason); err != nil {
				return err
			}
		}
	}
	// Read again: this server's and others' changes.
	rows, err = h.client.VendorHealth.Query().All(ctx)
	if err != nil {
		return fmt.Errorf("read vendor health: %w", err)
	}
	for _, r := range rows {
		h.adopt(ctx, statusOf(r), false)
	}
	if h.shares++; h.shares%100 == 1 { // now and then
		_, _ = h.client.VendorCallWindow.Delete().Where(vendorcallwindow.UpdatedAtLT(now.Add(-staleWindowAfter))).Exec(ctx)
	}
	return nil
}

func statusOf(r *ent.VendorHealth) VendorStatus {
	st := VendorStatus{Vendor: r.Vendor, Up: r.Up, ChangedAt: r.ChangedAt.UTC(), Reason: r.Reason}
	if r.NextProbeAt != nil {
		st.NextProbeAt = r.NextProbeAt.UTC()
	}
	return st
}

// adopt takes st as the vendor's state and reports a change.
func (h *health) adopt(ctx context.Context, st VendorStatus, recordedHere bool) {
	h.mu.Lock()
	old, known := h.status[st.Vendor]
	h.status[st.Vendor] = st
	changed := !known || old.Up != st.Up || !old.ChangedAt.Equal(st.ChangedAt)
	if changed && st.Up {
		// Back up: what this server counted before the recovery is history.
		if w := h.windows[st.Vendor]; w != nil {
			w.reset()
		}
	}
	h.mu.Unlock()
	if changed && h.changed != nil {
		h.changed(ctx, st, recordedHere)
	}
}

// markDown records vendor r as down unless another server did first.
func (h *health) markDown(ctx context.Context, r *ent.VendorHealth, now time.Time, reason string) (bool, error) {
	next := now.Add(h.opts.ProbeInterval)
	n, err := h.client.VendorHealth.Update().
		Where(vendorhealth.ID(r.ID), vendorhealth.Up(true), vendorhealth.ChangedAt(r.ChangedAt)).
		SetUp(false).SetChangedAt(now).SetReason(truncate(reason, 500)).
		SetNextProbeAt(next).SetProbeOwner("").ClearProbeUntil().Save(ctx)
	if err != nil {
		return false, fmt.Errorf("mark vendor down: %w", err)
	}
	if n != 1 {
		return false, nil
	}
	h.log.Warn("vendor down for everyone", "vendor", r.Vendor, "reason", reason, "nextProbe", next)
	h.adopt(ctx, VendorStatus{Vendor: r.Vendor, Up: false, ChangedAt: now, Reason: reason, NextProbeAt: next}, true)
	return true, nil
}

// takeProbe claims the vendor's next probe for this server when it is due: one
// server at a time, one probe per ProbeInterval.
func (h *health) takeProbe(ctx context.Context, vendor string) (bool, error) {
	now := h.now()
	if st, down := h.down(vendor); !down || now.Before(st.NextProbeAt) {
		return false, nil
	}
	next := now.Add(h.opts.ProbeInterval)
	n, err := h.client.VendorHealth.Update().
		Where(vendorhealth.Vendor(vendor), vendorhealth.Up(false), vendorhealth.NextProbeAtLTE(now),
			vendorhealth.Or(vendorhealth.ProbeUntilIsNil(), vendorhealth.ProbeUntilLT(now))).
		SetNextProbeAt(next).SetProbeOwner(h.instance).SetProbeUntil(now.Add(probeLease)).Save(ctx)
	if err != nil {
		return false, fmt.Errorf("take vendor probe: %w", err)
	}
	h.mu.Lock()
	if st, ok := h.status[vendor]; ok && !st.Up {
		st.NextProbeAt = next // whoever took it, the next one is not before this
		h.status[vendor] = st
	}
	h.mu.Unlock()
	return n == 1, nil
}

// probed records what this server's probe found: err is the one try's error. An
// answer brings the vendor back; anything else leaves it down (and the probe free).
func (h *health) probed(ctx context.Context, vendor string, err error) error {
	now := h.now()
	class := resilience.Classify(err)
	answered := err == nil || class == resilience.ClassAuth || class == resilience.ClassBadResponse
	u := h.client.VendorHealth.Update().
		Where(vendorhealth.Vendor(vendor), vendorhealth.Up(false), vendorhealth.ProbeOwner(h.instance)).
		SetProbeOwner("").ClearProbeUntil()
	if answered {
		u.SetUp(true).SetChangedAt(now).SetReason("").ClearNextProbeAt()
	}
	n, uerr := u.Save(ctx)
	if uerr != nil {
		return fmt.Errorf("record vendor probe: %w", uerr)
	}
	if answered && n == 1 {
		h.log.Info("vendor back up", "vendor", vendor)
		h.adopt(ctx, VendorStatus{Vendor: vendor, Up: true, ChangedAt: now}, true)
	} else if !answered {
		h.log.Info("vendor still down", "vendor", vendor, "probe", resilience.Describe(err))
	}
	return nil
}

// errVendorDown is why a sync of a vendor that is down for everyone failed at once.
type errVendorDown struct{ st VendorStatus }

func (e errVendorDown) Error() string {
	msg := fmt.Sprintf("%s is down for everyone (%s): this sync did not call it", e.st.Vendor, e.st.Reason)
	if !e.st.NextProbeAt.IsZero() {
		msg += fmt.Sprintf("; the next check is at %s UTC", e.st.NextProbeAt.UTC().Format("15:04:05"))
	}
	return msg
}

func (e errVendorDown) Is(target error) bool { return target == errVendorDownSentinel }

var errVendorDownSentinel = errors.New("vendor down for everyone")
