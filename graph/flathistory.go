package graph

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/graph/model"
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
	"__typename":       func(b []byte, _ *ent.SyncLog) []byte { return append(b, `"SyncLog"`...) },
	"id":               func(b []byte, l *ent.SyncLog) []byte { return appendUUID(b, l.ID) },
	"integrationId":    func(b []byte, l *ent.SyncLog) []byte { return appendUUID(b, l.IntegrationID) },
	"syncType":         func(b []byte, l *ent.SyncLog) []byte { return appendGQLString(b, string(l.SyncType)) },
	"status":           func(b []byte, l *ent.SyncLog) []byte { return appendGQLString(b, string(l.Status)) },
	"trigger":          func(b []byte, l *ent.SyncLog) []byte { return appendGQLString(b, string(l.Trigger)) },
	"startedAt":        func(b []byte, l *ent.SyncLog) []byte { return appendTime(b, l.StartedAt) },
	"completedAt":      func(b []byte, l *ent.SyncLog) []byte { return appendOptional(b, l.CompletedAt, appendTime) },
	"durationMs":       func(b []byte, l *ent.SyncLog) []byte { return appendOptional(b, l.DurationMs, appendInt64) },
	"attempts":         func(b []byte, l *ent.SyncLog) []byte { return appendInt(b, l.Attempts) },
	"recordsProcessed": func(b []byte, l *ent.SyncLog) []byte { return appendInt(b, l.RecordsProcessed) },
	"recordsCreated":   func(b []byte, l *ent.SyncLog) []byte { return appendInt(b, l.RecordsCreated) },
	"recordsUpdated":   func(b []byte, l *ent.SyncLog) []byte { return appendInt(b, l.RecordsUpdated) },
	"error":            func(b []byte, l *ent.SyncLog) []byte { return appendOptional(b, l.Error, appendGQLString) },
	"errorClass":       func(b []byte, l *ent.SyncLog) []byte { return appendOptional(b, l.ErrorClass, appendGQLString) },
}

// The appenders write what gqlgen's marshalers write (graphql.MarshalString and
// MarshalID, the enums' MarshalGQL, model.MarshalTime, graphql.MarshalInt), without
// a closure and a writer per value.

// appendGQLString appends s as a JSON string, as gqlgen writes strings: as is when it
// has nothing to escape, else through graphql.MarshalString itself. (The websocket
// messages written by hand use it too.)
func appendGQLString(b []byte, s string) []byte {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			w := bytes.NewBuffer(b)
			graphql.MarshalString(s).MarshalGQL(w)
			return w.Bytes()
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendTime is model.MarshalTime: RFC 3339 in UTC, which needs no escaping.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

func appendInt(b []byte, n int) []byte     { return strconv.AppendInt(b, int64(n), 10) }
func appendInt64(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

// appendUUID appends u quoted, in uuid.UUID.String's form.
func appendUUID(b []byte, u uuid.UUID) []byte {
	var s [38]byte
	s[0], s[9], s[14], s[19], s[24], s[37] = '"', '-', '-', '-', '-', '"'
	hex.Encode(s[1:9], u[0:4])
	hex.Encode(s[10:14], u[4:6])
	hex.Encode(s[15:19], u[6:8])
	hex.Encode(s[20:24], u[8:10])
	hex.Encode(s[25:37], u[10:16])
	return append(b, s[:]...)
}

// appendOptional appends a nullable field: null, or the value.
func appendOptional[T any](b []byte, v *T, app func([]byte, T) []byte) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	return app(b, *v)
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
	bp := flatBuffers.Get().(*[]byte)
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
		flatBuffers.Put(bp)
		return next(ctx) // gqlgen reports it, with its path and code (reads fail alike)
	}
	out = append(out, ']')
	r.flatServed.Add(1)
	return pooledPage(out, bp)
}

// pooledPage writes a page built in a buffer from flatBuffers (bp), then gives the
// buffer back: the one marshaler of both flat paths (history and syncLogs).
func pooledPage(out []byte, bp *[]byte) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		page := out
		if page == nil {
			// gqlgen writes a root field once; were it to write it again, the buffer
			// would already be another request's.
			graphql.Null.MarshalGQL(w)
			return
		}
		out = nil
		if buf, ok := w.(*bytes.Buffer); ok {
			// gqlgen's response buffer: make room for the rest of the response too, or
			// its next write (a closing brace) copies the page into a buffer twice as big.
			buf.Grow(len(page) + 256)
		}
		_, _ = w.Write(page)
		if cap(page) <= 1<<20 { // a 500-row page of every field is about 250 KiB
			*bp = page
			flatBuffers.Put(bp)
		}
	})
}

// flatBuffers hold pages while they are written: gqlgen copies the page into the
// response, so the buffer is free again once the marshaler has run.
var flatBuffers = sync.Pool{New: func() any { return new([]byte) }}

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
