package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"
	"github.com/google/uuid"

	"github.com/sallyhq/sally/ent/schema/rule"
)

// newID returns a time-ordered UUIDv7, so that primary-key inserts append to the
// index instead of scattering over it (sync logs grow by millions of rows).
// uuidType is the Go type of every id column.
func uuidType() uuid.UUID { return uuid.UUID{} }

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// IDMixin gives an entity a UUIDv7 primary key.
type IDMixin struct{ mixin.Schema }

// Fields of the IDMixin.
func (IDMixin) Fields() []ent.Field {
	return []ent.Field{field.UUID("id", uuid.UUID{}).Default(newID).Immutable()}
}

// TimeMixin records when a row was created and last changed.
type TimeMixin struct{ mixin.Schema }

// Fields of the TimeMixin.
func (TimeMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Default(now).Immutable(),
		field.Time("updated_at").Default(now).UpdateDefault(now),
	}
}

// now is the time a row is stamped with: UTC, in microseconds, the precision
// PostgreSQL keeps, so that what the API answers when it writes a row is what it
// reads back later, on either database.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// TenantMixin makes an entity tenant-owned: it carries its tenant, and the privacy
// policy below confines every query and mutation to the viewer's tenant, so tenant
// isolation does not depend on each resolver remembering a WHERE clause.
type TenantMixin struct{ mixin.Schema }

// Fields of the TenantMixin.
func (TenantMixin) Fields() []ent.Field {
	return []ent.Field{field.UUID("tenant_id", uuid.UUID{}).Immutable()}
}

// Edges of the TenantMixin.
func (TenantMixin) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("tenant", Tenant.Type).Field("tenant_id").Unique().Required().Immutable().
			Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of the TenantMixin.
func (TenantMixin) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id")}
}

// Policy of the TenantMixin.
func (TenantMixin) Policy() ent.Policy { return rule.TenantPolicy() }
