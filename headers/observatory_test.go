package headers_test

// This file scores responses with the rules of the MDN HTTP Observatory
// (github.com/mdn/mdn-http-observatory: src/analyzer/tests/*.js for the
// tests, src/grader/charts.js for the modifiers and grades,
// src/scanner/index.js for the two scoring rounds), re-implemented for the
// header-based tests, so that a change to a default that would cost grade
// fails here. The three tests that need a site rather than headers take
// the quickstart's behaviour as input: Redirection (the plain-HTTP
// listener redirects to HTTPS on the same host: 0), Subresource Integrity
// (same-origin scripts only: 0) and CORS (no Access-Control-Allow-Origin:
// 0).

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/guardsdk/guard/csp"
	"github.com/guardsdk/guard/csrf"
	"github.com/guardsdk/guard/headers"
)

type obsResult struct {
	test   string
	result string
	mod    int
}

// obsCSP follows csp.js and cspParser.js: a policy that cannot be parsed
// (duplicate directive, too short) is csp-header-invalid; otherwise the
// first failing rule decides, and default-src 'none' alone earns the
// bonus.
func obsCSP(h http.Header, https bool) (obsResult, map[string][]string) {
	const name = "content-security-policy"
	raw := h.Values("Content-Security-Policy")
	if len(raw) == 0 {
		if h.Get("Content-Security-Policy-Report-Only") != "" {
			return obsResult{name, "csp-not-implemented-but-reporting-enabled", -25}, nil
		}
		return obsResult{name, "csp-not-implemented", -25}, nil
	}
	var policies []string
	for _, v := range raw {
		for _, p := range strings.Split(v, ",") {
			policies = append(policies, strings.TrimSpace(p))
		}
	}
	if len(policies) != 1 {
		panic("obsCSP: the helper handles one policy only")
	}
	pol := strings.NewReplacer("\r", "", "\n", "").Replace(policies[0])
	if len(pol) < len("img-src")-1 {
		return obsResult{name, "csp-header-invalid", -25}, nil
	}
	dirs := map[string][]string{}
	for _, d := range strings.Split(pol, ";") {
		f := strings.Fields(d)
		if len(f) == 0 {
			continue
		}
		key := strings.ToLower(f[0])
		if _, dup := dirs[key]; dup && key != "report-uri" && key != "report-to" {
			return obsResult{name, "csp-header-invalid", -25}, nil
		}
		vals := []string{}
		for _, s := range f[1:] {
			vals = append(vals, strings.ToLower(s))
		}
		if len(vals) == 0 && strings.HasSuffix(key, "-src") {
			vals = []string{"'none'"}
		}
		dirs[key] = vals
	}
	get := func(keys ...string) []string {
		for _, k := range keys {
			if v, ok := dirs[k]; ok {
				return slices.Clone(v)
			}
		}
		return []string{"*"}
	}
	broad := []string{"ftp:", "http:", "https:", "*", "http://*", "http://*.*", "https://*", "https://*.*"}
	unsafeInline := []string{"'unsafe-inline'", "data:"}
	has := func(list []string, set []string) bool {
		for _, s := range list {
			if slices.Contains(set, s) {
				return true
			}
		}
		return false
	}
	nonceOrHash := func(list []string) bool {
		for _, s := range list {
			for _, p := range []string{"'sha256-", "'sha384-", "'sha512-", "'nonce-"} {
				if strings.HasPrefix(s, p) {
					return true
				}
			}
		}
		return false
	}
	script := get("script-src", "default-src")
	style := get("style-src", "default-src")
	object := get("object-src", "default-src")
	for _, l := range []*[]string{&script, &style} {
		if nonceOrHash(*l) {
			*l = slices.DeleteFunc(*l, func(s string) bool { return s == "'unsafe-inline'" })
		}
	}
	result := ""
	if nonceOrHash(script) && slices.Contains(script, "'strict-dynamic'") {
		script = slices.DeleteFunc(script, func(s string) bool {
			for _, b := range broad {
				if strings.HasPrefix(s, b) {
					return true
				}
			}
			return s == "'self'" || s == "'unsafe-inline'"
		})
	} else if slices.Contains(script, "'strict-dynamic'") {
		result = "csp-header-invalid"
	}
	var active, passive []string
	for k, v := range dirs {
		if k != "img-src" && k != "media-src" && k != "script-src" {
			active = append(active, v...)
		}
	}
	active = append(active, script...)
	for _, k := range []string{"img-src", "media-src"} {
		if v, ok := dirs[k]; ok {
			passive = append(passive, v...)
		} else {
			passive = append(passive, dirs["default-src"]...)
		}
	}
	insecure := func(list []string) bool {
		for _, s := range list {
			if strings.HasPrefix(s, "http:") || strings.HasPrefix(s, "ftp:") {
				return true
			}
		}
		return false
	}
	set := func(r string) {
		if result == "" {
			result = r
		}
	}
	if has(script, append(broad, unsafeInline...)) || has(object, broad) {
		set("csp-implemented-with-unsafe-inline")
	}
	if https && insecure(active) {
		set("csp-implemented-with-insecure-scheme")
	}
	if slices.Contains(script, "'unsafe-eval'") || slices.Contains(style, "'unsafe-eval'") {
		set("csp-implemented-with-unsafe-eval")
	}
	if https && insecure(passive) {
		set("csp-implemented-with-insecure-scheme-in-passive-content-only")
	}
	if has(style, append(broad, unsafeInline...)) {
		set("csp-implemented-with-unsafe-inline-in-style-src-only")
	}
	if d, ok := dirs["default-src"]; ok && len(d) == 1 && d[0] == "'none'" {
		set("csp-implemented-with-no-unsafe-default-src-none")
	} else {
		set("csp-implemented-with-no-unsafe")
	}
	mods := map[string]int{
		"csp-implemented-with-no-unsafe-default-src-none":              10,
		"csp-implemented-with-no-unsafe":                               5,
		"csp-implemented-with-unsafe-inline-in-style-src-only":         0,
		"csp-implemented-with-insecure-scheme-in-passive-content-only": -10,
		"csp-implemented-with-unsafe-eval":                             -10,
		"csp-implemented-with-unsafe-inline":                           -20,
		"csp-implemented-with-insecure-scheme":                         -20,
		"csp-header-invalid":                                           -25,
	}
	return obsResult{name, result, mods[result]}, dirs
}

