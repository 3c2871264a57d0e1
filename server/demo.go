package main

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/integration"
)

const demoTenant = "Demo Fleet"

// demoIntegrations are the demo tenant's integrations: one per vendor, with sandbox
// keys, first syncing a few seconds after the first start (loads before fuel and
// weather, which look at the loads' stops).
var demoIntegrations = []struct {
	typ     integration.IntegrationType
	vendor  integration.Vendor
	name    string
	key     string
	secret  string
	firstIn time.Duration
}{
	{integration.IntegrationTypeTMS, integration.VendorTRUCKBASE_TMS, "Truckbase loads", "demo-truckbase-key", "demo-truckbase-secret", 2 * time.Second},
	{integration.IntegrationTypeHOS_ELD, integration.VendorSAMSARA_ELD, "Samsara ELD", "demo-samsara-token", "", 4 * time.Second},
	{integration.IntegrationTypeFUEL, integration.VendorFUELFINDER, "Fuel Finder prices", "demo-fuelfinder-key", "", 8 * time.Second},
	{integration.IntegrationTypeWEATHER, integration.VendorOPENWEATHER, "OpenWeather", "demo-openweather-appid", "", 10 * time.Second},
}

// demoInterval is how often the demo integrations sync.
const demoInterval = 120

// seedDemo creates the demo tenant's integrations (in the bootstrap transaction).
func seedDemo(ctx context.Context, tx *ent.Tx, tenantID uuid.UUID, sealer *auth.Sealer) error {
	now := time.Now().UTC()
	for _, d := range demoIntegrations {
		sealed, err := sealer.SealCredentials(auth.Credentials{APIKey: d.key, APISecret: d.secret})
		if err != nil {
			return err
		}
		err = tx.Integration.Create().SetTenantID(tenantID).
			SetIntegrationType(d.typ).SetVendor(d.vendor).SetDisplayName(d.name).SetDisplayNameKey(strings.ToLower(strings.TrimSpace(d.name))).
			SetCredentials(sealed).SetCredentialsHint(auth.Hint(d.key)).
			SetSyncIntervalSeconds(demoInterval).SetNextSyncAt(now.Add(d.firstIn)).Exec(ctx)
		if err != nil {
			return err
		}
	}
	return nil
}
