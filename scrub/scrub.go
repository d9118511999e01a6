package scrub

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Redacted replaces every value the Scrubber masks.
const Redacted = "[REDACTED]"

// DefaultHeaders are the header names masked by every Scrubber, whatever
// their value. Any header whose name is a sensitive key (see DefaultKeys)
// is masked too, so X-Auth-Token and X-Session-Id need no listing.
var DefaultHeaders = []string{
	"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie",
	"X-Api-Key", "Api-Key", "X-Csrf-Token", "X-Xsrf-Token",
	"X-Amz-Security-Token", "X-Goog-Api-Key", "X-Sentry-Auth",
}

// DefaultKeys are the sensitive key fragments. A JSON key, query
// parameter or header name is sensitive when, lower-cased and stripped of
// '-', '_' and '.', it contains one of them ("user_password",
// "refreshToken", "X-API-KEY" all do).
var DefaultKeys = []string{
	"password", "passwd", "passphrase", "secret", "token", "apikey",
	"privatekey", "credential", "authorization", "cookie", "session",
	"cardnumber", "creditcard", "iban",
}

// DefaultExactKeys are short sensitive keys matched whole (after the same
// normalisation), because as fragments they would match ordinary words.
var DefaultExactKeys = []string{"pwd", "pin", "otp", "cvv", "cvc", "ssn", "auth", "jwt"}

// Scrubber masks secrets in headers, JSON documents, query strings and
// free text. The zero value is not usable; build one with New or use
// Default. A Scrubber is immutable and safe for concurrent use.
type Scrubber struct {
	headers   map[string]bool // canonical header names
	fragments []string
	exact     map[string]bool
	shapes    bool
}

// Option configures a Scrubber.
type Option func(*Scrubber)

// WithHeaders masks these header names in addition to DefaultHeaders.
func WithHeaders(names ...string) Option {
	return func(s *Scrubber) {
		for _, n := range names {
			s.headers[http.CanonicalHeaderKey(n)] = true
		}
	}
}

// WithKeys adds sensitive key fragments to DefaultKeys.
func WithKeys(fragments ...string) Option {
	return func(s *Scrubber) {
		for _, f := range fragments {
			if f = normKey(f); f != "" {
				s.fragments = append(s.fragments, f)
			}
		}
	}
}

// WithShapes turns masking by value shape (JWTs, bearer and basic
// credentials, Luhn-valid card numbers) on or off; default on.
func WithShapes(on bool) Option { return func(s *Scrubber) { s.shapes = on } }

// New returns a Scrubber with the defaults above plus opts.
func New(opts ...Option) *Scrubber {
	s := &Scrubber{headers: map[string]bool{}, exact: map[string]bool{}, shapes: true}
	for _, h := range DefaultHeaders {
		s.headers[http.CanonicalHeaderKey(h)] = true
	}
	for _, k := range DefaultKeys {
		s.fragments = append(s.fragments, normKey(k))
	}
	for _, k := range DefaultExactKeys {
		s.exact[normKey(k)] = true
	}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	return s
}

var defaultScrubber = New()

// Default returns the shared Scrubber with the default rules. Logs,
// Sentry and audit use it unless given another, so a secret is masked the
// same way everywhere.
func Default() *Scrubber { return defaultScrubber }

func normKey(k string) string {
	var b strings.Builder
	b.Grow(len(k))
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '-' || c == '_' || c == '.' || c == ' ':
		case 'A' <= c && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// SensitiveKey reports whether values under key must be masked.
func (s *Scrubber) SensitiveKey(key string) bool {
	k := normKey(key)
	if s.exact[k] {
		return true
	}
	for _, f := range s.fragments {
		if strings.Contains(k, f) {
			return true
		}
	}
	return false
}

// SensitiveHeader reports whether the header's value must be masked
// whatever it looks like.
func (s *Scrubber) SensitiveHeader(name string) bool {
	return s.headers[http.CanonicalHeaderKey(name)] || s.SensitiveKey(name)
}

// Header returns the value to record for a header: Redacted for a
// sensitive name, else the value with secret-shaped parts masked.
func (s *Scrubber) Header(name, value string) string {
	if s.SensitiveHeader(name) {
		return Redacted
	}
	return s.String(value)
}

// Headers returns a scrubbed single-valued copy of h (multiple values
// joined with ", "), the shape Sentry and log fields want.
func (s *Scrubber) Headers(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		out[k] = s.Header(k, strings.Join(vs, ", "))
	}
	return out
}

// Value returns Redacted when key is sensitive, else v scrubbed by shape.
func (s *Scrubber) Value(key, v string) string {
	if s.SensitiveKey(key) {
		return Redacted
	}
	return s.String(v)
}

// Query scrubs a raw query string: sensitive parameters are masked and
// other values scrubbed by shape. An unparseable query is scrubbed as
// text.
func (s *Scrubber) Query(raw string) string {
	if raw == "" {
		return ""
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return s.String(raw)
	}
	for k, vs := range q {
		for i := range vs {
			vs[i] = s.Value(k, vs[i])
		}
	}
	return q.Encode()
}

