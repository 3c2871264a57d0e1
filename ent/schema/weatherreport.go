package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// WeatherReport is the latest weather at one point (rounded to ~1 km), refreshed by
// WEATHER_SYNC at the active loads' stops.
type WeatherReport struct{ ent.Schema }

// Mixin of the WeatherReport.
func (WeatherReport) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{}, TimeMixin{}, TenantMixin{}}
}

// Fields of the WeatherReport.
func (WeatherReport) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("integration_id", uuidType()).Immutable(),
		// "lat,lon" rounded to two decimals: the cache key OpenWeather asks for.
		field.String("location_key").Immutable(),
		field.Float("latitude"),
		field.Float("longitude"),
		field.Float("temperature_f"),
		field.Float("feels_like_f").Optional().Nillable(),
		field.Int("humidity").Optional().Nillable(),
		field.Float("wind_speed_mph").Optional().Nillable(),
		field.String("conditions"),
		field.String("description").Optional().Nillable(),
		field.Time("observed_at"),
		field.String("data_source").Default("openweather"),
		field.Time("synced_at"),
	}
}

// Edges of the WeatherReport.
func (WeatherReport) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("integration", Integration.Type).Ref("weather_reports").Field("integration_id").
			Unique().Required().Immutable().Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of the WeatherReport.
func (WeatherReport) Indexes() []ent.Index {
	return []ent.Index{index.Fields("integration_id", "location_key").Unique()}
}
