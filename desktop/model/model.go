// Package model holds the desktop monitor's state as Fyne data bindings, and the
// behaviour that changes it: logging in, loading the integrations and their history,
// following the live event feed, testing and syncing. It has no widgets: package ui
// binds widgets to these values, and tests assert on them directly.
//
// Every change to a binding goes through Options.Do (fyne.Do in the app), so listeners
// — the widgets — only ever run on the UI goroutine, one change at a time. Network
// calls run on the model's own goroutines, through the typed client of gqlclient.
package model

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/data/binding"

	"github.com/sallyhq/sally/desktop/gqlclient"
)

// Defaults of Options.
const (
	DefaultServerURL = "http://localhost:8080"
	DefaultFeedSize  = 100
	DefaultPageSize  = 15
	// CallTimeout bounds a query; ActionTimeout a test or a manual sync.
	CallTimeout   = 30 * time.Second
	ActionTimeout = 3 * time.Minute
)

// Preference keys. The password is never stored.
const (
	PrefServerURL = "serverURL"
	PrefEmail     = "email"
)

// Options are the model's dependencies; the zero value suits the app.
type Options struct {
	// Prefs remembers the server URL and email between runs (nil: not remembered).
	Prefs fyne.Preferences
	// Notify shows a desktop notification (nil: the current app's SendNotification).
	Notify func(*fyne.Notification)
	// Do runs a state change on the UI goroutine, in order (nil: fyne.Do).
	Do func(func())
	// HTTPClient sends queries and mutations (nil: a client with a generous timeout).
	HTTPClient *http.Client
	// Events tunes the subscription's reconnection.
	Events gqlclient.EventsOptions
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Tick is how often Now is refreshed for relative times (0: every second).
	Tick time.Duration
	// FeedSize bounds the live feed; PageSize is the history page size.
	FeedSize, PageSize int
	Logger             *slog.Logger
}

// Model is the monitor's state. Create it with New; bindings may be read from any
// goroutine.
type Model struct {
	// The login form. ServerURL and Email are remembered in the preferences after a
	// successful login; Password lives only in memory.
	ServerURL, Email, Password binding.String
	// LoginError says why the last login failed ("" when it did not).
	LoginError binding.String
	// LoggingIn is true while a login is under way; LoggedIn once it succeeded.
	LoggingIn, LoggedIn binding.Bool
	// User is who is logged in, e.g. "admin@localhost · Demo Fleet".
	User binding.String

	// Online is true while the live feed is connected; Connection says so in words,
	// e.g. "Offline — reconnecting in 4s (cannot reach the server)".
	Online     binding.Bool
	Connection binding.String

	// Integrations are the rows of the list, in the server's order.
	Integrations binding.List[Integration]
	// Events is the live feed, newest first, at most Options.FeedSize long.
	Events binding.List[Event]

	// Selected is the ID of the integration whose details are shown ("" for none).
	Selected, SelectedName binding.String
	// History is one page of the selected integration's syncs, newest first.
	History        binding.List[SyncRow]
	HistoryPage    binding.Int // 0-based
	HistoryHasNext binding.Bool
	HistoryLoading binding.Bool
	// The stat cards of the selected integration (all its finished syncs).
	StatTotal, StatSuccessful, StatFailed binding.Int
	StatSuccessRate                       binding.Float

	// The buttons' state and results. TestOK/SyncOK say whether the last result
	// was a success.
	Testing, TestOK binding.Bool
	TestResult      binding.String
	Syncing, SyncOK binding.Bool
	SyncResult      binding.String
	// Now is the clock the relative times are computed against; it ticks while
	// logged in so that "12s ago" keeps counting.
	Now binding.Item[time.Time]

	// The sync detail, the feed's filter and pins (synclog.go).
	syncState

	// Fleet is the state of the Drivers and Loads views (fleet.go).
	Fleet *Fleet

	opts   Options
	logger *slog.Logger

	mu     sync.Mutex
	sess   *session
	closed bool
	wg     sync.WaitGroup

	// offlineWhy and retryAt describe the lost connection; touched only inside do.
	offlineWhy string
	retryAt    time.Time

	seq     atomic.Uint64
	rowSeq  map[string]uint64 // touched only inside do: the seq of each row's newest data
	histSeq atomic.Uint64
}

