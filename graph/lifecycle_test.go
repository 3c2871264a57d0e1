package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/alert"
	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/ent"
	entalert "github.com/sallyhq/sally/ent/alert"
	"github.com/sallyhq/sally/event"
	"github.com/sallyhq/sally/graph"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/internal/testserver"
	"github.com/sallyhq/sally/sandbox"
	"github.com/sallyhq/sally/store"
)

// The integration lifecycle of contract v2, on SQLite and PostgreSQL: state and
// stateReason, NEEDS_CREDENTIALS and its one credentials alert, testCredentials,
// muting, open alerts, due at once, unique names, createdBy, INTEGRATION_CHANGED
// events, and times that read back as they were answered.

const lifecycleFields = `id displayName enabled state stateReason nextSyncAt createdAt updatedAt
  alertsMutedUntil credentialsHint createdBy { id email }`

type lcIntegration struct {
	ID               string
	DisplayName      string
	Enabled          bool
	State            string
	StateReason      *string
	NextSyncAt       *time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
	AlertsMutedUntil *time.Time
	CredentialsHint  string
	CreatedBy        *struct{ ID, Email string }
}

func (f *fixture) integrationState(t *testing.T, id string) lcIntegration {
	t.Helper()
	var out struct{ Integration lcIntegration }
	f.do(t, f.admin, `query($id: ID!) { integration(id: $id) { `+lifecycleFields+` } }`, map[string]any{"id": id}).Decode(t, &out)
	return out.Integration
}

func (f *fixture) update(t *testing.T, id string, in map[string]any) lcIntegration {
	t.Helper()
	var out struct{ UpdateIntegration lcIntegration }
	f.do(t, f.admin, `mutation($id: ID!, $in: UpdateIntegrationInput!) { updateIntegration(id: $id, input: $in) { `+lifecycleFields+` } }`,
		map[string]any{"id": id, "in": in}).Decode(t, &out)
	return out.UpdateIntegration
}

// syncOnce runs a manual sync and returns its status and error class.
func (f *fixture) syncOnce(t *testing.T, id string) (status, class string) {
	t.Helper()
	var out struct {
		SyncIntegration struct {
			Status     string
			ErrorClass *string
		}
	}
	f.do(t, f.admin, `mutation($id: ID!) { syncIntegration(id: $id) { status errorClass } }`, map[string]any{"id": id}).Decode(t, &out)
	if out.SyncIntegration.ErrorClass != nil {
		class = *out.SyncIntegration.ErrorClass
	}
	return out.SyncIntegration.Status, class
}

func (f *fixture) alertsOf(t *testing.T, integrationID string) []*ent.Alert {
	t.Helper()
	as, err := f.store.Client.Alert.Query().Where(entalert.IntegrationID(uuid.MustParse(integrationID))).
		Order(ent.Asc(entalert.FieldCreatedAt)).All(testserver.System())
	require.NoError(t, err)
	return as
}

func samsaraRequests(f *fixture) int64 { return f.api.Sandbox.Stats()[sandbox.Samsara].Requests }

