package graph

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/sallyhq/sally/auth"
	"github.com/sallyhq/sally/ent/alert"
)

// Limits on one request, from the contract; both are checked before any work.
const (
	// MaxCost bounds an operation's cost: each field costs its weight (1 unless
	// fieldWeights says more), and the selections under a list field count once per
	// item (its limit or first argument, or the tenant's actual count for the
	// unbounded lists). A dashboard of 100 integrations with their stats costs about
	// 4,000, a 500-row history page about 8,000.
	MaxCost = 25000
	// MaxSideEffects bounds the calls of testIntegration, testCredentials and
	// syncIntegration in one request, aliases included.
	MaxSideEffects = 5
)

// sideEffects are the mutations that call a vendor or run a sync.
var sideEffects = map[string]bool{"testIntegration": true, "testCredentials": true, "syncIntegration": true}

// fieldWeights are the fields that cost more than one: an aggregate over a sync log
// (about 5 ms of database each), and the queries that may call a vendor.
var fieldWeights = map[string]int{
	"Integration.stats":        10,
	"Query.syncStats":          10,
	"Query.driverHOS":          500,
	"Query.fuelStations":       500,
	"Query.weather":            500,
	"Mutation.testCredentials": 500,
	"Mutation.testIntegration": 500,
	"Mutation.syncIntegration": 500,
}

// pagedLists are the list fields bounded by an argument (name, default).
var pagedLists = map[string]struct {
	arg string
	def int
}{
	"Integration.history": {"limit", 50},
	"Query.syncHistory":   {"limit", 50},
	"Query.alerts":        {"limit", 50},
	"Query.syncLogs":      {"first", 50},
	"Query.driverPage":    {"first", maxPage},
}

// maxPage is the largest page any list serves: a larger argument is refused by the
// resolver with its own message, so it counts as this much here.
const maxPage = 500

// countedLists are the unbounded lists, costed by the tenant's actual count.
var countedLists = map[string]string{
	"Query.integrations": "integrations",
	"Query.drivers":      "drivers",
	"Query.loads":        "loads",
	"Query.users":        "users",
	"Query.tenants":      "tenants",
	"Query.openAlerts":   "openAlerts",
}

// Counter tells how many items an unbounded list of the viewer's tenant holds
// (list is a value of countedLists).
type Counter func(ctx context.Context, list string) (int, error)

// costLimit is the extension that refuses operations over MaxCost or
// MaxSideEffects, before anything runs.
type costLimit struct {
	count Counter
}

var (
	_ graphql.HandlerExtension        = costLimit{}
	_ graphql.OperationContextMutator = costLimit{}
)

// ExtensionName names the extension.
func (costLimit) ExtensionName() string { return "CostLimit" }

// Validate accepts any schema.
func (costLimit) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext computes the operation's cost and refuses it when too high.
func (c costLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	w := &costWalk{ctx: ctx, vars: oc.Variables, count: c.count, counts: map[string]int{}}
	cost := w.set(oc.Operation.SelectionSet, 0)
	refuse := func(msg string) *gqlerror.Error {
		return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": CodeBadUserInput}}
	}
	if w.sideEffects > MaxSideEffects {
		return refuse(strings.Join([]string{"too many vendor calls in one request: ",
			itoa(w.sideEffects), " calls of testIntegration, testCredentials and syncIntegration, at most ",
			itoa(MaxSideEffects)}, ""))
	}
	if cost > MaxCost {
		return refuse("the query is too expensive: it costs " + itoa(cost) + ", the limit is " + itoa(MaxCost) +
			" (each field counts once per item of the lists above it: ask for fewer items, fields or aliases)")
	}
	return nil
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

type costWalk struct {
	ctx         context.Context
	vars        map[string]any
	count       Counter
	counts      map[string]int
	sideEffects int
}

// set is the cost of a selection set; depth guards fragment cycles (validation
// refuses them, the depth limit too).
func (w *costWalk) set(set ast.SelectionSet, depth int) int {
	if depth > 2*MaxDepth {
		return 0
	}
	total := 0
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			total = saturate(total, w.field(s, depth))
		case *ast.InlineFragment:
			total = saturate(total, w.set(s.SelectionSet, depth+1))
		case *ast.FragmentSpread:
			if s.Definition != nil {
				total = saturate(total, w.set(s.Definition.SelectionSet, depth+1))
			}
		}
	}
	return total
}

