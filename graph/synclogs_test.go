package graph_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/graph"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/internal/testserver"
	"github.com/sallyhq/sally/sandbox"
	"github.com/sallyhq/sally/store"
	"github.com/sallyhq/sally/syncer"
)

// explorerLog is a sync log of the explorer tests, as seeded.
type explorerLog struct {
	id          string
	integration string
	vendor      string
	status      string
	trigger     string
	errorClass  string
	startedAt   time.Time
}

// seedExplorer writes logs of integration iid (of vendor) straight into the store:
// n syncs, one a minute going back from base, statuses, triggers and error classes
// cycling so that every filter value occurs.
func seedExplorer(t *testing.T, s *store.Store, iid, vendor string, base time.Time, n int) []explorerLog {
	t.Helper()
	return seedExplorerEvery(t, s, iid, vendor, base, n, time.Minute)
}

// seedExplorerEvery is seedExplorer with step between the syncs' starts.
func seedExplorerEvery(t *testing.T, s *store.Store, iid, vendor string, base time.Time, n int, step time.Duration) []explorerLog {
	t.Helper()
	ctx := testserver.System()
	in, err := s.Client.Integration.Get(ctx, uuid.MustParse(iid))
	require.NoError(t, err)
	classes := []string{"unavailable", "rate_limited", "timeout"}
	var out []explorerLog
	creates := make([]*ent.SyncLogCreate, n)
	for i := range n {
		l := explorerLog{integration: iid, vendor: vendor, status: "SUCCESS", trigger: "SCHEDULED",
			startedAt: base.Add(-time.Duration(i) * step).UTC().Truncate(time.Microsecond)}
		if i%3 == 1 {
			l.status, l.errorClass = "FAILED", classes[(i/3)%len(classes)]
		}
		if i%4 == 0 {
			l.trigger = "MANUAL"
		}
		c := s.Client.SyncLog.Create().SetTenantID(in.TenantID).SetIntegrationID(in.ID).
			SetSyncType(synclog.SyncTypeHOS_SYNC).SetStatus(synclog.Status(l.status)).
			SetTrigger(synclog.Trigger(l.trigger)).SetStartedAt(l.startedAt).
			SetCompletedAt(l.startedAt.Add(time.Second)).SetDurationMs(1000).SetAttempts(1)
		if l.errorClass != "" {
			c.SetErrorClass(l.errorClass).SetError("the vendor failed: " + l.errorClass)
		}
		creates[i] = c
		out = append(out, l)
	}
	saved, err := s.Client.SyncLog.CreateBulk(creates...).Save(ctx)
	require.NoError(t, err)
	for i := range saved {
		out[i].id = saved[i].ID.String()
	}
	return out
}

// newestFirst sorts logs as syncLogs orders them.
func newestFirst(logs []explorerLog) {
	slices.SortFunc(logs, func(a, b explorerLog) int {
		if c := b.startedAt.Compare(a.startedAt); c != 0 {
			return c
		}
		switch {
		case a.id > b.id:
			return -1
		case a.id < b.id:
			return 1
		}
		return 0
	})
}

const syncLogsQuery = `query($f: SyncLogFilter, $first: Int, $after: String) {
  syncLogs(filter: $f, first: $first, after: $after) {
    edges { cursor node { id status trigger errorClass startedAt integrationId integration { vendor } } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`

type syncLogsPage struct {
	SyncLogs struct {
		Edges []struct {
			Cursor string
			Node   struct {
				ID, Status, Trigger, IntegrationID string
				ErrorClass                         *string
				StartedAt                          time.Time
				Integration                        struct{ Vendor string }
			}
		}
		PageInfo struct {
			HasNextPage bool
			EndCursor   *string
		}
		TotalCount int
	}
}

func (p syncLogsPage) ids() []string {
	out := make([]string, len(p.SyncLogs.Edges))
	for i, e := range p.SyncLogs.Edges {
		out[i] = e.Node.ID
	}
	return out
}

