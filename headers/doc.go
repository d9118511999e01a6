// Package headers is guard's security-headers stage: one guard.Stage, at
// guard.PhaseHeaders, that sets the response headers a browser needs to
// defend a page or an API, from typed builders that reject invalid values
// at startup.
//
//	g, err := guard.New(
//		headers.Option(), // strict API defaults
//	)
//
// # Defaults
//
// With no setting, every response gets:
//
//	Content-Security-Policy: default-src 'none'; frame-ancestors 'none'
//	X-Content-Type-Options: nosniff
//	X-Frame-Options: DENY
//	X-Xss-Protection: 0
//	Referrer-Policy: strict-origin-when-cross-origin
//	Permissions-Policy: accelerometer=(), browsing-topics=(), camera=(),
//	    display-capture=(), geolocation=(), gyroscope=(), hid=(),
//	    magnetometer=(), microphone=(), midi=(), payment=(), serial=(), usb=()
//	Cross-Origin-Opener-Policy: same-origin
//	Cross-Origin-Resource-Policy: same-origin
//
// and, only when the request's scheme is https (TLS, or a trusted proxy's
// X-Forwarded-Proto: see guard.WithTrustedProxies):
//
//	Strict-Transport-Security: max-age=31536000; includeSubDomains
//
// and, only when the request is authenticated (guard's principal is not
// ""):
//
//	Cache-Control: no-store
//
// Server and X-Powered-By are removed. The Referrer-Policy is
// strict-origin-when-cross-origin rather than no-referrer: both keep paths
// and queries from other sites (and both score "private" on the MDN HTTP
// Observatory), but no-referrer also makes browsers send Origin: null on
// same-origin form posts, which breaks origin-based CSRF checks on
// browsers without Sec-Fetch-Site. Cross-Origin-Embedder-Policy is not
// sent unless asked for (WithCOEP): require-corp breaks pages that embed
// cross-origin resources, and only pages that need cross-origin isolation
// want it.
//
// For HTML pages use WithCSP(csp.HTML()), globally or per route: a
// nonce-based script-src with 'strict-dynamic' and no 'unsafe-inline'; the
// handler reads the request's nonce with csp.Nonce(ctx).
//
// # X-XSS-Protection
//
// The default is "0"; XSSFilterBlock gives "1; mode=block", which older
// checklists ask for. "1; mode=block" asked the XSS auditor of old
// browsers to stop rendering a page when it believed it saw reflected
// script. The auditor is gone (removed from Chrome 78 and Edge, never in
// Firefox), and where it still exists it was a vulnerability of its own:
// attackers could make it disable chosen scripts of a page, and learn a
// page's content from whether it blocked (XS-Leaks). Current guidance
// (OWASP, MDN) is to turn it off with "0" and rely on a strict CSP, which
// guard sends by default.
//
// # HSTS
//
// WithHSTS takes an HSTS value; max-age must be whole seconds and not
// negative. Preload is refused unless its rules hold: max-age of at least
// one year (MinPreloadMaxAge) and IncludeSubDomains. HSTS is never sent
// over plain HTTP (browsers ignore it there) and never believed from a
// forged X-Forwarded-Proto: the core resolves the scheme only from
// trusted proxies.
//
// # Frame options
//
// X-Frame-Options follows the enforced CSP's frame-ancestors (FrameAuto):
// 'none' or absent gives DENY, 'self' alone SAMEORIGIN, a list of origins
// omits the header (it cannot express one). WithFrameOptions overrides.
//
// # Per-route overrides
//
// ForRoute("GET /embed/{id}", WithCSP(...), WithCORP(CORPCrossOrigin))
// applies settings on top of the others for one route template (exactly
// as guard.Request.Route reports it); a method-specific pattern wins over
// a method-less one. Patterns are exact, never prefixes.
//
// # Server and X-Powered-By
//
// The stage runs before the handler, so it deletes only what is set at
// that time (by an outer middleware, say). A header the handler or a
// reverse proxy sets later cannot be seen by a stage: for net/http wrap
// the Guard's handler with StripLeaks, which deletes them just before the
// response header is written. net/http itself sets neither header.
//
// # Errors
//
// Each setting validates its value and New returns an error naming the
// setting and the value ("headers: WithHSTS: preload needs max-age of at
// least 31536000 seconds (1 year), got 15552000"); Option defers that
// error to guard.New, which fails with it. Checked: CSP policies (see
// package csp), HSTS max-age and preload rules, Referrer-Policy, COOP,
// COEP, CORP, X-Frame-Options and X-XSS-Protection values against their
// enumerations, Permissions-Policy features (known names only) and
// allowlist origins (exact http(s)://host[:port]), header names given to
// WithStrip, Cache-Control values, ForRoute patterns (method in upper
// case, route starting with '/', no duplicates, no nesting).
//
// # Cost
//
// Headers are rendered once at construction. Per request, the stage
// makes one allocation for all header values when the response headers
// are an http.Header, plus the nonce and the rendered policy when the
// policy uses a nonce. A handler may still override any header it sets.
//
// # Concurrency
//
// A Stage is immutable after New and safe for concurrent use.
package headers
