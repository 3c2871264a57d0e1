package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Load is a TMS load; loads that vanish from the vendor's active list are kept and
// marked inactive rather than deleted.
type Load struct{ ent.Schema }

// Mixin of the Load.
func (Load) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}, TenantMixin{}} }

// Fields of the Load.
func (Load) Fields() []ent.Field {
	opt := func(name string) ent.Field { return field.String(name).Optional().Nillable() }
	coord := func(name string) ent.Field { return field.Float(name).Optional().Nillable() }
	return []ent.Field{
		field.UUID("integration_id", uuidType()).Immutable(),
		field.String("load_id").NotEmpty().Immutable(),
		opt("pickup_address"), opt("pickup_city"), opt("pickup_state"), opt("pickup_zip"),
		coord("pickup_latitude"), coord("pickup_longitude"),
		opt("delivery_address"), opt("delivery_city"), opt("delivery_state"), opt("delivery_zip"),
		coord("delivery_latitude"), coord("delivery_longitude"),
		field.Time("pickup_appointment").Optional().Nillable(),
		field.Time("delivery_appointment").Optional().Nillable(),
		opt("assigned_driver_id"),
		field.Enum("status").Values("ASSIGNED", "IN_TRANSIT", "DELIVERED", "CANCELLED"),
		coord("total_miles"),
		field.Bool("active").Default(true),
		field.String("data_source").Default("truckbase_tms"),
		field.Time("synced_at"),
	}
}

// Edges of the Load.
func (Load) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("integration", Integration.Type).Ref("loads").Field("integration_id").
			Unique().Required().Immutable().Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of the Load.
func (Load) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("integration_id", "load_id").Unique(),
		index.Fields("tenant_id", "active", "status"),
	}
}
