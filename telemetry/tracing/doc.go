// Package tracing starts an OpenTelemetry server span for every request
// guard handles, with W3C Trace Context propagation.
//
//	tr, err := tracing.New(tracing.WithTracerProvider(tp))
//	g, err := guard.New(tr.Option())
//
// The parent is read from the request headers by the propagator (default
// W3C traceparent/tracestate plus W3C baggage, WithPropagator to change).
// The span is named "METHOD /route/{template}" (just the method for
// unmatched requests), has kind server and the attributes
// http.request.method, url.scheme, http.route, client.address,
// guard.correlation_id and, at the end, http.response.status_code; a 5xx
// sets error.type and the Error status. No raw path, query or header is
// recorded.
//
// The span is installed in the handler's context (trace.SpanFromContext,
// child spans and outbound propagation work) through
// guard.Request.WrapContext, and it ends in the stage's Finish hook, in
// the request path, with the final status.
//
// # Linking ids
//
// The span starts before guard's correlate stage and guard.Request.Trace
// is set to the span's context, so:
//
//   - a request with neither X-Request-Id nor traceparent gets its new
//     trace id as its correlation id;
//   - every event, log line and Sentry event of the request carries the
//     span's trace id, and the span carries the correlation id.
//
// # Providers
//
// By default spans go to otel.GetTracerProvider(), a no-op until the
// application installs one; with a no-op provider an inbound trace
// context is still passed on to the handler's context.
//
// # Errors
//
// New fails, naming the option, for a nil provider or propagator.
//
// Tracing is safe for concurrent use.
package tracing