func TestIntegrationStateAndDueAtOnce(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		before := time.Now().UTC().Add(-time.Second)
		var created struct{ CreateIntegration lcIntegration }
		f.do(t, f.admin, `mutation($in: CreateIntegrationInput!) { createIntegration(input: $in) { `+lifecycleFields+` } }`,
			map[string]any{"in": map[string]any{
				"integrationType": "TMS", "vendor": "TRUCKBASE_TMS", "displayName": "  Loads  ",
				"credentials": map[string]any{"apiKey": "tb-key-0001", "apiSecret": "tb-secret"}, "syncIntervalSeconds": 3600,
			}}).Decode(t, &created)
		in := created.CreateIntegration
		require.Equal(t, "Loads", in.DisplayName, "stored trimmed")
		require.Equal(t, "ACTIVE", in.State)
		require.Nil(t, in.StateReason)
		require.Nil(t, in.AlertsMutedUntil)
		require.NotNil(t, in.CreatedBy)
		require.Equal(t, f.admin.Email, in.CreatedBy.Email)
		// Due at once: nextSyncAt is the creation time, not an interval later.
		require.NotNil(t, in.NextSyncAt)
		require.False(t, in.NextSyncAt.Before(before))
		require.False(t, in.NextSyncAt.After(time.Now().Add(time.Second)))

		// The first scheduler pass after creation syncs it.
		f.api.Engine.ScheduleDue(context.Background())
		f.api.Engine.Idle()
		require.Equal(t, 1, testdb.Count(t, s, "SELECT count(*) FROM sync_logs WHERE integration_id = ? AND trigger = 'SCHEDULED' AND status = 'SUCCESS'", in.ID))
		after := f.integrationState(t, in.ID)
		require.True(t, after.NextSyncAt.After(time.Now().Add(50*time.Minute)), "then one interval later: %v", after.NextSyncAt)

		t.Log("pause: PAUSED, a reason, nothing scheduled")
		paused := f.update(t, in.ID, map[string]any{"enabled": false})
		require.Equal(t, "PAUSED", paused.State)
		require.NotNil(t, paused.StateReason)
		require.Contains(t, *paused.StateReason, "Paused")
		require.Nil(t, paused.NextSyncAt)
		r := f.do(t, f.admin, `mutation($id: ID!) { syncIntegration(id: $id) { id } }`, map[string]any{"id": in.ID})
		requireCode(t, r, graph.CodeBadUserInput)

		t.Log("resume: ACTIVE and due at once")
		resumed := f.update(t, in.ID, map[string]any{"enabled": true})
		require.Equal(t, "ACTIVE", resumed.State)
		require.Nil(t, resumed.StateReason)
		require.NotNil(t, resumed.NextSyncAt)
		require.False(t, resumed.NextSyncAt.After(time.Now().Add(time.Second)))
		f.api.Engine.ScheduleDue(context.Background())
		f.api.Engine.Idle()
		require.Equal(t, 2, testdb.Count(t, s, "SELECT count(*) FROM sync_logs WHERE integration_id = ? AND trigger = 'SCHEDULED'", in.ID))

		t.Log("a created disabled integration is PAUSED and not scheduled")
		id := f.api.CreateIntegration(t, f.admin.Token, map[string]any{"displayName": "Later", "enabled": false})
		later := f.integrationState(t, id)
		require.Equal(t, "PAUSED", later.State)
		require.Nil(t, later.NextSyncAt)
	})
}