// allPages pages through syncLogs with the filter, first at a time, and returns the
// ids in order and the totalCount of the first page.
func allPages(t *testing.T, f *fixture, u testserver.User, filter map[string]any, first int) ([]string, int) {
	t.Helper()
	var (
		ids   []string
		total = -1
		after any
	)
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10_000)
		var p syncLogsPage
		r := f.do(t, u, syncLogsQuery, map[string]any{"f": filter, "first": first, "after": after})
		requireCode(t, r, "")
		r.Decode(t, &p)
		if total < 0 {
			total = p.SyncLogs.TotalCount
		}
		ids = append(ids, p.ids()...)
		if !p.SyncLogs.PageInfo.HasNextPage {
			if len(p.SyncLogs.Edges) > 0 {
				require.Equal(t, p.SyncLogs.Edges[len(p.SyncLogs.Edges)-1].Cursor, *p.SyncLogs.PageInfo.EndCursor)
			}
			return ids, total
		}
		require.Len(t, p.SyncLogs.Edges, first)
		after = *p.SyncLogs.PageInfo.EndCursor
	}
}

func TestSyncLogsFilters(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		base := time.Now().UTC().Truncate(time.Second)
		samsara := f.api.CreateIntegration(t, f.admin.Token, nil)
		truckbase := f.api.CreateIntegration(t, f.admin.Token, map[string]any{
			"integrationType": "TMS", "vendor": "TRUCKBASE_TMS", "displayName": "Truckbase",
			"credentials": map[string]any{"apiKey": "tb-key", "apiSecret": "tb-secret"}})
		logs := seedExplorer(t, s, samsara, "SAMSARA_ELD", base, 30)
		// Truckbase's syncs interleave with Samsara's, 30 s later each.
		logs = append(logs, seedExplorer(t, s, truckbase, "TRUCKBASE_TMS", base.Add(-30*time.Second), 24)...)
		// Another tenant's syncs match every filter and must never show.
		otherTenant, otherAdmin := f.api.SeedTenant(t, "Other Freight")
		other := f.api.CreateIntegration(t, otherAdmin, nil)
		otherLogs := seedExplorer(t, s, other, "SAMSARA_ELD", base, 10)
		_ = otherTenant
		newestFirst(logs)

		from, to := base.Add(-20*time.Minute), base.Add(-5*time.Minute)
		tests := []struct {
			name   string
			filter map[string]any
			match  func(l explorerLog) bool
		}{
			{"NoFilter", nil, func(explorerLog) bool { return true }},
			{"EmptyFilter", map[string]any{}, func(explorerLog) bool { return true }},
			{"IntegrationIds", map[string]any{"integrationIds": []string{truckbase}},
				func(l explorerLog) bool { return l.integration == truckbase }},
			{"IntegrationIdsOfAnotherTenantMatchNothing", map[string]any{"integrationIds": []string{other}},
				func(explorerLog) bool { return false }},
			{"Vendors", map[string]any{"vendors": []string{"SAMSARA_ELD"}},
				func(l explorerLog) bool { return l.vendor == "SAMSARA_ELD" }},
			{"VendorsAnyOf", map[string]any{"vendors": []string{"SAMSARA_ELD", "TRUCKBASE_TMS"}},
				func(explorerLog) bool { return true }},
			{"Statuses", map[string]any{"statuses": []string{"FAILED"}},
				func(l explorerLog) bool { return l.status == "FAILED" }},
			{"Triggers", map[string]any{"triggers": []string{"MANUAL"}},
				func(l explorerLog) bool { return l.trigger == "MANUAL" }},
			{"ErrorClasses", map[string]any{"errorClasses": []string{"rate_limited", "timeout"}},
				func(l explorerLog) bool { return l.errorClass == "rate_limited" || l.errorClass == "timeout" }},
			{"From", map[string]any{"from": from},
				func(l explorerLog) bool { return !l.startedAt.Before(from) }},
			{"To", map[string]any{"to": to},
				func(l explorerLog) bool { return l.startedAt.Before(to) }},
			{"FromInAnotherZoneIsTheSameInstant", map[string]any{"from": from.In(time.FixedZone("EST", -5*3600)).Format(time.RFC3339Nano)},
				func(l explorerLog) bool { return !l.startedAt.Before(from) }},
			{"Combined", map[string]any{
				"integrationIds": []string{samsara, truckbase}, "vendors": []string{"SAMSARA_ELD"},
				"statuses": []string{"FAILED", "SUCCESS"}, "triggers": []string{"SCHEDULED"},
				"errorClasses": []string{"unavailable"}, "from": from, "to": to,
			}, func(l explorerLog) bool {
				return l.vendor == "SAMSARA_ELD" && l.trigger == "SCHEDULED" && l.errorClass == "unavailable" &&
					!l.startedAt.Before(from) && l.startedAt.Before(to)
			}},
			{"StatusVendorAndDate", map[string]any{"statuses": []string{"SUCCESS"}, "vendors": []string{"TRUCKBASE_TMS"}, "from": from},
				func(l explorerLog) bool {
					return l.status == "SUCCESS" && l.vendor == "TRUCKBASE_TMS" && !l.startedAt.Before(from)
				}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var want []string
				for _, l := range logs {
					if tt.match(l) {
						want = append(want, l.id)
					}
				}
				for _, first := range []int{500, 7} {
					got, total := allPages(t, f, f.dispatcher, tt.filter, first)
					requireSameIDs(t, want, got)
					require.Equal(t, len(want), total)
				}
			})
		}

		t.Run("NodesAreWhatWasStored", func(t *testing.T) {
			var p syncLogsPage
			f.do(t, f.admin, syncLogsQuery, map[string]any{"first": 500}).Decode(t, &p)
			byID := map[string]explorerLog{}
			for _, l := range logs {
				byID[l.id] = l
			}
			require.Len(t, p.SyncLogs.Edges, len(logs))
			for _, e := range p.SyncLogs.Edges {
				l := byID[e.Node.ID]
				require.Equal(t, l.status, e.Node.Status)
				require.Equal(t, l.trigger, e.Node.Trigger)
				require.Equal(t, l.vendor, e.Node.Integration.Vendor)
				require.Equal(t, l.integration, e.Node.IntegrationID)
				require.True(t, l.startedAt.Equal(e.Node.StartedAt))
				if l.errorClass == "" {
					require.Nil(t, e.Node.ErrorClass)
				} else {
					require.Equal(t, l.errorClass, *e.Node.ErrorClass)
				}
			}
		})

		t.Run("OtherTenantSeesOnlyItsOwn", func(t *testing.T) {
			u := f.api.SeedUser(t, otherTenant, auth.RoleDispatcher)
			got, total := allPages(t, f, u, nil, 500)
			newestFirst(otherLogs)
			want := make([]string, len(otherLogs))
			for i, l := range otherLogs {
				want[i] = l.id
			}
			require.Equal(t, want, got)
			require.Equal(t, len(want), total)
		})

		t.Run("SyncLogByID", func(t *testing.T) {
			q := `query($id: ID!) { syncLog(id: $id) { id status tries { call } triggeredBy { id } } }`
			var out struct {
				SyncLog *struct {
					ID, Status  string
					Tries       []struct{ Call string }
					TriggeredBy *struct{ ID string }
				}
			}
			f.do(t, f.dispatcher, q, map[string]any{"id": logs[3].id}).Decode(t, &out)
			require.NotNil(t, out.SyncLog)
			require.Equal(t, logs[3].id, out.SyncLog.ID)
			require.NotNil(t, out.SyncLog.Tries, "an empty list, never null")
			require.Nil(t, out.SyncLog.TriggeredBy)
			for _, id := range []string{otherLogs[0].id, uuid.NewString(), "not-an-id"} {
				r := f.do(t, f.dispatcher, q, map[string]any{"id": id})
				requireCode(t, r, "")
				require.JSONEq(t, `{"syncLog":null}`, string(r.Data), "id %s", id)
			}
		})
	})
}

