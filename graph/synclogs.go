package graph

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"sync"
	"time"
	"unicode/utf8"

	"entgo.io/ent/dialect/sql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/ent/integration"
	"github.com/sallyhq/sally/ent/predicate"
	"github.com/sallyhq/sally/ent/synclog"
	"github.com/sallyhq/sally/ent/user"
	"github.com/sallyhq/sally/graph/model"
)

// The sync log explorer: Query.syncLogs pages through a tenant's syncs newest first
// with keyset pagination on (startedAt, id), so a page never repeats or skips a sync
// because newer ones were written meanwhile (an offset would shift under them).
//
// A cursor is the position of its sync, (startedAt, id), with an HMAC over that
// position and the tenant's id, under a key derived from the token secret: a client
// cannot forge one, and a cursor of another tenant fails its check, so either is
// BAD_USER_INPUT before any query runs. (The position alone reveals nothing another
// tenant could use; the check keeps cursors opaque and tenant-bound regardless.)

// Limits of Query.syncLogs.
const (
	DefaultSyncLogsPage = 50
	MaxSyncLogsPage     = 500
	// maxFilterValues bounds each list of a SyncLogFilter.
	maxFilterValues = 100
	// maxErrorClass bounds one errorClasses value.
	maxErrorClass = 64
)

const (
	cursorVersion = 1
	cursorPayload = 1 + 8 + 16 // version, startedAt (Unix ns), id
	cursorMAC     = 16         // truncated HMAC-SHA256
)

// cursorKeys derives the cursors' HMAC key once per resolver.
type cursorKeys struct {
	once sync.Once
	key  []byte
}

func (r *Resolver) cursorKey() []byte {
	r.cursors.once.Do(func() { r.cursors.key = r.Tokens.DeriveKey("sync-log cursor") })
	return r.cursors.key
}

// cursorSigner writes the cursors of one page.
type cursorSigner struct {
	mac    hash.Hash
	tenant uuid.UUID
	buf    []byte
}

func (r *Resolver) newCursorSigner(tenant uuid.UUID) *cursorSigner {
	return &cursorSigner{mac: hmac.New(sha256.New, r.cursorKey()), tenant: tenant}
}

// sum is the MAC of a cursor's payload for the signer's tenant.
func (s *cursorSigner) sum(payload []byte) []byte {
	s.mac.Reset()
	s.mac.Write(s.tenant[:])
	s.mac.Write(payload)
	s.buf = s.mac.Sum(s.buf[:0])
	return s.buf[:cursorMAC]
}