func TestNeedsCredentials(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		// The sandbox answers 401 to keys that begin with "invalid".
		id := f.api.CreateIntegration(t, f.admin.Token, map[string]any{
			"displayName": "Rejected ELD", "credentials": map[string]any{"apiKey": "invalid-key-0001"},
		})
		ctx := context.Background()
		sub := f.api.Bus.Subscribe(ctx, event.Filter{TenantID: f.tenantID, IntegrationID: id})

		limit := alert.DefaultCredentialsFailuresBeforePause
		for i := 1; i < limit; i++ {
			status, class := f.syncOnce(t, id)
			require.Equal(t, "FAILED", status)
			require.Equal(t, "auth", class)
			require.Equal(t, "ACTIVE", f.integrationState(t, id).State, "after %d rejected syncs", i)
		}
		status, class := f.syncOnce(t, id)
		require.Equal(t, []string{"FAILED", "auth"}, []string{status, class})

		in := f.integrationState(t, id)
		require.Equal(t, "NEEDS_CREDENTIALS", in.State)
		require.NotNil(t, in.StateReason)
		require.Contains(t, *in.StateReason, "rejected")
		require.Contains(t, strings.ToLower(*in.StateReason), "unauthorized", "the vendor's refusal")
		require.Nil(t, in.NextSyncAt)

		t.Log("one credentials alert, linking to the integration, for the admins")
		as := f.alertsOf(t, id)
		var creds []*ent.Alert
		for _, a := range as {
			if a.Kind == alert.KindCredentials {
				creds = append(creds, a)
			}
		}
		require.Len(t, creds, 1, "alerts: %+v", as)
		a := creds[0]
		require.True(t, a.Firing)
		require.Nil(t, a.ResolvedAt)
		require.Equal(t, entalert.StatusPENDING, a.Status)
		require.Contains(t, a.Recipients, f.admin.Email)
		require.NotContains(t, a.Recipients, f.dispatcher.Email)
		mail, err := alert.Render(a)
		require.NoError(t, err)
		link := testserver.PublicURL + "/#/integrations/" + id
		require.Contains(t, mail.Text, link)
		require.Contains(t, mail.HTML, `href="`+link+`"`)
		require.Contains(t, mail.Subject, "needs new credentials")
		require.Contains(t, mail.Text, "Enter a new key")
		// Every open alert of the integration is that one (a failure alert of the same
		// incident, if raised, was superseded).
		var open struct{ OpenAlerts []struct{ ID, Kind string } }
		f.do(t, f.admin, `query($id: ID) { openAlerts(integrationId: $id) { id kind } }`, map[string]any{"id": id}).Decode(t, &open)
		require.Equal(t, []struct{ ID, Kind string }{{a.ID.String(), "credentials"}}, open.OpenAlerts)

		t.Log("an INTEGRATION_CHANGED event says so")
		waitEvent(t, sub, func(e event.Event) bool {
			return e.Type == event.IntegrationChanged && e.Message != nil && strings.Contains(*e.Message, "needs new credentials")
		})

		t.Log("no vendor call while NEEDS_CREDENTIALS, except testIntegration")
		calls := samsaraRequests(f)
		r := f.do(t, f.admin, `mutation($id: ID!) { syncIntegration(id: $id) { id } }`, map[string]any{"id": id})
		requireCode(t, r, graph.CodeBadUserInput)
		require.Contains(t, r.Message(), "needs new credentials")
		// Due in the database, yet the scheduler leaves it alone.
		_, err = s.Client.Integration.UpdateOneID(uuid.MustParse(id)).SetNextSyncAt(time.Now().Add(-time.Minute)).Save(testserver.System())
		require.NoError(t, err)
		f.api.Engine.ScheduleDue(ctx)
		f.api.Engine.Idle()
		// A driver's HOS is served from nowhere rather than from the vendor.
		r = f.do(t, f.dispatcher, `{ driverHOS(driverId: "drv-1") { driverId } }`, nil)
		requireCode(t, r, graph.CodeNotFound)
		require.Equal(t, calls, samsaraRequests(f), "no request reached the vendor")
		require.Equal(t, limit, testdb.Count(t, s, "SELECT count(*) FROM sync_logs WHERE integration_id = ?", id), "no SyncLog for the skipped run")
		var tested struct{ TestIntegration struct{ Success bool } }
		f.do(t, f.dispatcher, `mutation($id: ID!) { testIntegration(id: $id) { success } }`, map[string]any{"id": id}).Decode(t, &tested)
		require.False(t, tested.TestIntegration.Success)
		require.Equal(t, calls+1, samsaraRequests(f), "testIntegration still calls the vendor")

		t.Log("pausing and resuming keeps NEEDS_CREDENTIALS")
		require.Equal(t, "PAUSED", f.update(t, id, map[string]any{"enabled": false}).State)
		again := f.update(t, id, map[string]any{"enabled": true})
		require.Equal(t, "NEEDS_CREDENTIALS", again.State)
		require.Nil(t, again.NextSyncAt)

		t.Log("a new key: ACTIVE, due at once, and its first sync resolves the alert")
		rotated := f.update(t, id, map[string]any{"credentials": map[string]any{"apiKey": "good-key-0002"}})
		require.Equal(t, "ACTIVE", rotated.State)
		require.Nil(t, rotated.StateReason)
		require.NotNil(t, rotated.NextSyncAt)
		require.False(t, rotated.NextSyncAt.After(time.Now().Add(time.Second)))
		f.api.Engine.ScheduleDue(ctx)
		f.api.Engine.Idle()
		require.Equal(t, 1, testdb.Count(t, s, "SELECT count(*) FROM sync_logs WHERE integration_id = ? AND status = 'SUCCESS'", id))
		f.do(t, f.admin, `query($id: ID) { openAlerts(integrationId: $id) { id kind } }`, map[string]any{"id": id}).Decode(t, &open)
		require.Empty(t, open.OpenAlerts)
		as = f.alertsOf(t, id)
		require.Equal(t, alert.KindRecovery, as[len(as)-1].Kind)
		require.Zero(t, testdb.Count(t, s, "SELECT count(*) FROM alerts WHERE kind = 'credentials' AND resolved_at IS NULL"))
	})
}

