package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// SyncLog is one run of a sync: written RUNNING when it starts and finished with its
// outcome, so that history and stats are read from one table.
type SyncLog struct{ ent.Schema }

// Mixin of the SyncLog.
func (SyncLog) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TenantMixin{}} }

// Fields of the SyncLog.
func (SyncLog) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("integration_id", uuidType()).Immutable(),
		field.Enum("sync_type").Values("HOS_SYNC", "LOAD_SYNC", "FUEL_SYNC", "WEATHER_SYNC").Immutable(),
		field.Enum("status").Values("RUNNING", "SUCCESS", "FAILED").Default("RUNNING"),
		field.Enum("trigger").Values("SCHEDULED", "MANUAL").Immutable(),
		field.Time("started_at").Immutable(),
		// A scheduled run's due time (the next_sync_at the scheduler claimed it at), so
		// that schedule lag (started_at − due_at) is measured and a due run is never
		// run twice; null for manual syncs.
		field.Time("due_at").Optional().Nillable().Immutable(),
		field.Time("completed_at").Optional().Nillable(),
		field.Int64("duration_ms").Optional().Nillable(),
		field.Int("attempts").Default(0),
		field.Int("records_processed").Default(0),
		field.Int("records_created").Default(0),
		field.Int("records_updated").Default(0),
		field.String("error").Optional().Nillable().MaxLen(2000),
		// The resilience class of the failure (auth, rate_limited, …), for stats and alerts.
		field.String("error_class").Optional().Nillable(),
		// Which server process runs it and when it last said so, to close abandoned runs.
		field.String("runner").Optional(),
		field.Time("heartbeat_at").Optional().Nillable(),
		// The user who asked for a MANUAL sync; null for SCHEDULED ones, and set null
		// by the database when that user is deleted (the sync stays).
		field.UUID("triggered_by_id", uuidType()).Optional().Nillable().Immutable(),
		// Every vendor request of the sync (the first MaxSyncTries), written once when
		// it ends.
		field.JSON("tries", []SyncTry{}).Optional(),
	}
}

// MaxSyncTries is how many vendor requests a SyncLog keeps (SyncLog.tries).
const MaxSyncTries = 50

// SyncTry is one vendor request of a sync, as SyncLog.tries stores it. Error is
// already redacted (no secret reaches it).
type SyncTry struct {
	Call       string    `json:"call"`
	Attempt    int       `json:"attempt"`
	StartedAt  time.Time `json:"startedAt"`
	DurationMs int64     `json:"durationMs"`
	HTTPStatus *int      `json:"httpStatus,omitempty"`
	ErrorClass *string   `json:"errorClass,omitempty"`
	Error      *string   `json:"error,omitempty"`
	RetryInMs  *int64    `json:"retryInMs,omitempty"`
}

// Edges of the SyncLog.
func (SyncLog) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("integration", Integration.Type).Ref("sync_logs").Field("integration_id").
			Unique().Required().Immutable().Annotations(entsql.OnDelete(entsql.Cascade)),
		// Deleting the user keeps the sync, with triggered_by_id null.
		edge.To("triggered_by", User.Type).Field("triggered_by_id").Unique().Immutable().
			Annotations(entsql.OnDelete(entsql.SetNull)),
	}
}

// Indexes of the SyncLog: newest first per integration (history pages) and per
// integration and status (filtered history, stats, alert windows).
func (SyncLog) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("integration_id", "started_at", "id"),
		// Covering on PostgreSQL: stats read only this index (an index-only scan), not one
		// heap page per sync log.
		index.Fields("integration_id", "status", "started_at").
			Annotations(entsql.IncludeColumns("tenant_id", "duration_ms", "completed_at")),
		index.Fields("status", "heartbeat_at"),
		index.Fields("started_at"),
		// The sync log explorer (Query.syncLogs): a tenant's syncs newest first, all of
		// them or of some statuses; keyset pages seek into these.
		// Covering integration_id on PostgreSQL: a filter by integration or vendor and
		// totalCount read only the index.
		index.Fields("tenant_id", "started_at", "id").
			Annotations(entsql.IncludeColumns("integration_id")),
		index.Fields("tenant_id", "status", "started_at", "id").
			Annotations(entsql.IncludeColumns("integration_id")),
		// At most one RUNNING sync per integration, across every replica: a second
		// start fails on this index and joins the running one instead.
		index.Fields("integration_id").Unique().StorageKey("synclog_one_running").
			Annotations(entsql.IndexWhere("status = 'RUNNING'")),
	}
}
