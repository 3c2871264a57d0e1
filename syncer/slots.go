package syncer

import (
	"context"
	"sync"
)

// slots bounds the syncs one server runs at once (SYNC_CONCURRENCY) and shares them
// fairly between vendors.
//
//   - An eighth of them (at least one) is kept for manual syncs: scheduled syncs never
//     take the last manualReserve slots, so "Sync now" waits only behind other manual
//     syncs, never behind scheduled ones of another vendor.
//   - The scheduled slots are shared: every vendor may use share = scheduled slots ÷
//     vendors whenever it has due work. Beyond its share a vendor may use idle slots
//     (syncs of some vendors take longer than others'), but only while every other
//     vendor still finds keep = half its share (at least one, at most what it has not
//     used of its share) free for its next due syncs. So a vendor whose syncs hang
//     (an outage before vendor-wide health sees it) never holds the slots another
//     vendor's due sync needs at the next tick, and it stops growing once others
//     have due work: new slots go to vendors under their share first.
type slots struct {
	total, scheduled int // all slots; those scheduled syncs may use
	share, keep      int
	vendors          []string

	mu      sync.Mutex
	running map[string]int // scheduled syncs per vendor
	sched   int            // scheduled syncs in all
	manual  int
	wake    chan struct{} // closed when a slot is released
}

func newSlots(total int, vendors []string) *slots {
	total = max(total, 1)
	reserve := max(1, total/8)
	scheduled := max(total-reserve, 1)
	share := max(scheduled/max(len(vendors), 1), 1)
	return &slots{
		total: total, scheduled: scheduled, share: share, keep: max(1, share/2),
		vendors: vendors, running: map[string]int{}, wake: make(chan struct{}),
	}
}

// plan returns how many scheduled syncs of each vendor may start now, given how
// many are due (found by the scheduler, each at most the free slots), and takes
// those slots: the caller must release (releaseScheduled) each one it does not use.
func (s *slots) plan(due map[string]int) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	free := min(s.scheduled-s.sched, s.total-s.sched-s.manual)
	grant := map[string]int{}
	if free <= 0 {
		return grant
	}
	used := func(v string) int { return s.running[v] + grant[v] }
	want := func(v string) bool { return due[v] > grant[v] }
	// First every vendor up to its share, one slot at a time in turn, so that a
	// short supply is shared evenly.
	for progress := true; progress && free > 0; {
		progress = false
		for _, v := range s.vendors {
			if free > 0 && want(v) && used(v) < s.share {
				grant[v]++
				free--
				progress = true
			}
		}
	}
	// Then idle slots beyond the share, keeping some free for every other vendor
	// that has not used its share.
	for progress := true; progress && free > 0; {
		progress = false
		for _, v := range s.vendors {
			if free <= 0 || !want(v) {
				continue
			}
			kept := 0
			for _, o := range s.vendors {
				if o != v && used(o) < s.share {
					kept += min(s.keep, s.share-used(o))
				}
			}
			if free > kept {
				grant[v]++
				free--
				progress = true
			}
		}
	}
	for v, n := range grant {
		s.running[v] += n
		s.sched += n
	}
	return grant
}

// releaseScheduled frees a slot plan gave to vendor.
func (s *slots) releaseScheduled(vendor string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running[vendor]--
	s.sched--
	s.wakeLocked()
}

// acquireManual takes a slot for a manual sync, waiting while every slot is busy
// (then at least manualReserve manual syncs are running).
func (s *slots) acquireManual(ctx context.Context) error {
	for {
		s.mu.Lock()
		if s.sched+s.manual < s.total {
			s.manual++
			s.mu.Unlock()
			return nil
		}
		wake := s.wake
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		}
	}
}

func (s *slots) releaseManual() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.manual--
	s.wakeLocked()
}

func (s *slots) wakeLocked() {
	close(s.wake)
	s.wake = make(chan struct{})
}

// free is how many more scheduled syncs could start now, ignoring fairness: the
// most the scheduler needs to look for per vendor.
func (s *slots) free() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(0, min(s.scheduled-s.sched, s.total-s.sched-s.manual))
}