func TestSyncLogsArguments(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		base := time.Now().UTC()
		mine := f.api.CreateIntegration(t, f.admin.Token, nil)
		seedExplorer(t, s, mine, "SAMSARA_ELD", base, 5)
		otherTenant, otherAdmin := f.api.SeedTenant(t, "Other Freight")
		seedExplorer(t, s, f.api.CreateIntegration(t, otherAdmin, nil), "SAMSARA_ELD", base, 5)
		stranger := f.api.SeedUser(t, otherTenant, auth.RoleAdmin)

		var p syncLogsPage
		f.do(t, f.dispatcher, syncLogsQuery, map[string]any{"first": 2}).Decode(t, &p)
		mineCursor := *p.SyncLogs.PageInfo.EndCursor
		f.do(t, stranger, syncLogsQuery, map[string]any{"first": 2}).Decode(t, &p)
		foreignCursor := *p.SyncLogs.PageInfo.EndCursor

		raw, err := base64.RawURLEncoding.DecodeString(mineCursor)
		require.NoError(t, err)
		tampered := slices.Clone(raw)
		tampered[5] ^= 1 // another startedAt, same MAC
		forgedMAC := slices.Clone(raw)
		forgedMAC[len(forgedMAC)-1] ^= 1

		tests := []struct {
			name string
			vars map[string]any
			want string
		}{
			{"OK", map[string]any{"first": 2, "after": mineCursor}, ""},
			{"ErrForeignCursor", map[string]any{"after": foreignCursor}, graph.CodeBadUserInput},
			{"ErrTamperedCursor", map[string]any{"after": base64.RawURLEncoding.EncodeToString(tampered)}, graph.CodeBadUserInput},
			{"ErrForgedMAC", map[string]any{"after": base64.RawURLEncoding.EncodeToString(forgedMAC)}, graph.CodeBadUserInput},
			{"ErrGarbageCursor", map[string]any{"after": "not a cursor"}, graph.CodeBadUserInput},
			{"ErrEmptyCursor", map[string]any{"after": ""}, graph.CodeBadUserInput},
			{"ErrFirstZero", map[string]any{"first": 0}, graph.CodeBadUserInput},
			{"ErrFirstTooLarge", map[string]any{"first": 501}, graph.CodeBadUserInput},
			{"FirstMax", map[string]any{"first": 500}, ""},
			{"ErrBadIntegrationID", map[string]any{"f": map[string]any{"integrationIds": []string{"x"}}}, graph.CodeBadUserInput},
			{"ErrUnknownStatus", map[string]any{"f": map[string]any{"statuses": []string{"DONE"}}}, graph.CodeBadUserInput},
			{"ErrEmptyErrorClass", map[string]any{"f": map[string]any{"errorClasses": []string{""}}}, graph.CodeBadUserInput},
			{"ErrFromNotBeforeTo", map[string]any{"f": map[string]any{"from": base, "to": base}}, graph.CodeBadUserInput},
			{"UnknownErrorClassMatchesNothing", map[string]any{"f": map[string]any{"errorClasses": []string{"no_such_class"}}}, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := f.do(t, f.dispatcher, syncLogsQuery, tt.vars)
				requireCode(t, r, tt.want)
				if tt.want != "" {
					// No data, above all none of another tenant (a variable that does
					// not coerce answers without a data entry at all).
					require.Contains(t, []string{"", "null"}, string(r.Data))
				}
			})
		}

		t.Run("ErrUnauthenticated", func(t *testing.T) {
			requireCode(t, f.do(t, testserver.User{}, syncLogsQuery, nil), graph.CodeUnauthenticated)
		})
	})
}