func waitEvent(t *testing.T, sub *event.Subscription, match func(event.Event) bool) event.Event {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e, ok := <-sub.C:
			require.True(t, ok, "the subscription ended")
			if match(e) {
				return e
			}
		case <-timeout:
			t.Fatal("no matching event within 30 s")
		}
	}
}

// TestCredentialFailuresAreConsecutive: a success in between starts the count over.
func TestCredentialFailuresAreConsecutive(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		id := f.api.CreateIntegration(t, f.admin.Token, map[string]any{"displayName": "Flaky key"})
		reject := func(n int) {
			require.NoError(t, f.api.Sandbox.SetFault(sandbox.Samsara, sandbox.Fault{Status: 401, Count: n}))
			for range n {
				status, class := f.syncOnce(t, id)
				require.Equal(t, []string{"FAILED", "auth"}, []string{status, class})
			}
		}
		limit := alert.DefaultCredentialsFailuresBeforePause
		reject(limit - 1)
		status, _ := f.syncOnce(t, id)
		require.Equal(t, "SUCCESS", status)
		reject(limit - 1)
		require.Equal(t, "ACTIVE", f.integrationState(t, id).State)
		reject(1)
		require.Equal(t, "NEEDS_CREDENTIALS", f.integrationState(t, id).State)
	})
}

// TestCredentialsRuleOnce: replicas deciding on the same rejected sync at once pause
// the integration once and raise one alert.
func TestCredentialsRuleOnce(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		id := f.api.CreateIntegration(t, f.admin.Token, map[string]any{
			"displayName": "Racy", "credentials": map[string]any{"apiKey": "invalid-race"},
		})
		status, _ := f.syncOnce(t, id) // one rejection counted
		require.Equal(t, "FAILED", status)
		ctx := testserver.System()
		in, err := s.Client.Integration.Get(ctx, uuid.MustParse(id))
		require.NoError(t, err)
		lg, err := s.Client.SyncLog.Query().First(ctx)
		require.NoError(t, err)
		replicas := make([]*alert.Manager, 6)
		for i := range replicas {
			replicas[i] = alert.NewManager(alert.Options{Client: s.Client})
		}
		var wg sync.WaitGroup
		for _, m := range replicas {
			wg.Go(func() { m.AfterSync(ctx, in, lg) })
		}
		wg.Wait()
		cur, err := s.Client.Integration.Get(ctx, in.ID)
		require.NoError(t, err)
		require.True(t, cur.NeedsCredentials)
		require.Equal(t, alert.DefaultCredentialsFailuresBeforePause, cur.CredentialFailures)
		require.Equal(t, 1, testdb.Count(t, s, "SELECT count(*) FROM alerts WHERE kind = 'credentials'"))
	})
}

