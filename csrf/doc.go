// Package csrf is guard's cross-site request forgery stage, at
// guard.PhaseCSRF: the Fetch Metadata algorithm of Go 1.25's
// net/http.CrossOriginProtection, hardened, with an optional masked
// double-submit token for browsers that send neither signal.
//
//	g, err := guard.New(
//		csrf.Option(
//			csrf.TrustedOrigins("https://app.example.com"),
//			csrf.Bypass("POST", "/webhooks/{provider}"),
//		),
//	)
//
// # Algorithm
//
// For each request, in order:
//
//  1. GET, HEAD and OPTIONS are allowed: they must not change state.
//  2. A Bypass route (exact method and route template) is allowed.
//  3. A repeated Sec-Fetch-Site or Origin header is rejected
//     (invalid_fetch_metadata, invalid_origin): browsers send one.
//  4. Sec-Fetch-Site "same-origin" or "none" is allowed; "same-site" and
//     "cross-site" are rejected (cross_origin) unless Origin is a
//     TrustedOrigins entry; any other value is rejected
//     (invalid_fetch_metadata) unless Origin is trusted.
//  5. With no Sec-Fetch-Site, Origin decides: a value with userinfo, or
//     not exactly scheme://host[:port], is rejected (invalid_origin);
//     "null" is rejected (null_origin), or decided by the token in token
//     mode; an Origin whose scheme, host and port equal the request's
//     (guard.Request.Scheme and Host, default ports ignored) is allowed,
//     as is a trusted one; anything else is rejected (origin_mismatch).
//  6. With neither header the request is allowed, as net/http does (a
//     same-origin request from an old browser, or not a browser at all),
//     unless WithToken is set: then it must carry a valid token
//     (token_missing, bad_token; body_too_large answers 413).
//
// Differences from net/http.CrossOriginProtection, all stricter: Origin
// with userinfo, "null" or anything but scheme://host[:port] is refused
// instead of parsed leniently; the scheme is compared too (guard knows it
// from TLS or a trusted proxy, so http://site posting to https://site is
// cross-origin); trusted origins are validated and normalised at
// construction; bypasses are exact method + route pairs, not ServeMux
// patterns that could match more than meant; repeated headers are refused.
//
// Behind a TLS-terminating proxy, list it in guard.WithTrustedProxies: the
// scheme is then https, and Origin https://host matches. Otherwise
// browsers without Sec-Fetch-Site (before 2023) are refused with
// origin_mismatch; current browsers are decided by step 4 and not
// affected.
//
// A non-browser client can send any header, including Sec-Fetch-Site:
// same-origin. That is not a CSRF: forgery needs a victim's browser to
// attach the victim's cookies, and browsers do not let pages forge these
// headers.
//
// Referrer-Policy no-referrer makes browsers send Origin: null on form
// posts, same-origin ones included (Fetch standard, "append a request
// Origin header"). Current browsers also send Sec-Fetch-Site, so step 4
// allows them; this is one reason the headers stage defaults to
// strict-origin-when-cross-origin.
//
// # Token
//
// WithToken(TokenConfig{Key: key}) adds a token for the requests of step
// 6 and the null origins of step 5. The raw token is a 128-bit random
// nonce followed by HMAC-SHA256(key, session id, nonce), where the
// session id is the request's principal (or TokenConfig.SessionID): a
// token minted for one session never verifies for another, and a planted
// cookie cannot be made valid without the key. It lives in an HttpOnly,
// SameSite=Lax cookie named __Host-csrf over HTTPS (Secure, Path=/, no
// Domain, so sibling subdomains cannot overwrite it) and csrf over plain
// HTTP.
//
// Pages get it from Token(ctx), masked: a fresh random pad followed by
// token XOR pad, base64url (128 characters). Every call returns a
// different string, so compression side channels (BREACH) never see a
// secret repeated across responses. Clients send it back in the
// X-CSRF-Token header, or the csrf_token field of an
// application/x-www-form-urlencoded body (read through guard's body
// buffer, at most DefaultMaxFormBody, 1 MiB; the handler still reads the
// whole body). Multipart bodies are not parsed: send the header. The
// check unmasks it, compares it with the cookie in constant time and
// verifies the cookie's MAC for the current session; PreviousKeys verify
// during key rotation.
//
// Tokens do not expire on their own: they live as long as the session
// cookie and the principal they are bound to. Logging in or out changes
// the principal, which invalidates the token and makes the next Token
// call mint a new one (this also stops login CSRF).
//
// # Events and errors
//
// A rejection is a 403 (413 for body_too_large) RFC 9457 problem body
// with the reason as its code and a constant detail, and a
// guard.KindCSRFRejected event with attributes reason and signal
// ("sec_fetch_site", "origin" or "token"); header values are never copied
// into either.
//
// Configuration errors name the setting and the value: an origin that is
// not exactly scheme://host[:port] (TrustedOrigins), a method not in
// upper case or a route not starting with '/' (Bypass), a key shorter
// than MinKeyLen (32 bytes), an invalid cookie, header or field name, a
// negative MaxFormBody or SameSite=None (WithToken). Option defers them
// to guard.New, which fails with them.
//
// # Cost
//
// Safe methods cost a switch; unsafe requests with Sec-Fetch-Site a few
// header lookups and no allocation. The token path costs two HMACs and a
// few small allocations.
//
// # Concurrency
//
// A Protection is immutable after New and safe for concurrent use.
package csrf
