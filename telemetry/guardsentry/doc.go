// Package guardsentry reports guard's panics and server errors to Sentry
// (github.com/getsentry/sentry-go) and serves a Sentry tunnel for browser
// SDKs. (The package is not named sentry so that it can be imported next
// to sentry-go.)
//
//	s, err := guardsentry.New(guardsentry.WithDSN(dsn),
//		guardsentry.WithEnvironment("production"), guardsentry.WithRelease(version))
//	g, err := guard.New(s.Option())
//	tunnel, err := guardsentry.Tunnel([]string{browserDSN})
//	mux.Handle("POST /sentry-tunnel", tunnel)
//
// # Events
//
// Sentry is on only when a DSN is given (WithDSN; empty means off, and
// Option then adds nothing). It builds its own sentry.Client and hub; the
// global sentry hub is left alone.
//
//   - A handler panic (guard's panic event) is captured at level fatal
//     with its stack trace, parsed from the event's stack.
//   - A response with status ≥ DefaultCaptureStatus (500;
//     WithCaptureStatus) is captured at level error, once: a panic's 500
//     is not reported twice.
//   - Each event has the transaction "METHOD /route/{template}", the tags
//     http.route, http.status_code, guard.kind, correlation_id and
//     trace_id, and the principal as user id. More user data only by
//     option (WithUserIP). The event's request holds the method and route
//     template: never the raw URL, headers, cookies or body.
//
// # Per-request hub
//
// A stage gives every request a clone of the hub in its context
// (sentry.GetHubFromContext(r.Context())), with the route, correlation id
// and trace id as tags; events captured on it get the principal as user
// id, resolved at capture time. With WithTracesSampleRate > 0 the stage
// also starts a Sentry transaction named after the route template (source
// "route"), continuing sentry-trace/baggage headers, and finishes it in
// the request path with the response status.
//
// # Scrubbing and grouping
//
// Every event and transaction goes through BeforeSend: the shared
// scrubber (scrub.Default, WithScrubber) masks the message, exception
// values, tags, contexts, breadcrumbs and request; the Authorization,
// Proxy-Authorization and Cookie headers and cookies are removed even
// with SendDefaultPII; request bodies are dropped unless
// WithRequestBodies(true). Then the first matching Rule (WithFingerprint)
// sets the fingerprint. A BeforeSend given through WithClientOptions runs
// first.
//
// # Close
//
// Sentry is a sink, so Guard.Close calls its Close after the event queue
// drained: it flushes within the context's deadline (DefaultFlushTimeout,
// 2 s, when there is none).
//
// # Tunnel
//
// Tunnel serves the tunnel option of Sentry's browser SDKs. It accepts
// only POST bodies up to MaxEnvelopeBytes (1 MB); reads the DSN from the
// envelope header (the first line, a JSON object; at most
// MaxEnvelopeHeaderBytes); accepts it only when scheme, host, port, path
// and project id match an allowlisted DSN; and forwards the envelope,
// unchanged and without the client's headers, to that allowlisted
// project's envelope endpoint. The destination is built from the
// allowlist, never from the request, and redirects are not followed, so
// the tunnel reaches no other host (no SSRF) and relays for no other
// project. Statuses: 405, 413, 400 (ErrEnvelopeMalformed,
// ErrEnvelopeNoDSN, unparsable DSN), 403 (not allowlisted), 502 (Sentry
// unreachable), else Sentry's status. Forwards time out after
// DefaultTunnelTimeout (10 s).
//
// # Errors
//
// New fails, naming the option, for an unparsable DSN, a sample rate out
// of range, a fingerprint rule without fingerprint, a nil scrubber or
// function, or a capture status outside [400, 600]. Tunnel fails for an
// empty allowlist or an unparsable allowed DSN.
//
// Sentry and the tunnel handler are safe for concurrent use.
package guardsentry
