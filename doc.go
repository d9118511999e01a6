// Package guard gives an HTTP service its security and monitoring layer in
// one call.
//
//	g, err := guard.New()                  // in-memory defaults
//	if err != nil { log.Fatal(err) }
//	defer g.Close(context.Background())
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /notes/{id}", getNote)
//	http.ListenAndServe(":8080", g.Handler(mux))
//
// # Shape
//
// An adapter (net/http here; gin, echo and fiber in adapters/) builds one
// framework-neutral view of each request, a *Request: method, route
// template (never the raw path), client address resolved through trusted
// proxies, principal, correlation id and trace context. A pipeline of
// stages decides on it in phase order:
//
//	recover → correlate → headers → csrf → rate limit → inspect → app → handler
//
// Each stage returns a Decision; the first denial is answered with a small
// RFC 9457 application/problem+json body built only from the status and
// the stage's constant reason, never from request data. Stages report what
// they see as typed Events; sinks (metrics, logs, audit, alerting, Sentry)
// consume them from their own bounded queues. A stage never calls a sink
// and a sink never knows which stage produced an event.
//
// # Client address
//
// With no WithTrustedProxies (the default) the client address is the TCP
// peer and forwarding headers are ignored. When the peer is a trusted
// proxy, the headers named by WithProxyHeaders (X-Forwarded-For by
// default; Forwarded per RFC 7239 and X-Real-IP by option) are walked
// from the right: trusted hops are skipped and the first untrusted hop is
// the client. An unparseable hop stops the walk at the last address the
// trusted chain vouched for; at most MaxForwardedHops hops are examined.
// IPv4-mapped IPv6 addresses are unmapped; a hop with an IPv6 zone is refused.
//
// # Correlation
//
// The correlate stage (on by default) keeps an inbound X-Request-Id only
// if it is 1–128 bytes of ASCII letters, digits and "-._~:@+=/"; else it
// uses the trace id of a valid W3C traceparent (version ff, all-zero ids
// and malformed values are rejected); else it generates 32 hex digits. The
// id is echoed on the response and available from the request context
// (CorrelationID).
//
// # Events
//
// Publishing never waits for a sink. Each sink has a bounded queue
// (DefaultEventQueue, WithEventQueue) and its own goroutine, which takes
// every waiting event at once and delivers them in publication order.
// After a batch of fewer than 64 events it lets the next gather for a
// millisecond, so that a sink that keeps up wakes about once a
// millisecond rather than once per event (events then reach it up to
// about a millisecond later). An event that finds its queue full is
// dropped and counted (BusStats). A queue's memory follows its backlog,
// not its capacity. Events of a kind
// no sink subscribed to are not built at all. Close drains the queues
// until its context ends.
//
// # Failure
//
// Misconfiguration is an error from New that names the option. A handler
// panic becomes a 500 problem body and a KindPanic event (WithRecover);
// after the response has started, the connection is aborted instead.
// Nothing in the request path panics on client input.
//
// # Concurrency
//
// A Guard is safe for concurrent use. New and Close may be called once
// each; Close is idempotent.
package guard
