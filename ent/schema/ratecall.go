package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// RateCall is one accepted call of a rate-limited kind (testIntegration and
// testCredentials, syncIntegration, login and setPassword), kept while it is within
// the limit's period, so that every replica counts the same calls (store.RateLimiter):
// behind a load balancer a user gets the contract's 30 a minute in all, not 30 per
// replica. The key (a user id, or a client address for logins) is kept only as a
// hash: the table must not become a list of who called from where.
type RateCall struct{ ent.Schema }

// Mixin of the RateCall.
func (RateCall) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{}}
}

// Fields of the RateCall.
func (RateCall) Fields() []ent.Field {
	return []ent.Field{
		// The limit it counts toward: tests, syncs or logins.
		field.String("kind").Immutable(),
		// Hex SHA-256 of the kind and the key.
		field.String("key_hash").Immutable(),
		field.Time("at").Immutable(),
	}
}

// Indexes of the RateCall: a key's recent calls, and the sweep of old ones.
func (RateCall) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("key_hash", "at"),
		index.Fields("at"),
	}
}
