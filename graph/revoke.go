package graph

import (
	"context"
	"sync"
	"time"

	"github.com/sallyhq/sally/auth"
)

// SubscriptionCheckEvery is how often open subscriptions have their viewer checked
// again (current, cached for ViewerTTL): a subscriber whose user was deactivated or
// deleted, or whose token ended with a password change, is cut off, its socket closed
// with 4403 (Forbidden) so that graphql-ws clients do not reconnect with it.
const SubscriptionCheckEvery = 5 * time.Second

// subscribers are the open subscriptions by user, for those checks.
type subscribers struct {
	mu      sync.Mutex
	byUser  map[string]map[*subscriber]struct{}
	ticking bool // a check is scheduled
}

type subscriber struct {
	viewer *auth.Viewer
	end    func() // closes the socket (or ends the SSE response, or the stream)
}

// watch registers an open subscription until ctx ends; end cuts it off.
func (r *Resolver) watch(ctx context.Context, v *auth.Viewer, end func()) {
	s := &subscriber{viewer: v, end: end}
	r.subs.mu.Lock()
	if r.subs.byUser == nil {
		r.subs.byUser = map[string]map[*subscriber]struct{}{}
	}
	set := r.subs.byUser[v.UserID]
	if set == nil {
		set = map[*subscriber]struct{}{}
		r.subs.byUser[v.UserID] = set
	}
	set[s] = struct{}{}
	start := !r.subs.ticking
	r.subs.ticking = true
	r.subs.mu.Unlock()
	if start {
		time.AfterFunc(SubscriptionCheckEvery, r.checkSubscriptions)
	}
	context.AfterFunc(ctx, func() {
		r.subs.mu.Lock()
		defer r.subs.mu.Unlock()
		if set := r.subs.byUser[v.UserID]; set != nil {
			delete(set, s)
			if len(set) == 0 {
				delete(r.subs.byUser, v.UserID)
			}
		}
	})
}

// checkSubscriptions checks every subscribed user once, then schedules itself again
// while any subscription is open (no goroutine waits while none is).
func (r *Resolver) checkSubscriptions() {
	r.subs.mu.Lock()
	users := make([]string, 0, len(r.subs.byUser))
	for u := range r.subs.byUser {
		users = append(users, u)
	}
	r.subs.mu.Unlock()
	for _, u := range users {
		r.checkUser(u)
	}
	r.subs.mu.Lock()
	again := len(r.subs.byUser) > 0
	r.subs.ticking = again
	r.subs.mu.Unlock()
	if again {
		time.AfterFunc(SubscriptionCheckEvery, r.checkSubscriptions)
	}
}

// checkUser cuts off the user's subscriptions whose viewer is no longer valid. A
// database error keeps them (the next check asks again).
func (r *Resolver) checkUser(userID string) {
	r.subs.mu.Lock()
	var subs []*subscriber
	for s := range r.subs.byUser[userID] {
		subs = append(subs, s)
	}
	r.subs.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range subs {
		if _, err := r.current(ctx, s.viewer); err != nil {
			if e, ok := err.(*Error); ok && e.Code == CodeUnauthenticated {
				s.end()
			}
		}
	}
}

// revoke applies a change of the user on this server at once: its cached state is
// dropped and, when sessions may have ended, its open subscriptions are checked now.
func (r *Resolver) revoke(userID string, checkSubscriptions bool) {
	r.forget(userID)
	if checkSubscriptions {
		go r.checkUser(userID)
	}
}
