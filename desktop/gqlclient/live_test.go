package gqlclient_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/desktop/gqlclient"
	"github.com/sallyhq/sally/desktop/internal/desktoptest"
)

func TestMain(m *testing.M) { desktoptest.Main(m) }

// setup starts a server (the real binary, demo tenant, sandbox) and logs in to it.
func setup(t *testing.T) (*desktoptest.Server, *gqlclient.Client) {
	t.Helper()
	srv := desktoptest.StartServer(t, desktoptest.FastPolicies...)
	c, err := gqlclient.New(srv.URL, nil)
	require.NoError(t, err)
	_, err = c.SignIn(context.Background(), desktoptest.AdminEmail, desktoptest.AdminPassword)
	require.NoError(t, err)
	return srv, c
}

func TestLogin(t *testing.T) {
	t.Parallel()
	srv := desktoptest.StartServer(t)
	ctx := context.Background()
	c, err := gqlclient.New(srv.URL, nil)
	require.NoError(t, err)

	t.Run("WrongPassword", func(t *testing.T) {
		_, err := c.SignIn(ctx, desktoptest.AdminEmail, "not the password at all")
		require.True(t, gqlclient.IsUnauthenticated(err), "got %v", err)
		require.Empty(t, c.Token())
	})
	t.Run("NoToken", func(t *testing.T) {
		_, err := gqlclient.Me(ctx, c)
		require.True(t, gqlclient.IsUnauthenticated(err), "got %v", err)
	})
	t.Run("OK", func(t *testing.T) {
		p, err := c.SignIn(ctx, desktoptest.AdminEmail, desktoptest.AdminPassword)
		require.NoError(t, err)
		require.NotEmpty(t, c.Token())
		require.Equal(t, "Demo Fleet", p.User.Tenant.Name)
		me, err := gqlclient.Me(ctx, c)
		require.NoError(t, err)
		require.Equal(t, desktoptest.AdminEmail, me.Me.Email)
	})
	t.Run("Unreachable", func(t *testing.T) {
		bad, err := gqlclient.New("http://127.0.0.1:1", nil)
		require.NoError(t, err)
		_, err = bad.SignIn(ctx, "a@b.c", "password")
		require.True(t, gqlclient.IsNetwork(err), "got %v", err)
		require.Equal(t, "cannot reach the server", gqlclient.Message(err))
	})
}

func TestOperations(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	ctx := context.Background()

	since := time.Now().Add(-24 * time.Hour)
	list, err := gqlclient.Integrations(ctx, c, &since)
	require.NoError(t, err)
	var names []string
	byName := map[string]string{}
	for _, in := range list.Integrations {
		names = append(names, in.DisplayName)
		byName[in.DisplayName] = in.Id
	}
	require.ElementsMatch(t, desktoptest.DemoIntegrations, names)
	id := byName["Truckbase loads"]

	one, err := gqlclient.Integration(ctx, c, id, &since)
	require.NoError(t, err)
	require.Equal(t, gqlclient.VendorTruckbaseTms, one.Integration.Vendor)

	test, err := gqlclient.TestIntegration(ctx, c, id)
	require.NoError(t, err)
	require.True(t, test.TestIntegration.Success, "message: %v", test.TestIntegration.Message)

	// A new integration is due at once, so the first manual sync may join the demo's
	// first scheduled one and answer with it (trigger SCHEDULED, as the contract says).
	// The scheduled run has ended when that answer comes: the next call is our own.
	run, err := gqlclient.SyncIntegration(ctx, c, id)
	require.NoError(t, err)
	if run.SyncIntegration.Trigger == gqlclient.SyncTriggerScheduled {
		run, err = gqlclient.SyncIntegration(ctx, c, id)
		require.NoError(t, err)
	}
	require.Equal(t, gqlclient.SyncStatusSuccess, run.SyncIntegration.Status)
	require.Equal(t, gqlclient.SyncTriggerManual, run.SyncIntegration.Trigger)

	hist, err := gqlclient.SyncHistory(ctx, c, id, 50, 0)
	require.NoError(t, err)
	require.NotEmpty(t, hist.SyncHistory)
	found := false
	for _, l := range hist.SyncHistory {
		found = found || l.Id == run.SyncIntegration.Id
	}
	require.True(t, found, "the manual sync is in the history")

	detail, err := gqlclient.SyncLogDetail(ctx, c, run.SyncIntegration.Id)
	require.NoError(t, err)
	require.NotNil(t, detail.SyncLog)
	require.Equal(t, run.SyncIntegration.Id, detail.SyncLog.Id)
	require.NotEmpty(t, detail.SyncLog.Tries, "the sync's requests")
	require.GreaterOrEqual(t, hist.SyncStats.TotalSyncs, 1)

	_, err = gqlclient.Integration(ctx, c, "not-an-id", &since)
	require.Error(t, err)
}

