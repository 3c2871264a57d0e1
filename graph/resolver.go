package graph

// Resolver lists what the resolvers depend on; server/ builds it.
type Resolver struct {
	Deps
}
