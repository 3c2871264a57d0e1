package model

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"fyne.io/fyne/v2/data/binding"

	"github.com/sallyhq/sally/desktop/gqlclient"
)

// Sync detail, the live feed's filter and pins, and the result message that follows
// the integration's later syncs.

// SyncTry is one vendor request of a sync, as the detail shows it.
type SyncTry struct {
	Call       string
	Attempt    int
	StartedAt  time.Time
	DurationMs int
	HTTPStatus int // 0: no answer came
	ErrorClass string
	Error      string
	RetryInMs  int // -1: no try followed
}

// SyncDetail is one sync in full (the detail window).
type SyncDetail struct {
	ID, Integration, Vendor   string
	Status, Type, Trigger     string
	TriggeredBy               string // the user's email; "" for scheduled syncs or a deleted user
	StartedAt, CompletedAt    time.Time
	DurationMs                int // -1 while running
	Processed, Created, Upded int
	Attempts                  int
	Error, ErrorClass         string
	Tries                     []SyncTry
}

// Who says who triggered the sync, in words.
func (d SyncDetail) Who() string {
	switch {
	case d.Trigger != string(gqlclient.SyncTriggerManual):
		return "Scheduled"
	case d.TriggeredBy != "":
		return "Manual, by " + d.TriggeredBy
	}
	return "Manual (by a user who no longer exists)"
}

// TryText is one try in a line: "loads · try 2 · HTTP 503 unavailable · 120 ms · waited 1.2 s".
func TryText(t SyncTry) string {
	status := "no answer"
	if t.HTTPStatus != 0 {
		status = fmt.Sprintf("HTTP %d", t.HTTPStatus)
	}
	if t.ErrorClass != "" {
		status += " " + t.ErrorClass
	}
	s := fmt.Sprintf("%s · try %d · %s · %s", t.Call, t.Attempt, status, Duration(t.DurationMs))
	if t.RetryInMs >= 0 {
		s += " · waited " + Duration(t.RetryInMs) + " before the next try"
	}
	return s
}

// syncState is the part of the Model this file adds.
type syncState struct {
	// Detail is the sync opened from the history (OpenSync); DetailOpen says whether
	// its window should show, DetailLoading while it loads, DetailError why it did not.
	Detail        binding.Item[SyncDetail]
	DetailOpen    binding.Bool
	DetailLoading binding.Bool
	DetailError   binding.String
	// ProblemsOnly filters the feed (Feed) to failures, retries, circuit, alert and
	// credentials events. Pinned are the circuit, alert and credentials events kept
	// above the feed until Dismiss.
	ProblemsOnly binding.Bool
	Feed         binding.List[Event]
	Pinned       binding.List[Event]
}

func newSyncState() syncState {
	return syncState{
		Detail:        binding.NewItem(func(a, b SyncDetail) bool { return false }),
		DetailOpen:    binding.NewBool(),
		DetailLoading: binding.NewBool(),
		DetailError:   binding.NewString(),
		ProblemsOnly:  binding.NewBool(),
		Feed:          binding.NewList(func(a, b Event) bool { return a == b }),
		Pinned:        binding.NewList(func(a, b Event) bool { return a == b }),
	}
}

// IsProblem says whether an event belongs in the "problems only" feed.
func IsProblem(e Event) bool {
	switch gqlclient.SyncEventType(e.Type) {
	case gqlclient.SyncEventTypeSyncFailed, gqlclient.SyncEventTypeSyncRetrying, gqlclient.SyncEventTypeCircuitOpened,
		gqlclient.SyncEventTypeCircuitHalfOpened, gqlclient.SyncEventTypeAlertRaised:
		return true
	}
	return IsPinned(e)
}

// IsPinned says whether an event stays above the feed until dismissed: the circuit
// opened, an alert was raised, or the vendor refused the credentials.
func IsPinned(e Event) bool {
	switch gqlclient.SyncEventType(e.Type) {
	case gqlclient.SyncEventTypeCircuitOpened, gqlclient.SyncEventTypeAlertRaised:
		return true
	case gqlclient.SyncEventTypeSyncFailed:
		return e.ErrorClass == "auth"
	case gqlclient.SyncEventTypeIntegrationChanged:
		return e.NeedsCredentials
	}
	return false
}

// refeed recomputes Feed from Events and the filter; it runs inside do.
func (m *Model) refeed() {
	all, _ := m.Events.Get()
	only, _ := m.ProblemsOnly.Get()
	var shown []Event
	for _, e := range all {
		if !only || IsProblem(e) {
			shown = append(shown, e)
		}
	}
	_ = m.Feed.Set(shown)
}

// SetProblemsOnly filters the feed.
func (m *Model) SetProblemsOnly(on bool) {
	m.do(func() {
		_ = m.ProblemsOnly.Set(on)
		m.refeed()
	})
}

// Dismiss unpins the i-th pinned event.
func (m *Model) Dismiss(i int) {
	m.do(func() {
		pins, _ := m.Pinned.Get()
		if i < 0 || i >= len(pins) {
			return
		}
		_ = m.Pinned.Set(slices.Delete(slices.Clone(pins), i, i+1))
	})
}

