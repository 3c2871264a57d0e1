package graph

import (
	"context"

	"github.com/sallyhq/sally/ent"
	"github.com/sallyhq/sally/graph/model"
)

// FlatHistoryServed counts the syncHistory fields flatHistory answered itself.
func (r *Resolver) FlatHistoryServed() int64 { return r.flatServed.Load() }

// SyncLogsPageQuery is the query syncLogs runs for a first page of the filter
// (without tries), for the benchmark's SQL side.
func SyncLogsPageQuery(ctx context.Context, c *ent.Client, f *model.SyncLogFilter, first int) (*ent.SyncLogQuery, error) {
	ps, err := syncLogFilter(ctx, c, f)
	if err != nil {
		return nil, err
	}
	return pageOf(c.SyncLog.Query().Where(ps...), first, columnsWithoutTries), nil
}

// SyncLogsCountQuery is the query totalCount counts with.
func SyncLogsCountQuery(ctx context.Context, c *ent.Client, f *model.SyncLogFilter) (*ent.SyncLogQuery, error) {
	ps, err := syncLogFilter(ctx, c, f)
	if err != nil {
		return nil, err
	}
	return c.SyncLog.Query().Where(ps...), nil
}

// SyncLogColumnsWithoutTries are the columns of a page that does not select tries.
var SyncLogColumnsWithoutTries = columnsWithoutTries
