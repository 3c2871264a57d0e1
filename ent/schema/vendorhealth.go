package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
)

// VendorHealth is one vendor's health as every server of the deployment sees it: down
// for everyone when most recent calls to it, from every tenant and replica, failed
// with vendor-health errors (see VendorCallWindow). The replicas agree through this
// row: a change of state and the right to probe are compare-and-set updates of it.
// It belongs to no tenant.
type VendorHealth struct{ ent.Schema }

// Mixin of the VendorHealth.
func (VendorHealth) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}} }

// Fields of the VendorHealth.
func (VendorHealth) Fields() []ent.Field {
	return []ent.Field{
		// The vendor's short name, as metrics and settings spell it ("samsara").
		field.String("vendor").NotEmpty().Unique().Immutable(),
		field.Bool("up").Default(true),
		// When up last changed; the incident started at it while down.
		field.Time("changed_at"),
		// Why it was judged down (e.g. "92% of 130 calls failed in 20s"); empty while up.
		field.String("reason").Default("").MaxLen(500),
		// While down: when the next probe may start, and which server holds the
		// probe until probe_until (one probe at a time across the replicas).
		field.Time("next_probe_at").Optional().Nillable(),
		field.String("probe_owner").Default(""),
		field.Time("probe_until").Optional().Nillable(),
	}
}
