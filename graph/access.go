package graph

import (
	"context"
	"unicode/utf8"

	"entgo.io/ent/privacy"
	"github.com/google/uuid"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/graph/model"
)

// viewer returns the caller; requireViewer has already refused requests without one.
func viewer(ctx context.Context) (*auth.Viewer, error) {
	v, err := auth.Require(ctx)
	if err != nil {
		return nil, unauthenticated(err)
	}
	return v, nil
}

// requireAdmin allows ADMIN and SUPER_ADMIN (acting in their own tenant).
func requireAdmin(ctx context.Context) (*auth.Viewer, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	if !v.IsAdmin() {
		return nil, errForbidden()
	}
	return v, nil
}

func requireSuperAdmin(ctx context.Context) (*auth.Viewer, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	if !v.IsSuperAdmin() {
		return nil, errForbidden()
	}
	return v, nil
}

// system lifts the tenant privacy rules for work that must see across tenants (login
// by email, e-mail uniqueness, creating a tenant). Use it only after an explicit check.
func system(ctx context.Context) context.Context {
	return privacy.DecisionContext(ctx, privacy.Allow)
}

// Validation bounds from the contract's header.
const (
	MinInterval, MaxInterval   = 60, 86400
	MinThreshold, MaxThreshold = 1, 100
	MinWindow, MaxWindow       = 5, 1440
	MaxDisplayName             = 100
	MaxAPIKeyBytes             = 4096
	MaxHistoryLimit            = 500
	MaxTenantName              = 100
)

func validateDisplayName(s string) error {
	if n := utf8.RuneCountInString(s); n < 1 || n > MaxDisplayName {
		return badInput("displayName must be 1..%d characters, got %d", MaxDisplayName, n)
	}
	if !utf8.ValidString(s) {
		return badInput("displayName must be valid UTF-8")
	}
	return nil
}

func validateRange(name string, v *int, lo, hi int) error {
	if v != nil && (*v < lo || *v > hi) {
		return badInput("%s must be between %d and %d, got %d", name, lo, hi, *v)
	}
	return nil
}

func validateCredentials(c *model.CredentialsInput) error {
	if c == nil {
		return nil
	}
	if c.APIKey == "" {
		return badInput("credentials.apiKey must not be empty")
	}
	if len(c.APIKey) > MaxAPIKeyBytes {
		return badInput("credentials.apiKey must be at most %d bytes", MaxAPIKeyBytes)
	}
	if c.APISecret != nil && len(*c.APISecret) > MaxAPIKeyBytes {
		return badInput("credentials.apiSecret must be at most %d bytes", MaxAPIKeyBytes)
	}
	return nil
}

func validatePage(limit, offset *int) (int, int, error) {
	l, o := 50, 0
	if limit != nil {
		l = *limit
	}
	if offset != nil {
		o = *offset
	}
	if l < 1 || l > MaxHistoryLimit {
		return 0, 0, badInput("limit must be between 1 and %d, got %d", MaxHistoryLimit, l)
	}
	if o < 0 {
		return 0, 0, badInput("offset must be 0 or more, got %d", o)
	}
	return l, o, nil
}

func tenantOfViewer(ctx context.Context) (uuid.UUID, error) {
	v, err := viewer(ctx)
	if err != nil {
		return uuid.Nil, err
	}
	id, err := uuid.Parse(v.TenantID)
	if err != nil {
		return uuid.Nil, errUnauthenticated("invalid token: log in again")
	}
	return id, nil
}
