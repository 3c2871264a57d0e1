package graph

// Deps is filled in by server/.
type Deps struct{}
