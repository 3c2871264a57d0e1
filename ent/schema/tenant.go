package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"

	"github.com/sallyhq/sally/ent/schema/rule"
)

// Tenant is one carrier: every other row belongs to exactly one tenant.
type Tenant struct{ ent.Schema }

// Mixin of the Tenant.
func (Tenant) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}} }

// Fields of the Tenant.
func (Tenant) Fields() []ent.Field {
	return []ent.Field{field.String("name").NotEmpty().MaxLen(200)}
}

// Policy of the Tenant.
func (Tenant) Policy() ent.Policy { return rule.TenantEntityPolicy() }
