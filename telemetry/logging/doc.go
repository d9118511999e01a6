// Package logging writes guard's logs with zap: one JSON line per request,
// one line per security or health event, and a request-scoped logger for
// handlers.
//
//	zl, _ := zap.NewProduction()
//	lg, err := logging.New(zl)
//	g, err := guard.New(lg.Option())
//	// in a handler:
//	logging.FromContext(r.Context()).Info("loading note")
//
// # Request lines
//
// After each request the sink logs MessageRequest ("request") with method,
// route (the template), status, bytes (response body), duration,
// client_ip (resolved through trusted proxies), correlation_id, and
// principal and trace_id when present; at Error level for 5xx, Info otherwise. The line is written by
// the sink goroutine from guard's request_done event, never in the
// request path, and costs no allocation for a repeat client address.
//
// # Events
//
// Every other event kind (denied, rate_limited, csrf_rejected,
// login_failed, panic, backend_degraded, dependency_changed, ...) is
// logged as MessageEvent ("guard event") with its kind, stage, reason,
// status, request identity, scrubbed error and scrubbed attributes (a
// panic carries its stack). Events go to the unsampled logger:
// WithSampling samples request lines only, so security events are never
// lost to sampling.
//
// # Request-scoped logger
//
// FromContext returns the base logger with correlation_id, trace_id,
// method and route for the request in ctx, or a no-op logger outside a
// guard request.
//
// # Bodies
//
// Off by default. WithBodies(limit) plus the net/http middleware Bodies
// (mounted inside g.Handler) logs textual request and response bodies at
// Debug level as MessageBody, each capped at limit bytes (DefaultBodyLimit
// 4 KiB when 0, at most MaxBodyLimit 1 MiB) and scrubbed: JSON by key and
// shape, forms by parameter, other text by shape. Bodies of other
// frameworks are not captured.
//
// # Scrubbing
//
// Bodies, error messages and event attributes go through the shared
// scrubber (scrub.Default, WithScrubber to replace). Request lines carry
// no header values, query strings or bodies, so they need none.
//
// # Errors
//
// New fails, naming the option, on a nil logger or scrubber, a
// non-positive sampling tick or negative counts, or a body limit outside
// [0, MaxBodyLimit]. Logging never fails a request.
//
// Logging is safe for concurrent use.
package logging
