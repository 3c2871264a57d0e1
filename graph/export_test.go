package graph

// FlatHistoryServed counts the syncHistory fields flatHistory answered itself.
func (r *Resolver) FlatHistoryServed() int64 { return r.flatServed.Load() }
