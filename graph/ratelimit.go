package graph

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/store"
)

// RateLimits are the contract's limits on a user or a client address over time
// (RATE_LIMITED). Calls are counted in the database (store.RateLimiter), so behind a
// load balancer that spreads one client over N replicas it gets the limit in all, not
// N times it; while the database cannot count, each server counts its own.
type RateLimits struct {
	// Tests is how many testIntegration and testCredentials calls one user may make
	// per Per (30).
	Tests int
	// Syncs is how many syncIntegration calls one user may make per Per (30).
	Syncs int
	// Logins is how many login and setPassword calls one client address may make per
	// Per (20), refused before any password is hashed.
	Logins int
	// Per is the period of the limits (a minute).
	Per time.Duration
}

// Contract's limits.
const (
	DefaultTestsPerMinute  = 30
	DefaultSyncsPerMinute  = 30
	DefaultLoginsPerMinute = 20
)

func (l RateLimits) withDefaults() RateLimits {
	if l.Tests == 0 {
		l.Tests = DefaultTestsPerMinute
	}
	if l.Syncs == 0 {
		l.Syncs = DefaultSyncsPerMinute
	}
	if l.Logins == 0 {
		l.Logins = DefaultLoginsPerMinute
	}
	if l.Per == 0 {
		l.Per = time.Minute
	}
	return l
}

// limiters are the rate limits' call logs, one set per Resolver.
type limiters struct {
	once                 sync.Once
	tests, syncs, logins *sharedLimiter
}

func (r *Resolver) limiters() *limiters {
	r.limits.once.Do(func() {
		l := r.RateLimits.withDefaults()
		r.limits.tests = r.newSharedLimiter("tests", l.Tests, l.Per)
		r.limits.syncs = r.newSharedLimiter("syncs", l.Syncs, l.Per)
		r.limits.logins = r.newSharedLimiter("logins", l.Logins, l.Per)
	})
	return &r.limits
}

// sharedLimiter counts calls in the database, where every replica counts the same
// ones; when the database cannot answer, it counts in this process (local), so that a
// limit still holds per server rather than not at all.
type sharedLimiter struct {
	db     *store.RateLimiter // nil without a store (counted locally only)
	local  *limiter
	logger *slog.Logger
}

func (r *Resolver) newSharedLimiter(kind string, n int, per time.Duration) *sharedLimiter {
	l := &sharedLimiter{local: newLimiter(n, per), logger: r.logger()}
	if r.Store != nil {
		l.db = r.Store.NewRateLimiter(kind, n, per)
	}
	return l
}

func (l *sharedLimiter) take(ctx context.Context, key string, now time.Time) (bool, time.Duration) {
	if l.db != nil {
		ok, retry, err := l.db.Take(ctx, key, now)
		if err == nil {
			return ok, retry
		}
		l.logger.Warn("rate limit counted by this server alone: the database did not answer", "err", err)
	}
	return l.local.take(key, now)
}

// limitRate refuses root fields over their rate limit with RATE_LIMITED and
// extensions.retryAfterSeconds: tests and syncs per user, logins and setPassword per
// client address. It runs before the resolver, so a refused login hashes nothing.
func (r *Resolver) limitRate(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	fc := graphql.GetRootFieldContext(ctx)
	// (RootFieldContext.Object is the field's name, not its type's.)
	if fc == nil || fc.Field.ObjectDefinition == nil || fc.Field.ObjectDefinition.Name != "Mutation" {
		return next(ctx)
	}
	var (
		l   *sharedLimiter
		key string
	)
	switch fc.Field.Name {
	case "testIntegration", "testCredentials":
		l = r.limiters().tests
	case "syncIntegration":
		l = r.limiters().syncs
	case "login", "setPassword":
		l, key = r.limiters().logins, clientAddr(ctx)
	default:
		return next(ctx)
	}
	if key == "" {
		v, ok := auth.FromContext(ctx)
		if !ok {
			return next(ctx) // refused by requireViewer
		}
		key = v.UserID
	}
	if ok, retry := l.take(ctx, key, r.now()); !ok {
		e := &Error{Code: CodeRateLimited, RetryAfter: retry,
			Message: "too many " + fc.Field.Name + " calls: try again in " + retry.Round(time.Second).String()}
		graphql.AddError(ctx, &gqlerror.Error{Err: e, Message: e.Message, Path: ast.Path{ast.PathName(fc.Field.Alias)}})
		return graphql.Null
	}
	return next(ctx)
}

// limiter allows at most n calls per key within any period: it keeps the times of
// the key's last n accepted calls (a sliding log), so "at most 20 a minute" holds in
// every minute. (A token bucket refilled at n per period let 2n through in a
// client's first period.)
type limiter struct {
	n   int
	per time.Duration

	mu        sync.Mutex
	calls     map[string][]time.Time // accepted calls within the last period, oldest first
	lastSweep time.Time
}

func newLimiter(n int, per time.Duration) *limiter {
	return &limiter{n: n, per: per, calls: map[string][]time.Time{}}
}

// take records a call of key; when key made n calls within the period before now,
// it refuses and tells how long until the oldest of them is a period old.
func (l *limiter) take(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > l.per {
		// Keys with no call in the last period are forgotten: a key seen once does not
		// stay forever.
		for k, c := range l.calls {
			if now.Sub(c[len(c)-1]) >= l.per {
				delete(l.calls, k)
			}
		}
		l.lastSweep = now
	}
	c := l.calls[key]
	i := 0
	for i < len(c) && now.Sub(c[i]) >= l.per {
		i++
	}
	c = c[i:]
	if len(c) >= l.n {
		l.calls[key] = c
		return false, c[0].Add(l.per).Sub(now)
	}
	if cap(c) < l.n {
		c = append(make([]time.Time, 0, l.n), c...)
	}
	l.calls[key] = append(c, now)
	return true, 0
}

// clientAddrKey holds the client's address in a request's context.
type clientAddrKey struct{}

func clientAddr(ctx context.Context) string {
	a, _ := ctx.Value(clientAddrKey{}).(string)
	return a
}

// ClientAddr is the address of the client of req: the peer's, or, when the peer is
// one of the trusted proxies, the address X-Forwarded-For names nearest to the
// client that is not itself a trusted proxy. X-Forwarded-For from anyone else is
// ignored: a client could otherwise pick any address and escape its limit.
func ClientAddr(req *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		host = req.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	if !isTrusted(peer) {
		return peer.String()
	}
	var hops []string
	for _, h := range req.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	addr := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a garbled entry: trust nothing further out
		}
		addr = a.Unmap()
		if !isTrusted(addr) {
			break
		}
	}
	return addr.String()
}
