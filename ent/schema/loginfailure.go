package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// LoginFailure is one failed login, kept while it is within the login throttle's
// window, so that every replica counts the same failures (store.Throttle). The email
// is kept only as a hash: the table must not become a list of who was attacked.
type LoginFailure struct{ ent.Schema }

// Mixin of the LoginFailure.
func (LoginFailure) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{}}
}

// Fields of the LoginFailure.
func (LoginFailure) Fields() []ent.Field {
	return []ent.Field{
		// Hex SHA-256 of the email, trimmed and lower-cased as login compares it.
		field.String("email_hash").Immutable(),
		field.Time("failed_at").Immutable(),
	}
}

// Indexes of the LoginFailure: an email's recent failures, and the sweep of old ones.
func (LoginFailure) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("email_hash", "failed_at"),
		index.Fields("failed_at"),
	}
}
