package headers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/csp"
	"github.com/guardsdk/guard/headers"
)

// serve runs one request through g.Handler(mux), the real net/http
// adapter, and returns the response headers and the body.
func serve(t testing.TB, g *guard.Guard, mux http.Handler, req *http.Request) (http.Header, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	g.Handler(mux).ServeHTTP(rec, req)
	return rec.Result().Header, rec.Body.String()
}

func newGuard(t testing.TB, opts ...guard.Option) *guard.Guard {
	t.Helper()
	g, err := guard.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close(context.Background()) })
	return g
}

func okMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /x", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(csp.Nonce(r.Context())))
	})
	mux.HandleFunc("GET /embed/{id}", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /embed/{id}", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(csp.Nonce(r.Context())))
	})
	return mux
}

// security returns the security headers of h, without the ones the core
// or net/http add (request id, content type, date).
func security(h http.Header) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		switch k {
		case "X-Request-Id", "Content-Type", "Date", "Content-Length":
			continue
		}
		out[k] = strings.Join(v, "\n")
	}
	return out
}

const defaultPermissions = "accelerometer=(), browsing-topics=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), hid=(), magnetometer=(), microphone=(), midi=(), payment=(), serial=(), usb=()"

func defaultHeaders(https bool) map[string]string {
	m := map[string]string{
		"Content-Security-Policy":      "default-src 'none'; frame-ancestors 'none'",
		"X-Content-Type-Options":       "nosniff",
		"X-Frame-Options":              "DENY",
		"X-Xss-Protection":             "0",
		"Referrer-Policy":              "strict-origin-when-cross-origin",
		"Permissions-Policy":           defaultPermissions,
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Resource-Policy": "same-origin",
	}
	if https {
		m["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
	}
	return m
}

func equalMaps(t *testing.T, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected header %s: %q", k, v)
		}
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	g := newGuard(t, headers.Option())
	for _, tc := range []struct {
		name, url string
		https     bool
	}{
		{"https", "https://example.com/x", true},
		{"http", "http://example.com/x", false},
		{"unmatched route", "https://example.com/nope", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := serve(t, g, okMux(), httptest.NewRequest("GET", tc.url, nil))
			equalMaps(t, security(h), defaultHeaders(tc.https))
		})
	}
}