// recorder collects what Events reports.
type recorder struct {
	mu     sync.Mutex
	events []gqlclient.Event
	states []gqlclient.ConnState
}

func (r *recorder) event(e gqlclient.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) state(s gqlclient.ConnState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states = append(r.states, s)
}

func (r *recorder) online() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.states) > 0 && r.states[len(r.states)-1].Online
}

func (r *recorder) offline() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.states) > 0 && !r.states[len(r.states)-1].Online
}

func (r *recorder) has(typ gqlclient.SyncEventType, syncLogID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Type == typ && e.SyncLog != nil && e.SyncLog.Id == syncLogID {
			return true
		}
	}
	return false
}

// follow runs Events until the test ends; done is closed when it returns, with its
// error in *result.
func follow(t *testing.T, c *gqlclient.Client, opts gqlclient.EventsOptions) (r *recorder, done <-chan struct{}, result *error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r = &recorder{}
	ch := make(chan struct{})
	result = new(error)
	go func() {
		defer close(ch)
		*result = c.Events(ctx, opts, r.event, r.state)
	}()
	done = ch
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("Events did not return after its context ended")
		}
	})
	return r, done, result
}

func firstID(t *testing.T, c *gqlclient.Client, name string) string {
	t.Helper()
	list, err := gqlclient.Integrations(context.Background(), c, nil)
	require.NoError(t, err)
	for _, in := range list.Integrations {
		if in.DisplayName == name {
			return in.Id
		}
	}
	t.Fatalf("no integration %q", name)
	return ""
}

func TestEvents(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	id := firstID(t, c, "OpenWeather")
	r, _, _ := follow(t, c, gqlclient.EventsOptions{IntegrationID: &id})
	desktoptest.Eventually(t, desktoptest.Timeout, "the feed to connect", r.online)

	run, err := gqlclient.SyncIntegration(context.Background(), c, id)
	require.NoError(t, err)
	desktoptest.Eventually(t, desktoptest.Timeout, "SYNC_STARTED and SYNC_SUCCEEDED of the manual sync", func() bool {
		return r.has(gqlclient.SyncEventTypeSyncStarted, run.SyncIntegration.Id) &&
			r.has(gqlclient.SyncEventTypeSyncSucceeded, run.SyncIntegration.Id)
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		require.Equal(t, id, e.IntegrationId, "only the integration asked for")
	}
}

func TestEventsReconnect(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	id := firstID(t, c, "Samsara ELD")
	opts := gqlclient.EventsOptions{MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond}
	r, _, _ := follow(t, c, opts)
	desktoptest.Eventually(t, desktoptest.Timeout, "the feed to connect", r.online)

	srv.Stop()
	desktoptest.Eventually(t, desktoptest.Timeout, "the feed to report offline", r.offline)
	r.mu.Lock()
	last := r.states[len(r.states)-1]
	r.mu.Unlock()
	require.Error(t, last.Err)
	require.Positive(t, last.RetryIn)

	srv.Restart()
	desktoptest.Eventually(t, desktoptest.Timeout, "the feed to reconnect", r.online)

	// The same token still works (the data directory kept the secrets), and events
	// flow again on the new connection.
	run, err := gqlclient.SyncIntegration(context.Background(), c, id)
	require.NoError(t, err)
	desktoptest.Eventually(t, desktoptest.Timeout, "SYNC_SUCCEEDED after the reconnect", func() bool {
		return r.has(gqlclient.SyncEventTypeSyncSucceeded, run.SyncIntegration.Id)
	})
}

func TestEventsBadToken(t *testing.T) {
	t.Parallel()
	srv := desktoptest.StartServer(t)
	c, err := gqlclient.New(srv.URL, nil)
	require.NoError(t, err)
	c.SetToken("not-a-token")
	r, done, result := follow(t, c, gqlclient.EventsOptions{})
	select {
	case <-done:
		require.True(t, errors.Is(*result, gqlclient.ErrUnauthenticated), "got %v", *result)
		require.False(t, r.online(), "never online with a refused token")
	case <-time.After(desktoptest.Timeout):
		t.Fatal("Events kept going with a refused token")
	}
}
