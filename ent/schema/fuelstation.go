package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// FuelStation is a station the tenant's fuel vendor reported near its loads.
type FuelStation struct{ ent.Schema }

// Mixin of the FuelStation.
func (FuelStation) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{}, TimeMixin{}, TenantMixin{}}
}

// Fields of the FuelStation.
func (FuelStation) Fields() []ent.Field {
	opt := func(name string) ent.Field { return field.String(name).Optional().Nillable() }
	return []ent.Field{
		field.UUID("integration_id", uuidType()).Immutable(),
		field.String("station_id").NotEmpty().Immutable(),
		field.String("name"),
		opt("brand"), opt("address"), opt("city"), opt("state"), opt("zip"),
		field.Float("latitude"),
		field.Float("longitude"),
		field.Float("price_per_gallon").Optional().Nillable(),
		field.Float("diesel_price").Optional().Nillable(),
		field.JSON("amenities", []string{}).Optional(),
		field.Time("last_updated").Optional().Nillable(),
		field.String("data_source").Default("fuelfinder"),
		field.Time("synced_at"),
	}
}

// Edges of the FuelStation.
func (FuelStation) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("integration", Integration.Type).Ref("fuel_stations").Field("integration_id").
			Unique().Required().Immutable().Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of the FuelStation.
func (FuelStation) Indexes() []ent.Index {
	return []ent.Index{index.Fields("integration_id", "station_id").Unique()}
}