func TestHSTSOnlyFromTrustedProxy(t *testing.T) {
	t.Parallel()
	g := newGuard(t, headers.Option(), guard.WithTrustedProxies("10.0.0.0/8"))
	for _, tc := range []struct {
		name, peer, proto string
		want              bool
	}{
		{"trusted proxy says https", "10.1.2.3:4000", "https", true},
		{"trusted proxy says http", "10.1.2.3:4000", "http", false},
		{"untrusted peer forges https", "203.0.113.9:4000", "https", false},
		{"trusted proxy, no header", "10.1.2.3:4000", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "http://example.com/x", nil)
			req.RemoteAddr = tc.peer
			if tc.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			h, _ := serve(t, g, okMux(), req)
			if got := h.Get("Strict-Transport-Security") != ""; got != tc.want {
				t.Fatalf("HSTS sent = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHSTSValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		h    headers.HSTS
		want string
	}{
		{headers.HSTS{MaxAge: 2 * 365 * 24 * time.Hour, IncludeSubDomains: true, Preload: true}, "max-age=63072000; includeSubDomains; preload"},
		{headers.HSTS{MaxAge: 365 * 24 * time.Hour, IncludeSubDomains: true, Preload: true}, "max-age=31536000; includeSubDomains; preload"},
		{headers.HSTS{MaxAge: 180 * 24 * time.Hour}, "max-age=15552000"},
		{headers.HSTS{}, "max-age=0"},
	}
	for _, tt := range tests {
		g := newGuard(t, headers.Option(headers.WithHSTS(tt.h)))
		h, _ := serve(t, g, okMux(), httptest.NewRequest("GET", "https://example.com/x", nil))
		if got := h.Get("Strict-Transport-Security"); got != tt.want {
			t.Errorf("WithHSTS(%+v) = %q, want %q", tt.h, got, tt.want)
		}
	}
}

func TestAuthenticatedNoStore(t *testing.T) {
	t.Parallel()
	g := newGuard(t, headers.Option(), guard.WithPrincipal(func(r *guard.Request) string {
		return r.Header.Get("X-Test-User") // test only: a real app verifies a session
	}))
	req := httptest.NewRequest("GET", "https://example.com/x", nil)
	h, _ := serve(t, g, okMux(), req)
	if v := h.Get("Cache-Control"); v != "" {
		t.Errorf("anonymous Cache-Control = %q, want none", v)
	}
	req = httptest.NewRequest("GET", "https://example.com/x", nil)
	req.Header.Set("X-Test-User", "u1")
	h, _ = serve(t, g, okMux(), req)
	if v := h.Get("Cache-Control"); v != "no-store" {
		t.Errorf("authenticated Cache-Control = %q, want no-store", v)
	}

	g2 := newGuard(t, headers.Option(headers.WithAuthenticatedCacheControl("private, no-cache")),
		guard.WithPrincipal(func(*guard.Request) string { return "u1" }))
	h, _ = serve(t, g2, okMux(), httptest.NewRequest("GET", "https://example.com/x", nil))
	if v := h.Get("Cache-Control"); v != "private, no-cache" {
		t.Errorf("custom Cache-Control = %q", v)
	}
	g3 := newGuard(t, headers.Option(headers.WithAuthenticatedCacheControl("")),
		guard.WithPrincipal(func(*guard.Request) string { return "u1" }))
	h, _ = serve(t, g3, okMux(), httptest.NewRequest("GET", "https://example.com/x", nil))
	if v := h.Get("Cache-Control"); v != "" {
		t.Errorf("disabled Cache-Control = %q", v)
	}
}

var nonceRE = regexp.MustCompile(`'nonce-([A-Za-z0-9_-]{22})'`)

func TestHTMLPolicyNonce(t *testing.T) {
	t.Parallel()
	g := newGuard(t, headers.Option(headers.WithCSP(csp.HTML())))
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		h, body := serve(t, g, okMux(), httptest.NewRequest("GET", "https://example.com/page", nil))
		v := h.Get("Content-Security-Policy")
		m := nonceRE.FindAllStringSubmatch(v, -1)
		if len(m) != 2 || m[0][1] != m[1][1] {
			t.Fatalf("policy %q: want the same nonce in script-src and style-src", v)
		}
		if body != m[0][1] {
			t.Fatalf("csp.Nonce(ctx) = %q, header nonce %q", body, m[0][1])
		}
		if seen[body] {
			t.Fatalf("nonce %q repeated", body)
		}
		seen[body] = true
		want := "default-src 'none'; script-src 'nonce-" + body + "' 'strict-dynamic'; style-src 'self' 'nonce-" + body +
			"'; img-src 'self'; font-src 'self'; connect-src 'self'; manifest-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
		if v != want {
			t.Fatalf("policy\n got %q\nwant %q", v, want)
		}
		if strings.Contains(v, "unsafe") {
			t.Fatalf("policy has an unsafe source: %q", v)
		}
	}
}

func TestNonceAbsentForStaticPolicy(t *testing.T) {
	t.Parallel()
	g := newGuard(t, headers.Option())
	_, body := serve(t, g, okMux(), httptest.NewRequest("GET", "https://example.com/x", nil))
	if body != "" {
		t.Fatalf("csp.Nonce with a static policy = %q, want empty", body)
	}
	if csp.Nonce(context.Background()) != "" {
		t.Fatal("Nonce(Background) not empty")
	}
}

func TestReportOnlyAndEndpoints(t *testing.T) {
	t.Parallel()
	ro := csp.HTML().Set(csp.StyleSrc, csp.NonceSource).ReportURI("/csp-report").ReportTo("csp", "/csp-report")
	g := newGuard(t, headers.Option(
		headers.WithCSP(csp.HTML().ReportURI("/csp-report").ReportTo("csp", "/csp-report")),
		headers.WithCSPReportOnly(ro),
	))
	h, _ := serve(t, g, okMux(), httptest.NewRequest("GET", "https://example.com/x", nil))
	enf, rep := h.Get("Content-Security-Policy"), h.Get("Content-Security-Policy-Report-Only")
	if !strings.HasSuffix(enf, "; report-uri /csp-report; report-to csp") {
		t.Errorf("enforced = %q", enf)
	}
	if !strings.Contains(rep, "style-src 'nonce-") {
		t.Errorf("report-only = %q", rep)
	}
	if a, b := nonceRE.FindStringSubmatch(enf), nonceRE.FindStringSubmatch(rep); a == nil || b == nil || a[1] != b[1] {
		t.Errorf("enforced and report-only nonces differ: %q / %q", enf, rep)
	}
	if v := h.Get("Reporting-Endpoints"); v != `csp="/csp-report"` {
		t.Errorf("Reporting-Endpoints = %q", v)
	}

	// Report-only alone: no enforced header at all.
	g2 := newGuard(t, headers.Option(headers.WithoutCSP(), headers.WithCSPReportOnly(csp.API().ReportURI("/r"))))
	h, _ = serve(t, g2, okMux(), httptest.NewRequest("GET", "https://example.com/x", nil))
	if h.Get("Content-Security-Policy") != "" || h.Get("Content-Security-Policy-Report-Only") != "default-src 'none'; frame-ancestors 'none'; report-uri /r" {
		t.Errorf("report-only mode: %v", h)
	}
	if h.Get("X-Frame-Options") != "DENY" {
		t.Errorf("no enforced CSP: X-Frame-Options = %q, want DENY", h.Get("X-Frame-Options"))
	}
}

func TestRouteOverrides(t *testing.T) {
	t.Parallel()
	embed := csp.API().Set(csp.FrameAncestors, csp.Self, csp.Host("https://partner.example"))
	g := newGuard(t, headers.Option(
		headers.ForRoute("GET /embed/{id}", headers.WithCSP(embed), headers.WithCORP(headers.CORPCrossOrigin)),
		headers.ForRoute("/embed/{id}", headers.WithReferrerPolicy(headers.StrictOriginWhenCrossOrigin)),
		headers.ForRoute("/page", headers.WithCSP(csp.API().Set(csp.FrameAncestors, csp.Self))),
		headers.WithReferrerPolicy(headers.SameOrigin), // after ForRoute: still the base for routes
	))
	tests := []struct {
		method, url string
		want        map[string]string
	}{
		{"GET", "https://example.com/embed/7", map[string]string{
			"Content-Security-Policy":      "default-src 'none'; frame-ancestors 'self' https://partner.example",
			"X-Frame-Options":              "",
			"Cross-Origin-Resource-Policy": "cross-origin",
			"Referrer-Policy":              "same-origin",
		}},
		{"POST", "https://example.com/embed/7", map[string]string{
			"Content-Security-Policy":      "default-src 'none'; frame-ancestors 'none'",
			"X-Frame-Options":              "DENY",
			"Cross-Origin-Resource-Policy": "same-origin",
			"Referrer-Policy":              "strict-origin-when-cross-origin",
		}},
		{"GET", "https://example.com/page", map[string]string{
			"Content-Security-Policy": "default-src 'none'; frame-ancestors 'self'",
			"X-Frame-Options":         "SAMEORIGIN",
			"Referrer-Policy":         "same-origin",
		}},
		{"GET", "https://example.com/x", map[string]string{
			"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "same-origin",
		}},
		// A raw path that merely starts like a route is not the route.
		{"GET", "https://example.com/embed/7/more", map[string]string{
			"X-Frame-Options": "DENY",
		}},
	}
	for _, tt := range tests {
		h, _ := serve(t, g, okMux(), httptest.NewRequest(tt.method, tt.url, nil))
		for k, v := range tt.want {
			if got := h.Get(k); got != v {
				t.Errorf("%s %s: %s = %q, want %q", tt.method, tt.url, k, got, v)
			}
		}
		if h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s %s: route override lost the base headers", tt.method, tt.url)
		}
	}
}