func (w *costWalk) field(f *ast.Field, depth int) int {
	if strings.HasPrefix(f.Name, "__") {
		return 0 // introspection: the public schema, bounded by its own shape
	}
	parent := ""
	if f.ObjectDefinition != nil {
		parent = f.ObjectDefinition.Name
	}
	key := parent + "." + f.Name
	if parent == "Mutation" && sideEffects[f.Name] {
		w.sideEffects++
	}
	own := 1
	if wt, ok := fieldWeights[key]; ok {
		own = wt
	}
	if len(f.SelectionSet) == 0 {
		return own
	}
	children := w.set(f.SelectionSet, depth+1)
	items := 1
	if p, ok := pagedLists[key]; ok {
		items = p.def
		if v, ok := intArg(f.ArgumentMap(w.vars)[p.arg]); ok {
			items = min(max(v, 0), maxPage)
		}
	} else if list, ok := countedLists[key]; ok {
		items = w.items(list)
	}
	return saturate(own, multiply(children, items))
}

// items is the tenant's count of list, asked once per operation (0 when unknown:
// without a viewer the field is refused anyway).
func (w *costWalk) items(list string) int {
	if n, ok := w.counts[list]; ok {
		return n
	}
	n := 0
	if w.count != nil {
		if _, ok := auth.FromContext(w.ctx); ok {
			if c, err := w.count(w.ctx, list); err == nil {
				n = c
			}
		}
	}
	w.counts[list] = n
	return n
}

func intArg(v any) (int, bool) {
	switch v := v.(type) {
	case int:
		return v, true
	case int64:
		return int(min(max(v, -1<<31), 1<<31)), true
	case float64:
		return int(min(max(v, -1<<31), 1<<31)), true
	case json.Number:
		n, err := v.Int64()
		return int(min(max(n, -1<<31), 1<<31)), err == nil
	}
	return 0, false
}

const costCeiling = 1 << 40

func saturate(a, b int) int { return min(a+b, costCeiling) }

func multiply(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a > costCeiling/b {
		return costCeiling
	}
	return a * b
}

// listCounts caches the tenants' list counts for a few seconds: the cost of a
// dashboard's poll must not cost a count query each time.
type listCounts struct {
	mu sync.Mutex
	m  map[string]countEntry
}

type countEntry struct {
	n  int
	at time.Time
}

// countTTL is how long a tenant's list count is reused.
const countTTL = 10 * time.Second

// countList is the resolvers' Counter: the viewer's tenant's count (privacy rules
// confine the queries to it), cached for countTTL.
func (r *Resolver) countList(ctx context.Context, list string) (int, error) {
	v, _ := auth.FromContext(ctx)
	key := v.TenantID + "/" + list
	now := time.Now()
	r.counts.mu.Lock()
	e, ok := r.counts.m[key]
	r.counts.mu.Unlock()
	if ok && now.Sub(e.at) < countTTL {
		return e.n, nil
	}
	c := r.Store.Client
	var (
		n   int
		err error
	)
	switch list {
	case "integrations":
		n, err = c.Integration.Query().Count(ctx)
	case "drivers":
		n, err = c.FleetDriver.Query().Count(ctx)
	case "loads":
		n, err = c.Load.Query().Count(ctx)
	case "users":
		n, err = c.User.Query().Count(ctx)
	case "tenants":
		n, err = c.Tenant.Query().Count(ctx)
	case "openAlerts":
		n, err = c.Alert.Query().Where(alert.ResolvedAtIsNil()).Count(ctx)
	}
	if err != nil {
		return 0, err
	}
	r.counts.mu.Lock()
	if r.counts.m == nil || len(r.counts.m) > 10000 {
		r.counts.m = map[string]countEntry{}
	}
	r.counts.m[key] = countEntry{n: n, at: now}
	r.counts.mu.Unlock()
	return n, nil
}
