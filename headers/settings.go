package headers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/guardsdk/guard/csp"
)

// Setting configures the security-headers stage. Settings come only from
// this package's functions; an invalid one makes New (and so guard.New)
// fail with an error naming the setting and the bad value.
type Setting interface {
	apply(*config) error
}

type settingFunc func(*config) error

func (f settingFunc) apply(c *config) error { return f(c) }

// HSTS is a Strict-Transport-Security policy. It is sent only on requests
// whose scheme is https: a TLS connection, or X-Forwarded-Proto (or
// Forwarded proto=) from a proxy listed in guard.WithTrustedProxies.
// Browsers ignore HSTS received over plain HTTP, and a forged header from
// an untrusted peer is never believed.
type HSTS struct {
	// MaxAge is how long browsers remember to use only HTTPS; whole
	// seconds, at least 0 (0 tells browsers to forget).
	MaxAge time.Duration
	// IncludeSubDomains extends the policy to every subdomain.
	IncludeSubDomains bool
	// Preload adds the preload directive, asking to be built into
	// browsers (https://hstspreload.org). It is accepted only when the
	// list's rules hold: MaxAge at least one year (MinPreloadMaxAge) and
	// IncludeSubDomains. Preloading is hard to undo: read the site first.
	Preload bool
}

// HSTS limits and defaults.
const (
	// DefaultHSTSMaxAge is one year: long enough for the Observatory (at
	// least six months) and for preloading.
	DefaultHSTSMaxAge = 365 * 24 * time.Hour
	// MinPreloadMaxAge is the shortest max-age the preload list accepts.
	MinPreloadMaxAge = 365 * 24 * time.Hour
)

// String renders h as a header value, for example
// "max-age=31536000; includeSubDomains".
func (h HSTS) String() string {
	s := "max-age=" + strconv.FormatInt(int64(h.MaxAge/time.Second), 10)
	if h.IncludeSubDomains {
		s += "; includeSubDomains"
	}
	if h.Preload {
		s += "; preload"
	}
	return s
}

func (h HSTS) validate() error {
	if h.MaxAge < 0 {
		return fmt.Errorf("max-age %v is negative", h.MaxAge)
	}
	if h.MaxAge%time.Second != 0 {
		return fmt.Errorf("max-age %v is not a whole number of seconds", h.MaxAge)
	}
	if h.Preload {
		if h.MaxAge < MinPreloadMaxAge {
			return fmt.Errorf("preload needs max-age of at least %d seconds (1 year), got %d", int64(MinPreloadMaxAge/time.Second), int64(h.MaxAge/time.Second))
		}
		if !h.IncludeSubDomains {
			return errors.New("preload needs includeSubDomains")
		}
	}
	return nil
}

// ReferrerPolicy is a Referrer-Policy value.
type ReferrerPolicy string

// Referrer policies. The four first keep the path and query of the page
// from other origins; the Observatory rates them "private". The others
// leak the origin (or the full URL) to other sites, and are accepted
// because some sites need them.
const (
	NoReferrer                  ReferrerPolicy = "no-referrer"
	SameOrigin                  ReferrerPolicy = "same-origin"
	StrictOrigin                ReferrerPolicy = "strict-origin"
	StrictOriginWhenCrossOrigin ReferrerPolicy = "strict-origin-when-cross-origin"
	Origin                      ReferrerPolicy = "origin"
	OriginWhenCrossOrigin       ReferrerPolicy = "origin-when-cross-origin"
	NoReferrerWhenDowngrade     ReferrerPolicy = "no-referrer-when-downgrade"
	UnsafeURL                   ReferrerPolicy = "unsafe-url"
)

// COOP is a Cross-Origin-Opener-Policy value; "" omits the header.
type COOP string

// Cross-Origin-Opener-Policy values.
const (
	COOPSameOrigin            COOP = "same-origin"
	COOPSameOriginAllowPopups COOP = "same-origin-allow-popups"
	COOPNoOpenerAllowPopups   COOP = "noopener-allow-popups"
	COOPUnsafeNone            COOP = "unsafe-none"
)

// COEP is a Cross-Origin-Embedder-Policy value; "" omits the header (the
// default: require-corp breaks pages that embed cross-origin resources
// without CORP or CORS headers, so it is an opt-in for pages that need
// cross-origin isolation).
type COEP string

