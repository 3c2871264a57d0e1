package resilience

import "sync"

// Registry keeps one Policy per integration id, so that everything calling an
// integration's vendor (the sync engine, the driverHOS query) shares one breaker.
// The zero value is ready to use; it is safe for concurrent use.
type Registry struct {
	mu       sync.Mutex
	policies map[string]*Policy
}

// Get returns the Policy of integration id, building it with New(build()) on first
// use. build runs at most once per id (until Drop), under the registry's lock: keep
// it quick (read the persisted breaker state, not the vendor).
func (r *Registry) Get(id string, build func() Options) *Policy {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.policies[id]; ok {
		return p
	}
	if r.policies == nil {
		r.policies = make(map[string]*Policy)
	}
	p := New(build())
	r.policies[id] = p
	return p
}

// Drop forgets integration id's Policy, so the next Get builds a fresh one: after
// the integration is deleted, or its settings or credentials change.
func (r *Registry) Drop(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.policies, id)
}
