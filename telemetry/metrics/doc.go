// Package metrics records guard's metrics with the OpenTelemetry Go SDK
// and exports them to Prometheus (go.opentelemetry.io/otel/exporters/prometheus).
//
//	m, err := metrics.New()
//	g, err := guard.New(m.Option())
//	m.ObserveGuard(g)
//	mux.Handle("GET /metrics", m.Handler())
//
// # HTTP server metrics
//
// They follow the OpenTelemetry HTTP semantic conventions (instruments
// from go.opentelemetry.io/otel/semconv/v1.43.0/httpconv):
//
//   - http.server.request.duration, seconds, with the conventions' buckets
//     0.005 … 10 (Prometheus: http_server_request_duration_seconds);
//   - http.server.active_requests (http_server_active_requests);
//   - http.server.request.body.size and http.server.response.body.size,
//     bytes (request size from Content-Length, when known).
//
// Attributes: http.request.method (methods the conventions do not know
// become "_OTHER"), url.scheme, http.response.status_code, http.route —
// the route template, never the raw path, with guard.RouteUnmatched for
// unmatched requests, so a scanner probing random paths creates no
// series — and error.type for 5xx. There is no client address and no
// Host-derived attribute. The error rate is derived from status codes.
//
// Durations and sizes come from guard's request_done events (the sink is
// asynchronous, off the request path). Active requests are counted with
// atomics by a stage that runs before any other and releases the request
// in its Finish hook; the count is observed when metrics are collected.
// Recording allocates nothing: attribute sets are cached per series.
//
// # guard's own metrics
//
//   - guard.decisions{guard.stage, guard.reason}: denials by stage and
//     reason (allowed requests are the request-duration count minus these);
//   - guard.security.events{guard.event.kind}: every other event kind
//     (rate_limited, csrf_rejected, login_failed, panic, dependency_changed…);
//   - guard.events.published and guard.queue.dropped{guard.queue}: the
//     event bus (ObserveGuard) and any other bounded queue (ObserveDropped).
//
// # Helpers
//
// ObserveQuery and TrackQuery record db.client.operation.duration by
// db.system.name, db.operation.name and db.collection.name; Transport
// wraps an http.RoundTripper to record http.client.request.duration; Cache
// counts cache.requests by cache.name and cache.result (hit, miss).
//
// # Cardinality
//
// Each free-form label (route, stage, reason, table, operation, client
// host, cache name) admits DefaultLabelLimit (1000) distinct values,
// WithLabelLimit to change; later new values are recorded as Overflow
// ("_OTHER"). As a backstop the built-in MeterProvider caps each
// instrument at DefaultCardinalityLimit (10,000) series
// (WithCardinalityLimit), folding the rest into otel.metric.overflow.
//
// # Providers
//
// By default New builds its own MeterProvider exporting to a new
// Prometheus registry (WithRegistry to share one), served by Handler in
// the text exposition format. WithMeterProvider records into the
// application's own provider instead (Handler then answers 404).
// Shutdown stops the built-in provider.
//
// # Errors
//
// New fails with an error naming the option for a nil provider, registry
// or resource, a label limit outside [1, MaxLabelLimit] or a non-positive
// cardinality limit. Recording never fails and never blocks a request.
//
// Metrics is safe for concurrent use.
package metrics
