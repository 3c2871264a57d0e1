package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// FleetDriver is a driver known from the tenant's ELD, with the last HOS clocks synced
// (the cache driverHOS serves) and an optional manual override set by a dispatcher.
type FleetDriver struct{ ent.Schema }

// Annotations of the FleetDriver: ent reserves the name Driver.
func (FleetDriver) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("drivers")}
}

// Mixin of the FleetDriver.
func (FleetDriver) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}, TenantMixin{}} }

// Fields of the FleetDriver.
func (FleetDriver) Fields() []ent.Field {
	hours := func(name string) ent.Field { return field.Float(name).Optional().Nillable() }
	return []ent.Field{
		field.UUID("integration_id", uuidType()).Immutable(),
		field.String("driver_id").NotEmpty().Immutable(),
		field.String("external_driver_id").Optional().Nillable(),
		field.String("name").Optional().Nillable(),
		field.Bool("active").Default(true),
		// Cached clocks from the vendor.
		field.String("duty_status").Optional().Nillable(),
		hours("hours_driven"),
		hours("drive_remaining_hours"),
		hours("shift_remaining_hours"),
		hours("cycle_remaining_hours"),
		hours("time_until_break_hours"),
		// Why a cached value is missing or odd ("driver app disconnected", "no clocks
		// reported"); null when there is nothing to say. A null clock above is one the
		// vendor did not report, never 0.
		field.String("hos_note").Optional().Nillable(),
		// How long the driver has been in violation, as the vendor reports it; null
		// when it reports none.
		hours("cycle_violation_hours"),
		hours("shift_driving_violation_hours"),
		field.Time("hos_synced_at").Optional().Nillable(),
		field.Time("last_synced_at").Optional().Nillable(),
		// Manual override, served before anything the vendor says.
		field.Bool("hos_manual_override").Default(false),
		field.String("override_duty_status").Optional().Nillable(),
		hours("override_hours_driven"),
		hours("override_drive_remaining_hours"),
		hours("override_shift_remaining_hours"),
		hours("override_cycle_remaining_hours"),
		hours("override_time_until_break_hours"),
		field.Time("override_at").Optional().Nillable(),
		// The override's audit: who set it (a user id of the tenant; null once that
		// user is deleted, or for overrides older than the audit), why, and when it
		// stops being served by itself (null = until cleared).
		field.UUID("override_by", uuidType()).Optional().Nillable(),
		field.String("override_reason").Optional().Nillable(),
		field.Time("override_expires_at").Optional().Nillable(),
	}
}

// Edges of the FleetDriver.
func (FleetDriver) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("integration", Integration.Type).Ref("drivers").Field("integration_id").
			Unique().Required().Immutable().Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of the FleetDriver.
func (FleetDriver) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("integration_id", "driver_id").Unique(),
		index.Fields("tenant_id", "driver_id"),
	}
}
