// Package scrub is guard's one scrubber: the rules that decide what is a
// secret, shared by the request logs (telemetry/logging), Sentry events
// (telemetry/guardsentry) and the audit trail, so a secret is masked the
// same way everywhere.
//
// A Scrubber masks three things:
//
//   - sensitive headers, whatever their value: DefaultHeaders
//     (Authorization, Proxy-Authorization, Cookie, Set-Cookie, API-key and
//     CSRF-token headers, ...) and any header whose name is a sensitive key;
//   - values under sensitive keys, in JSON documents at any depth, query
//     strings and maps: a key is sensitive when, lower-cased and stripped
//     of '-', '_', '.' and ' ', it contains one of DefaultKeys
//     ("password", "secret", "token", "apikey", "cookie", "session", ...)
//     or equals one of DefaultExactKeys ("pwd", "pin", "otp", "cvv", ...);
//   - values by shape, anywhere in text: JWTs (compact JWS/JWE whose first
//     segment starts "eyJ"), credentials after Bearer, Basic, Digest or
//     Token, and card numbers (13–19 digits, single spaces or dashes
//     between them, passing the Luhn check).
//
// Every masked value becomes the constant Redacted ("[REDACTED]"). Masking
// errs on the side of hiding: a key named "token_type" or a 16-digit
// order number that happens to pass Luhn is masked too.
//
// JSON that does not parse is scrubbed as text; scrubbed JSON has its
// object keys sorted. Text with nothing to mask is returned without
// allocating. The regular expressions are RE2 (package regexp): linear in
// the input, so hostile input cannot make scrubbing slow.
//
// A Scrubber is immutable after New and safe for concurrent use. Default
// returns the shared one with the default rules.
package scrub