// Cross-Origin-Embedder-Policy values.
const (
	COEPRequireCorp    COEP = "require-corp"
	COEPCredentialless COEP = "credentialless"
	COEPUnsafeNone     COEP = "unsafe-none"
)

// CORP is a Cross-Origin-Resource-Policy value; "" omits the header.
type CORP string

// Cross-Origin-Resource-Policy values.
const (
	CORPSameOrigin  CORP = "same-origin"
	CORPSameSite    CORP = "same-site"
	CORPCrossOrigin CORP = "cross-origin"
)

// FrameOptions chooses the X-Frame-Options header.
type FrameOptions string

// X-Frame-Options choices.
const (
	// FrameAuto (the default) derives X-Frame-Options from the enforced
	// CSP's frame-ancestors, for browsers that predate it: 'none' (or no
	// frame-ancestors, or no CSP) gives DENY, 'self' alone gives
	// SAMEORIGIN, anything else omits the header (it cannot express a list
	// of origins, and browsers that know frame-ancestors ignore it).
	FrameAuto       FrameOptions = ""
	FrameDeny       FrameOptions = "DENY"
	FrameSameOrigin FrameOptions = "SAMEORIGIN"
	FrameOff        FrameOptions = "off"
)

// XSSProtection is an X-XSS-Protection value.
type XSSProtection string

// X-XSS-Protection values.
const (
	// XSSFilterOff ("0", the default) turns off the XSS auditor of old
	// browsers. The auditor was removed from Chrome (78) and Edge, never
	// existed in Firefox, and was itself a vulnerability: an attacker
	// could make it delete chosen parts of a page, or detect what a page
	// contained by whether it blocked (XS-Leaks). A strict CSP is the
	// protection; "0" makes sure no remaining browser second-guesses it.
	XSSFilterOff XSSProtection = "0"
	// XSSFilterBlock ("1; mode=block") is what older checklists ask for:
	// on browsers that still have the auditor, it stops rendering a page
	// when it thinks it sees reflected script. Choose it only when a
	// policy requires that value; it protects no current browser.
	XSSFilterBlock XSSProtection = "1; mode=block"
)

type config struct {
	csp          csp.Policy
	cspOn        bool
	cspRO        csp.Policy
	cspROOn      bool
	hsts         HSTS
	hstsOn       bool
	referrer     ReferrerPolicy
	permissions  PermissionsPolicy
	permOn       bool
	coop         COOP
	coep         COEP
	corp         CORP
	frame        FrameOptions
	xss          XSSProtection
	noStoreAuth  bool
	cacheControl string
	strip        []string
	routes       []routeSpec
	inRoute      bool
}

type routeSpec struct {
	method, route string
	settings      []Setting
}

func defaultConfig() config {
	return config{
		csp:          csp.API(),
		cspOn:        true,
		hsts:         HSTS{MaxAge: DefaultHSTSMaxAge, IncludeSubDomains: true},
		hstsOn:       true,
		referrer:     StrictOriginWhenCrossOrigin,
		permissions:  DefaultPermissionsPolicy(),
		permOn:       true,
		coop:         COOPSameOrigin,
		corp:         CORPSameOrigin,
		xss:          XSSFilterOff,
		noStoreAuth:  true,
		cacheControl: "no-store",
		strip:        []string{"Server", "X-Powered-By"},
	}
}

// WithCSP sets the enforced Content-Security-Policy (default csp.API()).
// Use csp.HTML() for pages; a policy with csp.NonceSource makes the stage
// draw a fresh nonce per request, available as csp.Nonce(ctx).
func WithCSP(p csp.Policy) Setting {
	return settingFunc(func(c *config) error {
		if err := p.Validate(); err != nil {
			return fmt.Errorf("headers: WithCSP: %w", err)
		}
		c.csp, c.cspOn = p, true
		return nil
	})
}

// WithoutCSP sends no enforced policy (a report-only one, if set, still
// goes out). Use it with WithCSPReportOnly to trial a policy: browsers
// report what it would block and block nothing.
func WithoutCSP() Setting {
	return settingFunc(func(c *config) error {
		c.cspOn = false
		return nil
	})
}

