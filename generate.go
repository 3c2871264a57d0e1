package sally

// One ordered generate step: ent first (graph resolvers use its types), then gqlgen.
//go:generate go run -mod=mod ./ent/entc.go
//go:generate go tool gqlgen generate
