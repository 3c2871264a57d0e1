package graph

import (
	"bytes"
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/graph/model"
	"github.com/sallyhq/sally/graph/transport"
)

// Flat history pages: Query.syncHistory without gqlgen's per-field executor.
//
// gqlgen runs every field of every row through its generic machinery: a field
// context, a resolver closure and a marshaler per field, a goroutine per row. A
// 50-row page of 12 fields is 600 such executions and about 10,000 allocations,
// which made the page 4–5× the cost of its SQL. When the selection of a syncHistory
// field is flat (only SyncLog's scalar fields and __typename: no fragments, no
// directives, no arguments), flatHistory runs the same resolver and writes the rows
// itself, field by field in the selection's order, with the very marshalers gqlgen's
// generated code calls. Any other selection, and every error, goes through gqlgen as
// before: the response is the same byte for byte (TestFlatHistoryMatchesGqlgen).

// syncLogField appends one field of a row to b, as gqlgen writes the field of the
// row's model (ToSyncLog).
type syncLogField func(b []byte, l *ent.SyncLog) []byte

// syncLogFields are the SyncLog fields a flat selection may hold. Fields resolved by
// a resolver (integration) are not here: a selection naming them is not flat.
var syncLogFields = map[string]syncLogField{
	"__typename":    func(b []byte, _ *ent.SyncLog) []byte { return append(b, `"SyncLog"`...) },
	"id":            func(b []byte, l *ent.SyncLog) []byte { return transport.AppendUUID(b, l.ID) },
	"integrationId": func(b []byte, l *ent.SyncLog) []byte { return transport.AppendUUID(b, l.IntegrationID) },
	"syncType":      func(b []byte, l *ent.SyncLog) []byte { return transport.AppendString(b, string(l.SyncType)) },
	"status":        func(b []byte, l *ent.SyncLog) []byte { return transport.AppendString(b, string(l.Status)) },
	"trigger":       func(b []byte, l *ent.SyncLog) []byte { return transport.AppendString(b, string(l.Trigger)) },
	"startedAt":     func(b []byte, l *ent.SyncLog) []byte { return transport.AppendTime(b, l.StartedAt) },
	"completedAt": func(b []byte, l *ent.SyncLog) []byte {
		return transport.AppendOptional(b, l.CompletedAt, transport.AppendTime)
	},
	"durationMs": func(b []byte, l *ent.SyncLog) []byte {
		return transport.AppendOptional(b, l.DurationMs, transport.AppendInt64)
	},
	"attempts":         func(b []byte, l *ent.SyncLog) []byte { return transport.AppendInt(b, l.Attempts) },
	"recordsProcessed": func(b []byte, l *ent.SyncLog) []byte { return transport.AppendInt(b, l.RecordsProcessed) },
	"recordsCreated":   func(b []byte, l *ent.SyncLog) []byte { return transport.AppendInt(b, l.RecordsCreated) },
	"recordsUpdated":   func(b []byte, l *ent.SyncLog) []byte { return transport.AppendInt(b, l.RecordsUpdated) },
	"error": func(b []byte, l *ent.SyncLog) []byte {
		return transport.AppendOptional(b, l.Error, transport.AppendString)
	},
	"errorClass": func(b []byte, l *ent.SyncLog) []byte {
		return transport.AppendOptional(b, l.ErrorClass, transport.AppendString)
	},
}

// flatColumn is one response key of a flat selection and how to write it.
type flatColumn struct {
	key   []byte // the alias, quoted, with its colon
	write syncLogField
}

// flatPlan returns how to write a SyncLog under sel, or false when sel is not flat.
func flatPlan(oc *graphql.OperationContext, sel ast.SelectionSet) ([]flatColumn, bool) {
	for _, s := range sel {
		f, ok := s.(*ast.Field)
		if !ok || len(f.Directives) > 0 || len(f.Arguments) > 0 || len(f.SelectionSet) > 0 {
			return nil, false
		}
		if _, ok := syncLogFields[f.Name]; !ok {
			return nil, false
		}
	}
	// CollectFields merges repeated response keys as gqlgen's executor does.
	fields := graphql.CollectFields(oc, sel, []string{"SyncLog"})
	plan := make([]flatColumn, len(fields))
	for i, f := range fields {
		var key bytes.Buffer
		graphql.MarshalString(f.Alias).MarshalGQL(&key)
		key.WriteByte(':')
		plan[i] = flatColumn{key: key.Bytes(), write: syncLogFields[f.Name]}
	}
	return plan, len(plan) > 0
}

