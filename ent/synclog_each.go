package ent

// Hand-written, not generated: go generate (ent/entc.go) leaves this file alone, and
// .gitattributes does not mark it generated. It stays hand-written rather than an entc
// template because it is one query of one entity (the history page's hot path), and
// it reuses the generated SyncLog's scanValues/assignValues and the query's privacy
// and SQL preparation as they are: a template would restate those for every entity
// to serve one. Its one user, graph/flathistory.go, is checked byte for byte against
// the plain gqlgen path on both databases (graph's TestFlatHistoryMatchesGqlgen):
// after an ent upgrade or a SyncLog schema change, that test says whether this file
// still fits the generated code.

import (
	"context"
	"errors"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql/sqlgraph"
)

// errStopEach ends Each early without an error.
var errStopEach = errors.New("ent: each stopped")

// Each runs the query as All does (same SQL, same privacy policy) but hands the rows
// to fn one at a time through one reused SyncLog and one set of scan values, instead
// of allocating a node and a set of scan values per row. It is for hot read paths
// that turn rows into something else at once: fn must not keep the *SyncLog (its
// pointer fields are its own and may be kept). fn returning false stops the scan.
// A query with interceptors (none are registered today) goes through All instead, so
// that they still run.
func (_q *SyncLogQuery) Each(ctx context.Context, fn func(*SyncLog) bool) error {
	if len(_q.inters) > 0 || _q.withTenant != nil || _q.withIntegration != nil || _q.withTriggeredBy != nil {
		nodes, err := _q.All(ctx)
		for _, n := range nodes {
			if !fn(n) {
				break
			}
		}
		return err
	}
	ctx = setContextOp(ctx, _q.ctx, ent.OpQueryAll)
	if err := _q.prepareQuery(ctx); err != nil {
		return err
	}
	var (
		node   SyncLog
		values []any
	)
	_, err := _q.sqlAll(ctx, func(_ context.Context, spec *sqlgraph.QuerySpec) {
		spec.ScanValues = func(columns []string) ([]any, error) {
			if values == nil {
				var err error
				if values, err = (*SyncLog).scanValues(nil, columns); err != nil {
					return nil, err
				}
			}
			return values, nil
		}
		spec.Assign = func(columns []string, vals []any) error {
			node = SyncLog{config: _q.config}
			if err := node.assignValues(columns, vals); err != nil {
				return err
			}
			if !fn(&node) {
				return errStopEach
			}
			return nil
		}
	})
	if errors.Is(err, errStopEach) {
		return nil
	}
	return err
}
