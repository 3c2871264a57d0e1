package model

import "context"

// Counter counts what a connection's filter matches: SyncLogConnection.totalCount
// calls it only when the field is selected.
type Counter func(ctx context.Context) (int, error)