// flatPlans remembers each syncHistory field's plan: the query cache hands every
// request of a query the same parsed document, so its fields are the keys.
type flatPlans struct {
	mu    sync.Mutex
	plans map[*ast.Field]flatPlanResult
}

type flatPlanResult struct {
	plan []flatColumn
	ok   bool
}

// maxFlatPlans bounds the cache, like the query cache it follows; it starts afresh
// when full.
const maxFlatPlans = 1000

func (c *flatPlans) get(oc *graphql.OperationContext, f graphql.CollectedField) ([]flatColumn, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.plans[f.Field]; ok {
		return p.plan, p.ok
	}
	if c.plans == nil || len(c.plans) >= maxFlatPlans {
		c.plans = make(map[*ast.Field]flatPlanResult)
	}
	plan, ok := flatPlan(oc, f.Selections)
	c.plans[f.Field] = flatPlanResult{plan, ok}
	return plan, ok
}

// flatHistory serves a root syncHistory field with a flat selection (see above); it
// hands everything else, and every failure, to gqlgen.
func (r *Resolver) flatHistory(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	fc := graphql.GetRootFieldContext(ctx)
	oc := graphql.GetOperationContext(ctx)
	// (gqlgen fills RootFieldContext.Object with the field's name, not its type's.)
	if r.NoFlatHistory || fc == nil || oc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Query {
		return next(ctx)
	}
	if fc.Field.Name == "syncLogs" {
		return r.flatSyncLogs(ctx, oc, fc, next)
	}
	if fc.Field.Name != "syncHistory" {
		return next(ctx)
	}
	plan, ok := r.flatPlans.get(oc, fc.Field)
	if !ok {
		return next(ctx)
	}
	args, ok := historyArgs(fc.Field.ArgumentMap(oc.Variables))
	if !ok {
		return next(ctx) // gqlgen reports the argument's error
	}
	q, err := r.historyQuery(args.integrationID, args.limit, args.offset, args.status, false)
	if err != nil {
		return next(ctx) // gqlgen reports it, with its path and code
	}
	bp := transport.PageBuffer()
	out := append((*bp)[:0], '[')
	rows := 0
	err = q.Each(ctx, func(l *ent.SyncLog) bool {
		if rows > 0 {
			out = append(out, ',')
		}
		rows++
		out = append(out, '{')
		for j, c := range plan {
			if j > 0 {
				out = append(out, ',')
			}
			out = append(out, c.key...)
			out = c.write(out, l)
		}
		out = append(out, '}')
		return true
	})
	if err == nil && rows == 0 {
		err = r.noHistory(ctx, args.integrationID)
	}
	if err != nil {
		transport.ReleasePage(bp)
		return next(ctx) // gqlgen reports it, with its path and code (reads fail alike)
	}
	out = append(out, ']')
	r.flatServed.Add(1)
	return transport.PooledPage(out, bp)
}

type historyArguments struct {
	integrationID string
	limit, offset *int
	status        *model.SyncStatus
}

// historyArgs converts syncHistory's arguments (defaults applied, variables
// substituted) as the generated code does; false when one does not convert.
func historyArgs(m map[string]any) (a historyArguments, ok bool) {
	var err error
	if a.integrationID, err = graphql.UnmarshalID(m["integrationId"]); err != nil {
		return a, false
	}
	optionalInt := func(v any) (*int, bool) {
		if v == nil {
			return nil, true
		}
		n, err := graphql.UnmarshalInt(v)
		return &n, err == nil
	}
	if a.limit, ok = optionalInt(m["limit"]); !ok {
		return a, false
	}
	if a.offset, ok = optionalInt(m["offset"]); !ok {
		return a, false
	}
	if v := m["status"]; v != nil {
		var s model.SyncStatus
		if err := s.UnmarshalGQL(v); err != nil {
			return a, false
		}
		a.status = &s
	}
	return a, true
}