func TestTestCredentials(t *testing.T) {
	t.Parallel()
	const q = `mutation($v: Vendor!, $c: CredentialsInput!) { testCredentials(vendor: $v, credentials: $c) { success latencyMs message } }`
	type result struct {
		TestCredentials struct {
			Success   bool
			LatencyMs int
			Message   *string
		}
	}
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		var logs bytes.Buffer
		var mu sync.Mutex
		api := testserver.New(t, s, testserver.WithDeps(func(d *graph.Deps) {
			d.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}))
		tenantID, _ := api.SeedTenant(t, "Keys Inc")
		admin := api.SeedUser(t, tenantID, auth.RoleAdmin)
		dispatcher := api.SeedUser(t, tenantID, auth.RoleDispatcher)
		before := api.Sandbox.Stats()

		for _, tc := range []struct {
			vendor, key, secret string
			ok                  bool
		}{
			{"SAMSARA_ELD", "samsara-good-secret-key", "", true},
			{"TRUCKBASE_TMS", "truckbase-good-secret-key", "truckbase-api-secret", true},
			{"FUELFINDER", "fuel-good-secret-key", "", true},
			{"OPENWEATHER", "weather-good-secret-key", "", true},
			{"SAMSARA_ELD", "invalid-samsara-secret-key", "", false},
			{"OPENWEATHER", "invalid-weather-secret-key", "", false},
		} {
			creds := map[string]any{"apiKey": tc.key}
			if tc.secret != "" {
				creds["apiSecret"] = tc.secret
			}
			r := api.Do(t, admin.Token, q, map[string]any{"v": tc.vendor, "c": creds})
			var out result
			r.Decode(t, &out)
			require.Equal(t, tc.ok, out.TestCredentials.Success, "%s %s: %s", tc.vendor, tc.key, r.Body)
			require.GreaterOrEqual(t, out.TestCredentials.LatencyMs, 0)
			if !tc.ok {
				require.NotNil(t, out.TestCredentials.Message)
				require.Contains(t, *out.TestCredentials.Message, "unauthorized")
			}
			require.NotContains(t, string(r.Body), tc.key, "the key is never echoed")
			if tc.secret != "" {
				require.NotContains(t, string(r.Body), tc.secret)
			}
		}
		after := api.Sandbox.Stats()
		for _, v := range []string{sandbox.Samsara, sandbox.Truckbase, sandbox.FuelFinder, sandbox.OpenWeather} {
			want := int64(1)
			if v == sandbox.Samsara || v == sandbox.OpenWeather {
				want = 2
			}
			require.Equal(t, want, after[v].Requests-before[v].Requests, "one call per test, no retries: %s", v)
		}
		require.Zero(t, testdb.Count(t, s, "SELECT count(*) FROM integrations"), "nothing is stored")
		mu.Lock()
		require.NotContains(t, logs.String(), "secret-key", "the key is never logged")
		mu.Unlock()

		r := api.Do(t, dispatcher.Token, q, map[string]any{"v": "SAMSARA_ELD", "c": map[string]any{"apiKey": "k"}})
		requireCode(t, r, graph.CodeForbidden)
		r = api.Do(t, admin.Token, q, map[string]any{"v": "SAMSARA_ELD", "c": map[string]any{"apiKey": ""}})
		requireCode(t, r, graph.CodeBadUserInput)
		r = api.Do(t, admin.Token, q, map[string]any{"v": "MOTIVE", "c": map[string]any{"apiKey": "k"}})
		requireCode(t, r, graph.CodeBadUserInput)
		r = api.Do(t, "", q, map[string]any{"v": "SAMSARA_ELD", "c": map[string]any{"apiKey": "k"}})
		requireCode(t, r, graph.CodeUnauthenticated)
	})
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestMuteIntegrationAlerts(t *testing.T) {
	t.Parallel()
	const mute = `mutation($id: ID!, $until: Time) { muteIntegrationAlerts(id: $id, until: $until) { id alertsMutedUntil } }`
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		id := f.api.CreateIntegration(t, f.admin.Token, map[string]any{"displayName": "Noisy", "alertFailureThreshold": 2})
		ctx := context.Background()
		sub := f.api.Bus.Subscribe(ctx, event.Filter{TenantID: f.tenantID, IntegrationID: id})

		until := time.Now().UTC().Add(8 * time.Hour).Truncate(time.Microsecond)
		var out struct {
			MuteIntegrationAlerts struct {
				ID               string
				AlertsMutedUntil *time.Time
			}
		}
		f.do(t, f.admin, mute, map[string]any{"id": id, "until": until.Format(time.RFC3339Nano)}).Decode(t, &out)
		require.NotNil(t, out.MuteIntegrationAlerts.AlertsMutedUntil)
		require.True(t, until.Equal(*out.MuteIntegrationAlerts.AlertsMutedUntil))
		require.True(t, until.Equal(*f.integrationState(t, id).AlertsMutedUntil), "read back as answered")
		waitEvent(t, sub, func(e event.Event) bool {
			return e.Type == event.IntegrationChanged && e.Message != nil && strings.Contains(*e.Message, "muted")
		})

		t.Log("a muted integration's alert is recorded, listed and published, not emailed")
		require.NoError(t, f.api.Sandbox.SetFault(sandbox.Samsara, sandbox.Fault{Malformed: true})) // bad_response: no retries, breaker untouched
		for range 2 {
			status, _ := f.syncOnce(t, id)
			require.Equal(t, "FAILED", status)
		}
		f.api.Sandbox.ClearFaults(sandbox.Samsara)
		waitEvent(t, sub, func(e event.Event) bool { return e.Type == event.AlertRaised })
		var listed struct {
			Alerts []struct {
				ID, Kind, Status string
				Muted            bool
				IntegrationID    *string
			}
		}
		f.do(t, f.admin, `{ alerts { id kind status muted integrationId } }`, nil).Decode(t, &listed)
		require.Len(t, listed.Alerts, 1)
		require.Equal(t, "failure", listed.Alerts[0].Kind)
		require.Equal(t, "MUTED", listed.Alerts[0].Status)
		require.True(t, listed.Alerts[0].Muted)
		var open struct{ OpenAlerts []struct{ ID string } }
		f.do(t, f.admin, `{ openAlerts { id } }`, nil).Decode(t, &open)
		require.Len(t, open.OpenAlerts, 1)

		// The delivery worker leaves MUTED alerts alone, also after unmuting.
		sent := 0
		worker := alert.NewWorker(alert.WorkerOptions{Client: s.Client, Sender: alert.SenderFunc(func(context.Context, alert.Message) error {
			sent++
			return nil
		})})
		t.Log("unmute: old alerts stay unsent")
		f.do(t, f.admin, mute, map[string]any{"id": id, "until": nil}).Decode(t, &out)
		require.Nil(t, out.MuteIntegrationAlerts.AlertsMutedUntil)
		worker.DeliverDue(ctx)
		require.Zero(t, sent)
		f.do(t, f.admin, `{ alerts { id kind status muted integrationId } }`, nil).Decode(t, &listed)
		require.Equal(t, "MUTED", listed.Alerts[0].Status)

		t.Log("after unmuting, the recovery notice is emailed")
		status, _ := f.syncOnce(t, id)
		require.Equal(t, "SUCCESS", status)
		worker.DeliverDue(ctx)
		require.Equal(t, 1, sent)

		t.Log("validation and roles")
		requireCode(t, f.do(t, f.admin, mute, map[string]any{"id": id, "until": time.Now().Add(-time.Minute).Format(time.RFC3339)}), graph.CodeBadUserInput)
		requireCode(t, f.do(t, f.admin, mute, map[string]any{"id": id, "until": time.Now().Add(31 * 24 * time.Hour).Format(time.RFC3339)}), graph.CodeBadUserInput)
		requireCode(t, f.do(t, f.admin, mute, map[string]any{"id": uuid.NewString(), "until": nil}), graph.CodeNotFound)
		requireCode(t, f.do(t, f.dispatcher, mute, map[string]any{"id": id, "until": nil}), graph.CodeForbidden)
		requireCode(t, f.do(t, f.dispatcher, `{ openAlerts { id } }`, nil), graph.CodeForbidden)
		requireCode(t, f.do(t, f.admin, `query($id: ID) { openAlerts(integrationId: $id) { id } }`, map[string]any{"id": uuid.NewString()}), graph.CodeNotFound)
		other, otherAdmin := f.api.SeedTenant(t, "Other Fleet")
		_ = other
		requireCode(t, f.api.Do(t, otherAdmin, mute, map[string]any{"id": id, "until": nil}), graph.CodeNotFound)
		var otherOpen struct{ OpenAlerts []struct{ ID string } }
		f.api.Do(t, otherAdmin, `{ openAlerts { id } }`, nil).Decode(t, &otherOpen)
		require.Empty(t, otherOpen.OpenAlerts, "another tenant's alerts are not listed")
	})
}

