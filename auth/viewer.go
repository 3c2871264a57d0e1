// Package auth holds what the API needs to know who is calling and what they may do:
// roles, the Viewer carried in a request's context, access tokens (JWT HS256),
// password hashing (bcrypt), login throttling, sealing of vendor credentials at rest
// (AES-256-GCM) and the validation rules of the contract for emails, passwords and
// roles.
//
// It is a leaf: it imports nothing of ours, so ent privacy rules, resolvers and the
// server can all depend on it.
package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Role is a user's role, spelled as the GraphQL enum Role so it passes through the
// API and the database unchanged.
type Role string

// The roles of the contract.
const (
	// RoleSuperAdmin lists and creates tenants; otherwise acts in its own tenant as
	// an ADMIN does.
	RoleSuperAdmin Role = "SUPER_ADMIN"
	// RoleAdmin manages its own tenant's users and integrations.
	RoleAdmin Role = "ADMIN"
	// RoleDispatcher reads its tenant (except alerts and users), tests and syncs
	// integrations, and may override a driver's HOS.
	RoleDispatcher Role = "DISPATCHER"
)

// Roles lists every role, most powerful first, e.g. for enum checks in tests.
func Roles() []Role { return []Role{RoleSuperAdmin, RoleAdmin, RoleDispatcher} }

// Valid reports whether r is one of the contract's roles.
func (r Role) Valid() bool {
	switch r {
	case RoleSuperAdmin, RoleAdmin, RoleDispatcher:
		return true
	}
	return false
}

// String returns the role as spelled in the contract.
func (r Role) String() string { return string(r) }

// ErrInvalidRole is returned by ParseRole for anything but the three roles.
var ErrInvalidRole = errors.New("invalid role: want SUPER_ADMIN, ADMIN or DISPATCHER")

// ParseRole accepts a role name (case-insensitive, surrounding spaces ignored), so
// values from the database, tokens and input are checked in one place.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToUpper(strings.TrimSpace(s)))
	if !r.Valid() {
		return "", fmt.Errorf("%w, got %q", ErrInvalidRole, truncate(s, 32))
	}
	return r, nil
}

// Viewer is the authenticated caller of one request: who they are, which tenant they
// act in and with what role. IDs are UUIDs in text form, as the API shows them.
type Viewer struct {
	UserID   string
	TenantID string
	Email    string
	Role     Role
	// ExpiresAt is when the token that authenticated this viewer expires (zero when
	// the viewer did not come from a token); subscriptions end then.
	ExpiresAt time.Time
	// TokenGen is the user's token generation the token was issued in; the token
	// stops working once the user's generation in the database is another.
	TokenGen int64
}

// IsAdmin reports whether the viewer may administer its tenant (ADMIN or
// SUPER_ADMIN). A nil viewer is not.
func (v *Viewer) IsAdmin() bool {
	return v != nil && (v.Role == RoleAdmin || v.Role == RoleSuperAdmin)
}

// IsSuperAdmin reports whether the viewer may manage tenants. A nil viewer is not.
func (v *Viewer) IsSuperAdmin() bool {
	return v != nil && v.Role == RoleSuperAdmin
}

type ctxKey int

const (
	viewerKey ctxKey = iota
	errorKey
)

// NewContext returns ctx carrying v, for the middleware, the websocket init function,
// background jobs acting as a user, and tests.
func NewContext(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, viewerKey, v)
}

// FromContext returns the viewer of ctx; ok is false when there is none (no token, a
// bad token, or a context that never went through the middleware).
func FromContext(ctx context.Context) (*Viewer, bool) {
	v, ok := ctx.Value(viewerKey).(*Viewer)
	return v, ok && v != nil
}

// NewErrorContext returns ctx marked with why its token was refused (ErrInvalidToken
// or ErrExpiredToken, wrapped), so that resolvers can answer UNAUTHENTICATED with the
// reason while operations that need no token (login) still run.
func NewErrorContext(ctx context.Context, err error) context.Context {
	return context.WithValue(ctx, errorKey, err)
}

// ErrorFromContext returns the reason the request's token was refused, or nil when the
// request carried a valid token or none at all.
func ErrorFromContext(ctx context.Context) error {
	err, _ := ctx.Value(errorKey).(error)
	return err
}

// ErrUnauthenticated is returned by Require when the request carried no token.
var ErrUnauthenticated = errors.New("authentication required")

// Require returns the viewer of ctx, or why there is none: the token's error
// (ErrInvalidToken, ErrExpiredToken) when one was refused, else ErrUnauthenticated.
// Every error maps to UNAUTHENTICATED.
func Require(ctx context.Context) (*Viewer, error) {
	if v, ok := FromContext(ctx); ok {
		return v, nil
	}
	if err := ErrorFromContext(ctx); err != nil {
		return nil, err
	}
	return nil, ErrUnauthenticated
}

// truncate shortens user input quoted in error messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
