// Package rule holds the ent privacy rules that confine every tenant-owned query and
// mutation to the viewer's tenant. System work (scheduler, sync engine, alerts) runs
// with privacy.DecisionContext(ctx, privacy.Allow) and sets tenants explicitly.
package rule

import (
	"context"
	"errors"
	"reflect"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/privacy"
	"github.com/google/uuid"

	"github.com/sallyhq/sally/auth"
)

// ErrNoViewer denies data access to a context with neither a viewer nor a system
// decision: an anonymous request must never read tenant data.
var ErrNoViewer = errors.New("privacy: no viewer in context")

// ErrOtherTenant denies creating a row in a tenant other than the viewer's.
var ErrOtherTenant = errors.New("privacy: row belongs to another tenant")

// wherer is what generated queries and mutations offer for raw predicates.
type wherer interface {
	WhereP(...func(*sql.Selector))
}

type tenantMutation interface {
	TenantID() (uuid.UUID, bool)
	SetTenantID(uuid.UUID)
}

// queryMutationRule adapts one function to both privacy rule interfaces.
type queryMutationRule func(context.Context, any) error

func (f queryMutationRule) EvalQuery(ctx context.Context, q ent.Query) error { return f(ctx, q) }
func (f queryMutationRule) EvalMutation(ctx context.Context, m ent.Mutation) error {
	return f(ctx, m)
}

// TenantPolicy filters queries, updates and deletes to the viewer's tenant and makes
// creates land in it.
func TenantPolicy() ent.Policy {
	filter := filterColumn("tenant_id", false)
	return privacy.Policy{
		Query: privacy.QueryPolicy{filter},
		Mutation: privacy.MutationPolicy{
			privacy.OnMutationOperation(privacy.MutationRuleFunc(createInTenant), ent.OpCreate),
			filter,
		},
	}
}

// TenantEntityPolicy guards the tenants table itself: a viewer sees its own tenant,
// a SUPER_ADMIN sees all; only system contexts create or change tenants.
func TenantEntityPolicy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{filterColumn("id", true)},
		Mutation: privacy.MutationPolicy{privacy.AlwaysDenyRule()},
	}
}

func viewer(ctx context.Context) (*auth.Viewer, uuid.UUID, error) {
	v, ok := auth.FromContext(ctx)
	if !ok || v == nil {
		return nil, uuid.Nil, privacy.Denyf("%w", ErrNoViewer)
	}
	id, err := uuid.Parse(v.TenantID)
	if err != nil {
		return nil, uuid.Nil, privacy.Denyf("privacy: bad tenant id in viewer")
	}
	return v, id, nil
}

// filterColumn restricts the query or mutation to rows whose column equals the
// viewer's tenant id; superSeesAll lets a SUPER_ADMIN through unfiltered.
func filterColumn(column string, superSeesAll bool) queryMutationRule {
	return func(ctx context.Context, qm any) error {
		v, tid, err := viewer(ctx)
		if err != nil {
			return err
		}
		if superSeesAll && v.Role == auth.RoleSuperAdmin {
			return privacy.Allow
		}
		pred := func(s *sql.Selector) { s.Where(sql.EQ(s.C(column), tid)) }
		if w, ok := qm.(wherer); ok { // mutations
			w.WhereP(pred)
			return privacy.Skip
		}
		if whereByReflection(qm, pred) { // queries
			return privacy.Skip
		}
		return privacy.Denyf("privacy: %T cannot be filtered", qm)
	}
}

// whereByReflection calls q.Where(pred) on a generated query, whose Where takes its
// own predicate type (func(*sql.Selector) underneath). Generated queries offer no
// untyped WhereP without the intercept feature, and importing generated code here
// would make the schema depend on its own output.
func whereByReflection(q any, pred func(*sql.Selector)) bool {
	m := reflect.ValueOf(q).MethodByName("Where")
	if !m.IsValid() || m.Type().NumIn() != 1 || !m.Type().IsVariadic() {
		return false
	}
	pt := m.Type().In(0).Elem()
	pv := reflect.ValueOf(pred)
	if !pv.Type().ConvertibleTo(pt) {
		return false
	}
	m.Call([]reflect.Value{pv.Convert(pt)})
	return true
}

func createInTenant(ctx context.Context, m ent.Mutation) error {
	_, tid, err := viewer(ctx)
	if err != nil {
		return err
	}
	tm, ok := m.(tenantMutation)
	if !ok {
		return privacy.Denyf("privacy: unexpected mutation type %T", m)
	}
	if got, set := tm.TenantID(); set && got != tid {
		return privacy.Denyf("%w", ErrOtherTenant)
	}
	tm.SetTenantID(tid)
	return privacy.Allow
}
