package graph_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/graph/model"
	"github.com/sallyhq/sally/internal/testdb"
	"github.com/sallyhq/sally/internal/testserver"
	"github.com/sallyhq/sally/syncer"
)

// Query.vendors serves the vendor table, named, to any signed-in user; clients name
// vendors by it.
func TestVendorsQuery(t *testing.T) {
	t.Parallel()
	f := setup(t, testdb.Open(t, testdb.SQLite))
	const q = `{ vendors { vendor displayName integrationType syncType } }`

	r := f.do(t, f.dispatcher, q, nil)
	requireCode(t, r, "")
	var got struct{ Vendors []map[string]string }
	require.NoError(t, json.Unmarshal(r.Data, &got))
	var table []map[string]string
	for _, v := range syncer.Vendors() {
		table = append(table, map[string]string{
			"vendor": v.Enum, "displayName": v.DisplayName, "integrationType": v.IntegrationType, "syncType": v.SyncType,
		})
	}
	require.Equal(t, table, got.Vendors, "the vendor table, in its order")
	require.Subset(t, got.Vendors, []map[string]string{
		{"vendor": "SAMSARA_ELD", "displayName": "Samsara", "integrationType": "HOS_ELD", "syncType": "HOS_SYNC"},
		{"vendor": "TRUCKBASE_TMS", "displayName": "Truckbase", "integrationType": "TMS", "syncType": "LOAD_SYNC"},
		{"vendor": "FUELFINDER", "displayName": "FuelFinder", "integrationType": "FUEL", "syncType": "FUEL_SYNC"},
		{"vendor": "OPENWEATHER", "displayName": "OpenWeather", "integrationType": "WEATHER", "syncType": "WEATHER_SYNC"},
	})

	requireCode(t, f.do(t, testserver.User{}, q, nil), "UNAUTHENTICATED")
}

// A vendor is in the API's enum, in the stored enum (ent/schema) and in the vendor
// table, or in none: a new vendor missing from one of the three fails here.
func TestVendorEnumsAgree(t *testing.T) {
	t.Parallel()
	var table []string
	for _, v := range syncer.Vendors() {
		table = append(table, v.Enum)
		require.NotEmpty(t, v.DisplayName, v.Enum)
		require.NotEmpty(t, v.URLVar, v.Enum)
		require.True(t, model.IntegrationType(v.IntegrationType).IsValid(), v.Enum)
		require.True(t, model.SyncType(v.SyncType).IsValid(), v.Enum)
	}
	var api []string
	for _, v := range model.AllVendor {
		api = append(api, string(v))
		require.NoError(t, integration.VendorValidator(integration.Vendor(v)), "%s is not in ent/schema's vendor enum", v)
	}
	require.ElementsMatch(t, api, table, "the API's Vendor enum and syncer's vendor table")
}
