// Package csp builds Content-Security-Policy headers from typed values
// and receives the violation reports browsers send about them.
//
// # Policies
//
// A Policy is an immutable value built with Set, Remove, ReportURI and
// ReportTo; every method returns a copy, so a base policy can be
// specialised per route. Two strict starting points:
//
//	API():  default-src 'none'; frame-ancestors 'none'
//	HTML(): default-src 'none'; script-src 'nonce-{nonce}' 'strict-dynamic';
//	        style-src 'self' 'nonce-{nonce}'; img-src 'self'; font-src 'self';
//	        connect-src 'self'; manifest-src 'self'; form-action 'self';
//	        base-uri 'none'; object-src 'none'; frame-ancestors 'none'
//
// Neither allows 'unsafe-inline' or 'unsafe-eval'. The headers stage
// (package headers) sends the policy; with NonceSource it draws a fresh
// 128-bit nonce per request (NonceBytes, crypto/rand, base64url) and the
// handler reads it with Nonce(ctx):
//
//	<script nonce="{{.Nonce}}" src="/app.js"></script>
//
// A page whose policy carries a nonce must not be stored by shared
// caches (send Cache-Control: private or no-store): a cached page repeats
// its nonce to every visitor. The HTML policy also blocks style=""
// attributes and inline event handlers; move them to nonce'd <style> and
// <script> elements or to files.
//
// # Validation
//
// Invalid input never panics: the builder keeps the first error, and
// Validate, Compile and headers.WithCSP return it, so guard.New fails at
// startup naming the directive and the value. Rejected: unknown
// directives; a directive set twice is impossible (Set replaces);
// report-uri or report-to through Set (use ReportURI and ReportTo, which
// keep the Reporting-Endpoints header in step); empty source lists (write
// None); 'none' beside other sources; whitespace, control characters,
// non-ASCII, ';' and ',' in any value; unknown or unquoted keywords; fixed
// 'nonce-…' literals (use NonceSource); nonces, hashes and script keywords
// outside script and style directives; hashes that are not sha256/384/512
// with a digest of the right length; 'strict-dynamic' without a nonce or
// hash beside it (it would block every script); bad schemes, hosts and
// ports; frame-ancestors sources other than 'self', 'none', hosts and
// schemes; sandbox tokens other than the allow-* flags; report URLs that
// are not a path or an https URL, or that carry a query or fragment.
//
// # Report endpoint
//
// ReportHandler accepts POSTs in the report-uri format
// (application/csp-report: {"csp-report": {...}}) and the Reporting API
// format (application/reports+json: [{"type": "csp-violation", "body":
// {...}}, ...]), and application/json in either shape. It
// publishes one guard.KindCSPViolation event per report, with the
// attributes format, directive, blocked, document, source, line, column
// and disposition. URLs are reduced before they leave the parser: scheme,
// host and path for http(s) and ws(s), only the scheme for others (data:,
// blob:, extensions), never userinfo, query or fragment; every kept
// string is printable ASCII of at most 256 bytes. Script samples and the
// original policy are dropped.
//
// Limits, all per ReportHandler and all configurable in ReportConfig:
//
//   - body: DefaultMaxReportBody (64 KiB; at most MaxReportBody, 1 MiB).
//     A larger Content-Length, or a body that grows past it, is answered
//     413 without parsing.
//   - rate: one token bucket for the whole process, DefaultReportRate (10)
//     requests per second with bursts of DefaultReportBurst (50). When it
//     is empty the answer is 429 with Retry-After: 1, before the body is
//     read. It is shared by all clients on purpose: reports are best
//     effort, and a flood from one client must cost the service nothing;
//     put the endpoint behind guard's rate-limit stage for per-client
//     limits.
//   - batch: DefaultMaxReports (32) csp-violation reports per request;
//     the rest are counted (ReportStats.Dropped).
//
// Answers: 204 when parsed, 400 malformed (ErrMalformed: not one JSON
// value of the expected shape, or data after it), 405 not POST, 413 too
// large, 415 other media types (ErrContentType), 429 rate limited. Error
// bodies are guard's RFC 9457 problem JSON and never echo the request.
//
// Mount the handler at the path given to ReportURI / ReportTo and exempt
// it from CSRF checks (csrf.Bypass): browsers send reports without the
// page's context, and the endpoint changes no state.
//
// # Concurrency
//
// Policy and Compiled values are immutable and safe for concurrent use; so
// is ReportHandler.
package csp