// WithCSPReportOnly adds a Content-Security-Policy-Report-Only policy:
// browsers report violations of it (to its ReportURI / ReportTo) and
// block nothing. It may run beside the enforced policy, to try a stricter
// one; both share the request's nonce.
func WithCSPReportOnly(p csp.Policy) Setting {
	return settingFunc(func(c *config) error {
		if err := p.Validate(); err != nil {
			return fmt.Errorf("headers: WithCSPReportOnly: %w", err)
		}
		c.cspRO, c.cspROOn = p, true
		return nil
	})
}

// WithHSTS sets the Strict-Transport-Security policy (default one year
// with includeSubDomains, no preload). It fails for a negative or
// fractional max-age and for preload without its rules.
func WithHSTS(h HSTS) Setting {
	return settingFunc(func(c *config) error {
		if err := h.validate(); err != nil {
			return fmt.Errorf("headers: WithHSTS: %w", err)
		}
		c.hsts, c.hstsOn = h, true
		return nil
	})
}

// WithoutHSTS sends no Strict-Transport-Security header, for a service
// whose TLS is not yet settled. HSTS is sent only over HTTPS anyway.
func WithoutHSTS() Setting {
	return settingFunc(func(c *config) error {
		c.hstsOn = false
		return nil
	})
}

// WithReferrerPolicy sets Referrer-Policy (default
// strict-origin-when-cross-origin: other origins see only the origin, and
// nothing on a downgrade to http; the page's own origin sees the full
// URL). NoReferrer is stricter, but it also makes browsers send
// Origin: null on form posts, same-origin ones included (Fetch standard),
// which origin-based CSRF checks cannot tell from a forgery on browsers
// without Sec-Fetch-Site. "" omits the header.
func WithReferrerPolicy(p ReferrerPolicy) Setting {
	return settingFunc(func(c *config) error {
		switch p {
		case "", NoReferrer, SameOrigin, StrictOrigin, StrictOriginWhenCrossOrigin,
			Origin, OriginWhenCrossOrigin, NoReferrerWhenDowngrade, UnsafeURL:
			c.referrer = p
			return nil
		}
		return fmt.Errorf("headers: WithReferrerPolicy: invalid policy %q", string(p))
	})
}

// WithPermissionsPolicy sets Permissions-Policy (default
// DefaultPermissionsPolicy()).
func WithPermissionsPolicy(p PermissionsPolicy) Setting {
	return settingFunc(func(c *config) error {
		if err := p.Validate(); err != nil {
			return fmt.Errorf("headers: WithPermissionsPolicy: %w", err)
		}
		c.permissions, c.permOn = p, true
		return nil
	})
}

// WithoutPermissionsPolicy sends no Permissions-Policy header.
func WithoutPermissionsPolicy() Setting {
	return settingFunc(func(c *config) error {
		c.permOn = false
		return nil
	})
}

// WithCOOP sets Cross-Origin-Opener-Policy (default same-origin); ""
// omits it.
func WithCOOP(v COOP) Setting {
	return settingFunc(func(c *config) error {
		switch v {
		case "", COOPSameOrigin, COOPSameOriginAllowPopups, COOPNoOpenerAllowPopups, COOPUnsafeNone:
			c.coop = v
			return nil
		}
		return fmt.Errorf("headers: WithCOOP: invalid value %q", string(v))
	})
}

// WithCOEP sets Cross-Origin-Embedder-Policy (default: not sent).
func WithCOEP(v COEP) Setting {
	return settingFunc(func(c *config) error {
		switch v {
		case "", COEPRequireCorp, COEPCredentialless, COEPUnsafeNone:
			c.coep = v
			return nil
		}
		return fmt.Errorf("headers: WithCOEP: invalid value %q", string(v))
	})
}

// WithCORP sets Cross-Origin-Resource-Policy (default same-origin: other
// sites cannot embed the responses as images, scripts or media; CORS
// fetches are not affected). Use CORPCrossOrigin on routes that serve
// public assets to other sites; "" omits it.
func WithCORP(v CORP) Setting {
	return settingFunc(func(c *config) error {
		switch v {
		case "", CORPSameOrigin, CORPSameSite, CORPCrossOrigin:
			c.corp = v
			return nil
		}
		return fmt.Errorf("headers: WithCORP: invalid value %q", string(v))
	})
}

