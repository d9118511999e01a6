package headers

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/csp"
)

// StageName is the stage's name in events and metrics.
const StageName = "security_headers"

// Header names the stage sets, in canonical form.
const (
	HeaderCSP                = "Content-Security-Policy"
	HeaderCSPReportOnly      = "Content-Security-Policy-Report-Only"
	HeaderReportingEndpoints = "Reporting-Endpoints"
	HeaderHSTS               = "Strict-Transport-Security"
	HeaderContentTypeOptions = "X-Content-Type-Options"
	HeaderFrameOptions       = "X-Frame-Options"
	HeaderXSSProtection      = "X-Xss-Protection"
	HeaderReferrerPolicy     = "Referrer-Policy"
	HeaderPermissionsPolicy  = "Permissions-Policy"
	HeaderCOOP               = "Cross-Origin-Opener-Policy"
	HeaderCOEP               = "Cross-Origin-Embedder-Policy"
	HeaderCORP               = "Cross-Origin-Resource-Policy"
	HeaderCacheControl       = "Cache-Control"
)

// Stage is the security-headers stage. It never denies a request: it sets
// the response headers of every request, including the problem responses
// of later stages' denials. It is safe for concurrent use.
type Stage struct {
	base   *profile
	routes map[routeKey]*profile
}

type routeKey struct{ method, route string }

// profile is the compiled header set of the base config or of one route.
type profile struct {
	names     []string // static headers, canonical names
	values    []string
	strip     []string
	hsts      string
	csp       *csp.Compiled // enforced policy with a nonce; nil when static or off
	cspRO     *csp.Compiled // report-only policy with a nonce
	nonce     bool
	noStore   string
	maxValues int
}

var (
	_ guard.Stage  = (*Stage)(nil)
	_ guard.Phased = (*Stage)(nil)
)

// New builds the stage from its defaults (see the package doc) and
// settings.
func New(settings ...Setting) (*Stage, error) {
	c := defaultConfig()
	for _, s := range settings {
		if s == nil {
			return nil, fmt.Errorf("headers: New: nil setting")
		}
		if err := s.apply(&c); err != nil {
			return nil, err
		}
	}
	base, err := compile(&c)
	if err != nil {
		return nil, err
	}
	st := &Stage{base: base}
	if len(c.routes) > 0 {
		st.routes = make(map[routeKey]*profile, len(c.routes))
	}
	for _, r := range c.routes {
		rc := c
		rc.routes, rc.inRoute = nil, true
		for _, s := range r.settings {
			if err := s.apply(&rc); err != nil {
				return nil, fmt.Errorf("headers: ForRoute(%q): %w", joinPattern(r.method, r.route), err)
			}
		}
		p, err := compile(&rc)
		if err != nil {
			return nil, fmt.Errorf("headers: ForRoute(%q): %w", joinPattern(r.method, r.route), err)
		}
		st.routes[routeKey{r.method, r.route}] = p
	}
	return st, nil
}

func joinPattern(method, route string) string {
	if method == "" {
		return route
	}
	return method + " " + route
}

// Option returns the guard.Option that adds the stage. An invalid setting
// makes guard.New fail with the error New would return.
func Option(settings ...Setting) guard.Option {
	s, err := New(settings...)
	if err != nil {
		return guard.WithStage(invalidStage{err})
	}
	return guard.WithStage(s)
}

// invalidStage carries a configuration error to guard.New, which calls
// Init and fails with it. Options are sealed, so this is how a package
// outside the core reports a bad setting through guard.New.
type invalidStage struct{ err error }

func (invalidStage) Name() string                        { return StageName }
func (invalidStage) Phase() guard.Phase                  { return guard.PhaseHeaders }
func (invalidStage) Check(*guard.Request) guard.Decision { return guard.Decision{} }
func (s invalidStage) Init(guard.Env) error              { return s.err }

// Name implements guard.Stage.
func (s *Stage) Name() string { return StageName }

// Phase implements guard.Phased: guard.PhaseHeaders.
func (s *Stage) Phase() guard.Phase { return guard.PhaseHeaders }

// Check implements guard.Stage: it sets the headers and allows.
func (s *Stage) Check(r *guard.Request) guard.Decision {
	w := r.Response
	if w == nil {
		return guard.Decision{}
	}
	p := s.base
	if s.routes != nil {
		if rp := s.routes[routeKey{r.Method, r.Route}]; rp != nil {
			p = rp
		} else if rp := s.routes[routeKey{"", r.Route}]; rp != nil {
			p = rp
		}
	}
	p.apply(w, r)
	return guard.Decision{}
}

