package csp

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Directive names a CSP directive. The constants are the directives the
// builder accepts; any other name makes the Policy invalid.
type Directive string

// Fetch, document and navigation directives (CSP Level 3).
const (
	DefaultSrc     Directive = "default-src"
	ScriptSrc      Directive = "script-src"
	ScriptSrcElem  Directive = "script-src-elem"
	ScriptSrcAttr  Directive = "script-src-attr"
	StyleSrc       Directive = "style-src"
	StyleSrcElem   Directive = "style-src-elem"
	StyleSrcAttr   Directive = "style-src-attr"
	ImgSrc         Directive = "img-src"
	FontSrc        Directive = "font-src"
	ConnectSrc     Directive = "connect-src"
	MediaSrc       Directive = "media-src"
	ObjectSrc      Directive = "object-src"
	FrameSrc       Directive = "frame-src"
	ChildSrc       Directive = "child-src"
	WorkerSrc      Directive = "worker-src"
	ManifestSrc    Directive = "manifest-src"
	FencedFrameSrc Directive = "fenced-frame-src"
	BaseURI        Directive = "base-uri"
	FormAction     Directive = "form-action"
	FrameAncestors Directive = "frame-ancestors"
	// Sandbox takes sandbox tokens ("allow-scripts", ...), not sources; an
	// empty list sandboxes with every restriction.
	Sandbox Directive = "sandbox"
	// UpgradeInsecureRequests takes no value.
	UpgradeInsecureRequests Directive = "upgrade-insecure-requests"
	// RequireTrustedTypesFor takes only "'script'".
	RequireTrustedTypesFor Directive = "require-trusted-types-for"
	// TrustedTypes takes policy names, "'none'" and "'allow-duplicates'".
	TrustedTypes Directive = "trusted-types"
)

// reportURI and reportTo are set with Policy.ReportURI and Policy.ReportTo,
// which keep the Reporting-Endpoints header in step; Set rejects them.
const (
	reportURI Directive = "report-uri"
	reportTo  Directive = "report-to"
)

type dirKind uint8

const (
	kindFetch    dirKind = iota // a source list
	kindAncestor                // frame-ancestors: 'self', 'none', hosts, schemes
	kindSandbox
	kindNoValue
	kindTTFor
	kindTT
)

var directives = map[Directive]dirKind{
	DefaultSrc: kindFetch, ScriptSrc: kindFetch, ScriptSrcElem: kindFetch,
	ScriptSrcAttr: kindFetch, StyleSrc: kindFetch, StyleSrcElem: kindFetch,
	StyleSrcAttr: kindFetch, ImgSrc: kindFetch, FontSrc: kindFetch,
	ConnectSrc: kindFetch, MediaSrc: kindFetch, ObjectSrc: kindFetch,
	FrameSrc: kindFetch, ChildSrc: kindFetch, WorkerSrc: kindFetch,
	ManifestSrc: kindFetch, FencedFrameSrc: kindFetch, BaseURI: kindFetch,
	FormAction:              kindFetch,
	FrameAncestors:          kindAncestor,
	Sandbox:                 kindSandbox,
	UpgradeInsecureRequests: kindNoValue,
	RequireTrustedTypesFor:  kindTTFor,
	TrustedTypes:            kindTT,
}

// KnownDirective reports whether name is a directive this package knows,
// including report-uri and report-to.
func KnownDirective(name string) bool {
	_, ok := directives[Directive(name)]
	return ok || name == string(reportURI) || name == string(reportTo)
}

// Source is one element of a source list: a keyword, a host or scheme
// source, a hash, or NonceSource. Build hosts and schemes with Host and
// Scheme (or convert a string); the Policy validates every source.
type Source string

// Keyword sources.
const (
	None                   Source = "'none'"
	Self                   Source = "'self'"
	StrictDynamic          Source = "'strict-dynamic'"
	UnsafeInline           Source = "'unsafe-inline'"
	UnsafeEval             Source = "'unsafe-eval'"
	UnsafeHashes           Source = "'unsafe-hashes'"
	WasmUnsafeEval         Source = "'wasm-unsafe-eval'"
	ReportSample           Source = "'report-sample'"
	InlineSpeculationRules Source = "'inline-speculation-rules'"
	// NonceSource stands for a fresh nonce per request ('nonce-…'). The
	// headers stage draws it, renders it into the header and makes it
	// available to handlers through Nonce(ctx). Fixed nonces written as
	// 'nonce-…' literals are rejected: a nonce that repeats protects
	// nothing.
	NonceSource Source = "'nonce-{nonce}'"
)