func TestOptionalHeaders(t *testing.T) {
	t.Parallel()
	g := newGuard(t, headers.Option(
		headers.WithCOEP(headers.COEPRequireCorp),
		headers.WithCOOP(""),
		headers.WithXSSProtection(headers.XSSFilterBlock),
		headers.WithFrameOptions(headers.FrameSameOrigin),
		headers.WithReferrerPolicy(""),
		headers.WithoutPermissionsPolicy(),
		headers.WithoutHSTS(),
		headers.WithPermissionsPolicy(headers.PermissionsPolicy{}.Allow(headers.Geolocation, headers.AllowSelf, headers.AllowOrigin("https://maps.example")).Allow(headers.Fullscreen, headers.AllowAll).Deny(headers.Camera)),
	))
	h, _ := serve(t, g, okMux(), httptest.NewRequest("GET", "https://example.com/x", nil))
	want := map[string]string{
		"Content-Security-Policy":      "default-src 'none'; frame-ancestors 'none'",
		"X-Content-Type-Options":       "nosniff",
		"X-Frame-Options":              "SAMEORIGIN",
		"X-Xss-Protection":             "1; mode=block",
		"Permissions-Policy":           `geolocation=(self "https://maps.example"), fullscreen=*, camera=()`,
		"Cross-Origin-Embedder-Policy": "require-corp",
		"Cross-Origin-Resource-Policy": "same-origin",
	}
	equalMaps(t, security(h), want)
}