func (p *profile) apply(w guard.HeaderWriter, r *guard.Request) {
	var nonce string
	if p.nonce {
		nonce = csp.RequestNonce(r)
	}
	https := p.hsts != "" && r.Scheme == "https"
	noStore := p.noStore != "" && r.Principal() != ""

	h, ok := w.(http.Header)
	if !ok {
		for _, k := range p.strip {
			w.Del(k)
		}
		for i, k := range p.names {
			w.Set(k, p.values[i])
		}
		if https {
			w.Set(HeaderHSTS, p.hsts)
		}
		if p.csp != nil {
			w.Set(HeaderCSP, p.csp.Value(nonce))
		}
		if p.cspRO != nil {
			w.Set(HeaderCSPReportOnly, p.cspRO.Value(nonce))
		}
		if noStore {
			w.Set(HeaderCacheControl, p.noStore)
		}
		return
	}
	// http.Header: every value shares one backing array, each element
	// capped at length 1 so that a handler's Add copies instead of
	// writing into its neighbour. One allocation for all the headers.
	for _, k := range p.strip {
		delete(h, k)
	}
	vals := make([]string, 0, p.maxValues)
	set := func(k, v string) {
		vals = append(vals, v)
		n := len(vals)
		h[k] = vals[n-1 : n : n]
	}
	for i, k := range p.names {
		set(k, p.values[i])
	}
	if https {
		set(HeaderHSTS, p.hsts)
	}
	if p.csp != nil {
		set(HeaderCSP, p.csp.Value(nonce))
	}
	if p.cspRO != nil {
		set(HeaderCSPReportOnly, p.cspRO.Value(nonce))
	}
	if noStore {
		set(HeaderCacheControl, p.noStore)
	}
}

func compile(c *config) (*profile, error) {
	p := &profile{strip: slices.Clone(c.strip)}
	add := func(k, v string) {
		if v != "" {
			p.names = append(p.names, k)
			p.values = append(p.values, v)
		}
	}
	var enforced, reportOnly *csp.Compiled
	var err error
	if c.cspOn {
		if enforced, err = c.csp.Compile(); err != nil {
			return nil, fmt.Errorf("headers: WithCSP: %w", err)
		}
	}
	if c.cspROOn {
		if reportOnly, err = c.cspRO.Compile(); err != nil {
			return nil, fmt.Errorf("headers: WithCSPReportOnly: %w", err)
		}
	}

	add(HeaderContentTypeOptions, "nosniff")
	add(HeaderFrameOptions, frameOptions(c.frame, enforced))
	add(HeaderXSSProtection, string(c.xss))
	add(HeaderReferrerPolicy, string(c.referrer))
	if c.permOn {
		add(HeaderPermissionsPolicy, c.permissions.String())
	}
	add(HeaderCOOP, string(c.coop))
	add(HeaderCOEP, string(c.coep))
	add(HeaderCORP, string(c.corp))
	switch {
	case enforced == nil:
	case enforced.NeedsNonce():
		p.csp, p.nonce = enforced, true
	default:
		add(HeaderCSP, enforced.Value(""))
	}
	switch {
	case reportOnly == nil:
	case reportOnly.NeedsNonce():
		p.cspRO, p.nonce = reportOnly, true
	default:
		add(HeaderCSPReportOnly, reportOnly.Value(""))
	}
	ep, err := endpoints(enforced, reportOnly)
	if err != nil {
		return nil, err
	}
	add(HeaderReportingEndpoints, ep)
	if c.hstsOn {
		p.hsts = c.hsts.String()
	}
	if c.noStoreAuth {
		p.noStore = c.cacheControl
	}
	p.maxValues = len(p.names) + 4
	return p, nil
}

// frameOptions derives X-Frame-Options; see FrameAuto.
func frameOptions(f FrameOptions, enforced *csp.Compiled) string {
	switch f {
	case FrameDeny, FrameSameOrigin:
		return string(f)
	case FrameOff:
		return ""
	}
	if enforced == nil {
		return string(FrameDeny)
	}
	anc, ok := enforced.FrameAncestors()
	switch {
	case !ok, len(anc) == 1 && anc[0] == string(csp.None):
		return string(FrameDeny)
	case len(anc) == 1 && anc[0] == string(csp.Self):
		return string(FrameSameOrigin)
	}
	return ""
}

// endpoints merges the Reporting-Endpoints of both policies.
func endpoints(a, b *csp.Compiled) (string, error) {
	var ea, eb string
	if a != nil {
		ea = a.ReportingEndpoints()
	}
	if b != nil {
		eb = b.ReportingEndpoints()
	}
	switch {
	case ea == "" || ea == eb:
		return eb, nil
	case eb == "":
		return ea, nil
	}
	ga, _, _ := cutEndpoint(ea)
	gb, _, _ := cutEndpoint(eb)
	if ga == gb {
		return "", fmt.Errorf("headers: WithCSPReportOnly: report-to group %q names another URL than the enforced policy's", ga)
	}
	return ea + ", " + eb, nil
}

func cutEndpoint(e string) (group, url string, ok bool) {
	for i := 0; i < len(e); i++ {
		if e[i] == '=' {
			return e[:i], e[i+1:], true
		}
	}
	return e, "", false
}