// TestSyncLogsPagingWhileWriting pages through 1,000 syncs, 37 at a time, while new
// syncs are written: every one of the 1,000 is seen once, in order, and none twice.
func TestSyncLogsPagingWhileWriting(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		in := f.api.CreateIntegration(t, f.admin.Token, nil)
		// Some share their startedAt: the id breaks the tie.
		base := time.Now().UTC().Add(-time.Hour)
		var logs []explorerLog
		for i := range 10 {
			logs = append(logs, seedExplorer(t, s, in, "SAMSARA_ELD", base.Add(time.Duration(i)*time.Millisecond), 100)...)
		}
		newestFirst(logs)
		want := make([]string, len(logs))
		for i, l := range logs {
			want[i] = l.id
		}

		ctx, stop := context.WithCancel(context.Background())
		var (
			wg      sync.WaitGroup
			written atomic.Int64
		)
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				seedExplorerEvery(t, s, in, "SAMSARA_ELD", time.Now().UTC(), 3, 0)
				written.Add(3)
			}
		})
		var (
			got   []string
			after any
		)
		for {
			var p syncLogsPage
			r := f.do(t, f.dispatcher, syncLogsQuery, map[string]any{"first": 37, "after": after,
				"f": map[string]any{"to": base.Add(time.Minute)}})
			requireCode(t, r, "")
			r.Decode(t, &p)
			got = append(got, p.ids()...)
			if !p.SyncLogs.PageInfo.HasNextPage {
				break
			}
			after = *p.SyncLogs.PageInfo.EndCursor
		}
		stop()
		wg.Wait()
		require.Positive(t, written.Load(), "syncs were written while paging")
		requireSameIDs(t, want, got)

		// Without the date filter the new syncs come first, and paging on from the
		// first page's end never repeats one of them nor skips an old one.
		var (
			all   []string
			first = true
		)
		after = nil
		for {
			var p syncLogsPage
			f.do(t, f.dispatcher, syncLogsQuery, map[string]any{"first": 250, "after": after}).Decode(t, &p)
			if first {
				// Written after the first page: not in this walk.
				seedExplorerEvery(t, s, in, "SAMSARA_ELD", time.Now().UTC(), 5, 0)
				first = false
			}
			all = append(all, p.ids()...)
			if !p.SyncLogs.PageInfo.HasNextPage {
				break
			}
			after = *p.SyncLogs.PageInfo.EndCursor
		}
		seen := map[string]bool{}
		for _, id := range all {
			require.False(t, seen[id], "repeated %s", id)
			seen[id] = true
		}
		require.Len(t, all, len(want)+int(written.Load()))
		requireSameIDs(t, want, all[len(all)-len(want):])
	})
}

