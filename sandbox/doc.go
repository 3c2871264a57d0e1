// Package sandbox fakes the four vendor APIs Sally integrates with — Samsara (hours of
// service), Truckbase (loads), Fuel Finder (fuel stations) and OpenWeather (weather) —
// at the network boundary, as one http.Handler.
//
// It exists so that the embedded default, the demo tenant and every test can run the
// real adapters over real HTTP without vendor accounts, and so that failure handling
// can be exercised on demand. It speaks each vendor's wire format as written down in
// the project's vendor notes (paths, auth headers, JSON shapes and error bodies,
// cursor pagination with its quirks, 429 with Retry-After); it never imports the
// adapters, or their tests would only prove that two halves of one misreading agree.
//
// Data is generated, not stored: every value is derived from a hash of the API key
// plus the clock (Options.Now), so two keys see two different fleets, the same key
// sees the same fleet from any process, and duty statuses, HOS clocks, loads, fuel
// prices and weather move as time passes. HOS clocks come from a per-driver weekly
// duty schedule stepped through the US property-carrier rules (11 h driving, 14 h
// window, 30-minute break after 8 h driving, 70 h in 8 days, 10 h and 34 h resets).
//
// Paths served, without the mount prefix (the server mounts it under /sandbox/):
//
//	GET /samsara/fleet/drivers          Authorization: Bearer <token>
//	GET /samsara/fleet/hos/clocks
//	GET /truckbase/loads[?status=]      X-API-Key (+ X-API-Secret)
//	GET /truckbase/loads/{id}
//	GET /fuelfinder/stations            X-API-Key
//	GET /openweather/weather            ?appid=<key>
//
// Any non-empty key is accepted except keys beginning with "invalid", which get the
// vendor's 401 answer.
//
// The control API (no auth; it only exists while the sandbox is mounted):
//
//	PUT    /_control/faults/{vendor}    body: Fault as JSON
//	GET    /_control/faults             the faults in force
//	DELETE /_control/faults[/{vendor}]
//	GET    /_control/fleet, PUT /_control/fleet   {"drivers":1000,"loads":200}
//	       plus the gaps real vendors leave, counts of drivers in fleet order:
//	       {"withoutClocks":K} no clocks object, {"disconnected":K} hosStatusType "",
//	       {"inViolation":K} violations of 1 h each; a PUT replaces the whole setting
//	GET    /_control/stats, DELETE /_control/stats
//
// Everything is safe for concurrent use.
package sandbox