// session is one login: its client, and the context its goroutines run under.
type session struct {
	client          *gqlclient.Client
	ctx             context.Context
	cancel          context.CancelFunc
	email, password string // in memory only, to renew an expired token

	vendorsMu sync.Mutex
	vendors   map[string]string // vendor → display name (Query.vendors); nil until loaded
}

// vendorNames returns the server's names of its vendors, asked once per session (and
// again after a failure). A server without Query.vendors, an addition to the
// contract, leaves every vendor named by its enum value.
func (m *Model) vendorNames(ctx context.Context, s *session) map[string]string {
	s.vendorsMu.Lock()
	defer s.vendorsMu.Unlock()
	if s.vendors == nil {
		resp, err := gqlclient.Vendors(ctx, s.client)
		if err != nil {
			m.logger.Info("load vendor names failed", "err", err)
			return nil
		}
		s.vendors = make(map[string]string, len(resp.Vendors))
		for _, v := range resp.Vendors {
			s.vendors[string(v.Vendor)] = v.DisplayName
		}
	}
	return s.vendors
}

// New returns a logged-out model; the server URL and email come from the preferences.
func New(opts Options) *Model {
	if opts.Do == nil {
		opts.Do = fyne.Do
	}
	if opts.Notify == nil {
		opts.Notify = func(n *fyne.Notification) {
			if a := fyne.CurrentApp(); a != nil {
				a.SendNotification(n)
			}
		}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Tick <= 0 {
		opts.Tick = time.Second
	}
	if opts.FeedSize <= 0 {
		opts.FeedSize = DefaultFeedSize
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: gqlclient.DefaultHTTPTimeout}
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &Model{
		ServerURL: binding.NewString(), Email: binding.NewString(), Password: binding.NewString(),
		LoginError: binding.NewString(), LoggingIn: binding.NewBool(), LoggedIn: binding.NewBool(),
		User: binding.NewString(), Online: binding.NewBool(), Connection: binding.NewString(),
		Integrations: binding.NewList(func(a, b Integration) bool { return a == b }),
		Events:       binding.NewList(func(a, b Event) bool { return a == b }),
		Selected:     binding.NewString(), SelectedName: binding.NewString(),
		History:     binding.NewList(func(a, b SyncRow) bool { return a == b }),
		HistoryPage: binding.NewInt(), HistoryHasNext: binding.NewBool(), HistoryLoading: binding.NewBool(),
		StatTotal: binding.NewInt(), StatSuccessful: binding.NewInt(), StatFailed: binding.NewInt(),
		StatSuccessRate: binding.NewFloat(),
		Testing:         binding.NewBool(), TestOK: binding.NewBool(), TestResult: binding.NewString(),
		Syncing: binding.NewBool(), SyncOK: binding.NewBool(), SyncResult: binding.NewString(),
		Now:       binding.NewItem(func(a, b time.Time) bool { return a.Equal(b) }),
		syncState: newSyncState(),
		opts:      opts,
		logger:    logger,
		rowSeq:    map[string]uint64{},
	}
	url, email := DefaultServerURL, ""
	if opts.Prefs != nil {
		url = opts.Prefs.StringWithFallback(PrefServerURL, DefaultServerURL)
		email = opts.Prefs.String(PrefEmail)
	}
	_ = m.ServerURL.Set(url)
	_ = m.Email.Set(email)
	_ = m.Now.Set(opts.Now())
	_ = m.Connection.Set("Not connected")
	m.Fleet = newFleet(m)
	return m
}

// do applies a state change on the UI goroutine.
func (m *Model) do(fn func()) { m.opts.Do(fn) }

// goSession runs fn on its own goroutine, counted for Close; after Close it does not.
func (m *Model) goSession(fn func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		fn()
	}()
}

func (m *Model) session() *session {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sess
}

// Close ends the session's goroutines and waits for them.
func (m *Model) Close() {
	m.mu.Lock()
	s := m.sess
	m.sess = nil
	m.closed = true
	m.mu.Unlock()
	if s != nil {
		s.cancel()
	}
	m.wg.Wait()
}

// Login logs in with the form's values in the background; LoggingIn, LoginError and
// LoggedIn report how it goes.
func (m *Model) Login() {
	if busy, _ := m.LoggingIn.Get(); busy {
		return
	}
	url, _ := m.ServerURL.Get()
	email, _ := m.Email.Get()
	password, _ := m.Password.Get()
	m.do(func() {
		_ = m.LoggingIn.Set(true)
		_ = m.LoginError.Set("")
	})
	m.goSession(func() {
		err := m.login(url, email, password)
		m.do(func() {
			_ = m.LoggingIn.Set(false)
			if err != nil {
				_ = m.LoginError.Set(err.Error())
			}
		})
	})
}