// Host returns a host source ("https://cdn.example.com",
// "*.example.com", "api.example.com:8443/v1/"). It is validated with the
// Policy.
func Host(s string) Source { return Source(s) }

// Scheme returns a scheme source: Scheme("https") is "https:".
func Scheme(name string) Source { return Source(strings.TrimSuffix(name, ":") + ":") }

// HashOf returns the 'sha256-…' source that allows exactly the inline
// script or style whose text is content.
func HashOf(content string) Source {
	sum := sha256.Sum256([]byte(content))
	return Source("'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'")
}

// Policy is an immutable Content-Security-Policy under construction. Each
// method returns a modified copy, so a base policy can be shared and
// specialised per route. Invalid input does not panic: the first error is
// kept and returned by Validate and Compile (and so by headers.WithCSP,
// which makes guard.New fail).
//
// The zero Policy has no directives; rendering it is an error.
type Policy struct {
	dirs      []entry
	reportURI string
	group     string
	groupURL  string
	err       error
}

type entry struct {
	name   Directive
	values []string
}

// API returns the strict policy for APIs that never serve active content:
//
//	default-src 'none'; frame-ancestors 'none'
//
// Nothing may be loaded, run or framed. A JSON or problem+json response
// needs nothing more.
func API() Policy {
	return Policy{}.
		Set(DefaultSrc, None).
		Set(FrameAncestors, None)
}

// HTML returns the strict policy for HTML pages:
//
//	default-src 'none'; script-src 'nonce-{nonce}' 'strict-dynamic';
//	style-src 'self' 'nonce-{nonce}'; img-src 'self'; font-src 'self';
//	connect-src 'self'; manifest-src 'self'; form-action 'self';
//	base-uri 'none'; object-src 'none'; frame-ancestors 'none'
//
// Scripts run only when they carry the request's nonce (<script
// nonce="{{.Nonce}}">) or are loaded by such a script ('strict-dynamic');
// there is no 'unsafe-inline' and no 'unsafe-eval', so injected markup
// cannot run script. Styles, images, fonts, fetches and the manifest come
// from the page's own origin; forms post only to it; plugins, <base> and
// framing are off. It is the policy the MDN HTTP Observatory scores
// highest (default-src 'none', no unsafe sources, frame-ancestors set).
func HTML() Policy {
	return Policy{}.
		Set(DefaultSrc, None).
		Set(ScriptSrc, NonceSource, StrictDynamic).
		Set(StyleSrc, Self, NonceSource).
		Set(ImgSrc, Self).
		Set(FontSrc, Self).
		Set(ConnectSrc, Self).
		Set(ManifestSrc, Self).
		Set(FormAction, Self).
		Set(BaseURI, None).
		Set(ObjectSrc, None).
		Set(FrameAncestors, None)
}

func (p Policy) clone() Policy {
	q := p
	q.dirs = slices.Clone(p.dirs)
	return q
}

func (p Policy) fail(err error) Policy {
	if p.err == nil {
		p.err = err
	}
	return p
}

// Set returns p with directive d set to exactly the given sources,
// replacing any earlier value (a policy never repeats a directive: the
// browser would ignore the repeat and the Observatory rejects it). The
// sources are validated against d's grammar; see Validate.
func (p Policy) Set(d Directive, sources ...Source) Policy {
	vals := make([]string, len(sources))
	for i, s := range sources {
		vals[i] = string(s)
	}
	if err := checkDirective(d, vals); err != nil {
		return p.fail(err)
	}
	q := p.clone()
	for i := range q.dirs {
		if q.dirs[i].name == d {
			q.dirs[i].values = vals
			return q
		}
	}
	q.dirs = append(q.dirs, entry{d, vals})
	return q
}

// Remove returns p without directive d.
func (p Policy) Remove(d Directive) Policy {
	q := p.clone()
	q.dirs = slices.DeleteFunc(q.dirs, func(e entry) bool { return e.name == d })
	return q
}

// Get returns the sources of directive d and whether p sets it.
func (p Policy) Get(d Directive) ([]Source, bool) {
	for _, e := range p.dirs {
		if e.name == d {
			out := make([]Source, len(e.values))
			for i, v := range e.values {
				out[i] = Source(v)
			}
			return out, true
		}
	}
	return nil, false
}

