package model_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/desktop/model"
)

func TestHealthOf(t *testing.T) {
	t.Parallel()
	ok := model.Integration{Enabled: true, Circuit: "CLOSED", LastSyncStatus: "SUCCESS"}
	with := func(f func(*model.Integration)) model.Integration { in := ok; f(&in); return in }
	for _, tc := range []struct {
		name string
		in   model.Integration
		want model.Health
	}{
		{"Healthy", ok, model.Healthy},
		{"NeverSynced", with(func(in *model.Integration) { in.LastSyncStatus = "" }), model.Healthy},
		{"Running", with(func(in *model.Integration) { in.Running = true }), model.Healthy},
		{"Retrying", with(func(in *model.Integration) { in.Running, in.Retrying = true, true }), model.Retrying},
		{"HalfOpen", with(func(in *model.Integration) { in.Circuit = "HALF_OPEN" }), model.Retrying},
		{"Failing", with(func(in *model.Integration) { in.LastSyncStatus = "FAILED" }), model.Failing},
		{"CircuitOpen", with(func(in *model.Integration) { in.Circuit = "OPEN"; in.LastSyncStatus = "FAILED" }), model.CircuitOpen},
		{"Disabled", with(func(in *model.Integration) { in.Enabled = false; in.Circuit = "OPEN" }), model.Disabled},
		{"NeedsCredentials", with(func(in *model.Integration) { in.State = "NEEDS_CREDENTIALS"; in.Circuit = "OPEN" }), model.NeedsCredentials},
		{"PausedNeedingCredentials", with(func(in *model.Integration) { in.Enabled = false; in.State = "PAUSED" }), model.Disabled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, model.HealthOf(tc.in))
		})
	}
	require.Equal(t, "circuit open", model.CircuitOpen.String())
	require.Equal(t, "needs new key", model.NeedsCredentials.String())
	require.Equal(t, "paused", model.Disabled.String())
}

func TestFormat(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	require.Equal(t, "never", model.Ago(time.Time{}, now))
	require.Equal(t, "just now", model.Ago(now.Add(-2*time.Second), now))
	require.Equal(t, "42s ago", model.Ago(now.Add(-42*time.Second), now))
	require.Equal(t, "1m 40s ago", model.Ago(now.Add(-100*time.Second), now))
	require.Equal(t, "25m ago", model.Ago(now.Add(-25*time.Minute), now))
	require.Equal(t, "3h ago", model.Ago(now.Add(-3*time.Hour), now))
	require.Equal(t, "3d ago", model.Ago(now.Add(-72*time.Hour), now))

	require.Equal(t, "—", model.Until(time.Time{}, now))
	require.Equal(t, "due now", model.Until(now.Add(-time.Minute), now))
	require.Equal(t, "in 2m", model.Until(now.Add(2*time.Minute), now))

	require.Equal(t, "—", model.Duration(-1))
	require.Equal(t, "850 ms", model.Duration(850))
	require.Equal(t, "1.2 s", model.Duration(1234))
	require.Equal(t, "2m 5s", model.Duration(125_000))

	require.Equal(t, "100%", model.Percent(100))
	require.Equal(t, "97.5%", model.Percent(97.5))
	require.Equal(t, "no syncs", model.Rate24h(model.Integration{}))
	require.Equal(t, "50% of 4", model.Rate24h(model.Integration{SuccessRate24h: 50, Syncs24h: 4}))
	require.Equal(t, "Sync succeeded", model.Title("SYNC_SUCCEEDED"))
}

func TestEventText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		e    model.Event
		want string
	}{
		{"Started", model.Event{Type: "SYNC_STARTED", IntegrationName: "Samsara ELD", Trigger: "MANUAL"}, "Samsara ELD · Sync started · manual"},
		{"Retrying", model.Event{Type: "SYNC_RETRYING", IntegrationName: "OpenWeather", Attempt: 1, RetryInMs: 1500},
			"OpenWeather · Sync retrying · try 1 failed, next in 1.5 s"},
		{"RetryingWithMessage", model.Event{Type: "SYNC_RETRYING", IntegrationName: "OpenWeather", Attempt: 1, RetryInMs: 1500, Message: "try 1 failed (HTTP 503); retrying in 1.5s"},
			"OpenWeather · Sync retrying · try 1 failed (HTTP 503); retrying in 1.5s"},
		{"Succeeded", model.Event{Type: "SYNC_SUCCEEDED", IntegrationName: "Truckbase loads", Records: 12, DurationMs: 340}, "Truckbase loads · Sync succeeded · 12 records · 340 ms"},
		{"Failed", model.Event{Type: "SYNC_FAILED", IntegrationName: "Samsara ELD", DurationMs: 1200, Message: "unauthorized"}, "Samsara ELD · Sync failed · 1.2 s · unauthorized"},
		{"CircuitOpened", model.Event{Type: "CIRCUIT_OPENED", IntegrationName: "Samsara ELD", DurationMs: -1}, "Samsara ELD · Circuit opened"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, model.EventText(tc.e))
		})
	}
}
