package model_test

import (
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/desktop/gqlclient"
	"github.com/sallyhq/sally/desktop/internal/desktoptest"
	"github.com/sallyhq/sally/desktop/model"
	"github.com/sallyhq/sally/internal/testkit"
)

func TestMain(m *testing.M) {
	test.NewApp() // bindings notify through the current app's driver
	desktoptest.Main(m)
}

// newModel returns a model whose state changes run on a test loop.
func newModel(t *testing.T, opts model.Options) *model.Model {
	t.Helper()
	loop := desktoptest.NewLoop(t)
	opts.Do = loop.Do
	opts.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	m := model.New(opts)
	t.Cleanup(m.Close)
	return m
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	desktoptest.Eventually(t, desktoptest.Timeout, what, cond)
}

func get[T any](b interface{ Get() (T, error) }) T {
	v, _ := b.Get()
	return v
}

func TestLoginErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, url, password, want string }{
		{"Unreachable", "http://127.0.0.1:1", "password", "Cannot reach the server"},
		{"BadURL", "ftp://example.com", "password", "want http or https"},
		{"NoPassword", "http://127.0.0.1:1", "", "enter your email and password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newModel(t, model.Options{})
			require.NoError(t, m.ServerURL.Set(tc.url))
			require.NoError(t, m.Email.Set("admin@localhost"))
			require.NoError(t, m.Password.Set(tc.password))
			m.Login()
			eventually(t, "a login error", func() bool { return get[string](m.LoginError) != "" && !get[bool](m.LoggingIn) })
			require.Contains(t, get[string](m.LoginError), tc.want)
			require.False(t, get[bool](m.LoggedIn))
		})
	}
}

func TestAutoLogin(t *testing.T) {
	t.Parallel()
	m := newModel(t, model.Options{})
	require.False(t, m.AutoLogin(func(string) string { return "" }), "needs all three variables")
	srv := desktoptest.StartServer(t)
	env := map[string]string{"SALLY_URL": srv.URL, "SALLY_EMAIL": desktoptest.AdminEmail, "SALLY_PASSWORD": desktoptest.AdminPassword}
	require.True(t, m.AutoLogin(func(k string) string { return env[k] }))
	eventually(t, "logged in and online", func() bool { return get[bool](m.LoggedIn) && get[bool](m.Online) })
}

// TestHistoryAndFeed pages through a history longer than a page, and keeps the feed to
// its bound, newest first.
func TestHistoryAndFeed(t *testing.T) {
	t.Parallel()
	srv := desktoptest.StartServer(t)
	m := newModel(t, model.Options{PageSize: 2, FeedSize: 3})
	env := map[string]string{"SALLY_URL": srv.URL, "SALLY_EMAIL": desktoptest.AdminEmail, "SALLY_PASSWORD": desktoptest.AdminPassword}
	m.AutoLogin(func(k string) string { return env[k] })
	eventually(t, "online with the integrations", func() bool { return get[bool](m.Online) && m.Integrations.Length() == 4 })

	rows := get[[]model.Integration](m.Integrations)
	id := rows[slices.IndexFunc(rows, func(in model.Integration) bool { return in.Name == "Truckbase loads" })].ID
	m.Select(id)
	eventually(t, "Truckbase loads selected", func() bool { return get[string](m.SelectedName) == "Truckbase loads" })
	for i := range 3 {
		m.SyncNow()
		eventually(t, "sync result", func() bool {
			return !get[bool](m.Syncing) && strings.HasPrefix(get[string](m.SyncResult), "Sync succeeded")
		})
		_ = m.SyncResult.Set("")
		t.Logf("sync %d done", i+1)
	}

	eventually(t, "a full first page with more after it", func() bool {
		return m.History.Length() == 2 && get[bool](m.HistoryHasNext) && get[int](m.StatTotal) >= 3
	})
	first := get[[]model.SyncRow](m.History)
	require.False(t, first[0].StartedAt.Before(first[1].StartedAt), "newest first")
	require.Equal(t, 100.0, get[float64](m.StatSuccessRate))

	m.NextPage()
	eventually(t, "page 2", func() bool {
		h := get[[]model.SyncRow](m.History)
		return get[int](m.HistoryPage) == 1 && len(h) > 0 && h[0].ID != first[0].ID
	})
	second := get[[]model.SyncRow](m.History)
	require.False(t, second[0].StartedAt.After(first[len(first)-1].StartedAt), "older rows on page 2")

	m.PrevPage()
	eventually(t, "page 1 again", func() bool {
		h := get[[]model.SyncRow](m.History)
		return get[int](m.HistoryPage) == 0 && len(h) == 2
	})

	feed := get[[]model.Event](m.Events)
	require.Len(t, feed, 3, "bounded to FeedSize")
	for i := 1; i < len(feed); i++ {
		require.False(t, feed[i].At.After(feed[i-1].At), "newest first")
	}
}

