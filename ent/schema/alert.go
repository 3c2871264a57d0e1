package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Alert is an email to a tenant's admins, stored in the same transaction as the
// decision to raise it (an outbox) and delivered by a worker.
type Alert struct{ ent.Schema }

// Mixin of the Alert.
func (Alert) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}, TenantMixin{}} }

// Fields of the Alert.
func (Alert) Fields() []ent.Field {
	return []ent.Field{
		// Kept (as null) when the integration is deleted: alerts are history.
		field.UUID("integration_id", uuidType()).Optional().Nillable(),
		// failure, stale, credentials or recovery: which rule raised it.
		field.String("kind"),
		field.Enum("severity").Values("INFO", "WARNING", "ERROR", "CRITICAL"),
		field.String("title"),
		field.Text("message"),
		field.Bool("firing").Default(true),
		field.JSON("recipients", []string{}),
		// MUTED: raised while the integration's alerts were muted; never emailed.
		field.Enum("status").Values("PENDING", "SENT", "FAILED", "MUTED").Default("PENDING"),
		field.Int("delivery_attempts").Default(0),
		field.Time("next_attempt_at").Optional().Nillable(),
		field.String("last_error").Optional().Nillable(),
		field.Time("sent_at").Optional().Nillable(),
		field.Time("resolved_at").Optional().Nillable(),
		// The firing alert a recovery notice closes.
		field.UUID("resolves_alert_id", uuidType()).Optional().Nillable(),
		field.String("message_id").Optional(),
		// What the email says beyond title and message, as it stood when raised.
		field.JSON("details", AlertDetails{}).Optional(),
	}
}

// AlertDetails is the snapshot an alert email is rendered from: kept with the alert,
// so that the email a worker delivers hours later (or after a restart) says what was
// true when the alert was raised, even if the integration was renamed or deleted.
type AlertDetails struct {
	TenantName      string `json:"tenantName,omitempty"`
	IntegrationName string `json:"integrationName"`
	Vendor          string `json:"vendor"`
	VendorName      string `json:"vendorName,omitempty"` // as the title names it ("Samsara")
	IntegrationType string `json:"integrationType,omitempty"`
	// Failed syncs counted by the rule, its threshold and window (failure alerts).
	Failures      int `json:"failures,omitempty"`
	Threshold     int `json:"threshold,omitempty"`
	WindowMinutes int `json:"windowMinutes,omitempty"`
	// The newest failure's message and resilience class.
	LastError    string `json:"lastError,omitempty"`
	ErrorClass   string `json:"errorClass,omitempty"`
	CircuitState string `json:"circuitState,omitempty"`
	// The last successful sync (nil: never), and the interval it should recur at.
	LastSuccessAt   *time.Time `json:"lastSuccessAt,omitempty"`
	IntervalSeconds int        `json:"intervalSeconds,omitempty"`
	// When the condition was detected (for a recovery notice: when it recovered).
	OccurredAt time.Time `json:"occurredAt"`
	// Recovery notices: the alert they close and when it was raised.
	ResolvesTitle    string     `json:"resolvesTitle,omitempty"`
	ResolvesRaisedAt *time.Time `json:"resolvesRaisedAt,omitempty"`
	// Account emails (kinds invitation and password_reset), which share the outbox:
	// who asked for the link, the link itself sealed with CREDENTIALS_KEY (wiped once
	// the email is sent or given up), and when it expires.
	RequestedBy   string     `json:"requestedBy,omitempty"`
	SealedLink    string     `json:"sealedLink,omitempty"`
	LinkExpiresAt *time.Time `json:"linkExpiresAt,omitempty"`
	// The integration's page on the web console (PUBLIC_URL + "/#/integrations/<id>").
	Link string `json:"link,omitempty"`
	// Credentials alerts: the consecutive rejected syncs that paused the integration.
	CredentialFailures int `json:"credentialFailures,omitempty"`
}

// Edges of the Alert.
func (Alert) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("integration", Integration.Type).Ref("alerts").Field("integration_id").
			Unique().Annotations(entsql.OnDelete(entsql.SetNull)),
	}
}

// Indexes of the Alert.
func (Alert) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "created_at"),
		index.Fields("status", "next_attempt_at"),
		index.Fields("integration_id", "firing", "resolved_at"),
		// At most one open incident per integration, across every replica: a second
		// raise fails on this index, so an incident is mailed once.
		index.Fields("integration_id").Unique().StorageKey("alert_one_open").
			Annotations(entsql.IndexWhere("firing AND resolved_at IS NULL")),
	}
}
