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
		// Empty while an invited user has not set a password yet (no login matches it).
		field.String("password_hash").Sensitive().Default(""),
		field.Enum("role").Values("SUPER_ADMIN", "ADMIN", "DISPATCHER"),
		field.Bool("is_active").Default(true),
		// Carried by every access token (claim "gen"); raising it ends every token
		// issued before (password change, used reset link, deactivation) within the
		// viewer check's 15 s.
		field.Int64("token_generation").Default(0),
		// The last successful login or setPassword.
		field.Time("last_login_at").Optional().Nillable(),
		// The one live set-password link (invitation or reset): a newer one replaces
		// it, using it clears it. Only hashes are stored: link_lookup is SHA-256 of the
		// token's selector half (found by index), link_hash SHA-256 of its verifier
		// half (compared in constant time).
		field.String("link_lookup").Optional().Nillable().Unique().Sensitive(),
		field.String("link_hash").Optional().Nillable().Sensitive(),
		field.Time("link_expires_at").Optional().Nillable(),
	}
}