func TestStripAtStageTime(t *testing.T) {
	t.Parallel()
	g := newGuard(t, headers.Option())
	outer := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Server", "nginx/1.2.3")
			w.Header().Set("X-Powered-By", "PHP/5")
			next.ServeHTTP(w, r)
		})
	}
	rec := httptest.NewRecorder()
	outer(g.Handler(okMux())).ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/x", nil))
	if rec.Header().Get("Server") != "" || rec.Header().Get("X-Powered-By") != "" {
		t.Fatalf("leak headers kept: %v", rec.Header())
	}
}

func TestStripLeaks(t *testing.T) {
	t.Parallel()
	g := newGuard(t, headers.Option())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /leaky", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "Apache/2.4.1")
		w.Header().Set("X-Powered-By", "Express")
		w.Header().Set("X-Custom", "kept")
		_, _ = w.Write([]byte("ok"))
	})
	mux.HandleFunc("GET /flush", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "x")
		http.NewResponseController(w).Flush()
	})
	srv := httptest.NewServer(headers.StripLeaks(g.Handler(mux)))
	defer srv.Close()
	for _, p := range []string{"/leaky", "/flush"} {
		resp, err := srv.Client().Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.Header.Get("Server") != "" || resp.Header.Get("X-Powered-By") != "" {
			t.Errorf("%s: leak headers kept: %v", p, resp.Header)
		}
		if p == "/leaky" && resp.Header.Get("X-Custom") != "kept" {
			t.Errorf("%s: other headers lost", p)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: security headers lost", p)
		}
	}
}

func TestHeadersOnDenials(t *testing.T) {
	t.Parallel()
	deny := guard.StageFunc("deny", guard.PhaseApp, func(*guard.Request) guard.Decision {
		return guard.Deny(http.StatusForbidden, "nope", "No.")
	})
	g := newGuard(t, headers.Option(), guard.WithStage(deny))
	req := httptest.NewRequest("GET", "https://example.com/x", nil)
	rec := httptest.NewRecorder()
	g.Handler(okMux()).ServeHTTP(rec, req)
	if rec.Code != 403 {
		t.Fatalf("status %d", rec.Code)
	}
	h := security(rec.Result().Header)
	delete(h, "Cache-Control") // the problem writer's no-store
	equalMaps(t, h, defaultHeaders(true))
}

func TestHandlerOverrides(t *testing.T) {
	t.Parallel()
	g := newGuard(t, headers.Option())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /x", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		w.Header().Add("Referrer-Policy", "same-origin")
	})
	h, _ := serve(t, g, mux, httptest.NewRequest("GET", "https://example.com/x", nil))
	if h.Get("Content-Security-Policy") != "default-src 'self'" {
		t.Errorf("handler Set lost: %q", h.Get("Content-Security-Policy"))
	}
	if got := h.Values("Referrer-Policy"); !slices.Equal(got, []string{"strict-origin-when-cross-origin", "same-origin"}) {
		t.Errorf("handler Add = %q", got)
	}
	if h.Get("Permissions-Policy") != defaultPermissions {
		t.Errorf("Add corrupted a neighbouring header: %q", h.Get("Permissions-Policy"))
	}
}

func TestInvalidSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setting headers.Setting
		want    string
	}{
		{"preload short", headers.WithHSTS(headers.HSTS{MaxAge: 180 * 24 * time.Hour, IncludeSubDomains: true, Preload: true}), "headers: WithHSTS: preload needs max-age of at least 31536000 seconds (1 year), got 15552000"},
		{"preload no subdomains", headers.WithHSTS(headers.HSTS{MaxAge: 400 * 24 * time.Hour, Preload: true}), "headers: WithHSTS: preload needs includeSubDomains"},
		{"negative max-age", headers.WithHSTS(headers.HSTS{MaxAge: -time.Second}), "headers: WithHSTS: max-age -1s is negative"},
		{"fractional max-age", headers.WithHSTS(headers.HSTS{MaxAge: 1500 * time.Millisecond}), "not a whole number of seconds"},
		{"referrer", headers.WithReferrerPolicy("unsafe"), `headers: WithReferrerPolicy: invalid policy "unsafe"`},
		{"coop", headers.WithCOOP("same_origin"), `headers: WithCOOP: invalid value "same_origin"`},
		{"coep", headers.WithCOEP("require-corp; x"), `headers: WithCOEP: invalid value`},
		{"corp", headers.WithCORP("none"), `headers: WithCORP: invalid value "none"`},
		{"frame", headers.WithFrameOptions("ALLOW-FROM https://a"), `headers: WithFrameOptions: invalid value`},
		{"xss", headers.WithXSSProtection("1"), `headers: WithXSSProtection: invalid value "1"`},
		{"cache control", headers.WithAuthenticatedCacheControl("no-store\r\nSet-Cookie: a=b"), `headers: WithAuthenticatedCacheControl: invalid value`},
		{"strip name", headers.WithStrip("Bad Header"), `headers: WithStrip: invalid header name "Bad Header"`},
		{"csp directive", headers.WithCSP(csp.API().Set("script-source", csp.Self)), `headers: WithCSP: csp: unknown directive "script-source"`},
		{"csp unsafe keyword", headers.WithCSP(csp.API().Set(csp.ScriptSrc, "'unsafe-everything'")), `headers: WithCSP: csp: script-src: invalid source "'unsafe-everything'"`},
		{"csp report-only", headers.WithCSPReportOnly(csp.Policy{}), `headers: WithCSPReportOnly: csp: policy has no directive`},
		{"permissions feature", headers.WithPermissionsPolicy(headers.PermissionsPolicy{}.Deny("camra")), `headers: WithPermissionsPolicy: unknown feature "camra"`},
		{"permissions origin", headers.WithPermissionsPolicy(headers.PermissionsPolicy{}.Allow(headers.Camera, headers.AllowOrigin("https://a.example/path"))), `headers: WithPermissionsPolicy: camera: invalid origin "https://a.example/path"`},
		{"permissions star", headers.WithPermissionsPolicy(headers.PermissionsPolicy{}.Allow(headers.Camera, headers.AllowAll, headers.AllowSelf)), `* must be the only member`},
		{"permissions raw", headers.WithPermissionsPolicy(headers.PermissionsPolicy{}.Allow(headers.Camera, "https://a.example")), `invalid allowlist member`},
		{"route pattern", headers.ForRoute("embed", headers.WithoutCSP()), `headers: ForRoute("embed"): route must start with /`},
		{"route method", headers.ForRoute("get /x", headers.WithoutCSP()), `headers: ForRoute("get /x"): invalid method "get"`},
		{"route nested", headers.ForRoute("/x", headers.ForRoute("/y")), `headers: ForRoute("/x"): headers: ForRoute("/y"): ForRoute cannot be nested`},
		{"route inner", headers.ForRoute("/x", headers.WithCORP("x")), `headers: ForRoute("/x"): headers: WithCORP: invalid value "x"`},
		{"nil", nil, "headers: New: nil setting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := headers.New(tt.setting)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: err = %v, want containing %q", err, tt.want)
			}
			// The same error surfaces through guard.New.
			g, err := guard.New(headers.Option(tt.setting))
			if err == nil {
				_ = g.Close(context.Background())
				t.Fatal("guard.New succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), headers.StageName) {
				t.Fatalf("guard.New: err = %v", err)
			}
		})
	}
	if _, err := headers.New(headers.ForRoute("/x"), headers.ForRoute("/x")); err == nil {
		t.Error("duplicate ForRoute accepted")
	}
}

func TestStageMetadata(t *testing.T) {
	s, err := headers.New()
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "security_headers" || s.Phase() != guard.PhaseHeaders {
		t.Fatalf("Name %q Phase %d", s.Name(), s.Phase())
	}
	g := newGuard(t, headers.Option())
	if !slices.Contains(g.Stages(), "security_headers") {
		t.Fatalf("stages %v", g.Stages())
	}
}