// obsHSTS follows strict-transport-security.js (the site is not on the
// preload list, so no +5).
func obsHSTS(h http.Header, https bool) obsResult {
	const name = "strict-transport-security"
	if !https {
		return obsResult{name, "hsts-not-implemented-no-https", -20}
	}
	v := h.Get("Strict-Transport-Security")
	if v == "" {
		return obsResult{name, "hsts-not-implemented", -20}
	}
	if strings.Contains(v, ",") {
		return obsResult{name, "hsts-header-invalid", -20}
	}
	maxAge := -1
	for _, p := range strings.Split(v, ";") {
		p = strings.ToLower(strings.TrimSpace(p))
		if strings.HasPrefix(p, "max-age=") {
			n, err := strconv.Atoi(p[len("max-age="):])
			if err != nil {
				return obsResult{name, "hsts-header-invalid", -20}
			}
			maxAge = n
		}
	}
	switch {
	case maxAge < 0:
		return obsResult{name, "hsts-header-invalid", -20}
	case maxAge < 15552000:
		return obsResult{name, "hsts-implemented-max-age-less-than-six-months", -10}
	}
	return obsResult{name, "hsts-implemented-max-age-at-least-six-months", 0}
}

// obsXCTO follows x-content-type-options.js.
func obsXCTO(h http.Header) obsResult {
	switch v := h.Get("X-Content-Type-Options"); {
	case v == "":
		return obsResult{"x-content-type-options", "x-content-type-options-not-implemented", -5}
	case strings.ToLower(strings.TrimSpace(v)) == "nosniff":
		return obsResult{"x-content-type-options", "x-content-type-options-nosniff", 0}
	}
	return obsResult{"x-content-type-options", "x-content-type-options-header-invalid", -5}
}

// obsXFO follows x-frame-options.js: frame-ancestors in the CSP wins.
func obsXFO(h http.Header, dirs map[string][]string) obsResult {
	const name = "x-frame-options"
	if _, ok := dirs["frame-ancestors"]; ok {
		return obsResult{name, "x-frame-options-implemented-via-csp", 5}
	}
	switch v := strings.ToLower(strings.TrimSpace(h.Get("X-Frame-Options"))); {
	case v == "":
		return obsResult{name, "x-frame-options-not-implemented", -20}
	case v == "deny" || v == "sameorigin":
		return obsResult{name, "x-frame-options-sameorigin-or-deny", 0}
	case strings.HasPrefix(v, "allow-from"):
		return obsResult{name, "x-frame-options-allow-from-origin", 0}
	}
	return obsResult{name, "x-frame-options-header-invalid", -20}
}

