// Package sally is the Sally Integrations service: it keeps a trucking carrier's fleet
// data in sync with four vendors (Samsara HOS, Truckbase loads, Fuel Finder prices,
// OpenWeather) and tells people at once when a sync goes wrong.
//
// Architecture, dependencies flowing one way:
//
//	server/      composition root: config, store, handlers, background workers
//	graph/       gqlgen schema (a superset of graph/contract) and thin resolvers
//	ent/         storage schema; tenant isolation by privacy rules (ent/schema/rule)
//	store/       opening SQLite or PostgreSQL, migrations, aggregates, login throttle
//	auth/        viewer in context, JWT, password hashing, credentials sealing
//	config/      the environment, read in one place
//	vendors/     the four adapters (real wire formats) and their typed errors
//	resilience/  failsafe-go policies: timeout, retry, circuit breaker, bulkhead
//	sandbox/     the stand-in vendor APIs for the embedded default and tests
//
// Background work (scheduler, sync engine, alerts) has no viewer: it runs with
// privacy.DecisionContext(ctx, privacy.Allow) and names tenants explicitly.
package sally
