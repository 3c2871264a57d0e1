package model_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/desktop/model"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/internal/testserver"
)

// TestStreamResetReloads: a STREAM_RESET event (the server may have missed events
// for this client) makes the monitor reload what it shows. The server here is the
// real API in process, so that the test can tell its bus to reset; the model still
// reaches it over HTTP and a websocket only.
func TestStreamResetReloads(t *testing.T) {
	t.Parallel()
	api := testserver.New(t, testdb.Open(t, testdb.SQLite))
	tenantID, admin := api.SeedTenant(t, "Reset Freight")
	user := api.SeedUser(t, tenantID, auth.RoleDispatcher)
	api.CreateIntegration(t, admin, map[string]any{"displayName": "First"})

	m := newModel(t, model.Options{})
	env := map[string]string{"SALLY_URL": api.Server.URL, "SALLY_EMAIL": user.Email, "SALLY_PASSWORD": testserver.Password}
	m.AutoLogin(func(k string) string { return env[k] })
	eventually(t, "online with one integration", func() bool { return get[bool](m.Online) && m.Integrations.Length() == 1 })

	// An integration the monitor hears nothing about (as when its event was lost
	// between replicas), then the reset.
	sealed, err := api.Sealer.SealCredentials(auth.Credentials{APIKey: "reset-key"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = api.Store.Client.Integration.Create().SetTenantID(uuid.MustParse(tenantID)).
		SetIntegrationType("HOS_ELD").SetVendor("SAMSARA_ELD").SetDisplayName("Second").
		SetCredentials(sealed).SetCredentialsHint(auth.Hint("reset-key")).Save(testserver.System())
	if err != nil {
		t.Fatal(err)
	}
	api.Bus.Reset(context.Background(), "the server lost its database connection for a while")
	eventually(t, "both integrations after the reset", func() bool { return m.Integrations.Length() == 2 })
}