// obsReferrer follows referrer-policy.js: the last valid token decides.
func obsReferrer(h http.Header) obsResult {
	const name = "referrer-policy"
	vals := h.Values("Referrer-Policy")
	if len(vals) == 0 {
		return obsResult{name, "referrer-policy-not-implemented", 0}
	}
	good := []string{"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
	bad := []string{"origin", "origin-when-cross-origin", "unsafe-url", "no-referrer-when-downgrade"}
	policy := ""
	for _, t := range strings.Split(strings.Join(vals, ","), ",") {
		t = strings.ToLower(strings.TrimSpace(t))
		if slices.Contains(good, t) || slices.Contains(bad, t) {
			policy = t
		}
	}
	switch {
	case slices.Contains(good, policy):
		return obsResult{name, "referrer-policy-private", 5}
	case slices.Contains(bad, policy):
		return obsResult{name, "referrer-policy-unsafe", -5}
	}
	return obsResult{name, "referrer-policy-header-invalid", -5}
}

// obsCORP follows cross-origin-resource-policy.js.
func obsCORP(h http.Header) obsResult {
	const name = "cross-origin-resource-policy"
	switch strings.ToLower(strings.TrimSpace(h.Get("Cross-Origin-Resource-Policy"))) {
	case "":
		return obsResult{name, "corp-not-implemented", 0}
	case "same-origin":
		return obsResult{name, "corp-implemented-with-same-origin", 10}
	case "same-site":
		return obsResult{name, "corp-implemented-with-same-site", 10}
	case "cross-origin":
		return obsResult{name, "corp-implemented-with-cross-origin", 0}
	}
	return obsResult{name, "corp-header-invalid", -5}
}

// obsCookies follows cookies.js for the cookies of one response: names
// with "csrf" need SameSite, names with "sess" or "login" need HttpOnly,
// all need Secure; all with SameSite earn +5.
func obsCookies(h http.Header, hsts bool) obsResult {
	const name = "cookies"
	cookies := (&http.Response{Header: h}).Cookies()
	if len(cookies) == 0 {
		return obsResult{name, "cookies-not-found", 0}
	}
	worst, mod := "", 1
	worse := func(r string, m int) {
		if m < mod {
			worst, mod = r, m
		}
	}
	allSameSite := true
	for _, c := range cookies {
		lower := strings.ToLower(c.Name)
		session := strings.Contains(lower, "sess") || strings.Contains(lower, "login")
		if !c.Secure && c.SameSite == http.SameSiteNoneMode {
			worse("cookies-samesite-flag-invalid", -20)
		}
		if !c.Secure {
			if hsts {
				worse("cookies-without-secure-flag-but-protected-by-hsts", -5)
			} else {
				worse("cookies-without-secure-flag", -20)
			}
		}
		if strings.Contains(lower, "csrf") && c.SameSite == 0 {
			worse("cookies-anticsrf-without-samesite-flag", -20)
		}
		if session && !c.Secure {
			worse("cookies-session-without-secure-flag", -40)
		}
		if session && !c.HttpOnly {
			worse("cookies-session-without-httponly-flag", -30)
		}
		if c.SameSite == 0 {
			allSameSite = false
		}
	}
	if worst != "" {
		return obsResult{name, worst, mod}
	}
	if allSameSite {
		return obsResult{name, "cookies-secure-with-httponly-sessions-and-samesite", 5}
	}
	return obsResult{name, "cookies-secure-with-httponly-sessions", 0}
}

// observatory scores one response as the scanner does: penalties first;
// bonuses only when the penalised score is still 90 or more.
func observatory(h http.Header, https bool) (score int, grade string, results []obsResult) {
	cspRes, dirs := obsCSP(h, https)
	hsts := obsHSTS(h, https)
	results = []obsResult{
		cspRes,
		obsCookies(h, hsts.mod == 0),
		{"cross-origin-resource-sharing", "cross-origin-resource-sharing-not-implemented", 0},
		{"redirection", "redirection-to-https", 0},
		obsReferrer(h),
		hsts,
		{"subresource-integrity", "sri-not-implemented-but-all-scripts-loaded-from-secure-origin", 0},
		obsXCTO(h),
		obsXFO(h, dirs),
		obsCORP(h),
	}
	withBonus, penalised := 100, 100
	for _, r := range results {
		withBonus += r.mod
		if r.mod < 0 {
			penalised += r.mod
		}
	}
	score = penalised
	if penalised >= 90 {
		score = withBonus
	}
	score = max(score, 0)
	grades := []struct {
		min   int
		grade string
	}{{100, "A+"}, {90, "A"}, {85, "A-"}, {80, "B+"}, {70, "B"}, {65, "B-"}, {60, "C+"}, {50, "C"}, {45, "C-"}, {40, "D+"}, {30, "D"}, {25, "D-"}, {0, "F"}}
	for _, g := range grades {
		if score >= g.min {
			return score, g.grade, results
		}
	}
	return score, "F", results
}

func TestObservatory(t *testing.T) {
	t.Parallel()
	html := headers.ForRoute("GET /page", headers.WithCSP(csp.HTML().ReportURI("/csp-report").ReportTo("csp", "/csp-report")))
	tests := []struct {
		name     string
		settings []headers.Setting
		path     string
		https    bool
		want     map[string]string // exact header values
		results  map[string]string // expected Observatory result per test
		score    int
		grade    string
	}{
		{
			name: "API defaults over HTTPS", path: "/x", https: true,
			want: map[string]string{
				"Content-Security-Policy":      "default-src 'none'; frame-ancestors 'none'",
				"Strict-Transport-Security":    "max-age=31536000; includeSubDomains",
				"X-Content-Type-Options":       "nosniff",
				"X-Frame-Options":              "DENY",
				"Referrer-Policy":              "strict-origin-when-cross-origin",
				"Cross-Origin-Resource-Policy": "same-origin",
				"Cross-Origin-Opener-Policy":   "same-origin",
				"X-Xss-Protection":             "0",
			},
			results: map[string]string{
				"content-security-policy":      "csp-implemented-with-no-unsafe-default-src-none", // +10
				"strict-transport-security":    "hsts-implemented-max-age-at-least-six-months",    // 0
				"x-content-type-options":       "x-content-type-options-nosniff",                  // 0
				"x-frame-options":              "x-frame-options-implemented-via-csp",             // +5
				"referrer-policy":              "referrer-policy-private",                         // +5
				"cross-origin-resource-policy": "corp-implemented-with-same-origin",               // +10
				"cookies":                      "cookies-not-found",                               // 0
			},
			score: 130, grade: "A+",
		},
		{
			name: "HTML policy over HTTPS", settings: []headers.Setting{html}, path: "/page", https: true,
			want: map[string]string{
				"Content-Security-Policy": "default-src 'none'; script-src 'nonce-N' 'strict-dynamic'; style-src 'self' 'nonce-N'; img-src 'self'; font-src 'self'; connect-src 'self'; manifest-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; report-uri /csp-report; report-to csp",
				"Reporting-Endpoints":     `csp="/csp-report"`,
			},
			results: map[string]string{
				"content-security-policy": "csp-implemented-with-no-unsafe-default-src-none",
				"x-frame-options":         "x-frame-options-implemented-via-csp",
			},
			score: 130, grade: "A+",
		},
		{
			// What the grade would be with the old-checklist choices: the
			// Observatory no longer scores X-XSS-Protection, so neither
			// value changes it.
			name: "X-XSS-Protection 1; mode=block", settings: []headers.Setting{headers.WithXSSProtection(headers.XSSFilterBlock)}, path: "/x", https: true,
			want:  map[string]string{"X-Xss-Protection": "1; mode=block"},
			score: 130, grade: "A+",
		},
		{
			// Plain HTTP: no HSTS is sent, and the site is graded on
			// HTTPS availability, which is why the quickstart serves TLS.
			name: "defaults over plain HTTP", path: "/x", https: false,
			want:    map[string]string{"Strict-Transport-Security": ""},
			results: map[string]string{"strict-transport-security": "hsts-not-implemented-no-https"},
			score:   80, grade: "B+",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGuard(t, headers.Option(tt.settings...))
			scheme := "http"
			if tt.https {
				scheme = "https"
			}
			h, _ := serve(t, g, okMux(), httptest.NewRequest("GET", scheme+"://example.com"+tt.path, nil))
			if v := h.Get("Content-Security-Policy"); strings.Contains(v, "'nonce-") {
				h.Set("Content-Security-Policy", nonceRE.ReplaceAllString(v, "'nonce-N'"))
			}
			for k, v := range tt.want {
				if got := h.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			score, grade, results := observatory(h, tt.https)
			for _, r := range results {
				if want, ok := tt.results[r.test]; ok && r.result != want {
					t.Errorf("%s: %s (%+d), want %s", r.test, r.result, r.mod, want)
				}
			}
			if score != tt.score || grade != tt.grade {
				t.Errorf("score %d (%s), want %d (%s); results %v", score, grade, tt.score, tt.grade, results)
			}
		})
	}
}

// TestObservatoryWithCSRFCookie scores an HTML page that issues the CSRF
// token cookie: Secure, HttpOnly and SameSite earn the cookies bonus.
func TestObservatoryWithCSRFCookie(t *testing.T) {
	t.Parallel()
	g := newGuard(t,
		headers.Option(headers.WithCSP(csp.HTML())),
		csrf.Option(csrf.WithToken(csrf.TokenConfig{Key: []byte(strings.Repeat("k", 32))})),
	)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`<form method="post"><input type="hidden" name="csrf_token" value="` + csrf.Token(r.Context()) + `"></form>`))
	})
	h, _ := serve(t, g, mux, httptest.NewRequest("GET", "https://example.com/", nil))
	if sc := h.Get("Set-Cookie"); !strings.HasPrefix(sc, "__Host-csrf=") || !strings.HasSuffix(sc, "; Path=/; HttpOnly; Secure; SameSite=Lax") {
		t.Fatalf("Set-Cookie %q", sc)
	}
	score, grade, results := observatory(h, true)
	if results[1].result != "cookies-secure-with-httponly-sessions-and-samesite" || score != 135 || grade != "A+" {
		t.Fatalf("score %d %s: %v", score, grade, results)
	}
}

