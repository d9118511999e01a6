package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/guardsdk/guard/csp"
)

// securityHeaders are the exact headers of every API response: package
// headers' strict API defaults, with the CSP reporting to /csp-report.
var securityHeaders = map[string]string{
	"Content-Security-Policy":      "default-src 'none'; frame-ancestors 'none'; report-uri /csp-report; report-to csp",
	"Reporting-Endpoints":          `csp="/csp-report"`,
	"X-Content-Type-Options":       "nosniff",
	"X-Frame-Options":              "DENY",
	"X-Xss-Protection":             "0",
	"Referrer-Policy":              "strict-origin-when-cross-origin",
	"Permissions-Policy":           "accelerometer=(), browsing-topics=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), hid=(), magnetometer=(), microphone=(), midi=(), payment=(), serial=(), usb=()",
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
	"Cache-Control":                "no-store",
}

const hsts = "max-age=31536000; includeSubDomains"

// checkHeaders asserts that h holds exactly the security headers (each
// once), HSTS only when wantHSTS, the names in other, and nothing else
// besides Date, Content-Length, Content-Type and the rate-limit headers. A
// name in other with a
// "-" prefix is a security header that must be absent.
func checkHeaders(t *testing.T, what string, h http.Header, wantHSTS bool, other ...string) {
	t.Helper()
	want := map[string]string{}
	for k, v := range securityHeaders {
		want[k] = v
	}
	if wantHSTS {
		want["Strict-Transport-Security"] = hsts
	}
	for _, k := range other {
		if name, ok := strings.CutPrefix(k, "-"); ok {
			delete(want, name)
		}
	}
	for k, v := range want {
		if got := h.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("%s: %s = %q, want exactly %q", what, k, got, v)
		}
	}
	if h.Get("X-Request-Id") == "" {
		t.Errorf("%s: no X-Request-Id", what)
	}
	allowed := append([]string{"Date", "Content-Length", "Content-Type", "X-Request-Id",
		// The rate limiter's, on responses its stage reached.
		"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset", "Ratelimit", "Ratelimit-Policy"}, other...)
	for k := range h {
		if _, ok := want[k]; !ok && !slices.Contains(allowed, k) {
			t.Errorf("%s: unexpected header %s: %q", what, k, h.Values(k))
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	for _, tc := range []struct {
		name string
		tls  bool
	}{{"plain HTTP", false}, {"HTTPS", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := serveApp(t, appConfig{Store: memStore(t)}, tc.tls)
			c := newClient(t, srv)
			checkHeaders(t, "GET /", c.must(c.do("GET", "/", nil), 200).header, tc.tls)

			// Problem answers of the app, of the mux and of guard's
			// stages carry them too.
			r := c.do("GET", "/api/v1/notes", nil)
			r.problem(t, 401, "unauthenticated")
			checkHeaders(t, "401", r.header, tc.tls, "Www-Authenticate")
			r = c.do("GET", "/nope", nil)
			r.problem(t, 404, "not_found")
			checkHeaders(t, "404", r.header, tc.tls)
			r = c.do("POST", "/api/v1/notes", `{}`, "Sec-Fetch-Site", "cross-site")
			r.problem(t, 403, "cross_origin")
			checkHeaders(t, "CSRF 403", r.header, tc.tls)

			// Authenticated answers: Cache-Control: no-store once.
			c.signup("hanna", password)
			r = c.must(c.do("POST", "/api/v1/notes", map[string]string{"title": "t"}), 201)
			checkHeaders(t, "201", r.header, tc.tls, "Location")
			r = c.must(c.do("POST", "/api/v1/auth/logout", nil), 204)
			checkHeaders(t, "204", r.header, tc.tls)

			for _, k := range []string{"Server", "X-Powered-By"} {
				if v := r.header.Get(k); v != "" {
					t.Errorf("%s: %q", k, v)
				}
			}
		})
	}
}

// TestHSTSBehindProxy: HSTS follows X-Forwarded-Proto only from a
// trusted proxy.
func TestHSTSBehindProxy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		proxies []string
		want    string
	}{
		{"trusted proxy", []string{"127.0.0.1", "::1"}, hsts},
		{"no trusted proxy", nil, ""},
	} {
		srv, _ := serveApp(t, appConfig{Store: memStore(t), TrustedProxies: tc.proxies}, false)
		c := newClient(t, srv)
		r := c.must(c.do("GET", "/", nil, "X-Forwarded-Proto", "https", "X-Forwarded-For", "203.0.113.9"), 200)
		if got := r.header.Get("Strict-Transport-Security"); got != tc.want {
			t.Errorf("%s: HSTS %q, want %q", tc.name, got, tc.want)
		}
		r = c.must(c.do("GET", "/", nil), 200)
		if got := r.header.Get("Strict-Transport-Security"); got != "" {
			t.Errorf("%s: HSTS %q over plain HTTP", tc.name, got)
		}
	}
}