// TestTokenRenewed restarts the server with a new JWT secret: the subscription is
// refused, and the model logs in again with the credentials it keeps in memory.
func TestTokenRenewed(t *testing.T) {
	t.Parallel()
	srv := desktoptest.StartServer(t)
	m := newModel(t, model.Options{Events: gqlclient.EventsOptions{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}})
	env := map[string]string{"SALLY_URL": srv.URL, "SALLY_EMAIL": desktoptest.AdminEmail, "SALLY_PASSWORD": desktoptest.AdminPassword}
	m.AutoLogin(func(k string) string { return env[k] })
	eventually(t, "online", func() bool { return get[bool](m.Online) && m.Integrations.Length() == 4 })

	srv.RestartWith("JWT_SECRET=" + strings.Repeat("a-new-secret-", 4))
	eventually(t, "offline", func() bool { return !get[bool](m.Online) })
	eventually(t, "online with a new token", func() bool { return get[bool](m.Online) })
	require.True(t, get[bool](m.LoggedIn))

	m.SyncNow() // the first integration is selected
	eventually(t, "a sync through the new token", func() bool {
		return !get[bool](m.Syncing) && strings.HasPrefix(get[string](m.SyncResult), "Sync succeeded")
	})
}

// TestIntegrationChangedReloads: an integration created, renamed or deleted elsewhere
// shows in the list without a refresh (INTEGRATION_CHANGED events).
func TestIntegrationChangedReloads(t *testing.T) {
	t.Parallel()
	srv := desktoptest.StartServer(t)
	m := newModel(t, model.Options{})
	env := map[string]string{"SALLY_URL": srv.URL, "SALLY_EMAIL": desktoptest.AdminEmail, "SALLY_PASSWORD": desktoptest.AdminPassword}
	m.AutoLogin(func(k string) string { return env[k] })
	eventually(t, "online with the integrations", func() bool { return get[bool](m.Online) && m.Integrations.Length() == 4 })

	gql := func(token, query string, vars map[string]any) map[string]any {
		t.Helper()
		_, raw := testkit.PostGraphQL(t, srv.URL, token, query, vars)
		var out struct {
			Data   map[string]any
			Errors []any
		}
		require.NoError(t, json.Unmarshal(raw, &out), "%s", raw)
		require.Empty(t, out.Errors)
		return out.Data
	}
	login := gql("", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
		map[string]any{"e": desktoptest.AdminEmail, "p": desktoptest.AdminPassword})
	token := login["login"].(map[string]any)["token"].(string)
	names := func() []string {
		var out []string
		for _, in := range get[[]model.Integration](m.Integrations) {
			out = append(out, in.Name)
		}
		return out
	}

	created := gql(token, `mutation($in: CreateIntegrationInput!) { createIntegration(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"integrationType": "WEATHER", "vendor": "OPENWEATHER", "displayName": "Added elsewhere",
		"credentials": map[string]any{"apiKey": "desktop-test-key"}, "enabled": false,
	}})
	id := created["createIntegration"].(map[string]any)["id"].(string)
	eventually(t, "the new integration listed", func() bool { return slices.Contains(names(), "Added elsewhere") })
	gql(token, `mutation($id: ID!) { updateIntegration(id: $id, input: {displayName: "Renamed elsewhere"}) { id } }`, map[string]any{"id": id})
	eventually(t, "the new name listed", func() bool { return slices.Contains(names(), "Renamed elsewhere") })
	gql(token, `mutation($id: ID!) { deleteIntegration(id: $id) }`, map[string]any{"id": id})
	eventually(t, "the deleted one gone", func() bool { return m.Integrations.Length() == 4 })
}
