package graph

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/user"
)

// DefaultViewerTTL is how long a token's user is trusted to still be active with the
// same role before the database is asked again: a deactivated user or a changed role
// takes effect within this time, not only when the token expires.
const DefaultViewerTTL = 15 * time.Second

type viewerState struct {
	active   bool
	role     auth.Role
	tenantID string
	at       time.Time
}

// viewerCache remembers users' current state for a short while, so that checking it
// costs no query on most requests.
type viewerCache struct {
	mu sync.Mutex
	m  map[string]viewerState
}

// current returns the token's viewer as the database sees the user now (its role may
// have changed), or UNAUTHENTICATED when the user is gone, inactive or moved.
func (r *Resolver) current(ctx context.Context, v *auth.Viewer) (*auth.Viewer, error) {
	ttl := r.ViewerTTL
	if ttl == 0 {
		ttl = DefaultViewerTTL
	}
	now := time.Now()
	r.viewers.mu.Lock()
	st, ok := r.viewers.m[v.UserID]
	r.viewers.mu.Unlock()
	if !ok || ttl < 0 || now.Sub(st.at) > ttl {
		id, err := uuid.Parse(v.UserID)
		if err != nil {
			return nil, errUnauthenticated("invalid token: log in again")
		}
		u, err := r.Store.Client.User.Query().Where(user.ID(id)).
			Select(user.FieldIsActive, user.FieldRole, user.FieldTenantID).Only(system(ctx))
		switch {
		case ent.IsNotFound(err):
			st = viewerState{at: now}
		case err != nil:
			return nil, err
		default:
			st = viewerState{active: u.IsActive, role: auth.Role(u.Role), tenantID: u.TenantID.String(), at: now}
		}
		r.viewers.mu.Lock()
		if r.viewers.m == nil || len(r.viewers.m) > 100_000 {
			r.viewers.m = map[string]viewerState{}
		}
		r.viewers.m[v.UserID] = st
		r.viewers.mu.Unlock()
	}
	if !st.active || st.tenantID != v.TenantID {
		return nil, errUnauthenticated("your account is disabled or no longer exists: log in again")
	}
	if st.role != v.Role {
		cp := *v
		cp.Role = st.role
		return &cp, nil
	}
	return v, nil
}