func (s *cursorSigner) encode(startedAt time.Time, id uuid.UUID) string {
	var b [cursorPayload + cursorMAC]byte
	b[0] = cursorVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(startedAt.UnixNano()))
	copy(b[9:25], id[:])
	copy(b[cursorPayload:], s.sum(b[:cursorPayload]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// decode returns the position of a cursor made by encode for the same tenant; any
// other string is an error (BAD_USER_INPUT).
func (s *cursorSigner) decode(c string) (time.Time, uuid.UUID, error) {
	bad := badInput("after is not a cursor of this list: pass an endCursor or cursor from an earlier page")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) != cursorPayload+cursorMAC || b[0] != cursorVersion {
		return time.Time{}, uuid.Nil, bad
	}
	if !hmac.Equal(b[cursorPayload:], s.sum(b[:cursorPayload])) {
		return time.Time{}, uuid.Nil, bad
	}
	t := time.Unix(0, int64(binary.BigEndian.Uint64(b[1:9]))).UTC()
	id, _ := uuid.FromBytes(b[9:25])
	return t, id, nil
}

// syncLogFilter validates a filter and returns its predicates (the tenant's rows
// only: privacy adds that). Vendors become the ids of the tenant's integrations of
// those vendors, looked up first: a literal list lets the database walk the
// (tenant_id, status, started_at, id) index newest first and stop after one page,
// where a subquery on integrations made it read and sort every match.
func syncLogFilter(ctx context.Context, c *ent.Client, f *model.SyncLogFilter) ([]predicate.SyncLog, error) {
	if f == nil {
		return nil, nil
	}
	var ps []predicate.SyncLog
	for name, n := range map[string]int{
		"integrationIds": len(f.IntegrationIds), "vendors": len(f.Vendors), "statuses": len(f.Statuses),
		"triggers": len(f.Triggers), "errorClasses": len(f.ErrorClasses),
	} {
		if n > maxFilterValues {
			return nil, badInput("filter.%s: at most %d values, got %d", name, maxFilterValues, n)
		}
	}
	if f.IntegrationIds != nil {
		ids := make([]uuid.UUID, len(f.IntegrationIds))
		for i, s := range f.IntegrationIds {
			id, err := uuid.Parse(s)
			if err != nil {
				return nil, badInput("filter.integrationIds: %q is not an integration id", s)
			}
			ids[i] = id
		}
		ps = append(ps, synclog.IntegrationIDIn(ids...))
	}
	if f.Vendors != nil {
		vs := make([]integration.Vendor, len(f.Vendors))
		for i, v := range f.Vendors {
			if !v.IsValid() {
				return nil, badInput("filter.vendors: unknown vendor %q", v)
			}
			vs[i] = integration.Vendor(v)
		}
		ids, err := c.Integration.Query().Where(integration.VendorIn(vs...)).IDs(ctx)
		if err != nil {
			return nil, err
		}
		ps = append(ps, synclog.IntegrationIDIn(ids...))
	}
	if f.Statuses != nil {
		ss := make([]synclog.Status, len(f.Statuses))
		for i, s := range f.Statuses {
			if !s.IsValid() {
				return nil, badInput("filter.statuses: unknown status %q", s)
			}
			ss[i] = synclog.Status(s)
		}
		ps = append(ps, synclog.StatusIn(ss...))
	}
	if f.Triggers != nil {
		ts := make([]synclog.Trigger, len(f.Triggers))
		for i, t := range f.Triggers {
			if !t.IsValid() {
				return nil, badInput("filter.triggers: unknown trigger %q", t)
			}
			ts[i] = synclog.Trigger(t)
		}
		ps = append(ps, synclog.TriggerIn(ts...))
	}
	if f.ErrorClasses != nil {
		for _, c := range f.ErrorClasses {
			if c == "" || len(c) > maxErrorClass || !utf8.ValidString(c) {
				return nil, badInput("filter.errorClasses: %q is not an error class (e.g. unavailable, rate_limited)", c)
			}
		}
		ps = append(ps, synclog.ErrorClassIn(f.ErrorClasses...))
	}
	if f.From != nil && f.To != nil && !f.From.Before(*f.To) {
		return nil, badInput("filter.from must be before filter.to")
	}
	// UTC: SQLite compares the stored text, which the service writes in UTC.
	if f.From != nil {
		ps = append(ps, synclog.StartedAtGTE(f.From.UTC()))
	}
	if f.To != nil {
		ps = append(ps, synclog.StartedAtLT(f.To.UTC()))
	}
	return ps, nil
}

// before is the keyset condition "(started_at, id) < (t, id)", written so that both
// databases seek with the (…, started_at, id) indexes: the redundant started_at <= t
// gives the index scan its bound.
func before(t time.Time, id uuid.UUID) predicate.SyncLog {
	return func(s *sql.Selector) {
		s.Where(sql.And(
			sql.LTE(s.C(synclog.FieldStartedAt), t),
			sql.Or(
				sql.LT(s.C(synclog.FieldStartedAt), t),
				sql.LT(s.C(synclog.FieldID), id),
			),
		))
	}
}

// syncLogColumns are the columns a page reads: tries (JSON, the largest) only when
// the selection asks for them.
func syncLogColumns(withTries bool) []string {
	cols := make([]string, 0, len(synclog.Columns))
	for _, c := range synclog.Columns {
		if c != synclog.FieldTries || withTries {
			cols = append(cols, c)
		}
	}
	return cols
}

var (
	columnsWithTries    = syncLogColumns(true)
	columnsWithoutTries = syncLogColumns(false)
)

// selects reports whether the current field's selection reaches path, e.g.
// ("edges", "node", "tries"); types are the object types along it.
func selects(ctx context.Context, types []string, path ...string) bool {
	oc := graphql.GetOperationContext(ctx)
	fc := graphql.GetFieldContext(ctx)
	if oc == nil || fc == nil {
		return true
	}
	sels := fc.Field.Selections
	for i, name := range path {
		fields := graphql.CollectFields(oc, sels, types[i:i+1])
		sels = nil
		found := false
		for _, f := range fields {
			if f.Name == name {
				found = true
				sels = append(sels, f.Selections...)
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// logsPage is one page of syncLogs as read from the database.
type logsPage struct {
	logs    []*ent.SyncLog
	hasNext bool
	signer  *cursorSigner
	count   *ent.SyncLogQuery // the filter's query, for totalCount
}

// readLogsPage validates syncLogs' arguments and reads the page (cols of each row).
func (r *Resolver) readLogsPage(ctx context.Context, filter *model.SyncLogFilter, first *int, after *string, cols []string) (*logsPage, error) {
	tid, err := tenantOfViewer(ctx)
	if err != nil {
		return nil, err
	}
	n := DefaultSyncLogsPage
	if first != nil {
		n = *first
	}
	if n < 1 || n > MaxSyncLogsPage {
		return nil, badInput("first must be between 1 and %d, got %d", MaxSyncLogsPage, n)
	}
	p := &logsPage{signer: r.newCursorSigner(tid)}
	var (
		at   time.Time
		atID uuid.UUID
	)
	if after != nil {
		if at, atID, err = p.signer.decode(*after); err != nil {
			return nil, err
		}
	}
	ps, err := syncLogFilter(ctx, r.Store.Client, filter)
	if err != nil {
		return nil, err
	}
	q := r.Store.Client.SyncLog.Query().Where(ps...)
	p.count = q.Clone()
	if after != nil {
		q.Where(before(at, atID))
	}
	if p.logs, err = pageOf(q, n, cols).All(ctx); err != nil {
		return nil, err
	}
	p.hasNext = len(p.logs) > n
	p.logs = p.logs[:min(len(p.logs), n)]
	return p, nil
}

// pageOf orders q newest first and reads n+1 rows of cols (the one more says
// whether there is a next page).
func pageOf(q *ent.SyncLogQuery, n int, cols []string) *ent.SyncLogQuery {
	q.Order(ent.Desc(synclog.FieldStartedAt), ent.Desc(synclog.FieldID)).Limit(n + 1).Select(cols...)
	return q
}

// preloadTriggeredBy loads the users who triggered the syncs in one query, so that
// a page's triggeredBy fields need none each.
func (r *Resolver) preloadTriggeredBy(ctx context.Context, logs []*model.SyncLog) error {
	var ids []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for _, l := range logs {
		if l.TriggeredByID != nil && !seen[*l.TriggeredByID] {
			seen[*l.TriggeredByID] = true
			ids = append(ids, *l.TriggeredByID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	us, err := r.Store.Client.User.Query().Where(user.IDIn(ids...)).All(ctx)
	if err != nil {
		return err
	}
	byID := make(map[uuid.UUID]*model.User, len(us))
	for _, u := range us {
		byID[u.ID] = toUser(u)
	}
	for _, l := range logs {
		if l.TriggeredByID != nil {
			l.TriggeredByUser = byID[*l.TriggeredByID]
		}
	}
	return nil
}
