package graph

import (
	"bytes"
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/sallyhq/sally/graph/model"
	"github.com/sallyhq/sally/graph/transport"
)

// Flat syncLogs pages: Query.syncLogs written without gqlgen's per-field executor,
// as flatHistory does for syncHistory (see flathistory.go) and for the same reason (a
// 50-row page of 15 fields is 750 field executions). A selection is flat when it
// holds only edges { cursor node { <flat SyncLog fields> } __typename },
// pageInfo { hasNextPage endCursor __typename } and __typename, without fragments,
// directives or arguments below the field: totalCount, triggeredBy, integration and
// tries go through gqlgen. The bytes are gqlgen's (TestFlatSyncLogsMatchGqlgen).

// connColumn is one response key of a flat connection selection.
type connColumn struct {
	key   []byte
	write func(b []byte, p *logsPage, endCursor string) []byte
}

// flatConnPlan returns how to write a connection under sel, or false.
func flatConnPlan(oc *graphql.OperationContext, sel ast.SelectionSet) ([]connColumn, bool) {
	keyOf := func(alias string) []byte {
		var key bytes.Buffer
		graphql.MarshalString(alias).MarshalGQL(&key)
		key.WriteByte(':')
		return key.Bytes()
	}
	simple := func(set ast.SelectionSet, allowed ...string) bool {
		for _, s := range set {
			f, ok := s.(*ast.Field)
			if !ok || len(f.Directives) > 0 || len(f.Arguments) > 0 {
				return false
			}
			found := false
			for _, a := range allowed {
				found = found || f.Name == a
			}
			if !found {
				return false
			}
		}
		return true
	}
	if !simple(sel, "edges", "pageInfo", "__typename") {
		return nil, false
	}
	var plan []connColumn
	for _, f := range graphql.CollectFields(oc, sel, []string{"SyncLogConnection"}) {
		switch f.Name {
		case "__typename":
			plan = append(plan, connColumn{keyOf(f.Alias), func(b []byte, _ *logsPage, _ string) []byte {
				return append(b, `"SyncLogConnection"`...)
			}})
		case "pageInfo":
			if !simple(f.Selections, "hasNextPage", "endCursor", "__typename") {
				return nil, false
			}
			var sub []connColumn
			for _, g := range graphql.CollectFields(oc, f.Selections, []string{"PageInfo"}) {
				switch g.Name {
				case "__typename":
					sub = append(sub, connColumn{keyOf(g.Alias), func(b []byte, _ *logsPage, _ string) []byte { return append(b, `"PageInfo"`...) }})
				case "hasNextPage":
					sub = append(sub, connColumn{keyOf(g.Alias), func(b []byte, p *logsPage, _ string) []byte {
						if p.hasNext {
							return append(b, "true"...)
						}
						return append(b, "false"...)
					}})
				case "endCursor":
					sub = append(sub, connColumn{keyOf(g.Alias), func(b []byte, _ *logsPage, end string) []byte {
						if end == "" {
							return append(b, "null"...)
						}
						return transport.AppendString(b, end)
					}})
				}
			}
			plan = append(plan, connColumn{keyOf(f.Alias), func(b []byte, p *logsPage, end string) []byte {
				b = append(b, '{')
				for i, c := range sub {
					if i > 0 {
						b = append(b, ',')
					}
					b = append(b, c.key...)
					b = c.write(b, p, end)
				}
				return append(b, '}')
			}})
		case "edges":
			if !simple(f.Selections, "cursor", "node", "__typename") {
				return nil, false
			}
			type edgeColumn struct {
				key  []byte
				kind string
				node []flatColumn
			}
			var sub []edgeColumn
			for _, g := range graphql.CollectFields(oc, f.Selections, []string{"SyncLogEdge"}) {
				c := edgeColumn{key: keyOf(g.Alias), kind: g.Name}
				if g.Name == "node" {
					node, ok := flatPlan(oc, g.Selections)
					if !ok {
						return nil, false
					}
					c.node = node
				}
				sub = append(sub, c)
			}
			plan = append(plan, connColumn{keyOf(f.Alias), func(b []byte, p *logsPage, _ string) []byte {
				b = append(b, '[')
				for i, l := range p.logs {
					if i > 0 {
						b = append(b, ',')
					}
					b = append(b, '{')
					for j, c := range sub {
						if j > 0 {
							b = append(b, ',')
						}
						b = append(b, c.key...)
						switch c.kind {
						case "__typename":
							b = append(b, `"SyncLogEdge"`...)
						case "cursor":
							b = transport.AppendString(b, p.signer.encode(l.StartedAt, l.ID))
						case "node":
							b = append(b, '{')
							for k, col := range c.node {
								if k > 0 {
									b = append(b, ',')
								}
								b = append(b, col.key...)
								b = col.write(b, l)
							}
							b = append(b, '}')
						}
					}
					b = append(b, '}')
				}
				return append(b, ']')
			}})
		}
	}
	return plan, len(plan) > 0
}