// TestTriggeredBy: a manual sync names who asked for it, a scheduled one nobody, a
// manual call that joins a running scheduled sync keeps the scheduled trigger, and
// deleting the user keeps the sync with triggeredBy null.
func TestTriggeredBy(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		in := f.api.CreateIntegration(t, f.admin.Token, nil)
		iid := uuid.MustParse(in)
		const sync = `mutation($id: ID!) { syncIntegration(id: $id) { id trigger triggeredBy { id email role } } }`
		type synced struct {
			SyncIntegration struct {
				ID, Trigger string
				TriggeredBy *struct{ ID, Email, Role string }
			}
		}
		const byID = `query($id: ID!) { syncLog(id: $id) { id trigger triggeredBy { id email } } }`
		type found struct {
			SyncLog struct {
				ID, Trigger string
				TriggeredBy *struct{ ID, Email string }
			}
		}

		t.Run("Manual", func(t *testing.T) {
			var out synced
			f.do(t, f.dispatcher, sync, map[string]any{"id": in}).Decode(t, &out)
			require.Equal(t, "MANUAL", out.SyncIntegration.Trigger)
			require.NotNil(t, out.SyncIntegration.TriggeredBy)
			require.Equal(t, f.dispatcher.ID, out.SyncIntegration.TriggeredBy.ID)
			require.Equal(t, f.dispatcher.Email, out.SyncIntegration.TriggeredBy.Email)

			// The same through syncLogs (preloaded for the page) and syncLog.
			var p struct {
				SyncLogs struct {
					Edges []struct {
						Node struct {
							ID          string
							TriggeredBy *struct{ ID string }
						}
					}
				}
			}
			f.do(t, f.admin, `{ syncLogs(filter: {triggers: [MANUAL]}) { edges { node { id triggeredBy { id } } } } }`, nil).Decode(t, &p)
			require.Len(t, p.SyncLogs.Edges, 1)
			require.Equal(t, f.dispatcher.ID, p.SyncLogs.Edges[0].Node.TriggeredBy.ID)
		})

		t.Run("ScheduledAndAManualCallJoiningIt", func(t *testing.T) {
			// The engine's scheduler runs the integration, which is due now; the vendor
			// answers slowly, so a manual call made meanwhile joins the running sync.
			require.NoError(t, f.api.Sandbox.SetFault(sandbox.Samsara, sandbox.Fault{LatencyMs: 1500}))
			defer f.api.Sandbox.ClearFaults("")
			require.NoError(t, s.Client.Integration.UpdateOneID(iid).SetNextSyncAt(time.Now().UTC().Add(-time.Second)).
				SetSyncIntervalSeconds(3600).Exec(testserver.System()))
			ctx, cancel := context.WithCancel(context.Background())
			stopped := make(chan struct{})
			go func() {
				defer close(stopped)
				f.api.Engine.Run(ctx, syncer.SchedulerOptions{Tick: 20 * time.Millisecond})
			}()
			defer func() { cancel(); <-stopped }()
			var running *ent.SyncLog
			require.Eventually(t, func() bool {
				l, err := s.Client.SyncLog.Query().Where(synclog.IntegrationID(iid), synclog.StatusEQ(synclog.StatusRUNNING)).
					Only(testserver.System())
				running = l
				return err == nil
			}, 30*time.Second, 10*time.Millisecond)
			require.Equal(t, synclog.TriggerSCHEDULED, running.Trigger)

			var out synced
			f.do(t, f.admin, sync, map[string]any{"id": in}).Decode(t, &out)
			require.Equal(t, running.ID.String(), out.SyncIntegration.ID, "joined the running sync")
			require.Equal(t, "SCHEDULED", out.SyncIntegration.Trigger)
			require.Nil(t, out.SyncIntegration.TriggeredBy)

			var got found
			f.do(t, f.admin, byID, map[string]any{"id": running.ID.String()}).Decode(t, &got)
			require.Equal(t, "SCHEDULED", got.SyncLog.Trigger)
			require.Nil(t, got.SyncLog.TriggeredBy)
		})

		t.Run("DeletedUserLeavesTheSync", func(t *testing.T) {
			gone := f.api.SeedUser(t, f.tenantID, auth.RoleDispatcher)
			var out synced
			f.do(t, gone, sync, map[string]any{"id": in}).Decode(t, &out)
			require.Equal(t, gone.ID, out.SyncIntegration.TriggeredBy.ID)
			r := f.do(t, f.admin, `mutation($id: ID!) { deleteUser(id: $id) }`, map[string]any{"id": gone.ID})
			requireCode(t, r, "")
			require.JSONEq(t, `{"deleteUser":true}`, string(r.Data))

			var after found
			f.do(t, f.admin, byID, map[string]any{"id": out.SyncIntegration.ID}).Decode(t, &after)
			require.Equal(t, out.SyncIntegration.ID, after.SyncLog.ID)
			require.Equal(t, "MANUAL", after.SyncLog.Trigger)
			require.Nil(t, after.SyncLog.TriggeredBy)
			lg, err := s.Client.SyncLog.Get(testserver.System(), uuid.MustParse(out.SyncIntegration.ID))
			require.NoError(t, err)
			require.Nil(t, lg.TriggeredByID, "the reference is gone, not dangling")
		})

		t.Run("ManualSyncWithAFault", func(t *testing.T) {
			require.NoError(t, f.api.Sandbox.SetFault(sandbox.Samsara, sandbox.Fault{Status: 401}))
			defer f.api.Sandbox.ClearFaults("")
			var out synced
			f.do(t, f.dispatcher, sync, map[string]any{"id": in}).Decode(t, &out)
			require.Equal(t, f.dispatcher.ID, out.SyncIntegration.TriggeredBy.ID, "failed syncs name who asked too")
		})
	})
}

