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
// With subscriptions checked every SubscriptionCheckEvery, a change made on another
// replica reaches every request and every open socket within 15 s (the contract's
// bound); the replica that makes the change applies it at once.
const DefaultViewerTTL = 10 * time.Second

type viewerState struct {
	active   bool
	role     auth.Role
	tenantID string
	gen      int64 // token generation: tokens of another are refused
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
	now := r.now()
	r.viewers.mu.Lock()
	st, ok := r.viewers.m[v.UserID]
	r.viewers.mu.Unlock()
	if !ok || ttl < 0 || now.Sub(st.at) > ttl {
		id, err := uuid.Parse(v.UserID)
		if err != nil {
			return nil, errUnauthenticated("invalid token: log in again")
		}
		u, err := r.Store.Client.User.Query().Where(user.ID(id)).
			Select(user.FieldIsActive, user.FieldRole, user.FieldTenantID, user.FieldTokenGeneration).Only(system(ctx))
		switch {
		case ent.IsNotFound(err):
			st = viewerState{at: now}
		case err != nil:
			return nil, err
		default:
			st = viewerState{active: u.IsActive, role: auth.Role(u.Role), tenantID: u.TenantID.String(),
				gen: u.TokenGeneration, at: now}
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
	if st.gen != v.TokenGen {
		return nil, errUnauthenticated("your password was changed or your session was ended: log in again")
	}
	if st.role != v.Role {
		cp := *v
		cp.Role = st.role
		return &cp, nil
	}
	return v, nil
}

// forget drops what this server remembers of a user, so that its next request (and
// the next check of its open subscriptions) reads the user afresh: the server that
// changes a user applies it at once; other replicas within ViewerTTL.
func (r *Resolver) forget(userID string) {
	r.viewers.mu.Lock()
	delete(r.viewers.m, userID)
	r.viewers.mu.Unlock()
}