// ReportURI returns p with a report-uri directive: browsers POST
// violations there as application/csp-report JSON (see ReportHandler).
// uri is a path ("/csp-report") or an absolute https URL without query,
// fragment, whitespace, ';' or ','.
func (p Policy) ReportURI(uri string) Policy {
	if err := checkReportURL(uri); err != nil {
		return p.fail(fmt.Errorf("csp: report-uri: %w", err))
	}
	q := p.clone()
	q.reportURI = uri
	return q
}

// ReportTo returns p with a report-to directive naming group, and makes
// the headers stage send the matching Reporting-Endpoints header
// (group="url"), so browsers that implement the Reporting API POST
// application/reports+json there. Use it together with ReportURI: browsers
// that understand report-to ignore report-uri, the others use it.
func (p Policy) ReportTo(group, url string) Policy {
	if !isToken(group) {
		return p.fail(fmt.Errorf("csp: report-to: invalid group name %q (want letters, digits, '-' or '_')", group))
	}
	if err := checkReportURL(url); err != nil {
		return p.fail(fmt.Errorf("csp: report-to: %w", err))
	}
	q := p.clone()
	q.group, q.groupURL = group, url
	return q
}

// Validate reports the first invalid input given to the builder, or an
// error if p has no directive.
func (p Policy) Validate() error {
	if p.err != nil {
		return p.err
	}
	if len(p.dirs) == 0 {
		return errors.New("csp: policy has no directive")
	}
	return nil
}

// NeedsNonce reports whether p uses NonceSource.
func (p Policy) NeedsNonce() bool {
	for _, e := range p.dirs {
		if slices.Contains(e.values, string(NonceSource)) {
			return true
		}
	}
	return false
}

// String renders p with the nonce placeholder left as 'nonce-{nonce}'. An
// invalid policy renders as "" (see Validate).
func (p Policy) String() string {
	if p.Validate() != nil {
		return ""
	}
	return p.render("{nonce}")
}

func (p Policy) render(nonce string) string {
	var b strings.Builder
	for i, e := range p.dirs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(string(e.name))
		for _, v := range e.values {
			b.WriteByte(' ')
			if v == string(NonceSource) {
				b.WriteString("'nonce-")
				b.WriteString(nonce)
				b.WriteByte('\'')
				continue
			}
			b.WriteString(v)
		}
	}
	if p.reportURI != "" {
		b.WriteString("; report-uri ")
		b.WriteString(p.reportURI)
	}
	if p.group != "" {
		b.WriteString("; report-to ")
		b.WriteString(p.group)
	}
	return b.String()
}

// Compiled is a validated Policy prepared for rendering per request with
// few allocations. It is safe for concurrent use.
type Compiled struct {
	parts     []string // literal text; a nonce goes between consecutive parts
	size      int
	endpoints string
	ancestors []string
	hasAnc    bool
}

// Compile validates p and prepares it for rendering.
func (p Policy) Compile() (*Compiled, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	const marker = "\x00"
	full := p.render(marker)
	c := &Compiled{parts: strings.Split(full, marker)}
	for _, s := range c.parts {
		c.size += len(s)
	}
	if p.group != "" {
		c.endpoints = p.group + `="` + p.groupURL + `"`
	}
	for _, e := range p.dirs {
		if e.name == FrameAncestors {
			c.ancestors, c.hasAnc = slices.Clone(e.values), true
		}
	}
	return c, nil
}

// NeedsNonce reports whether the policy uses NonceSource.
func (c *Compiled) NeedsNonce() bool { return len(c.parts) > 1 }

// Value renders the header value with nonce in place of every
// NonceSource. nonce is ignored when the policy has none.
func (c *Compiled) Value(nonce string) string {
	if len(c.parts) == 1 {
		return c.parts[0]
	}
	var b strings.Builder
	b.Grow(c.size + (len(c.parts)-1)*len(nonce))
	b.WriteString(c.parts[0])
	for _, s := range c.parts[1:] {
		b.WriteString(nonce)
		b.WriteString(s)
	}
	return b.String()
}

// ReportingEndpoints returns the Reporting-Endpoints header value that
// ReportTo asked for, or "".
func (c *Compiled) ReportingEndpoints() string { return c.endpoints }

// FrameAncestors returns the frame-ancestors sources and whether the
// policy sets the directive.
func (c *Compiled) FrameAncestors() ([]string, bool) { return c.ancestors, c.hasAnc }

// Validation.

var errEmptyList = errors.New("empty source list (use None)")

