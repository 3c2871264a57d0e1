// Package sally is the Sally Integrations service: it keeps a trucking carrier's fleet
// data in sync with four vendors (Samsara HOS, Truckbase loads, Fuel Finder prices,
// OpenWeather) and tells people at once when a sync goes wrong.
//
// # Folders
//
//	server/      the command: config, migrations, first admin, HTTP server, signals
//	app/         composition root: builds every dependency from config (server/ runs
//	             it, internal/testserver wraps it) and serves the routes
//	graph/       gqlgen schema (a superset of graph/contract) and the resolvers;
//	             graph/generated and graph/model are gqlgen's output; graph/transport
//	             is gqlgen's HTTP, websocket and SSE transports restated for the
//	             contract, and the encoders of the paths that write answers themselves
//	             (what to re-check at each gqlgen upgrade)
//	syncer/      the sync engine: the vendor table, syncs by kind, scheduler, live lookups
//	alert/       alert rules (failure, recovery, stale, credentials) and the mail outbox
//	account/     invitation and password-reset links
//	ent/         storage schema (ent/schema) and its generated code; tenant isolation by
//	             privacy rules (ent/schema/rule)
//	store/       opening SQLite or PostgreSQL, migrations, aggregates, login throttle and
//	             rate limits shared by replicas
//	apierr/      the one coded error: contract code and a message safe to show
//	auth/        viewer in context, JWT, password hashing, credentials sealing
//	config/      the environment, read in one place
//	event/       live events: the in-process bus, event/pgnotify across replicas
//	mail/        SMTP delivery
//	vendors/     the four adapters (real wire formats) and their typed errors
//	resilience/  failsafe-go policies: timeout, retry, circuit breaker, bulkhead
//	sandbox/     the stand-in vendor APIs for the embedded default and tests
//	web/         the browser UI (static files, embedded) and its end-to-end tests
//	desktop/     the desktop monitor (Fyne): a GraphQL client like any other
//	cmd/         small programs: the sandbox alone, the capacity load program, a
//	             subscription benchmark, screenshots
//	internal/    test support: databases, the in-process API, shared helpers (testkit),
//	             clock, SMTP, websocket and GraphQL-over-HTTP clients
//	docs/        screenshots and notes;  scripts/  the test script
//
// # Dependencies
//
// Each line below names a folder and the folders of this module its non-test code
// may import, with the reason. imports_test.go reads these lines and fails on any
// other import (a folder's own subfolders are always allowed; tests may import
// anything). Departures from ../shared/docs/style.md are named with their reason.
//
//	account: ent — links are rows
//	alert: ent, ent/schema, event — alerts are rows; AlertDetails, the Go type of their JSON column, is declared with the schema; it publishes ALERT events
//	app: alert, auth, config, event, graph, mail, resilience, sandbox, store, syncer, vendors, web — it wires everything
//	apierr: (none) — the one coded error (contract code, message safe to show) that any package may return
//	auth: (none)
//	cmd/capacity: auth, ent, store — seeds a database for the load program, which runs the real server and sandbox as processes
//	cmd/fleetperf: desktop, web — drives the desktop monitor and the web page to time their Drivers views
//	cmd/sandbox: sandbox — runs it alone
//	cmd/subbench: internal/wsclient — its client
//	cmd/webshot: web — serves the page it photographs
//	config: auth — ADMIN_PASSWORD must pass auth's password rule
//	desktop: (none) — it talks to the server over GraphQL only
//	ent: ent/schema — generated from it
//	ent/schema: auth — privacy rules read the viewer
//	event: (none)
//	graph: account, alert, apierr, auth, ent, ent/schema, event, store, syncer, vendors — resolvers use ent as their data layer (style.md has a repository layer; ent's privacy rules already confine every query to the tenant, so one would only restate it), store for aggregates, the login throttle and the rate limits (counted in the database, shared by replicas), syncer behind graph's own Syncer interface and for its value types (HOS, Override) and errors, vendors for the lookups' value types, alert and account for the account emails and links, ent/schema for AlertDetails
//	graph/transport: apierr — request errors carry the contract's codes
//	internal/httpaudit: (none)
//	internal/testclock: (none)
//	internal/testdb: ent, store — opens stores for tests
//	internal/testkit: resilience — the tests' shared fast policy
//	internal/testpg: (none)
//	internal/testserver: app, alert, auth, config, ent, event, graph, internal/testkit, resilience, sandbox, store, syncer — wraps app.New and seeds rows
//	internal/testsmtp: (none)
//	internal/wsclient: (none)
//	mail: (none)
//	resilience: vendors — it classifies vendors.Error and counts a try's requests with vendors.RequestCounter; its default Retry-After cap is vendors.MaxRetryAfter (style.md puts resilience below the adapters: here the adapters stay free of policy and resilience reads their typed errors)
//	sandbox: (none)
//	server: account, app, auth, config, ent, store — the command: migrations, first admin, reset-admin
//	store: auth, ent — the throttle keys on auth's normalized email and takes its defaults
//	syncer: apierr, auth, ent, ent/schema, event, resilience, store, vendors — it answers lookups with coded errors, records tries as schema.SyncTry (the Go type of their JSON column), opens credentials, writes rows, publishes SYNC events and calls the adapters through resilience
//	vendors: (none)
//	web: (none)
//	docs: (none) — no Go code
//	scripts: (none) — no Go code
//
// Background work (scheduler, sync engine, alerts) has no viewer: it runs with
// privacy.DecisionContext(ctx, privacy.Allow) and names tenants explicitly.
package sally