func TestCSRF(t *testing.T) {
	for _, tc := range []struct {
		name string
		tls  bool
	}{{"plain HTTP", false}, {"HTTPS", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := serveApp(t, appConfig{Store: memStore(t)}, tc.tls)
			c := newClient(t, srv)
			// A curl-like client: no Sec-Fetch-Site, no Origin. Signing
			// up, logging in and creating a note all work.
			c.signup("ivy", password)
			c.createNote("from curl", "")
			note := map[string]string{"title": "t"}

			// The server's own origin, the same host and port with the other
			// scheme, and with userinfo.
			self := srv.URL
			scheme, hostport, _ := strings.Cut(self, "://")
			other := "https://" + hostport
			if scheme == "https" {
				other = "http://" + hostport
			}
			rejected := []struct {
				name string
				hdr  []string
				code string
			}{
				{"cross-site", []string{"Sec-Fetch-Site", "cross-site"}, "cross_origin"},
				{"cross-site with a foreign Origin", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, "cross_origin"},
				{"cross-site claiming our Origin", []string{"Sec-Fetch-Site", "cross-site", "Origin", self}, "cross_origin"},
				{"same-site", []string{"Sec-Fetch-Site", "same-site", "Origin", "https://sub.example"}, "cross_origin"},
				{"unknown Sec-Fetch-Site", []string{"Sec-Fetch-Site", "sideways"}, "invalid_fetch_metadata"},
				{"old browser, foreign Origin", []string{"Origin", "https://evil.example"}, "origin_mismatch"},
				{"old browser, other scheme", []string{"Origin", other}, "origin_mismatch"},
				{"Origin null", []string{"Origin", "null"}, "null_origin"},
				{"Origin with userinfo", []string{"Origin", scheme + "://user@" + hostport}, "invalid_origin"},
			}
			for _, rc := range rejected {
				for _, path := range []string{"/api/v1/notes", "/api/v1/auth/logout", "/api/v1/auth/login", "/api/v1/auth/register"} {
					r := c.do("POST", path, note, rc.hdr...)
					r.problem(t, 403, rc.code)
					if strings.Contains(string(r.body), "evil") {
						t.Fatalf("%s: the problem echoes the Origin: %s", rc.name, r.body)
					}
				}
			}
			allowed := []struct {
				name string
				hdr  []string
			}{
				{"same-origin", []string{"Sec-Fetch-Site", "same-origin", "Origin", self}},
				{"same-origin, no Origin", []string{"Sec-Fetch-Site", "same-origin"}},
				{"user-initiated", []string{"Sec-Fetch-Site", "none"}},
				{"old browser, our Origin", []string{"Origin", self}},
				{"no headers", nil},
			}
			for _, ac := range allowed {
				if r := c.do("POST", "/api/v1/notes", note, ac.hdr...); r.status != 201 {
					t.Errorf("%s: %d %s, want 201", ac.name, r.status, r.body)
				}
			}
			// Safe methods are never refused.
			c.must(c.do("GET", "/api/v1/notes", nil, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"), 200)
			// The session survived every rejected logout and the rejected
			// requests created nothing.
			if got := c.listNotes("/api/v1/notes"); len(got) != 1+len(allowed) {
				t.Fatalf("%d notes, want %d", len(got), 1+len(allowed))
			}
		})
	}
}

func TestCSPReports(t *testing.T) {
	t.Parallel()
	srv, a := serveApp(t, appConfig{Store: memStore(t)}, false)
	c := newClient(t, srv)
	legacy := `{"csp-report":{"document-uri":"http://localhost:8080/","referrer":"","violated-directive":"script-src-elem","effective-directive":"script-src-elem","original-policy":"default-src 'none'","disposition":"enforce","blocked-uri":"https://evil.example/x.js?secret=1","status-code":200,"script-sample":""}}`
	reportingAPI := `[{"type":"csp-violation","age":10,"url":"https://localhost:8443/","user_agent":"test","body":{"documentURL":"https://localhost:8443/","effectiveDirective":"img-src","blockedURL":"https://evil.example/i.png","disposition":"enforce","statusCode":200}}]`

	// Browsers post reports outside the page's context, cross-site
	// included: the route bypasses the CSRF check.
	for _, hdr := range [][]string{nil, {"Sec-Fetch-Site", "cross-site", "Origin", "null"}} {
		r := c.do("POST", cspReportPath, legacy, append([]string{"Content-Type", "application/csp-report"}, hdr...)...)
		if r.status != 204 || len(r.body) != 0 {
			t.Fatalf("legacy report %q: %d %s, want 204", hdr, r.status, r.body)
		}
		// No body, no principal: nothing to keep out of caches.
		checkHeaders(t, "204 report", r.header, false, "-Cache-Control")
	}
	if r := c.do("POST", cspReportPath, reportingAPI, "Content-Type", "application/reports+json"); r.status != 204 {
		t.Fatalf("Reporting API report: %d %s, want 204", r.status, r.body)
	}
	reports := a.reports.(*csp.ReportHandler)
	if st := reports.Stats(); st.Accepted != 3 {
		t.Fatalf("stats %+v, want 3 accepted", st)
	}

	// Oversized: by Content-Length, before reading.
	huge := `{"csp-report":{"blocked-uri":"` + strings.Repeat("a", csp.DefaultMaxReportBody) + `"}}`
	r := c.do("POST", cspReportPath, huge, "Content-Type", "application/csp-report")
	r.problem(t, 413, csp.ReasonReportTooLarge)
	checkHeaders(t, "413 report", r.header, false)
	c.do("POST", cspReportPath, legacy, "Content-Type", "text/plain").problem(t, 415, csp.ReasonReportMediaType)
	c.do("POST", cspReportPath, `{"csp-report":`, "Content-Type", "application/csp-report").problem(t, 400, csp.ReasonReportMalformed)
	c.do("GET", cspReportPath, nil).problem(t, 405, "method_not_allowed")
	if st := reports.Stats(); st.Accepted != 3 || st.Rejected != 3 {
		t.Fatalf("stats %+v, want 3 accepted and 3 rejected", st)
	}
}
