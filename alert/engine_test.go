package alert_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/internal/testsmtp"
	"github.com/sallyhq/sally/resilience"
	"github.com/sallyhq/sally/sandbox"
	"github.com/sallyhq/sally/store"
	"github.com/sallyhq/sally/syncer"
	"github.com/sallyhq/sally/vendors"
)

// The Manager as the real sync engine's Observer, with the vendor failing over real
// HTTP (the sandbox answering 503), then recovering.
func TestWithSyncEngine(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		sb := sandbox.New(sandbox.Options{Logger: f.logger.With("component", "sandbox")})
		srv := httptest.NewServer(http.StripPrefix("/sandbox", sb))
		t.Cleanup(srv.Close)
		sealer, err := auth.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
		require.NoError(t, err)
		hc := vendors.NewHTTPClient()
		t.Cleanup(hc.CloseIdleConnections)
		policy := resilience.DefaultConfig()
		policy.MaxAttempts, policy.BaseDelay, policy.MaxDelay = 1, time.Millisecond, time.Millisecond
		policy.FailureThreshold = 100 // this test is about alerts, not the breaker
		engine := syncer.New(syncer.Options{
			Store: st, Sealer: sealer, HTTPClient: hc,
			URLs:      syncer.SandboxURLs(srv.URL + "/sandbox"),
			Settings:  resilience.Settings{Default: policy},
			Publisher: f.bus,
			Observer:  f.mgr,
			Logger:    f.logger.With("component", "syncer"),
		})
		sealed, err := sealer.SealCredentials(auth.Credentials{APIKey: "acme-key"})
		require.NoError(t, err)
		in, err := f.db.Integration.Create().SetTenantID(f.tenantA).
			SetIntegrationType(integration.IntegrationTypeHOS_ELD).SetVendor(integration.VendorSAMSARA_ELD).
			SetDisplayName("Main fleet").SetCredentials(sealed).SetCredentialsHint(auth.Hint("acme-key")).
			Save(sys())
		require.NoError(t, err)

		syncOnce := func(want synclog.Status) {
			t.Helper()
			lg, err := engine.SyncNow(sys(), in.ID)
			require.NoError(t, err)
			require.Equal(t, want, lg.Status, "sync error: %v", lg.Error)
		}
		require.NoError(t, sb.SetFault("samsara", sandbox.Fault{Status: http.StatusServiceUnavailable}))
		syncOnce(synclog.StatusFAILED)
		syncOnce(synclog.StatusFAILED)
		syncOnce(synclog.StatusFAILED)
		msgs := f.smtp.Wait(t, 1, wait)
		require.ElementsMatch(t, f.adminsA, msgs[0].To)
		p := testsmtp.Parse(t, msgs[0])
		require.Equal(t, `[ERROR] "Main fleet" (Samsara) is failing`, p.Subject)
		require.Contains(t, p.Text, "503")

		syncOnce(synclog.StatusFAILED)
		require.Len(t, f.alerts(t, in), 1)

		sb.ClearFaults("samsara")
		syncOnce(synclog.StatusSUCCESS)
		msgs = f.smtp.Wait(t, 2, wait)
		require.Len(t, msgs, 2)
		require.True(t, strings.HasPrefix(testsmtp.Parse(t, msgs[1]).Subject, "[INFO] "))
		require.NotContains(t, recipientsOf(msgs), f.adminsB[0])
	})
}