// connPlans caches flatConnPlan per syncLogs field of a cached document.
type connPlans struct {
	plans flatCache[[]connColumn]
}

// flatSyncLogs serves a root syncLogs field with a flat selection; anything else, and
// every failure, goes to gqlgen.
func (r *Resolver) flatSyncLogs(ctx context.Context, oc *graphql.OperationContext, fc *graphql.RootFieldContext, next graphql.RootResolver) graphql.Marshaler {
	plan, ok := r.connPlans.plans.get(fc.Field.Field, func() ([]connColumn, bool) { return flatConnPlan(oc, fc.Field.Selections) })
	if !ok {
		return next(ctx)
	}
	filter, first, after, ok := syncLogsArgs(fc.Field.ArgumentMap(oc.Variables))
	if !ok {
		return next(ctx)
	}
	p, err := r.readLogsPage(ctx, filter, first, after, columnsWithoutTries)
	if err != nil {
		return next(ctx) // gqlgen reports it, with its path and code
	}
	end := ""
	if len(p.logs) > 0 {
		last := p.logs[len(p.logs)-1]
		end = p.signer.encode(last.StartedAt, last.ID)
	}
	bp := transport.PageBuffer()
	out := append((*bp)[:0], '{')
	for i, c := range plan {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, c.key...)
		out = c.write(out, p, end)
	}
	out = append(out, '}')
	r.flatServed.Add(1)
	return transport.PooledPage(out, bp)
}

// syncLogsArgs converts syncLogs' arguments as the generated code does; false when
// one does not convert (gqlgen then reports it).
func syncLogsArgs(m map[string]any) (f *model.SyncLogFilter, first *int, after *string, ok bool) {
	if v := m["first"]; v != nil {
		n, err := graphql.UnmarshalInt(v)
		if err != nil {
			return nil, nil, nil, false
		}
		first = &n
	}
	if v := m["after"]; v != nil {
		s, err := graphql.UnmarshalString(v)
		if err != nil {
			return nil, nil, nil, false
		}
		after = &s
	}
	raw, isMap := m["filter"].(map[string]any)
	if m["filter"] != nil && !isMap {
		return nil, nil, nil, false
	}
	if raw == nil {
		return nil, first, after, true
	}
	f = &model.SyncLogFilter{}
	strs := func(v any) ([]string, bool) {
		if v == nil {
			return nil, true
		}
		xs, ok := v.([]any)
		if !ok {
			return nil, false
		}
		out := make([]string, len(xs))
		for i, x := range xs {
			s, ok := x.(string)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	for key, v := range raw {
		list, ok := strs(v)
		switch key {
		case "integrationIds":
			f.IntegrationIds = list
		case "errorClasses":
			f.ErrorClasses = list
		case "vendors":
			for _, s := range list {
				f.Vendors = append(f.Vendors, model.Vendor(s))
			}
		case "statuses":
			for _, s := range list {
				f.Statuses = append(f.Statuses, model.SyncStatus(s))
			}
		case "triggers":
			for _, s := range list {
				f.Triggers = append(f.Triggers, model.SyncTrigger(s))
			}
		case "from", "to":
			if v == nil {
				continue
			}
			t, err := model.UnmarshalTime(v)
			if err != nil {
				return nil, nil, nil, false
			}
			if key == "from" {
				f.From = &t
			} else {
				f.To = &t
			}
			ok = true
		default:
			return nil, nil, nil, false
		}
		if !ok {
			return nil, nil, nil, false
		}
		// An empty list given is not an absent one: gqlgen keeps it empty, not nil.
		if list != nil && len(list) == 0 {
			return nil, nil, nil, false
		}
	}
	return f, first, after, true
}

// flatCache remembers a plan per field of a cached document (see flatPlans); it
// starts afresh when full.
type flatCache[T any] struct {
	mu sync.Mutex
	m  map[*ast.Field]flatCached[T]
}

type flatCached[T any] struct {
	plan T
	ok   bool
}

func (c *flatCache[T]) get(f *ast.Field, build func() (T, bool)) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.m[f]; ok {
		return p.plan, p.ok
	}
	if c.m == nil || len(c.m) >= maxFlatPlans {
		c.m = make(map[*ast.Field]flatCached[T])
	}
	plan, ok := build()
	c.m[f] = flatCached[T]{plan, ok}
	return plan, ok
}
