// Package telemetry wires guard's monitoring in one place: OpenTelemetry
// metrics exported to Prometheus (telemetry/metrics), zap request and
// event logs (telemetry/logging), an OpenTelemetry server span per
// request (telemetry/tracing) and Sentry (telemetry/guardsentry), all fed
// by guard's event bus, one route resolver, one correlation id and one
// scrubber (scrub).
//
//	zl, _ := zap.NewProduction()
//	tel, err := telemetry.New(
//		telemetry.WithLogger(zl),
//		telemetry.WithTracing(),
//		telemetry.WithSentry(guardsentry.WithDSN(dsn), guardsentry.WithRelease(version)),
//	)
//	g, err := guard.New(tel.Option(), guard.WithStore(st))
//	tel.Attach(g)
//	mux.Handle("GET /metrics", tel.MetricsHandler())
//	defer tel.Shutdown(ctx) // after g.Close(ctx)
//
// Defaults: metrics on (WithoutMetrics to turn off); logging only with
// WithLogger; tracing only with WithTracing (spans go to the global
// TracerProvider unless tracing.WithTracerProvider); Sentry only with a
// non-empty guardsentry.WithDSN. WithScrubber replaces scrub.Default for
// logs and Sentry together.
//
// Each part also works alone through its own package's New and Option;
// this package adds nothing but the bundling. Errors from New come from
// the part and name its option ("metrics: WithLabelLimit: 0 not in
// [1, 100000]"); a nil logger or scrubber is "telemetry: WithLogger: ..."
// or "telemetry: WithScrubber: ...".
//
// Cost: metrics and one log line per request add about 1.4 µs of CPU and
// no allocation to a request on the development machine (2 shared
// cores), against about 10 µs and 30 allocations for otelhttp with a zap
// middleware doing the same work; the request pays only for building the
// event, and the metrics and logging sinks share one queue and goroutine
// (benchmarks/README.md, "Telemetry", has the commands and figures).
// Events reach the sinks asynchronously, up to about a millisecond after
// the response.
//
// Lifecycle: Guard.Close drains the event queues and flushes Sentry;
// Shutdown then stops the metrics provider. Telemetry is safe for
// concurrent use.
package telemetry
