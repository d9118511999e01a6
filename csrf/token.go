package csrf

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/guardsdk/guard"
)

// Token sizes and defaults.
const (
	// MinKeyLen is the shortest HMAC key WithToken accepts (256 bits).
	MinKeyLen = 32
	// DefaultCookieName is the token cookie's name; over HTTPS it gets the
	// __Host- prefix (Secure, Path=/, no Domain), so a sibling subdomain
	// cannot plant its own.
	DefaultCookieName = "csrf"
	// DefaultHeaderName is the request header scripts send the token in.
	DefaultHeaderName = "X-CSRF-Token"
	// DefaultFormField is the form field HTML forms send the token in.
	DefaultFormField = "csrf_token"
	// DefaultMaxFormBody caps the urlencoded body read to find the form
	// field; a larger body is answered 413.
	DefaultMaxFormBody = 1 << 20

	nonceLen  = 16
	macLen    = sha256.Size
	rawLen    = nonceLen + macLen // the token in the cookie
	maskedLen = 2 * rawLen        // mask || token XOR mask, sent in pages
)

// TokenConfig configures the optional token check (WithToken).
type TokenConfig struct {
	// Key signs tokens with HMAC-SHA256; at least MinKeyLen bytes, secret,
	// and the same on every instance of the service.
	Key []byte
	// PreviousKeys still verify tokens (key rotation) but never sign.
	PreviousKeys [][]byte
	// CookieName, HeaderName and FormField default to DefaultCookieName,
	// DefaultHeaderName and DefaultFormField. FormField "-" turns form
	// parsing off: the token is then read from the header only.
	CookieName string
	HeaderName string
	FormField  string
	// MaxFormBody caps the urlencoded body read for FormField (default
	// DefaultMaxFormBody).
	MaxFormBody int64
	// SameSite of the cookie: http.SameSiteLaxMode (default) or
	// http.SameSiteStrictMode. None is refused.
	SameSite http.SameSite
	// SessionID returns the id the token is bound to; default the
	// request's principal (guard.WithPrincipal). A token minted for one
	// session never verifies for another.
	SessionID func(*guard.Request) string
}

type tokenConfig struct {
	keys     [][]byte
	cookie   string
	header   string
	field    string
	maxForm  int64
	sameSite http.SameSite
	session  func(*guard.Request) string
}

func newTokenConfig(c TokenConfig) (*tokenConfig, error) {
	if len(c.Key) < MinKeyLen {
		return nil, fmt.Errorf("csrf: WithToken: key is %d bytes, want at least %d", len(c.Key), MinKeyLen)
	}
	t := &tokenConfig{
		keys:     [][]byte{append([]byte(nil), c.Key...)},
		cookie:   c.CookieName,
		header:   c.HeaderName,
		field:    c.FormField,
		maxForm:  c.MaxFormBody,
		sameSite: c.SameSite,
		session:  c.SessionID,
	}
	for i, k := range c.PreviousKeys {
		if len(k) < MinKeyLen {
			return nil, fmt.Errorf("csrf: WithToken: PreviousKeys[%d] is %d bytes, want at least %d", i, len(k), MinKeyLen)
		}
		t.keys = append(t.keys, append([]byte(nil), k...))
	}
	if t.cookie == "" {
		t.cookie = DefaultCookieName
	}
	if !validToken(t.cookie) || strings.HasPrefix(strings.ToLower(t.cookie), "__host-") || strings.HasPrefix(strings.ToLower(t.cookie), "__secure-") {
		return nil, fmt.Errorf("csrf: WithToken: invalid CookieName %q (letters, digits, '-', '_'; the __Host- prefix is added over HTTPS)", c.CookieName)
	}
	if t.header == "" {
		t.header = DefaultHeaderName
	}
	if !validToken(t.header) {
		return nil, fmt.Errorf("csrf: WithToken: invalid HeaderName %q", c.HeaderName)
	}
	t.header = http.CanonicalHeaderKey(t.header)
	switch t.field {
	case "":
		t.field = DefaultFormField
	case "-":
		t.field = ""
	default:
		if !validToken(t.field) {
			return nil, fmt.Errorf("csrf: WithToken: invalid FormField %q", c.FormField)
		}
	}
	switch {
	case t.maxForm == 0:
		t.maxForm = DefaultMaxFormBody
	case t.maxForm < 0:
		return nil, fmt.Errorf("csrf: WithToken: MaxFormBody %d is negative", c.MaxFormBody)
	}
	switch t.sameSite {
	case 0, http.SameSiteDefaultMode:
		t.sameSite = http.SameSiteLaxMode
	case http.SameSiteLaxMode, http.SameSiteStrictMode:
	default:
		return nil, fmt.Errorf("csrf: WithToken: SameSite %d not allowed (want Lax or Strict)", c.SameSite)
	}
	if t.session == nil {
		t.session = (*guard.Request).Principal
	}
	return t, nil
}

func validToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '-' || c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// mac computes HMAC-SHA256(key, len(sid) || sid || nonce); the length
// prefix keeps (sid, nonce) pairs from colliding.
func mac(key []byte, sid string, nonce []byte) []byte {
	m := hmac.New(sha256.New, key)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(sid)))
	m.Write([]byte("guard csrf v1\x00"))
	m.Write(n[:])
	m.Write([]byte(sid))
	m.Write(nonce)
	return m.Sum(nil)
}