func checkDirective(d Directive, vals []string) error {
	kind, ok := directives[d]
	if !ok {
		if d == reportURI || d == reportTo {
			return fmt.Errorf("csp: %s: set it with Policy.ReportURI or Policy.ReportTo", d)
		}
		return fmt.Errorf("csp: unknown directive %q", string(d))
	}
	switch kind {
	case kindNoValue:
		if len(vals) != 0 {
			return fmt.Errorf("csp: %s takes no value, got %q", d, vals)
		}
		return nil
	case kindSandbox:
		for _, v := range vals {
			if !sandboxTokens[v] {
				return fmt.Errorf("csp: %s: invalid sandbox token %q", d, v)
			}
		}
		return nil
	case kindTTFor:
		if len(vals) != 1 || vals[0] != "'script'" {
			return fmt.Errorf("csp: %s: want exactly \"'script'\", got %q", d, vals)
		}
		return nil
	case kindTT:
		for _, v := range vals {
			if v == "'none'" || v == "'allow-duplicates'" || v == "*" {
				continue
			}
			if !isPolicyName(v) {
				return fmt.Errorf("csp: %s: invalid policy name %q", d, v)
			}
		}
		if len(vals) > 1 && slices.Contains(vals, "'none'") {
			return fmt.Errorf("csp: %s: 'none' must be the only value", d)
		}
		return nil
	}
	if len(vals) == 0 {
		return fmt.Errorf("csp: %s: %w", d, errEmptyList)
	}
	if len(vals) > 1 && slices.Contains(vals, string(None)) {
		return fmt.Errorf("csp: %s: 'none' must be the only source, got %q", d, vals)
	}
	hasNonceOrHash := false
	for _, v := range vals {
		if err := checkSource(d, kind, v); err != nil {
			return fmt.Errorf("csp: %s: invalid source %q: %w", d, v, err)
		}
		if v == string(NonceSource) || isHash(v) {
			hasNonceOrHash = true
		}
	}
	if slices.Contains(vals, string(StrictDynamic)) && !hasNonceOrHash {
		return fmt.Errorf("csp: %s: 'strict-dynamic' needs NonceSource or a hash in the same list, or it blocks every script", d)
	}
	if slices.Index(vals, "") >= 0 {
		return fmt.Errorf("csp: %s: empty source", d)
	}
	if dup := firstDuplicate(vals); dup != "" {
		return fmt.Errorf("csp: %s: source %q given twice", d, dup)
	}
	return nil
}

func firstDuplicate(vals []string) string {
	for i := range vals {
		for j := i + 1; j < len(vals); j++ {
			if vals[i] == vals[j] {
				return vals[i]
			}
		}
	}
	return ""
}

var keywords = map[string]bool{
	string(None): true, string(Self): true, string(StrictDynamic): true,
	string(UnsafeInline): true, string(UnsafeEval): true, string(UnsafeHashes): true,
	string(WasmUnsafeEval): true, string(ReportSample): true,
	string(InlineSpeculationRules): true,
}

// scriptish reports whether nonces, hashes and script keywords make sense
// in directive d.
func scriptish(d Directive) bool {
	switch d {
	case DefaultSrc, ScriptSrc, ScriptSrcElem, ScriptSrcAttr, StyleSrc, StyleSrcElem, StyleSrcAttr:
		return true
	}
	return false
}

func checkSource(d Directive, kind dirKind, v string) error {
	if v == "" {
		return errors.New("empty")
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c >= 0x7f || c == ';' || c == ',' {
			return errors.New("whitespace, control, non-ASCII, ';' and ',' are not allowed")
		}
	}
	if kind == kindAncestor {
		switch {
		case v == string(None), v == string(Self):
			return nil
		case v[0] == '\'':
			return errors.New("frame-ancestors accepts only 'self', 'none', hosts and schemes")
		}
		return checkHostOrScheme(v)
	}
	if v[0] == '\'' {
		switch {
		case keywords[v]:
			if (v == string(StrictDynamic) || v == string(UnsafeHashes) || v == string(ReportSample) ||
				v == string(UnsafeInline) || v == string(UnsafeEval) || v == string(WasmUnsafeEval) ||
				v == string(InlineSpeculationRules)) && !scriptish(d) {
				return fmt.Errorf("keyword only valid in script and style directives")
			}
			return nil
		case v == string(NonceSource):
			if !scriptish(d) {
				return errors.New("nonces are only valid in script and style directives")
			}
			return nil
		case strings.HasPrefix(v, "'nonce-"):
			return errors.New("a fixed nonce protects nothing; use NonceSource for a fresh nonce per request")
		case strings.HasPrefix(v, "'sha"):
			if !scriptish(d) {
				return errors.New("hashes are only valid in script and style directives")
			}
			if !isHash(v) {
				return errors.New("want 'sha256-…', 'sha384-…' or 'sha512-…' with a base64 digest of the right length")
			}
			return nil
		}
		return errors.New("unknown keyword (keywords are lower case and single-quoted)")
	}
	return checkHostOrScheme(v)
}