// TestObservatoryEvaluator checks the evaluator itself on known inputs,
// so that a passing TestObservatory means something.
func TestObservatoryEvaluator(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	score, grade, _ := observatory(h, true)
	// No CSP -25, no HSTS -20, no XCTO -5, no XFO -20.
	if score != 30 || grade != "D" {
		t.Errorf("empty headers: %d %s", score, grade)
	}
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'")
	if r, _ := obsCSP(h, true); r.result != "csp-implemented-with-unsafe-inline" {
		t.Errorf("unsafe-inline: %v", r)
	}
	h.Set("Content-Security-Policy", "script-src 'nonce-x' 'unsafe-inline' 'strict-dynamic' https:; object-src 'none'; style-src 'self'")
	if r, _ := obsCSP(h, true); r.result != "csp-implemented-with-no-unsafe" {
		t.Errorf("strict-dynamic fallback: %v", r)
	}
	h.Set("Content-Security-Policy", "default-src 'none'; default-src 'self'")
	if r, _ := obsCSP(h, true); r.result != "csp-header-invalid" {
		t.Errorf("duplicate: %v", r)
	}
	h.Set("Content-Security-Policy", "script-src 'strict-dynamic'")
	if r, _ := obsCSP(h, true); r.result != "csp-header-invalid" {
		t.Errorf("strict-dynamic without nonce: %v", r)
	}
	h.Set("Content-Security-Policy", "default-src 'none'; img-src http://img.example")
	if r, _ := obsCSP(h, true); r.result != "csp-implemented-with-insecure-scheme-in-passive-content-only" {
		t.Errorf("passive http: %v", r)
	}
	h = http.Header{"Strict-Transport-Security": {"max-age=300"}}
	if r := obsHSTS(h, true); r.mod != -10 {
		t.Errorf("short HSTS: %v", r)
	}
	h = http.Header{"Referrer-Policy": {"no-referrer, unsafe-url"}}
	if r := obsReferrer(h); r.mod != -5 {
		t.Errorf("referrer last token: %v", r)
	}
	h = http.Header{"Set-Cookie": {"sessionid=1; Secure"}}
	if r := obsCookies(h, true); r.result != "cookies-session-without-httponly-flag" {
		t.Errorf("session cookie: %v", r)
	}
	h = http.Header{"Set-Cookie": {"csrftoken=1; Secure; HttpOnly"}}
	if r := obsCookies(h, true); r.result != "cookies-anticsrf-without-samesite-flag" {
		t.Errorf("csrf cookie: %v", r)
	}
	h = http.Header{"Set-Cookie": {"__Host-csrf=1; Path=/; Secure; HttpOnly; SameSite=Lax"}}
	if r := obsCookies(h, true); r.mod != 5 {
		t.Errorf("good cookie: %v", r)
	}
}
