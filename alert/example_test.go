package alert_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/alert"
	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/ent/user"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/syncer"
)

var update = flag.Bool("update", false, "rewrite docs/alert-email-example.* from the renderer")

// The example email in the docs is what the renderer makes of an alert raised by the
// real rules; this test fails when they drift apart. Refresh with
//
//	go test ./alert -run TestExampleEmail -update
func TestExampleEmail(t *testing.T) {
	t.Parallel()
	st := testdb.Open(t, testdb.SQLite)
	db := st.Client
	now := time.Date(2026, 3, 12, 15, 30, 0, 0, time.UTC)
	mgr := alert.NewManager(alert.Options{Client: db, Now: func() time.Time { return now }, VendorName: syncer.DisplayName})

	tn, err := db.Tenant.Create().SetName("Acme Freight").Save(sys())
	require.NoError(t, err)
	require.NoError(t, db.User.Create().SetTenantID(tn.ID).SetEmail("ops@acme.test").
		SetPasswordHash("x").SetRole(user.RoleADMIN).Exec(sys()))
	in, err := db.Integration.Create().SetTenantID(tn.ID).
		SetIntegrationType(integration.IntegrationTypeHOS_ELD).SetVendor(integration.VendorSAMSARA_ELD).
		SetDisplayName("Main fleet HOS").SetCredentials("sealed").SetCredentialsHint("…8f2a").
		SetCircuitState(integration.CircuitStateOPEN).SetCircuitOpenedAt(now.Add(-time.Minute)).
		Save(sys())
	require.NoError(t, err)

	logAt := func(status synclog.Status, at time.Time, msg, class string) *ent.SyncLog {
		c := db.SyncLog.Create().SetTenantID(tn.ID).SetIntegrationID(in.ID).
			SetSyncType(synclog.SyncTypeHOS_SYNC).SetTrigger(synclog.TriggerSCHEDULED).
			SetStatus(status).SetStartedAt(at).SetCompletedAt(at.Add(2 * time.Second))
		if msg != "" {
			c.SetError(msg).SetErrorClass(class)
		}
		lg, err := c.Save(sys())
		require.NoError(t, err)
		return lg
	}
	logAt(synclog.StatusSUCCESS, now.Add(-20*time.Minute), "", "")
	var last *ent.SyncLog
	for i := 3; i >= 1; i-- {
		last = logAt(synclog.StatusFAILED, now.Add(-time.Duration(i)*5*time.Minute),
			"unavailable: Samsara answered 503 Service Unavailable (3 tries)", "unavailable")
	}
	mgr.AfterSync(context.Background(), in, last)

	a, err := db.Alert.Query().Only(sys())
	require.NoError(t, err)
	a.ID = uuid.MustParse("0195f3a2-7c1e-7d4b-9a61-3c2d8e4f5a6b") // ids are random; the docs are not
	email, err := alert.Render(a)
	require.NoError(t, err)

	text := "Subject: " + email.Subject + "\n\n" + email.Text
	golden(t, filepath.Join("..", "docs", "alert-email-example.txt"), text)
	golden(t, filepath.Join("..", "docs", "alert-email-example.html"), email.HTML)
	goldenBlock(t, filepath.Join("..", "docs", "alerts.md"), "```text\n"+text+"```\n")
}

// goldenBlock is golden for the part of a Markdown file between its example markers.
func goldenBlock(t *testing.T, path, got string) {
	t.Helper()
	const begin, end = "<!-- example:begin -->\n", "<!-- example:end -->"
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	require.True(t, i >= 0 && j > i, "%s lacks the example markers", path)
	if *update {
		doc = doc[:i+len(begin)] + got + doc[j:]
		require.NoError(t, os.WriteFile(path, []byte(doc), 0o644))
		return
	}
	require.Equal(t, got, doc[i+len(begin):j], "%s is out of date: go test ./alert -run TestExampleEmail -update", path)
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run: go test ./alert -run TestExampleEmail -update")
	require.Equal(t, string(want), got, "%s is out of date: go test ./alert -run TestExampleEmail -update", path)
}
