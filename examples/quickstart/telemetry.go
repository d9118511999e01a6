package main

import (
	"context"
	"net/http"
	"runtime/debug"

	"go.uber.org/zap"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/health"
	"github.com/guardsdk/guard/telemetry"
	"github.com/guardsdk/guard/telemetry/guardsentry"
)

// sentryTunnelPath is where browser SDKs configured with
// tunnel: "/sentry-tunnel" POST their envelopes (with -sentry-dsn only).
const sentryTunnelPath = "/sentry-tunnel"

// observability is the quickstart's monitoring, fed by guard's event bus:
// Prometheus metrics, one zap JSON line per request and per security
// event, a server span per request, Sentry when -sentry-dsn is given, and
// the health endpoints.
type observability struct {
	tel    *telemetry.Telemetry
	health *health.Health
	tunnel http.Handler // nil without -sentry-dsn
}

// newObservability builds the telemetry, which must exist before
// guard.New: newApp adds o.tel.Option() to guardOptions and then calls
// attach.
func newObservability(cfg appConfig) (*observability, error) {
	zl := cfg.Logger
	if zl == nil {
		zl = zap.NewNop()
	}
	// Metrics are on by default: http_server_request_duration_seconds and
	// friends by route template, guard's decisions and events (GET /metrics).
	tel, err := telemetry.New(
		// One JSON line per request and per security event.
		telemetry.WithLogger(zl),
		// Spans go to OpenTelemetry's global TracerProvider, a no-op until
		// the program installs one with an exporter (otel.SetTracerProvider);
		// an inbound traceparent is passed on and its trace id logged
		// either way.
		telemetry.WithTracing(),
		telemetry.WithSentry(
			guardsentry.WithDSN(cfg.SentryDSN), // "" leaves Sentry off
			guardsentry.WithEnvironment("quickstart"),
			guardsentry.WithRelease(release()),
			guardsentry.WithTracesSampleRate(0.1),
		),
	)
	if err != nil {
		return nil, err
	}
	return &observability{tel: tel}, nil
}

// attach finishes the wiring once the Guard exists.
func (o *observability) attach(g *guard.Guard, cfg appConfig) error {
	o.tel.Attach(g) // event-bus counters in /metrics
	var err error
	o.health, err = health.New(g,
		// Readiness follows the store: memory is always up, bolt answers a
		// read, redis a PING.
		health.WithStoreCheck(),
		// Error text and latencies of /health/dependencies only for local
		// callers: errors name internal hosts. The client address is
		// guard's, resolved through -trusted-proxies only.
		health.WithDetail(localCaller),
	)
	if err != nil {
		return err
	}
	if cfg.SentryDSN != "" {
		// The tunnel relays for this one project only: the destination is
		// built from the allowlist, never from the request.
		o.tunnel, err = guardsentry.Tunnel([]string{cfg.SentryDSN})
	}
	return err
}

// localCaller reports whether the request comes from this host.
func localCaller(r *http.Request) bool {
	return guard.ClientIP(r.Context()).IsLoopback()
}

// routes mounts the monitoring endpoints. They pass through guard like
// the API: they get security headers and a correlation id, and show up in
// the metrics and logs under their own route templates.
func (o *observability) routes(mux *http.ServeMux) {
	mux.Handle("GET /metrics", o.tel.MetricsHandler())
	o.health.Register(mux) // GET /health, /health/live, /health/ready, /health/dependencies
	if o.tunnel != nil {
		// CSRF applies: the browser SDK posts from the app's own pages,
		// which is same-origin (see README).
		mux.Handle("POST "+sentryTunnelPath, o.tunnel)
	}
}

// endpoints documents the monitoring routes for the index.
func (o *observability) endpoints() []endpoint {
	out := []endpoint{
		{"GET", "/metrics", false, "Prometheus metrics: HTTP server metrics by route template, guard's decisions and events."},
		{"GET", "/health", false, "Summary status: up, down or closing."},
		{"GET", "/health/live", false, "Liveness: 200 while the process serves HTTP; never checks the store."},
		{"GET", "/health/ready", false, "Readiness: 200 when the store answers, 503 when it does not or once shutdown begins."},
		{"GET", "/health/dependencies", false, "Every check and its status; latency and error text for local callers only."},
	}
	if o.tunnel != nil {
		out = append(out, endpoint{"POST", sentryTunnelPath, false, "Sentry envelopes from browser SDKs (tunnel option), relayed to the -sentry-dsn project only."})
	}
	return out
}

// close runs after Guard.Close, which drained the logs and metrics and
// flushed Sentry: it stops the metrics provider.
func (o *observability) close(ctx context.Context) error {
	return o.tel.Shutdown(ctx)
}

// abandon releases the telemetry when guard.New failed: Guard.Close,
// which would flush Sentry, never runs.
func (o *observability) abandon() {
	ctx := context.Background()
	_ = o.tel.Sentry().Close(ctx)
	_ = o.tel.Shutdown(ctx)
}

// release names the build for Sentry: the VCS revision when the binary
// was built from a checkout (go build stamps it; go run does not).
func release() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "quickstart@" + s.Value[:12]
			}
		}
	}
	return "quickstart@dev"
}
