package alert_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/alert"
	"github.com/sallyhq/sally/ent"
	entalert "github.com/sallyhq/sally/ent/alert"
	"github.com/sallyhq/sally/ent/schema"
)

func TestRender(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 12, 15, 30, 0, 0, time.UTC)
	ok := at.Add(-25 * time.Minute)
	const evil = `<img src=x onerror=alert(1)>`
	tests := []struct {
		name     string
		alert    ent.Alert
		subject  string
		text     []string // lines the text part contains
		html     []string // fragments the HTML part contains
		notInTxt []string
	}{
		{
			name: "OKFailure",
			alert: ent.Alert{
				Kind: alert.KindFailure, Severity: entalert.SeverityERROR,
				Title: `"Fleet" (Truckbase) is failing`, Message: "3 syncs failed within 60 minutes (the alert threshold is 3).",
				Details: schema.AlertDetails{
					TenantName: "Acme", IntegrationName: "Fleet", Vendor: "TRUCKBASE_TMS", VendorName: "Truckbase",
					Failures: 3, Threshold: 3, WindowMinutes: 60,
					LastError: "auth: Truckbase rejected the API key (401)", ErrorClass: "auth",
					CircuitState: "CLOSED", LastSuccessAt: &ok, OccurredAt: at,
				},
			},
			subject: `[ERROR] "Fleet" (Truckbase) is failing`,
			text: []string{
				"Vendor: Truckbase", "Failed syncs: 3 within 60 minutes (alert threshold 3)",
				"Last error: auth: Truckbase rejected the API key (401)", "Last successful sync: 2026-03-12 15:05:00 UTC",
				"Time: 2026-03-12 15:30:00 UTC", "What to check:", "check the API key in Truckbase's dashboard",
				"sent to the admins of Acme",
			},
			html:     []string{"<th", ">Failed syncs</th>", "<code", "color:#cf222e"},
			notInTxt: []string{"paused by the circuit breaker"},
		},
		{
			name: "OKStaleNeverSynced",
			alert: ent.Alert{
				Kind: alert.KindStale, Severity: entalert.SeverityWARNING,
				Title: `"Fleet" (Samsara) has not synced successfully for 2 hours`, Message: "No successful sync since it was created.",
				Details: schema.AlertDetails{IntegrationName: "Fleet", Vendor: "SAMSARA_ELD", VendorName: "Samsara", IntervalSeconds: 300, OccurredAt: at},
			},
			subject: `[WARNING] "Fleet" (Samsara) has not synced successfully for 2 hours`,
			text:    []string{"Last successful sync: never", "Sync interval: 5 minutes", "That a Sally server is running"},
			html:    []string{"color:#9a6700"},
		},
		{
			name: "OKRecovery",
			alert: ent.Alert{
				Kind: alert.KindRecovery, Severity: entalert.SeverityINFO, Firing: false,
				Title: `"Fleet" (OpenWeather) has recovered`, Message: "The integration synced successfully again after 25 minutes.",
				Details: schema.AlertDetails{
					IntegrationName: "Fleet", Vendor: "OPENWEATHER", VendorName: "OpenWeather", OccurredAt: at,
					ResolvesTitle: `"Fleet" (OpenWeather) is failing`, ResolvesRaisedAt: &ok,
				},
			},
			subject: `[INFO] "Fleet" (OpenWeather) has recovered`,
			text: []string{`Resolves: "Fleet" (OpenWeather) is failing`, "Raised: 2026-03-12 15:05:00 UTC",
				"Recovered: 2026-03-12 15:30:00 UTC", "What to do:"},
			html: []string{"color:#1a7f37", "What to do</h2>"},
		},
		{
			name: "OKEscapesEverythingFromUsersAndVendors",
			alert: ent.Alert{
				Kind: alert.KindFailure, Severity: entalert.SeverityCRITICAL,
				Title: `"` + evil + `" (Samsara) is failing`, Message: "<b>bold</b>",
				Details: schema.AlertDetails{
					// No VendorName (alerts stored before details kept it): the enum value.
					TenantName: "<script>t</script>", IntegrationName: evil, Vendor: "<i>v</i>",
					LastError: `<script>alert("e")</script>`, ErrorClass: "unavailable", CircuitState: "OPEN", OccurredAt: at,
				},
			},
			subject: `[CRITICAL] "` + evil + `" (Samsara) is failing`,
			text:    []string{"Integration: " + evil, `Last error: <script>alert("e")</script>`, "paused by the circuit breaker"},
			html: []string{
				"&lt;img src=x onerror=alert(1)&gt;", "&lt;script&gt;alert(&#34;e&#34;)&lt;/script&gt;",
				"&lt;b&gt;bold&lt;/b&gt;", "&lt;script&gt;t&lt;/script&gt;", "&lt;i&gt;v&lt;/i&gt;",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := tt.alert
			a.ID = uuid.MustParse("0195f3a2-7c1e-7d4b-9a61-3c2d8e4f5a6b")
			got, err := alert.Render(&a)
			require.NoError(t, err)
			require.Equal(t, tt.subject, got.Subject)
			require.True(t, strings.HasPrefix(got.Text, a.Title+"\n"), got.Text)
			for _, s := range tt.text {
				require.Contains(t, got.Text, s)
			}
			for _, s := range tt.notInTxt {
				require.NotContains(t, got.Text, s)
			}
			for _, s := range tt.html {
				require.Contains(t, got.HTML, s)
			}
			require.Contains(t, got.Text, a.ID.String())
			// Only the template's own markup: no tag from the data survives.
			for _, tag := range []string{"<img", "<script", "<b>", "<i>"} {
				require.NotContains(t, got.HTML, tag)
			}
			require.NotContains(t, got.HTML, "ZgotmplZ", "a value the HTML escaper refused")
			require.True(t, strings.HasPrefix(got.HTML, "<!DOCTYPE html>"))
		})
	}
}