// requireSameIDs compares lists of ids, reporting the first difference only.
func requireSameIDs(t *testing.T, want, got []string) {
	t.Helper()
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			t.Fatalf("at %d of %d: got %s, want %s", i, len(want), got[i], want[i])
		}
	}
	require.Equal(t, len(want), len(got), "number of ids")
}

// TestSyncLogTries reads a sync's tries through the API: syncLog, syncLogs and the
// syncIntegration answer agree.
func TestSyncLogTries(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		in := f.api.CreateIntegration(t, f.admin.Token, map[string]any{
			"integrationType": "TMS", "vendor": "TRUCKBASE_TMS", "displayName": "Truckbase",
			"credentials": map[string]any{"apiKey": "tb-tries-key", "apiSecret": "tb-tries-secret"}})
		require.NoError(t, f.api.Sandbox.SetFault(sandbox.Truckbase, sandbox.Fault{Status: 503, Count: 2}))
		const fields = `id attempts tries { call attempt startedAt durationMs httpStatus errorClass error retryInMs }`
		var synced struct{ SyncIntegration json.RawMessage }
		f.do(t, f.dispatcher, `mutation($id: ID!) { syncIntegration(id: $id) { `+fields+` } }`, map[string]any{"id": in}).Decode(t, &synced)
		var lg struct {
			ID       string
			Attempts int
			Tries    []struct {
				Call, StartedAt       string
				Attempt, DurationMs   int
				HTTPStatus, RetryInMs *int
				ErrorClass, Error     *string
			}
		}
		require.NoError(t, json.Unmarshal(synced.SyncIntegration, &lg))
		require.Equal(t, 3, lg.Attempts)
		require.Len(t, lg.Tries, 3)
		for i, try := range lg.Tries {
			require.Equal(t, "loads", try.Call)
			require.Equal(t, i+1, try.Attempt)
			require.Equal(t, i < 2, try.RetryInMs != nil, "a wait after the failed tries only")
			require.Equal(t, i < 2, try.ErrorClass != nil)
		}
		require.Equal(t, 200, *lg.Tries[2].HTTPStatus)
		require.NotContains(t, string(synced.SyncIntegration), "tb-tries-key")
		require.NotContains(t, string(synced.SyncIntegration), "tb-tries-secret")

		var byID struct{ SyncLog json.RawMessage }
		f.do(t, f.admin, `query($id: ID!) { syncLog(id: $id) { `+fields+` } }`, map[string]any{"id": lg.ID}).Decode(t, &byID)
		require.JSONEq(t, string(synced.SyncIntegration), string(byID.SyncLog))
		var page struct {
			SyncLogs struct {
				Edges []struct{ Node json.RawMessage }
			}
		}
		f.do(t, f.admin, `{ syncLogs(first: 1) { edges { node { `+fields+` } } } }`, nil).Decode(t, &page)
		require.JSONEq(t, string(synced.SyncIntegration), string(page.SyncLogs.Edges[0].Node))
	})
}