func (m *Model) login(url, email, password string) error {
	client, err := gqlclient.New(url, m.opts.HTTPClient)
	if err != nil {
		return err
	}
	if email == "" || password == "" {
		return errors.New("enter your email and password")
	}
	ctx, cancel := context.WithTimeout(context.Background(), CallTimeout)
	defer cancel()
	payload, err := client.SignIn(ctx, email, password)
	if err != nil {
		m.logger.Info("login failed", "url", client.BaseURL(), "err", err)
		return errors.New(loginMessage(err))
	}
	if p := m.opts.Prefs; p != nil {
		p.SetString(PrefServerURL, client.BaseURL())
		p.SetString(PrefEmail, email)
	}

	m.mu.Lock()
	if old := m.sess; old != nil {
		old.cancel()
	}
	ctx, cancel = context.WithCancel(context.Background())
	s := &session{client: client, ctx: ctx, cancel: cancel, email: email, password: password}
	m.sess = s
	m.mu.Unlock()

	user := payload.User.Email + " · " + payload.User.Tenant.Name
	m.do(func() {
		_ = m.ServerURL.Set(client.BaseURL())
		_ = m.User.Set(user)
		_ = m.Connection.Set("Connecting…")
		_ = m.LoggedIn.Set(true)
	})
	m.goSession(func() { m.refresh(s) })
	m.Fleet.start(s)
	m.goSession(func() { m.follow(s) })
	m.goSession(func() { m.tick(s) })
	return nil
}

func loginMessage(err error) string {
	switch {
	case gqlclient.IsUnauthenticated(err):
		return "Wrong email or password."
	case gqlclient.IsNetwork(err):
		return "Cannot reach the server: check the URL and that it is running."
	}
	return gqlclient.Message(err)
}

// Logout ends the session and clears what it showed (not the server URL or email).
func (m *Model) Logout() {
	m.mu.Lock()
	s := m.sess
	m.sess = nil
	m.mu.Unlock()
	if s != nil {
		s.cancel()
	}
	m.do(func() {
		_ = m.Password.Set("")
		_ = m.LoggedIn.Set(false)
		_ = m.Online.Set(false)
		_ = m.Connection.Set("Not connected")
		_ = m.User.Set("")
		_ = m.Integrations.Set(nil)
		_ = m.Events.Set(nil)
		_ = m.Pinned.Set(nil)
		m.refeed()
		m.clearSelection("")
		m.Fleet.clear()
	})
}

// expire ends a session whose credentials the server no longer accepts.
func (m *Model) expire(s *session, why string) {
	m.mu.Lock()
	if m.sess == s {
		m.sess = nil
	}
	m.mu.Unlock()
	s.cancel()
	m.do(func() {
		_ = m.LoggedIn.Set(false)
		_ = m.Online.Set(false)
		_ = m.Connection.Set("Not connected")
		_ = m.LoginError.Set(why)
	})
}

// tick advances Now while the session lasts.
func (m *Model) tick(s *session) {
	t := time.NewTicker(m.opts.Tick)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			now := m.opts.Now()
			m.do(func() {
				_ = m.Now.Set(now)
				if online, _ := m.Online.Get(); !online && s.ctx.Err() == nil && !m.retryAt.IsZero() {
					_ = m.Connection.Set(m.offlineText(now)) // the countdown
				}
			})
		}
	}
}

// follow runs the live feed for the session: the client reconnects by itself; an
// expired token is renewed with the credentials kept in memory.
func (m *Model) follow(s *session) {
	for {
		err := s.client.Events(s.ctx, m.opts.Events, func(e gqlclient.Event) { m.onEvent(s, e) }, func(st gqlclient.ConnState) { m.onConnState(s, st) })
		if s.ctx.Err() != nil || err == nil {
			return
		}
		m.logger.Info("live feed refused the token: logging in again", "err", err)
		ctx, cancel := context.WithTimeout(s.ctx, CallTimeout)
		_, lerr := s.client.SignIn(ctx, s.email, s.password)
		cancel()
		switch {
		case s.ctx.Err() != nil:
			return
		case lerr == nil:
			continue
		case gqlclient.IsUnauthenticated(lerr):
			m.expire(s, "Your session has ended: log in again.")
			return
		}
		select { // the server went away in between: try again shortly
		case <-s.ctx.Done():
			return
		case <-time.After(gqlclient.Backoff(2, m.opts.Events.MinBackoff, m.opts.Events.MaxBackoff)):
		}
	}
}

