package csrf

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/guardsdk/guard"
)

// StageName is the stage's name in events and metrics.
const StageName = "csrf"

// Reasons of a rejection: the problem body's "code", the event's Reason
// and its "reason" attribute.
const (
	// ReasonCrossOrigin: Sec-Fetch-Site is same-site or cross-site and the
	// Origin is not trusted.
	ReasonCrossOrigin = "cross_origin"
	// ReasonFetchMetadata: Sec-Fetch-Site has an unknown value or is
	// repeated.
	ReasonFetchMetadata = "invalid_fetch_metadata"
	// ReasonOriginMismatch: no Sec-Fetch-Site, and the Origin is neither
	// the request's own (scheme and host) nor trusted.
	ReasonOriginMismatch = "origin_mismatch"
	// ReasonNullOrigin: no Sec-Fetch-Site, Origin "null", and no valid
	// token.
	ReasonNullOrigin = "null_origin"
	// ReasonInvalidOrigin: the Origin has userinfo, is not exactly
	// scheme://host[:port], or is repeated.
	ReasonInvalidOrigin = "invalid_origin"
	// ReasonTokenMissing: token mode, neither header present, and no
	// token cookie or no submitted token.
	ReasonTokenMissing = "token_missing"
	// ReasonBadToken: the submitted token is malformed, does not match the
	// cookie, or was minted for another session or with an unknown key.
	ReasonBadToken = "bad_token"
	// ReasonBodyTooLarge: the urlencoded body searched for the token is
	// over MaxFormBody (answered 413).
	ReasonBodyTooLarge = "body_too_large"
)

const detail = "The request was refused as a possible cross-site request forgery."

// Protection is the CSRF stage. Build it with New; it is immutable and
// safe for concurrent use. Its Check is the decision, usable without a
// Guard pipeline (tests, other frameworks).
type Protection struct {
	trusted map[string]bool // normalised origins
	bypass  map[routeKey]bool
	token   *tokenConfig
}

type routeKey struct{ method, route string }

var (
	_ guard.Stage  = (*Protection)(nil)
	_ guard.Phased = (*Protection)(nil)
)

// Setting configures the CSRF stage; an invalid one makes New (and
// guard.New through Option) fail naming the setting and the value.
type Setting interface {
	apply(*Protection) error
}

type settingFunc func(*Protection) error

func (f settingFunc) apply(p *Protection) error { return f(p) }

// TrustedOrigins allows unsafe requests from these exact origins, each
// "scheme://host[:port]" (no path, query, fragment, userinfo or
// wildcard; scheme and host are compared case-insensitively and the
// scheme's default port is ignored). Use it for a separate front-end
// origin that posts to this API.
func TrustedOrigins(origins ...string) Setting {
	return settingFunc(func(p *Protection) error {
		for _, s := range origins {
			o, err := parseOrigin(s)
			if err != nil {
				return fmt.Errorf("csrf: TrustedOrigins: invalid origin %q: %w", s, err)
			}
			if p.trusted == nil {
				p.trusted = map[string]bool{}
			}
			p.trusted[o.String()] = true
		}
		return nil
	})
}

// Bypass exempts one route from every check: method (upper case) and the
// route template exactly as the adapter reports it (guard.Request.Route,
// "/webhooks/{provider}" for net/http). Matching is exact, never a
// prefix, and the unmatched route cannot be bypassed. Use it for
// endpoints authenticated otherwise (signed webhooks) and for the CSP
// report endpoint.
func Bypass(method, route string) Setting {
	return settingFunc(func(p *Protection) error {
		if !validMethod(method) {
			return fmt.Errorf("csrf: Bypass: invalid method %q (want an upper-case token such as POST)", method)
		}
		if route == "" || route[0] != '/' {
			return fmt.Errorf("csrf: Bypass: route %q must start with /", route)
		}
		if strings.ContainsAny(route, " \t\r\n") {
			return fmt.Errorf("csrf: Bypass: route %q contains whitespace", route)
		}
		if p.bypass == nil {
			p.bypass = map[routeKey]bool{}
		}
		p.bypass[routeKey{method, route}] = true
		return nil
	})
}

// WithToken turns on the masked double-submit token for requests that
// carry neither Sec-Fetch-Site nor a usable Origin (browsers that predate
// Fetch Metadata, such as Safari before 16.4; some privacy extensions and
// webviews; Origin "null" too).
// Without it such requests are allowed, as net/http does: they are either
// same-origin or not from a browser. See Token for issuing tokens.
func WithToken(cfg TokenConfig) Setting {
	return settingFunc(func(p *Protection) error {
		t, err := newTokenConfig(cfg)
		if err != nil {
			return err
		}
		p.token = t
		return nil
	})
}

func validMethod(m string) bool {
	if m == "" || len(m) > 32 {
		return false
	}
	for i := 0; i < len(m); i++ {
		if m[i] < 'A' || m[i] > 'Z' {
			return false
		}
	}
	return true
}