var (
	// A JWS or JWE in compact form: base64url segments, the first of
	// which is a JSON header ("eyJ" is base64 for `{"`).
	// Two segments suffice, so a token cut by a size cap is still caught.
	jwtRE = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*){0,3}`)
	// Credentials after an HTTP auth scheme (RFC 6750 token68 and Basic).
	authRE = regexp.MustCompile(`(?i)\b(bearer|basic|digest|token)(\s+)[A-Za-z0-9\-._~+/]+=*`)
	// key=value, key: value and "key":"value" pairs in text (log messages,
	// truncated JSON, form bodies); the key is checked with SensitiveKey.
	pairRE = regexp.MustCompile(`("?)([A-Za-z0-9_.\-]{2,64})("?[ \t]*[:=][ \t]*)("(?:[^"\\]|\\.)*"?|[^\s&,;"}\[\]]+)`)
)

// String masks secret-shaped parts of free text: JWTs, credentials after
// Bearer/Basic/Digest/Token, values of sensitive key=value, key: value and
// "key":"value" pairs (so truncated JSON is still masked), and card numbers (13–19 digits, optionally
// grouped by single spaces or dashes, passing the Luhn check). Everything
// else is returned unchanged; text with nothing to mask is returned
// without allocating.
func (s *Scrubber) String(v string) string {
	if !s.shapes || v == "" {
		return v
	}
	if strings.Contains(v, "eyJ") {
		v = jwtRE.ReplaceAllLiteralString(v, Redacted)
	}
	if mayHaveAuth(v) {
		v = authRE.ReplaceAllString(v, "${1}${2}"+Redacted)
	}
	if strings.ContainsAny(v, ":=") {
		v = s.maskPairs(v)
	}
	return maskCards(v)
}

// maskPairs masks the values of sensitive key=value and "key": "value"
// pairs.
func (s *Scrubber) maskPairs(v string) string {
	var b strings.Builder
	last, pos := 0, 0
	for pos < len(v) {
		l := pairRE.FindStringSubmatchIndex(v[pos:])
		if l == nil {
			break
		}
		for i := range l {
			l[i] += pos
		}
		key, val := v[l[4]:l[5]], v[l[8]:l[9]]
		if !s.SensitiveKey(key) || val == Redacted || val == `"`+Redacted+`"` {
			// The value may itself start the next pair ("failed: password=x").
			pos = l[8]
			continue
		}
		b.WriteString(v[last:l[8]])
		if strings.HasPrefix(val, `"`) {
			b.WriteString(`"` + Redacted + `"`)
		} else {
			b.WriteString(Redacted)
		}
		last, pos = l[9], l[9]
	}
	if last == 0 {
		return v
	}
	b.WriteString(v[last:])
	return b.String()
}

// mayHaveAuth is a cheap prefilter for authRE.
func mayHaveAuth(v string) bool {
	for i := 0; i+5 <= len(v); i++ {
		switch v[i] | 0x20 {
		case 'b', 'd', 't':
			for _, w := range [...]string{"bearer", "basic", "digest", "token"} {
				if len(v)-i >= len(w) && strings.EqualFold(v[i:i+len(w)], w) {
					return true
				}
			}
		}
	}
	return false
}

// maskCards replaces runs of 13–19 digits (single ' ' or '-' allowed
// between digits) that pass the Luhn check.
func maskCards(v string) string {
	var out []byte
	last := 0
	for i := 0; i < len(v); {
		if !isDigit(v[i]) || (i > 0 && isDigit(v[i-1])) {
			i++
			continue
		}
		// Extend a run of digits with single separators.
		j, digits := i, 0
		end := i
		for j < len(v) {
			if isDigit(v[j]) {
				digits++
				j++
				end = j
				continue
			}
			if (v[j] == ' ' || v[j] == '-') && j+1 < len(v) && isDigit(v[j+1]) && digits > 0 {
				j++
				continue
			}
			break
		}
		if digits >= 13 && digits <= 19 && luhn(v[i:end]) {
			if out == nil {
				out = make([]byte, 0, len(v))
			}
			out = append(out, v[last:i]...)
			out = append(out, Redacted...)
			last = end
		}
		i = end
	}
	if out == nil {
		return v
	}
	return string(append(out, v[last:]...))
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// luhn checks the Luhn checksum of the digits in s (separators skipped).
func luhn(s string) bool {
	sum, double := 0, false
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if !isDigit(c) {
			continue
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// JSON scrubs a JSON document: values under sensitive keys (at any depth)
// become Redacted, strings are scrubbed by shape, and numbers that look
// like card numbers become Redacted. Input that is not one valid JSON
// value is scrubbed as text. Key order of objects is normalised (sorted).
func (s *Scrubber) JSON(b []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return []byte(s.String(string(b)))
	}
	if _, err := dec.Token(); err == nil { // trailing garbage after the value
		return []byte(s.String(string(b)))
	}
	out, err := json.Marshal(s.walk(v))
	if err != nil {
		return []byte(s.String(string(b)))
	}
	return out
}

// Any scrubs a decoded JSON-like value (maps, slices, strings) in place
// where it can and returns the result; Sentry's Extra and Contexts use it.
func (s *Scrubber) Any(v any) any { return s.walk(v) }

func (s *Scrubber) walk(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if s.SensitiveKey(k) {
				t[k] = Redacted
			} else {
				t[k] = s.walk(e)
			}
		}
		return t
	case map[string]string:
		for k, e := range t {
			t[k] = s.Value(k, e)
		}
		return t
	case []any:
		for i := range t {
			t[i] = s.walk(t[i])
		}
		return t
	case string:
		return s.String(t)
	case json.Number:
		if m := maskCards(string(t)); m != string(t) {
			return Redacted
		}
		return t
	default:
		return v
	}
}