func (m *Model) onConnState(s *session, st gqlclient.ConnState) {
	if s.ctx.Err() != nil {
		return
	}
	if st.Online {
		m.do(func() {
			m.offlineWhy, m.retryAt = "", time.Time{}
			_ = m.Online.Set(true)
			_ = m.Connection.Set("Online")
		})
		// Events published while offline were missed: reload what they changed (the
		// server says the same with a STREAM_RESET event, see onEvent).
		m.goSession(func() { m.refresh(s) })
		m.Fleet.start(s)
		return
	}
	why := ""
	if st.Err != nil {
		why = connMessage(st.Err)
	}
	retryAt := time.Time{}
	if st.RetryIn > 0 {
		retryAt = m.opts.Now().Add(st.RetryIn)
	}
	m.logger.Info("live feed offline", "attempt", st.Attempt, "retryIn", st.RetryIn, "err", st.Err)
	m.do(func() {
		m.offlineWhy, m.retryAt = why, retryAt
		_ = m.Online.Set(false)
		_ = m.Connection.Set(m.offlineText(m.opts.Now()))
	})
}

// offlineText says that the feed is offline, why, and when it tries again; it runs
// inside do.
func (m *Model) offlineText(now time.Time) string {
	text := "Offline"
	if d := m.retryAt.Sub(now); !m.retryAt.IsZero() && d > 0 {
		text = fmt.Sprintf("Offline — reconnecting in %s", roundUp(d))
	} else if !m.retryAt.IsZero() {
		text = "Offline — reconnecting…"
	}
	if m.offlineWhy != "" {
		text += " (" + m.offlineWhy + ")"
	}
	return text
}

func roundUp(d time.Duration) time.Duration {
	return (d + time.Second - 1).Truncate(time.Second)
}

func connMessage(err error) string {
	if errors.Is(err, gqlclient.ErrUnauthenticated) {
		return "session refused"
	}
	return "cannot reach the server"
}

// onEvent applies one live event: to the feed, to its row, and by reloading what the
// event does not carry (next sync, 24 h rate, the history when it is shown).
func (m *Model) onEvent(s *session, ge gqlclient.Event) {
	if s.ctx.Err() != nil {
		return
	}
	if ge.Type == gqlclient.SyncEventTypeStreamReset {
		// The server may have missed events for us (it lost its database for a
		// while): reload everything, as after a reconnection.
		why := ""
		if ge.Message != nil {
			why = *ge.Message
		}
		m.logger.Info("live events may have been missed: reloading", "why", why)
		m.goSession(func() { m.refresh(s) })
		return
	}
	e := eventFrom(ge)
	seq := m.seq.Add(1) // before the reloads below take theirs
	m.do(func() {
		if s.ctx.Err() != nil {
			return // logged out meanwhile
		}
		feed, _ := m.Events.Get()
		feed = append([]Event{e}, feed...)
		if len(feed) > m.opts.FeedSize {
			feed = feed[:m.opts.FeedSize]
		}
		_ = m.Events.Set(feed)
		m.afterEvent(e)

		rows := m.integrations()
		for i, in := range rows {
			if in.ID == e.IntegrationID {
				rows[i] = applyEvent(in, e)
				m.rowSeq[in.ID] = max(m.rowSeq[in.ID], seq)
				_ = m.Integrations.Set(rows)
				break
			}
		}
	})

	m.Fleet.onEvent(s, e)
	switch e.Type {
	case string(gqlclient.SyncEventTypeSyncFailed):
		m.notify("Sync failed: "+e.IntegrationName, orDefault(e.Message, "The sync failed."))
	case string(gqlclient.SyncEventTypeCircuitOpened):
		m.notify("Circuit open: "+e.IntegrationName, orDefault(e.Message, "Calls to the vendor are paused after repeated failures."))
	}
	switch e.Type {
	case string(gqlclient.SyncEventTypeSyncSucceeded), string(gqlclient.SyncEventTypeSyncFailed),
		string(gqlclient.SyncEventTypeCircuitOpened), string(gqlclient.SyncEventTypeCircuitHalfOpened), string(gqlclient.SyncEventTypeCircuitClosed):
		m.goSession(func() { m.refreshRow(s, e.IntegrationID) })
		if sel, _ := m.Selected.Get(); sel == e.IntegrationID {
			m.goSession(func() { m.loadHistory(s) })
		}
	case string(gqlclient.SyncEventTypeSyncStarted):
		if sel, _ := m.Selected.Get(); sel == e.IntegrationID {
			m.goSession(func() { m.loadHistory(s) }) // shows the RUNNING row
		}
	case string(gqlclient.SyncEventTypeIntegrationChanged):
		// Created, renamed, paused, re-keyed, muted or deleted elsewhere: the list as
		// the server has it now.
		m.goSession(func() { m.refresh(s) })
	}
}