// afterEvent is what an event changes here: the feed's filtered view, the pins, and
// the selected integration's result message when a later sync of it ended. It runs
// inside do, after the event joined Events.
func (m *Model) afterEvent(e Event) {
	m.refeed()
	if IsPinned(e) {
		pins, _ := m.Pinned.Get()
		_ = m.Pinned.Set(append([]Event{e}, pins...))
	}
	ended := e.Type == string(gqlclient.SyncEventTypeSyncSucceeded) || e.Type == string(gqlclient.SyncEventTypeSyncFailed)
	if sel, _ := m.Selected.Get(); !ended || sel != e.IntegrationID {
		return
	}
	if busy, _ := m.Syncing.Get(); busy {
		return // our own sync's answer sets it
	}
	if cur, _ := m.SyncResult.Get(); cur == "" {
		return // nothing shown to replace
	}
	ok := e.Type == string(gqlclient.SyncEventTypeSyncSucceeded)
	_ = m.SyncOK.Set(ok)
	_ = m.SyncResult.Set(syncResultText(ok, e.Trigger, e.Records, e.DurationMs, e.Message))
}

// syncResultText is the result message of a finished sync.
func syncResultText(ok bool, trigger string, records, durationMs int, why string) string {
	prefix := "Sync"
	if trigger == string(gqlclient.SyncTriggerScheduled) {
		prefix = "Scheduled sync"
	}
	if ok {
		return fmt.Sprintf("%s succeeded: %d records in %s", prefix, records, Duration(durationMs))
	}
	return fmt.Sprintf("%s failed after %s: %s", prefix, Duration(durationMs), orDefault(why, "no reason given"))
}

// OpenSync loads a sync in full and opens its detail (DetailOpen).
func (m *Model) OpenSync(id string) {
	s := m.session()
	if s == nil || id == "" {
		return
	}
	m.do(func() {
		_ = m.DetailOpen.Set(true)
		_ = m.DetailLoading.Set(true)
		_ = m.DetailError.Set("")
	})
	m.goSession(func() {
		ctx, cancel := context.WithTimeout(s.ctx, CallTimeout)
		defer cancel()
		resp, err := gqlclient.SyncLogDetail(ctx, s.client, id)
		m.do(func() {
			_ = m.DetailLoading.Set(false)
			switch {
			case err != nil:
				_ = m.DetailError.Set("Could not load the sync: " + gqlclient.Message(err))
			case resp.SyncLog == nil:
				_ = m.DetailError.Set("There is no such sync any more.")
			default:
				_ = m.Detail.Set(syncDetailFrom(*resp.SyncLog))
			}
		})
		if err != nil {
			m.callFailed(s, "load sync", err)
		}
	})
}

// CloseSync closes the detail.
func (m *Model) CloseSync() {
	m.do(func() { _ = m.DetailOpen.Set(false) })
}

func syncDetailFrom(l gqlclient.SyncLogDetailSyncLog) SyncDetail {
	r := syncRowFrom(l.SyncLogFields)
	d := SyncDetail{
		ID: r.ID, Integration: l.Integration.DisplayName, Vendor: string(l.Integration.Vendor),
		Status: r.Status, Type: r.Type, Trigger: r.Trigger, StartedAt: r.StartedAt, DurationMs: r.DurationMs,
		Processed: l.RecordsProcessed, Created: l.RecordsCreated, Upded: l.RecordsUpdated,
		Attempts: r.Attempts, Error: r.Error,
	}
	if l.CompletedAt != nil {
		d.CompletedAt = *l.CompletedAt
	}
	if l.ErrorClass != nil {
		d.ErrorClass = *l.ErrorClass
	}
	if l.TriggeredBy != nil {
		d.TriggeredBy = l.TriggeredBy.Email
	}
	for _, t := range l.Tries {
		st := SyncTry{Call: t.Call, Attempt: t.Attempt, StartedAt: t.StartedAt, DurationMs: t.DurationMs, RetryInMs: -1}
		if t.HttpStatus != nil {
			st.HTTPStatus = *t.HttpStatus
		}
		if t.ErrorClass != nil {
			st.ErrorClass = *t.ErrorClass
		}
		if t.Error != nil {
			st.Error = *t.Error
		}
		if t.RetryInMs != nil {
			st.RetryInMs = *t.RetryInMs
		}
		d.Tries = append(d.Tries, st)
	}
	return d
}

// AutoOpenSync opens the sync SALLY_OPEN_SYNC names once logged in (getenv is
// os.Getenv in the app), for scripts such as the screenshot in docs/.
func (m *Model) AutoOpenSync(getenv func(string) string) {
	id := getenv("SALLY_OPEN_SYNC")
	if id == "" {
		return
	}
	var once sync.Once
	m.LoggedIn.AddListener(binding.NewDataListener(func() {
		if in, _ := m.LoggedIn.Get(); in {
			once.Do(func() { go m.OpenSync(id) })
		}
	}))
}
