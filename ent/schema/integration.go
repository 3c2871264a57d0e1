package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Integration is one tenant's connection to one vendor, with its schedule, alert rule
// and persisted circuit-breaker state.
type Integration struct{ ent.Schema }

// Mixin of the Integration.
func (Integration) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{}, TimeMixin{}, TenantMixin{}}
}

// Fields of the Integration.
func (Integration) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("integration_type").Values("HOS_ELD", "TMS", "FUEL", "WEATHER").Immutable(),
		field.Enum("vendor").Values("SAMSARA_ELD", "TRUCKBASE_TMS", "FUELFINDER", "OPENWEATHER").Immutable(),
		field.String("display_name").NotEmpty().MaxLen(400),
		// AES-256-GCM sealed JSON of the credentials; never leaves the server.
		field.String("credentials").Sensitive(),
		field.String("credentials_hint"),
		field.Int("sync_interval_seconds").Default(300),
		field.Bool("enabled").Default(true),
		field.Int("alert_failure_threshold").Default(3),
		field.Int("alert_window_minutes").Default(60),
		field.Enum("circuit_state").Values("CLOSED", "OPEN", "HALF_OPEN").Default("CLOSED"),
		field.Time("circuit_opened_at").Optional().Nillable(),
		field.Time("last_sync_at").Optional().Nillable(),
		field.Enum("last_sync_status").Values("RUNNING", "SUCCESS", "FAILED").Optional().Nillable(),
		field.Time("next_sync_at").Optional().Nillable(),
		// display_name lowercased and trimmed: unique per tenant (CONFLICT), so that
		// replicas creating or renaming at once cannot both win. Null only on rows
		// written before v2 whose names collide.
		field.String("display_name_key").Optional().Nillable(),
		// Consecutive finished syncs whose credentials the vendor rejected (401/403);
		// a success or new credentials reset it.
		field.Int("credential_failures").Default(0),
		// Set when credential_failures reached CREDENTIALS_FAILURES_BEFORE_PAUSE: no
		// vendor call is made until the credentials change (state NEEDS_CREDENTIALS
		// while enabled).
		field.Bool("needs_credentials").Default(false),
		// The vendor's last refusal, shown as stateReason while NEEDS_CREDENTIALS.
		field.Text("credentials_rejection").Optional().Nillable(),
		// No alert email before this time (alerts are still recorded, as MUTED).
		field.Time("alerts_muted_until").Optional().Nillable(),
		// The user who created it; no foreign key: a deleted user reads as null.
		field.UUID("created_by", uuidType()).Optional().Nillable(),
	}
}

// Edges of the Integration: everything synced from it goes with it.
func (Integration) Edges() []ent.Edge {
	cascade := entsql.OnDelete(entsql.Cascade)
	return []ent.Edge{
		edge.To("sync_logs", SyncLog.Type).Annotations(cascade),
		edge.To("drivers", FleetDriver.Type).Annotations(cascade),
		edge.To("loads", Load.Type).Annotations(cascade),
		edge.To("fuel_stations", FuelStation.Type).Annotations(cascade),
		edge.To("weather_reports", WeatherReport.Type).Annotations(cascade),
		edge.To("alerts", Alert.Type).Annotations(entsql.OnDelete(entsql.SetNull)),
	}
}

// Indexes of the Integration: the scheduler looks for each vendor's due, enabled
// integrations (per vendor, for its fair share of the slots); a display name is
// unique per tenant.
func (Integration) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("vendor", "enabled", "next_sync_at"),
		index.Fields("tenant_id", "display_name_key").Unique(),
	}
}