func TestDisplayNameUniquePerTenant(t *testing.T) {
	t.Parallel()
	const create = `mutation($in: CreateIntegrationInput!) { createIntegration(input: $in) { id displayName } }`
	input := func(name string) map[string]any {
		in := testserver.DefaultIntegration()
		in["displayName"] = name
		return map[string]any{"in": in}
	}
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		requireCode(t, f.do(t, f.admin, create, input("Fleet ELD")), "")
		for _, name := range []string{"Fleet ELD", "fleet eld", "  FLEET ELD  "} {
			r := f.do(t, f.admin, create, input(name))
			requireCode(t, r, graph.CodeConflict)
			require.Contains(t, r.Message(), "already exists")
		}
		// Another tenant may use it.
		_, otherAdmin := f.api.SeedTenant(t, "Other Fleet")
		requireCode(t, f.api.Do(t, otherAdmin, create, input("Fleet ELD")), "")

		id := f.api.CreateIntegration(t, f.admin.Token, map[string]any{"displayName": "Second"})
		r := f.do(t, f.admin, `mutation($id: ID!) { updateIntegration(id: $id, input: {displayName: " fleet ELD "}) { id } }`, map[string]any{"id": id})
		requireCode(t, r, graph.CodeConflict)
		require.Equal(t, "Second", f.integrationState(t, id).DisplayName, "unchanged")
		require.Equal(t, "SECOND", f.update(t, id, map[string]any{"displayName": "SECOND"}).DisplayName, "its own name in another case")

		t.Log("created at once by many: one wins")
		var wg sync.WaitGroup
		codes := make([]string, 6)
		for i := range codes {
			wg.Go(func() { codes[i] = f.api.Do(t, f.admin.Token, create, input("Race")).Code() })
		}
		wg.Wait()
		wins := 0
		for _, c := range codes {
			if c == "" {
				wins++
			} else {
				require.Equal(t, graph.CodeConflict, c)
			}
		}
		require.Equal(t, 1, wins, "codes: %v", codes)
	})
}