// integrations is a copy of the rows: the slice a binding.List returns is its own,
// and Fyne writes into it on Set, so the model changes copies only.
func (m *Model) integrations() []Integration {
	rows, _ := m.Integrations.Get()
	return slices.Clone(rows)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// applyEvent is what an event tells about its integration, before the reload.
func applyEvent(in Integration, e Event) Integration {
	if e.Circuit != "" {
		in.Circuit = e.Circuit
	}
	switch e.Type {
	case string(gqlclient.SyncEventTypeSyncStarted):
		in.Running, in.Retrying = true, false
	case string(gqlclient.SyncEventTypeSyncRetrying):
		in.Running, in.Retrying = true, true
	case string(gqlclient.SyncEventTypeSyncSucceeded), string(gqlclient.SyncEventTypeSyncFailed):
		in.LastSyncStatus = e.Status
		in.LastSyncAt = e.At
		in.Running, in.Retrying = false, false
	}
	in.Health = HealthOf(in)
	return in
}

func (m *Model) notify(title, content string) {
	m.do(func() { m.opts.Notify(fyne.NewNotification(title, content)) })
}

// refresh reloads the integrations (and the selected one's history).
func (m *Model) refresh(s *session) {
	seq := m.seq.Add(1)
	ctx, cancel := context.WithTimeout(s.ctx, CallTimeout)
	defer cancel()
	since := m.opts.Now().Add(-24 * time.Hour).UTC()
	resp, err := gqlclient.Integrations(ctx, s.client, &since)
	if err != nil {
		m.callFailed(s, "load integrations", err)
		return
	}
	names := m.vendorNames(ctx, s)
	rows := make([]Integration, 0, len(resp.Integrations))
	for _, in := range resp.Integrations {
		rows = append(rows, integrationFrom(in.IntegrationFields, names))
	}
	m.do(func() {
		if s.ctx.Err() != nil {
			return
		}
		old := m.integrations()
		byID := make(map[string]Integration, len(old))
		for _, in := range old {
			byID[in.ID] = in
		}
		for i, in := range rows {
			if prev, ok := byID[in.ID]; ok && m.rowSeq[in.ID] > seq {
				rows[i] = prev // an event or a reload newer than this answer
				continue
			}
			m.rowSeq[in.ID] = max(m.rowSeq[in.ID], seq)
		}
		_ = m.Integrations.Set(rows)
		sel, _ := m.Selected.Get()
		for _, in := range rows {
			if in.ID == sel {
				_ = m.SelectedName.Set(in.Name)
				m.goSession(func() { m.loadHistory(s) })
				return
			}
		}
		if len(rows) > 0 {
			m.selectLocked(s, rows[0])
		} else {
			m.clearSelection("")
		}
	})
}

// refreshRow reloads one integration.
func (m *Model) refreshRow(s *session, id string) {
	seq := m.seq.Add(1)
	ctx, cancel := context.WithTimeout(s.ctx, CallTimeout)
	defer cancel()
	since := m.opts.Now().Add(-24 * time.Hour).UTC()
	resp, err := gqlclient.Integration(ctx, s.client, id, &since)
	if err != nil || resp.Integration == nil {
		if err != nil {
			m.callFailed(s, "reload integration", err)
		}
		return
	}
	in := integrationFrom(resp.Integration.IntegrationFields, m.vendorNames(ctx, s))
	m.do(func() {
		if s.ctx.Err() != nil || m.rowSeq[id] > seq {
			return
		}
		rows := m.integrations()
		for i, r := range rows {
			if r.ID == id {
				// Whether a sync is running only the events tell.
				in.Running, in.Retrying = r.Running, r.Retrying
				in.Health = HealthOf(in)
				rows[i] = in
				m.rowSeq[id] = max(m.rowSeq[id], seq)
				_ = m.Integrations.Set(rows)
				break
			}
		}
	})
}

// callFailed logs a failed call; a refused token ends the session when it cannot be
// renewed (network errors show as offline through the live feed).
func (m *Model) callFailed(s *session, what string, err error) {
	if s.ctx.Err() != nil {
		return
	}
	m.logger.Info(what+" failed", "err", err)
	if gqlclient.IsUnauthenticated(err) {
		ctx, cancel := context.WithTimeout(s.ctx, CallTimeout)
		defer cancel()
		if _, lerr := s.client.SignIn(ctx, s.email, s.password); gqlclient.IsUnauthenticated(lerr) {
			m.expire(s, "Your session has ended: log in again.")
		}
	}
}

// Select shows the integration's details; "" shows none.
func (m *Model) Select(id string) {
	s := m.session()
	if s == nil {
		return
	}
	if cur, _ := m.Selected.Get(); cur == id {
		return
	}
	rows, _ := m.Integrations.Get()
	m.do(func() {
		for _, in := range rows {
			if in.ID == id {
				m.selectLocked(s, in)
				return
			}
		}
		m.clearSelection("")
	})
}

// selectLocked switches the details to in; it runs inside do.
func (m *Model) selectLocked(s *session, in Integration) {
	m.clearSelection(in.ID)
	_ = m.SelectedName.Set(in.Name)
	if s != nil {
		m.goSession(func() { m.loadHistory(s) })
	}
}

func (m *Model) clearSelection(id string) {
	m.histSeq.Add(1)
	_ = m.Selected.Set(id)
	_ = m.SelectedName.Set("")
	_ = m.History.Set(nil)
	_ = m.HistoryPage.Set(0)
	_ = m.HistoryHasNext.Set(false)
	_ = m.StatTotal.Set(0)
	_ = m.StatSuccessful.Set(0)
	_ = m.StatFailed.Set(0)
	_ = m.StatSuccessRate.Set(0)
	_ = m.TestResult.Set("")
	_ = m.TestOK.Set(false)
	_ = m.SyncResult.Set("")
	_ = m.SyncOK.Set(false)
}

// NextPage and PrevPage page through the selected integration's history.
func (m *Model) NextPage() {
	if more, _ := m.HistoryHasNext.Get(); more {
		m.turnPage(+1)
	}
}

// PrevPage shows the newer page of the history.
func (m *Model) PrevPage() {
	if p, _ := m.HistoryPage.Get(); p > 0 {
		m.turnPage(-1)
	}
}

func (m *Model) turnPage(delta int) {
	s := m.session()
	if s == nil {
		return
	}
	p, _ := m.HistoryPage.Get()
	p = max(0, p+delta)
	m.do(func() { _ = m.HistoryPage.Set(p) })
	m.goSession(func() { m.loadHistoryPage(s, p) })
}

// loadHistory reloads the shown page of the selected integration's history.
func (m *Model) loadHistory(s *session) {
	p, _ := m.HistoryPage.Get()
	m.loadHistoryPage(s, p)
}

func (m *Model) loadHistoryPage(s *session, page int) {
	id, _ := m.Selected.Get()
	if id == "" {
		return
	}
	seq := m.histSeq.Add(1)
	m.do(func() { _ = m.HistoryLoading.Set(true) })
	ctx, cancel := context.WithTimeout(s.ctx, CallTimeout)
	defer cancel()
	size := m.opts.PageSize
	resp, err := gqlclient.SyncHistory(ctx, s.client, id, size+1, page*size)
	m.do(func() {
		if m.histSeq.Load() == seq {
			_ = m.HistoryLoading.Set(false)
		}
	})
	if err != nil {
		m.callFailed(s, "load history", err)
		return
	}
	rows := make([]SyncRow, 0, len(resp.SyncHistory))
	for _, l := range resp.SyncHistory {
		rows = append(rows, syncRowFrom(l.SyncLogFields))
	}
	more := len(rows) > size
	if more {
		rows = rows[:size]
	}
	st := resp.SyncStats
	m.do(func() {
		// Only the newest request for what is still shown may change it.
		if m.histSeq.Load() != seq || s.ctx.Err() != nil {
			return
		}
		if cur, _ := m.Selected.Get(); cur != id {
			return
		}
		_ = m.History.Set(rows)
		_ = m.HistoryPage.Set(page)
		_ = m.HistoryHasNext.Set(more)
		_ = m.StatTotal.Set(st.TotalSyncs)
		_ = m.StatSuccessful.Set(st.SuccessfulSyncs)
		_ = m.StatFailed.Set(st.FailedSyncs)
		_ = m.StatSuccessRate.Set(st.SuccessRate)
	})
}

// TestConnection asks the server to call the selected integration's vendor once;
// Testing, TestOK and TestResult report it.
func (m *Model) TestConnection() {
	s := m.session()
	id, _ := m.Selected.Get()
	name, _ := m.SelectedName.Get()
	if busy, _ := m.Testing.Get(); s == nil || id == "" || busy {
		return
	}
	m.do(func() {
		_ = m.Testing.Set(true)
		_ = m.TestOK.Set(false)
		_ = m.TestResult.Set("Testing the connection to " + name + "…")
	})
	m.goSession(func() {
		ctx, cancel := context.WithTimeout(s.ctx, ActionTimeout)
		defer cancel()
		resp, err := gqlclient.TestIntegration(ctx, s.client, id)
		var ok bool
		var text string
		switch {
		case err != nil:
			text = "Test failed: " + gqlclient.Message(err)
			m.callFailed(s, "test connection", err)
		case resp.TestIntegration.Success:
			ok = true
			text = fmt.Sprintf("Connection OK: %s answered in %d ms", name, resp.TestIntegration.LatencyMs)
		default:
			msg := "no reason given"
			if resp.TestIntegration.Message != nil {
				msg = *resp.TestIntegration.Message
			}
			text = fmt.Sprintf("Connection failed after %d ms: %s", resp.TestIntegration.LatencyMs, msg)
		}
		m.do(func() {
			_ = m.Testing.Set(false)
			if cur, _ := m.Selected.Get(); cur == id {
				_ = m.TestOK.Set(ok)
				_ = m.TestResult.Set(text)
			}
		})
	})
}

// SyncNow runs a sync of the selected integration and waits for it; Syncing,
// SyncOK and SyncResult report it (the feed and the row follow from its events).
func (m *Model) SyncNow() {
	s := m.session()
	id, _ := m.Selected.Get()
	name, _ := m.SelectedName.Get()
	if busy, _ := m.Syncing.Get(); s == nil || id == "" || busy {
		return
	}
	m.do(func() {
		_ = m.Syncing.Set(true)
		_ = m.SyncOK.Set(false)
		_ = m.SyncResult.Set("Syncing " + name + "…")
	})
	m.goSession(func() {
		ctx, cancel := context.WithTimeout(s.ctx, ActionTimeout)
		defer cancel()
		resp, err := gqlclient.SyncIntegration(ctx, s.client, id)
		var ok bool
		var text string
		switch {
		case err != nil:
			text = "Sync failed: " + gqlclient.Message(err)
			m.callFailed(s, "sync now", err)
		default:
			r := syncRowFrom(resp.SyncIntegration.SyncLogFields)
			if r.Status == string(gqlclient.SyncStatusSuccess) {
				ok = true
				text = fmt.Sprintf("Sync succeeded: %d records in %s", r.Records, Duration(r.DurationMs))
			} else {
				text = fmt.Sprintf("Sync failed after %s: %s", Duration(r.DurationMs), orDefault(r.Error, "no reason given"))
			}
		}
		m.do(func() {
			_ = m.Syncing.Set(false)
			if cur, _ := m.Selected.Get(); cur == id {
				_ = m.SyncOK.Set(ok)
				_ = m.SyncResult.Set(text)
			}
		})
		if err == nil {
			m.refreshRow(s, id)
			if cur, _ := m.Selected.Get(); cur == id {
				m.loadHistory(s)
			}
		}
	})
}

// AutoLogin logs in at start when SALLY_URL, SALLY_EMAIL and SALLY_PASSWORD are all
// set (getenv is os.Getenv in the app); it reports whether it started a login.
func (m *Model) AutoLogin(getenv func(string) string) bool {
	url, email, password := getenv("SALLY_URL"), getenv("SALLY_EMAIL"), getenv("SALLY_PASSWORD")
	if url == "" || email == "" || password == "" {
		return false
	}
	_ = m.ServerURL.Set(url)
	_ = m.Email.Set(email)
	_ = m.Password.Set(password)
	m.Login()
	return true
}
