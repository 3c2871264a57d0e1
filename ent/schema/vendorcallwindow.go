package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// VendorCallWindow is what one server saw of one vendor's calls over the recent
// window: every server rewrites its own row every few seconds, and vendor health is
// judged on the sum of the fresh rows of every server. Rows of servers that stopped
// go stale and are swept.
type VendorCallWindow struct{ ent.Schema }

// Mixin of the VendorCallWindow.
func (VendorCallWindow) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}} }

// Fields of the VendorCallWindow.
func (VendorCallWindow) Fields() []ent.Field {
	return []ent.Field{
		field.String("vendor").NotEmpty().Immutable(),
		// The server process (its sync-log runner name).
		field.String("instance").NotEmpty().Immutable(),
		// Calls the vendor answered (auth and other 4xx included: it is up) and calls
		// that failed with a vendor-health error, over the window ending at updated_at.
		field.Int("answered").Default(0),
		field.Int("failed").Default(0),
		field.Time("updated_at"),
	}
}

// Indexes of the VendorCallWindow: one row per vendor and server.
func (VendorCallWindow) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("vendor", "instance").Unique(),
		index.Fields("updated_at"),
	}
}