// mint returns a new raw token bound to sid: nonce || mac.
func (t *tokenConfig) mint(sid string) []byte {
	raw := make([]byte, rawLen)
	_, _ = rand.Read(raw[:nonceLen])
	copy(raw[nonceLen:], mac(t.keys[0], sid, raw[:nonceLen]))
	return raw
}

// verify reports whether raw was minted for sid under one of the keys.
func (t *tokenConfig) verify(raw []byte, sid string) bool {
	if len(raw) != rawLen {
		return false
	}
	ok := 0
	for _, k := range t.keys {
		ok |= subtle.ConstantTimeCompare(raw[nonceLen:], mac(k, sid, raw[:nonceLen]))
	}
	return ok == 1
}

// mask returns a fresh encoding of raw: a random one-time pad followed by
// raw XOR pad, base64url. Each response carries a different string for the
// same token, so compression oracles (BREACH) learn nothing from repeats.
func mask(raw []byte) string {
	buf := make([]byte, maskedLen)
	_, _ = rand.Read(buf[:rawLen])
	for i := range rawLen {
		buf[rawLen+i] = raw[i] ^ buf[i]
	}
	return base64.RawURLEncoding.EncodeToString(buf)
}

// unmask reverses mask; ok is false for anything that is not exactly a
// masked token.
func unmask(s string) (raw []byte, ok bool) {
	if base64.RawURLEncoding.EncodedLen(maskedLen) != len(s) {
		return nil, false
	}
	buf, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(buf) != maskedLen {
		return nil, false
	}
	raw = make([]byte, rawLen)
	for i := range rawLen {
		raw[i] = buf[rawLen+i] ^ buf[i]
	}
	return raw, true
}

func (t *tokenConfig) cookieName(https bool) string {
	if https {
		return "__Host-" + t.cookie
	}
	return t.cookie
}

// cookieTokens returns the decoded tokens of the request's token cookies
// (several when a cookie was tossed in beside ours).
func (t *tokenConfig) cookieTokens(r *guard.Request) [][]byte {
	if r.Header == nil {
		return nil
	}
	name := t.cookieName(r.Scheme == "https")
	var out [][]byte
	for _, line := range r.Header.Values("Cookie") {
		if !strings.Contains(line, name) {
			continue
		}
		cookies, err := http.ParseCookie(line)
		if err != nil {
			continue
		}
		for _, c := range cookies {
			if c.Name != name || base64.RawURLEncoding.DecodedLen(len(c.Value)) != rawLen {
				continue
			}
			if raw, err := base64.RawURLEncoding.DecodeString(c.Value); err == nil && len(raw) == rawLen {
				out = append(out, raw)
			}
		}
	}
	return out
}

// submitted returns the token the request sends: the header, else the form
// field of an urlencoded body. tooLarge reports a body over the cap.
func (t *tokenConfig) submitted(r *guard.Request) (tok string, tooLarge bool) {
	if r.Header == nil {
		return "", false
	}
	if v := r.Header.Get(t.header); v != "" {
		return v, false
	}
	if t.field == "" || r.Body == nil {
		return "", false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return "", false
	}
	body, err := r.Body.ReadBody(t.maxForm)
	if err != nil {
		return "", err == guard.ErrBodyTooLarge
	}
	vals, _ := url.ParseQuery(string(body))
	return vals.Get(t.field), false
}

// check verifies the submitted token against the cookie and the session.
func (t *tokenConfig) check(r *guard.Request) (reason string) {
	cookies := t.cookieTokens(r)
	sub, tooLarge := t.submitted(r)
	switch {
	case tooLarge:
		return ReasonBodyTooLarge
	case len(cookies) == 0 || sub == "":
		return ReasonTokenMissing
	}
	raw, ok := unmask(sub)
	if !ok {
		return ReasonBadToken
	}
	sid := t.session(r)
	for _, c := range cookies {
		if subtle.ConstantTimeCompare(raw, c) == 1 && t.verify(c, sid) {
			return ""
		}
	}
	return ReasonBadToken
}

type protKey struct{}
type mintedKey struct{}

// Token returns a masked CSRF token for the request ctx belongs to, to
// embed in the page (a hidden form field named like TokenConfig.FormField,
// or a <meta> tag scripts copy into the header). Each call returns a
// different string for the same token.
//
// The first call of a request whose token cookie is missing, or bound to
// another session, mints a token and adds its Set-Cookie to the response:
// call Token before the response header is written. Token returns "" when
// the request has no guard context or the CSRF stage has no WithToken.
func Token(ctx context.Context) string {
	r, ok := guard.FromContext(ctx)
	if !ok {
		return ""
	}
	p, _ := r.Value(protKey{}).(*Protection)
	if p == nil || p.token == nil {
		return ""
	}
	t := p.token
	if raw, ok := r.Value(mintedKey{}).([]byte); ok {
		return mask(raw)
	}
	sid := t.session(r)
	for _, c := range t.cookieTokens(r) {
		if t.verify(c, sid) {
			r.SetValue(mintedKey{}, c)
			return mask(c)
		}
	}
	raw := t.mint(sid)
	r.SetValue(mintedKey{}, raw)
	if r.Response != nil {
		https := r.Scheme == "https"
		c := http.Cookie{
			Name:     t.cookieName(https),
			Value:    base64.RawURLEncoding.EncodeToString(raw),
			Path:     "/",
			Secure:   https,
			HttpOnly: true,
			SameSite: t.sameSite,
		}
		r.Response.Add("Set-Cookie", c.String())
	}
	return mask(raw)
}