// TestIntegrationChangedEvents: create, update, delete and muting each publish one
// INTEGRATION_CHANGED event to the tenant.
func TestIntegrationChangedEvents(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		sub := f.api.Bus.Subscribe(ctx, event.Filter{TenantID: f.tenantID})
		changed := func(want string) event.Event {
			t.Helper()
			return waitEvent(t, sub, func(e event.Event) bool {
				return e.Type == event.IntegrationChanged && e.Message != nil && strings.Contains(*e.Message, want)
			})
		}
		id := f.api.CreateIntegration(t, f.admin.Token, map[string]any{"displayName": "Evented", "enabled": false})
		e := changed("created")
		require.Equal(t, id, e.IntegrationID)
		require.Equal(t, "Evented", e.IntegrationName)
		require.Equal(t, "SAMSARA_ELD", e.Vendor)
		f.update(t, id, map[string]any{"displayName": "Evented 2"})
		require.Equal(t, "Evented 2", changed("renamed").IntegrationName)
		f.update(t, id, map[string]any{"credentials": map[string]any{"apiKey": "another-key"}})
		changed("credentials changed")
		f.update(t, id, map[string]any{"enabled": true})
		changed("resumed")
		f.do(t, f.admin, `mutation($id: ID!) { muteIntegrationAlerts(id: $id, until: null) { id } }`, map[string]any{"id": id})
		changed("unmuted")
		requireCode(t, f.do(t, f.admin, `mutation($id: ID!) { deleteIntegration(id: $id) }`, map[string]any{"id": id}), "")
		require.Equal(t, id, changed("deleted").IntegrationID)
	})
}