// New builds the CSRF stage.
func New(settings ...Setting) (*Protection, error) {
	p := &Protection{}
	for _, s := range settings {
		if s == nil {
			return nil, errors.New("csrf: New: nil setting")
		}
		if err := s.apply(p); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Option returns the guard.Option that adds the stage; an invalid
// setting makes guard.New fail with New's error.
func Option(settings ...Setting) guard.Option {
	p, err := New(settings...)
	if err != nil {
		return guard.WithStage(invalidStage{err})
	}
	return guard.WithStage(p)
}

// invalidStage carries a configuration error to guard.New through Init:
// options are sealed, so a package outside the core reports one this way.
type invalidStage struct{ err error }

func (invalidStage) Name() string                        { return StageName }
func (invalidStage) Phase() guard.Phase                  { return guard.PhaseCSRF }
func (invalidStage) Check(*guard.Request) guard.Decision { return guard.Decision{} }
func (s invalidStage) Init(guard.Env) error              { return s.err }

// Name implements guard.Stage.
func (p *Protection) Name() string { return StageName }

// Phase implements guard.Phased: guard.PhaseCSRF.
func (p *Protection) Phase() guard.Phase { return guard.PhaseCSRF }

// Check implements guard.Stage; see the package doc for the algorithm.
func (p *Protection) Check(r *guard.Request) guard.Decision {
	if p.token != nil {
		r.SetValue(protKey{}, p) // for Token(ctx)
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return guard.Decision{}
	}
	if p.bypass != nil && p.bypass[routeKey{r.Method, r.Route}] {
		return guard.Decision{}
	}
	reason, signal := p.decide(r)
	if reason == "" {
		return guard.Decision{}
	}
	status := http.StatusForbidden
	if reason == ReasonBodyTooLarge {
		status = http.StatusRequestEntityTooLarge
	}
	if r.Wants(guard.KindCSRFRejected) {
		r.Emit(guard.Event{
			Kind:   guard.KindCSRFRejected,
			Stage:  StageName,
			Status: status,
			Reason: reason,
			Attrs:  []guard.Attr{{Key: "reason", Value: reason}, {Key: "signal", Value: signal}},
		})
	}
	return guard.Deny(status, reason, detail)
}

// decide returns "" to allow, or the reason to reject and the signal that
// decided ("sec_fetch_site", "origin" or "token").
func (p *Protection) decide(r *guard.Request) (reason, signal string) {
	h := r.Header
	if h == nil {
		return p.fallback(r, "")
	}
	var sfs string
	switch v := h.Values("Sec-Fetch-Site"); len(v) {
	case 0:
	case 1:
		sfs = v[0]
	default:
		return ReasonFetchMetadata, "sec_fetch_site"
	}
	var rawOrigin string
	switch v := h.Values("Origin"); len(v) {
	case 0:
	case 1:
		rawOrigin = v[0]
	default:
		return ReasonInvalidOrigin, "origin"
	}

	switch sfs {
	case "":
		// No fetch metadata: an old browser or not a browser. Fall back on
		// Origin below.
	case "same-origin", "none":
		// The browser says so ("none": typed, bookmarked, dragged); a
		// non-browser client could lie, but it carries no victim's
		// credentials.
		return "", ""
	case "same-site", "cross-site":
		if p.trustedOrigin(rawOrigin) {
			return "", ""
		}
		return ReasonCrossOrigin, "sec_fetch_site"
	default:
		if p.trustedOrigin(rawOrigin) {
			return "", ""
		}
		return ReasonFetchMetadata, "sec_fetch_site"
	}

	if rawOrigin == "" {
		return p.fallback(r, "")
	}
	o, err := parseOrigin(rawOrigin)
	switch {
	case err == errNullOrigin:
		// An opaque origin, or a form post under Referrer-Policy
		// no-referrer: it proves nothing either way.
		return p.fallback(r, ReasonNullOrigin)
	case err != nil:
		return ReasonInvalidOrigin, "origin"
	case sameOrigin(o, r.Scheme, r.Host):
		return "", ""
	case p.trusted[rawOrigin] || p.trusted[o.String()]:
		return "", ""
	}
	return ReasonOriginMismatch, "origin"
}

// fallback decides a request with no usable browser signal: allowed
// without token mode unless orReason says otherwise, else by the token.
func (p *Protection) fallback(r *guard.Request, orReason string) (reason, signal string) {
	if p.token == nil {
		if orReason != "" {
			return orReason, "origin"
		}
		return "", ""
	}
	if reason := p.token.check(r); reason != "" {
		return reason, "token"
	}
	return "", ""
}

// trustedOrigin reports whether the raw Origin value is a trusted origin.
// A value that does not parse, "null" and userinfo are never trusted.
func (p *Protection) trustedOrigin(raw string) bool {
	if raw == "" || p.trusted == nil {
		return false
	}
	o, err := parseOrigin(raw)
	if err != nil {
		return false
	}
	return p.trusted[raw] || p.trusted[o.String()]
}
