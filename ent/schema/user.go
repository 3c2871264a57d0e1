package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
)

// User is a person who logs in: an admin or a dispatcher of one tenant.
type User struct{ ent.Schema }

// Mixin of the User.
func (User) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}, TenantMixin{}} }

// Fields of the User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		// Unique across all tenants: the login form has no tenant field.
		field.String("email").Unique().NotEmpty().MaxLen(254),
		field.String("password_hash").Sensitive(),
		field.Enum("role").Values("SUPER_ADMIN", "ADMIN", "DISPATCHER"),
		field.Bool("is_active").Default(true),
	}
}