// TestTimesReadBackAsAnswered: a time the API answers when it creates something is
// the time a later read answers (PostgreSQL keeps microseconds: the server rounds
// where it makes times), for every entity.
func TestTimesReadBackAsAnswered(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *store.Store) {
		f := setup(t, s)
		raw := func(r testserver.Response) map[string]any {
			t.Helper()
			requireCode(t, r, "")
			var m map[string]any
			require.NoError(t, json.Unmarshal(r.Data, &m))
			return m
		}
		pick := func(m map[string]any, path ...string) any {
			var v any = m
			for _, p := range path {
				v = v.(map[string]any)[p]
			}
			return v
		}

		t.Log("integration")
		c := raw(f.do(t, f.admin, `mutation($in: CreateIntegrationInput!) { createIntegration(input: $in) { id createdAt updatedAt nextSyncAt } }`,
			map[string]any{"in": testserver.DefaultIntegration()}))
		id := pick(c, "createIntegration", "id").(string)
		rd := raw(f.do(t, f.admin, `query($id: ID!) { integration(id: $id) { createdAt updatedAt nextSyncAt } }`, map[string]any{"id": id}))
		for _, k := range []string{"createdAt", "updatedAt", "nextSyncAt"} {
			require.Equal(t, pick(c, "createIntegration", k), pick(rd, "integration", k), k)
		}
		u := raw(f.do(t, f.admin, `mutation($id: ID!) { updateIntegration(id: $id, input: {syncIntervalSeconds: 600}) { updatedAt nextSyncAt } }`, map[string]any{"id": id}))
		rd = raw(f.do(t, f.admin, `query($id: ID!) { integration(id: $id) { updatedAt nextSyncAt } }`, map[string]any{"id": id}))
		require.Equal(t, u["updateIntegration"], rd["integration"])
		until := time.Now().Add(time.Hour).Format(time.RFC3339Nano) // nanoseconds in, microseconds kept
		m := raw(f.do(t, f.admin, `mutation($id: ID!, $u: Time) { muteIntegrationAlerts(id: $id, until: $u) { alertsMutedUntil } }`, map[string]any{"id": id, "u": until}))
		rd = raw(f.do(t, f.admin, `query($id: ID!) { integration(id: $id) { alertsMutedUntil } }`, map[string]any{"id": id}))
		require.Equal(t, pick(m, "muteIntegrationAlerts", "alertsMutedUntil"), pick(rd, "integration", "alertsMutedUntil"))

		t.Log("sync log")
		sl := raw(f.do(t, f.admin, `mutation($id: ID!) { syncIntegration(id: $id) { id startedAt completedAt } }`, map[string]any{"id": id}))
		hist := raw(f.do(t, f.admin, `query($id: ID!) { syncHistory(integrationId: $id, limit: 1) { id startedAt completedAt } }`, map[string]any{"id": id}))
		require.Equal(t, sl["syncIntegration"], hist["syncHistory"].([]any)[0])

		t.Log("user and tenant")
		cu := raw(f.do(t, f.admin, `mutation($in: CreateUserInput!) { createUser(input: $in) { id createdAt } }`,
			map[string]any{"in": map[string]any{"email": "times-" + testserver.RandomHex(4) + "@example.com", "password": testserver.Password, "role": "DISPATCHER"}}))
		users := raw(f.do(t, f.admin, `{ users { id createdAt } }`, nil))
		require.Contains(t, users["users"], cu["createUser"])
		ct := raw(f.do(t, f.super, `mutation($in: CreateTenantInput!) { createTenant(input: $in) { id createdAt } }`,
			map[string]any{"in": map[string]any{"name": "Times " + testserver.RandomHex(4), "adminEmail": "t-" + testserver.RandomHex(4) + "@example.com", "adminPassword": testserver.Password}}))
		tenants := raw(f.do(t, f.super, `{ tenants { id createdAt } }`, nil))
		require.Contains(t, tenants["tenants"], ct["createTenant"])

		t.Log("alert: read twice alike, in microseconds")
		_, err := s.Client.Integration.UpdateOneID(uuid.MustParse(id)).SetAlertFailureThreshold(1).ClearAlertsMutedUntil().Save(testserver.System())
		require.NoError(t, err)
		require.NoError(t, f.api.Sandbox.SetFault(sandbox.Samsara, sandbox.Fault{Status: 503, Count: 3}))
		status, _ := f.syncOnce(t, id)
		require.Equal(t, "FAILED", status)
		a1 := raw(f.do(t, f.admin, `{ alerts { id createdAt } }`, nil))
		a2 := raw(f.do(t, f.admin, `{ openAlerts { id createdAt } }`, nil))
		require.Len(t, a1["alerts"], 1)
		require.Equal(t, a1["alerts"], a2["openAlerts"])
		for _, v := range []any{pick(c, "createIntegration", "createdAt"), pick(sl, "syncIntegration", "startedAt"), a1["alerts"].([]any)[0].(map[string]any)["createdAt"]} {
			ts := v.(string)
			if dot := strings.IndexByte(ts, '.'); dot >= 0 {
				require.LessOrEqual(t, len(strings.TrimSuffix(ts[dot+1:], "Z")), 6, "at most microseconds: %s", ts)
			}
		}
	})
}