// isHash reports whether v is 'shaNNN-<base64 digest>' of the right size.
func isHash(v string) bool {
	if len(v) < 10 || v[0] != '\'' || v[len(v)-1] != '\'' {
		return false
	}
	body := v[1 : len(v)-1]
	alg, b64, ok := strings.Cut(body, "-")
	if !ok {
		return false
	}
	var size int
	switch alg {
	case "sha256":
		size = sha256.Size
	case "sha384":
		size = sha512.Size384
	case "sha512":
		size = sha512.Size
	default:
		return false
	}
	// CSP accepts base64 and base64url alphabets.
	dec, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		dec, err = base64.URLEncoding.DecodeString(b64)
	}
	return err == nil && len(dec) == size
}

// checkHostOrScheme validates a scheme-source ("https:") or host-source
// ("[scheme://]host[:port][/path]", host "*" or "*.example.com").
func checkHostOrScheme(v string) error {
	if strings.ContainsAny(v, "'\"\\") {
		return errors.New("quotes and backslashes are not allowed in host sources")
	}
	rest := v
	if i := strings.Index(v, "://"); i >= 0 {
		if !isScheme(v[:i]) {
			return fmt.Errorf("invalid scheme %q", v[:i])
		}
		rest = v[i+3:]
	} else if strings.HasSuffix(v, ":") && !strings.ContainsAny(v, "/.") {
		if !isScheme(v[:len(v)-1]) {
			return fmt.Errorf("invalid scheme %q", v[:len(v)-1])
		}
		return nil
	}
	host, path := rest, ""
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		host, path = rest[:j], rest[j:]
	}
	if strings.ContainsAny(path, "?#") {
		return errors.New("query and fragment are not allowed")
	}
	port := ""
	if j := strings.LastIndexByte(host, ':'); j >= 0 {
		host, port = host[:j], host[j+1:]
		if port != "*" {
			n, err := strconv.Atoi(port)
			if err != nil || n < 1 || n > 65535 || port[0] == '0' {
				return fmt.Errorf("invalid port %q", port)
			}
		}
	}
	if host == "*" {
		return nil
	}
	host = strings.TrimPrefix(host, "*.")
	if host == "" {
		return errors.New("empty host")
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("invalid host %q", host)
		}
		for k := 0; k < len(label); k++ {
			c := label[k]
			if !(c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
				return fmt.Errorf("invalid host %q", host)
			}
		}
	}
	return nil
}

func isScheme(s string) bool {
	if s == "" || !('a' <= s[0] && s[0] <= 'z' || 'A' <= s[0] && s[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c == '+' || c == '-' || c == '.' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

func isToken(s string) bool {
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

func isPolicyName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(strings.IndexByte("-#=_/@.%", c) >= 0 || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

func checkReportURL(u string) error {
	if u == "" {
		return errors.New("empty URL")
	}
	if len(u) > 512 {
		return errors.New("URL longer than 512 bytes")
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c <= ' ' || c >= 0x7f || c == ';' || c == ',' || c == '"' || c == '\'' || c == '\\' || c == '?' || c == '#' {
			return fmt.Errorf("invalid URL %q: whitespace, quotes, ';', ',', '?' and '#' are not allowed", u)
		}
	}
	switch {
	case u[0] == '/' && (len(u) == 1 || u[1] != '/'):
		return nil
	case strings.HasPrefix(u, "https://") && len(u) > len("https://"):
		return nil
	}
	return fmt.Errorf("invalid URL %q: want a path (\"/csp-report\") or an https:// URL", u)
}

var sandboxTokens = map[string]bool{
	"allow-downloads": true, "allow-forms": true, "allow-modals": true,
	"allow-orientation-lock": true, "allow-pointer-lock": true, "allow-popups": true,
	"allow-popups-to-escape-sandbox": true, "allow-presentation": true,
	"allow-same-origin": true, "allow-scripts": true, "allow-top-navigation": true,
	"allow-top-navigation-by-user-activation":  true,
	"allow-top-navigation-to-custom-protocols": true,
	"allow-storage-access-by-user-activation":  true,
}