// WithFrameOptions sets X-Frame-Options (default FrameAuto).
func WithFrameOptions(v FrameOptions) Setting {
	return settingFunc(func(c *config) error {
		switch v {
		case FrameAuto, FrameDeny, FrameSameOrigin, FrameOff:
			c.frame = v
			return nil
		}
		return fmt.Errorf("headers: WithFrameOptions: invalid value %q", string(v))
	})
}

// WithXSSProtection sets X-XSS-Protection (default XSSFilterOff, "0"); see
// XSSFilterOff and XSSFilterBlock for why.
func WithXSSProtection(v XSSProtection) Setting {
	return settingFunc(func(c *config) error {
		switch v {
		case XSSFilterOff, XSSFilterBlock:
			c.xss = v
			return nil
		}
		return fmt.Errorf("headers: WithXSSProtection: invalid value %q (want \"0\" or \"1; mode=block\")", string(v))
	})
}

// WithAuthenticatedCacheControl sets the Cache-Control of responses to
// authenticated requests (guard's principal is not ""): default
// "no-store", so that shared caches and the browser's back/forward cache
// never keep a user's data. "" turns it off. A handler that sets its own
// Cache-Control overrides it.
func WithAuthenticatedCacheControl(value string) Setting {
	return settingFunc(func(c *config) error {
		if !validValue(value) {
			return fmt.Errorf("headers: WithAuthenticatedCacheControl: invalid value %q", value)
		}
		c.cacheControl, c.noStoreAuth = value, value != ""
		return nil
	})
}

// WithStrip sets the response headers removed because they advertise the
// server's software (default Server and X-Powered-By). The stage removes
// what is set when it runs; see StripLeaks for headers a handler sets
// later.
func WithStrip(names ...string) Setting {
	return settingFunc(func(c *config) error {
		out := make([]string, 0, len(names))
		for _, n := range names {
			if !validName(n) {
				return fmt.Errorf("headers: WithStrip: invalid header name %q", n)
			}
			out = append(out, http.CanonicalHeaderKey(n))
		}
		c.strip = out
		return nil
	})
}

// ForRoute overrides settings for one route. pattern is "METHOD route" or
// "route" (every method), where route is the route template exactly as
// the adapter reports it (guard.Request.Route: "/embed/{id}" for
// net/http, "/embed/:id" for gin). The overrides apply on top of the
// stage's other settings, whatever their order. Matching is exact; a
// method-specific pattern wins over a method-less one.
func ForRoute(pattern string, settings ...Setting) Setting {
	return settingFunc(func(c *config) error {
		if c.inRoute {
			return fmt.Errorf("headers: ForRoute(%q): ForRoute cannot be nested", pattern)
		}
		method, route, err := parsePattern(pattern)
		if err != nil {
			return fmt.Errorf("headers: ForRoute(%q): %w", pattern, err)
		}
		for _, r := range c.routes {
			if r.method == method && r.route == route {
				return fmt.Errorf("headers: ForRoute(%q): route given twice", pattern)
			}
		}
		for _, s := range settings {
			if s == nil {
				return fmt.Errorf("headers: ForRoute(%q): nil setting", pattern)
			}
		}
		c.routes = append(c.routes, routeSpec{method, route, settings})
		return nil
	})
}

func parsePattern(p string) (method, route string, err error) {
	p = strings.TrimSpace(p)
	if i := strings.IndexAny(p, " \t"); i >= 0 {
		method, route = p[:i], strings.TrimSpace(p[i+1:])
		if !validMethod(method) {
			return "", "", fmt.Errorf("invalid method %q", method)
		}
	} else {
		route = p
	}
	if route == "" || route[0] != '/' {
		return "", "", errors.New("route must start with /")
	}
	for i := 0; i < len(route); i++ {
		if route[i] <= ' ' || route[i] == 0x7f {
			return "", "", errors.New("route contains whitespace or control characters")
		}
	}
	return method, route, nil
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		if m[i] < 'A' || m[i] > 'Z' {
			return false
		}
	}
	return true
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' && s[i] != '\t' || s[i] == 0x7f {
			return false
		}
	}
	return true
}
