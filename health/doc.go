// Package health serves a Guard's health endpoints.
//
//	h, err := health.New(g, health.WithStoreCheck(), health.WithSQLCheck("db", db))
//	h.Register(mux) // GET /health, /health/live, /health/ready, /health/dependencies
//
// The endpoints:
//
//   - /health/live: 200 {"status":"up"} while the process serves HTTP. It
//     never checks a dependency, so an outage does not get pods restarted.
//   - /health/ready: 200 when every critical check is up, else 503; 503
//     {"status":"closing"} as soon as Guard.Close begins (guard.Guard.Closing)
//     or Drain is called, before anything else stops, so load balancers
//     drain traffic first. Names and statuses only.
//   - /health/dependencies: every check with status and criticality, 200
//     or 503 like ready. Latency and error text only for requests that
//     WithDetail allows (nobody by default: errors name internal hosts).
//   - /health: the summary status, "up", "down" or "closing".
//
// Bodies are JSON with Cache-Control: no-store.
//
// # Checks
//
// WithStoreCheck pings the Guard's store (a Redis PING through
// store/redis, a bolt read, nothing for memory); WithSQLCheck pings a
// database/sql pool; WithHTTPCheck GETs a URL and wants a status below 400
// (redirects not followed); WithCheck adds any function. Checks are
// critical unless Critical(false). Each runs under its own timeout
// (DefaultCheckTimeout, 500 ms, below Kubernetes' 1 s default probe
// timeout; CheckTimeout): a check that ignores its context is abandoned
// and reported down with ErrTimeout, a panicking one is reported down.
// At most MaxChecks (64).
//
// # Caching
//
// Results are shared by all endpoints for DefaultCacheTTL (1 s;
// WithCacheTTL, 0 for none). Checks run concurrently, when a probe finds
// the cache stale; concurrent probes wait for the one refresh instead of
// starting their own, so probes cannot multiply the load on a struggling
// dependency.
//
// # Events
//
// A check changing status publishes guard.KindDependencyChanged through
// the Guard (reason "up" or "down", attributes check, critical, previous;
// Err the check's error); so does a check found down on its first run.
// Checks run when probed, so events follow the probes' rhythm.
//
// # Errors
//
// New fails, naming the option, for an empty name or nil function, a
// duplicate check, a non-positive CheckTimeout, a nil *sql.DB, a URL that
// is not http(s), a negative cache TTL or a nil detail or clock function.
//
// Health is safe for concurrent use.
package health