// TestSyncEventTries: an event's sync carries its tries to subscribers.
func TestSyncEventTries(t *testing.T) {
	status, wait := 503, int64(1200)
	class, msg := "unavailable", "vendor unavailable"
	at := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	e := graph.ToSyncEvent(event.Event{Type: event.SyncRetrying, At: at, SyncLog: &event.SyncLog{
		ID: uuid.NewString(), Status: "RUNNING", Trigger: "MANUAL", StartedAt: at,
		Tries: []event.Try{{Call: "loads", Attempt: 1, StartedAt: at, DurationMs: 40, HTTPStatus: &status,
			ErrorClass: &class, Error: &msg, RetryInMs: &wait}},
	}})
	require.Len(t, e.SyncLog.Tries, 1)
	got := e.SyncLog.Tries[0]
	require.Equal(t, "loads", got.Call)
	require.Equal(t, 503, *got.HTTPStatus)
	require.Equal(t, 1200, *got.RetryInMs)
	require.Equal(t, "unavailable", *got.ErrorClass)
	require.Equal(t, 40, got.DurationMs)

	none := graph.ToSyncEvent(event.Event{Type: event.SyncStarted, At: at, SyncLog: &event.SyncLog{ID: uuid.NewString(), StartedAt: at}})
	require.NotNil(t, none.SyncLog.Tries, "an empty list, never null")
	require.Empty(t, none.SyncLog.Tries)
}
