package syncer

import (
	"strings"
	"sync"
	"time"
)

// ttlCache keeps vendor answers for the read-through queries (fuel stations near a
// point, weather at a point) a short while: OpenWeather asks not to be asked about
// the same place more than every ten minutes.
type ttlCache struct {
	mu sync.Mutex
	m  map[string]cached
}

type cached struct {
	v       any
	expires time.Time
}

func newTTLCache() *ttlCache { return &ttlCache{m: map[string]cached{}} }

func (c *ttlCache) get(key string, now time.Time) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || now.After(e.expires) {
		return nil, false
	}
	return e.v, true
}

func (c *ttlCache) put(key string, v any, ttl time.Duration, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) > 10000 {
		for k, e := range c.m {
			if now.After(e.expires) {
				delete(c.m, k)
			}
		}
	}
	c.m[key] = cached{v: v, expires: now.Add(ttl)}
}

func (c *ttlCache) dropPrefix(prefix string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if strings.HasPrefix(k, prefix) {
			delete(c.m, k)
		}
	}
}
