package csrf_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/csrf"
)

type events struct {
	mu  sync.Mutex
	evs []guard.Event
}

func (e *events) HandleEvent(ev guard.Event) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	e.mu.Unlock()
}

// setup returns a Guard with the CSRF stage and an event collector, and a
// mux whose handlers echo "ok" (and, on /form, a fresh token).
func setup(t testing.TB, settings ...csrf.Setting) (*guard.Guard, http.Handler, *events) {
	t.Helper()
	ev := &events{}
	g, err := guard.New(
		csrf.Option(settings...),
		guard.WithSink(ev, guard.KindCSRFRejected),
		guard.WithTrustedProxies("10.0.0.0/8"),
		guard.WithPrincipal(func(r *guard.Request) string {
			return r.Header.Get("X-Test-User") // test only: real apps verify a session
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close(context.Background()) })
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "ok %s", body)
	}
	mux.HandleFunc("/submit", ok)
	mux.HandleFunc("/hook", ok)
	mux.HandleFunc("/hook/{x}", ok)
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		a, b := csrf.Token(r.Context()), csrf.Token(r.Context())
		fmt.Fprintf(w, "%s %s", a, b)
	})
	return g, g.Handler(mux), ev
}

type problem struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// do sends one request and returns the rejection reason ("" if allowed).
func do(t testing.TB, h http.Handler, req *http.Request) (string, *httptest.ResponseRecorder) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	switch rec.Code {
	case http.StatusOK:
		return "", rec
	case http.StatusForbidden, http.StatusRequestEntityTooLarge:
		var p problem
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != rec.Code {
			t.Fatalf("bad problem body %q", rec.Body)
		}
		if rec.Header().Get("Content-Type") != guard.ContentTypeProblem {
			t.Fatalf("Content-Type %q", rec.Header().Get("Content-Type"))
		}
		return p.Code, rec
	}
	t.Fatalf("status %d: %s", rec.Code, rec.Body)
	return "", rec
}

const (
	site    = "https://example.com"
	evil    = "https://evil.example"
	partner = "https://partner.example"
)

var originValues = map[string]string{
	"matching":    site,
	"mismatching": partner, // trusted in the "trusted" configurations
	"attacker":    evil,
	"null":        "null",
	"userinfo":    "https://user:pw@example.com",
	"absent":      "",
}

// expected is the specification of the algorithm, written independently
// of the implementation: the reason a request is rejected with, or "".
func expected(method, sfs, origin string, trusted, bypassed bool) string {
	switch method {
	case "GET", "HEAD", "OPTIONS":
		return ""
	}
	if bypassed {
		return ""
	}
	originTrusted := trusted && origin == "mismatching"
	switch sfs {
	case "same-origin", "none":
		return ""
	case "same-site", "cross-site":
		if originTrusted {
			return ""
		}
		return "cross_origin"
	}
	switch origin {
	case "absent", "matching":
		return ""
	case "null":
		return "null_origin"
	case "userinfo":
		return "invalid_origin"
	case "mismatching", "attacker":
		if originTrusted {
			return ""
		}
		return "origin_mismatch"
	}
	panic(origin)
}

// TestMatrix runs every combination of Sec-Fetch-Site, Origin, method,
// trusted origins and bypass routes through the net/http adapter.
func TestMatrix(t *testing.T) {
	t.Parallel()
	sfsValues := []string{"same-origin", "same-site", "cross-site", "none", ""}
	methods := []string{"GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH"}
	for _, trusted := range []bool{false, true} {
		var settings []csrf.Setting
		settings = append(settings, csrf.Bypass("POST", "/hook"), csrf.Bypass("DELETE", "/hook"))
		if trusted {
			settings = append(settings, csrf.TrustedOrigins(partner))
		}
		g, h, ev := setup(t, settings...)
		rejected := map[string]int{}
		for _, path := range []string{"/submit", "/hook"} {
			for _, method := range methods {
				for _, sfs := range sfsValues {
					for oname, ovalue := range originValues {
						req := httptest.NewRequest(method, site+path, nil)
						if sfs != "" {
							req.Header.Set("Sec-Fetch-Site", sfs)
						}
						if ovalue != "" {
							req.Header.Set("Origin", ovalue)
						}
						bypassed := path == "/hook" && (method == "POST" || method == "DELETE")
						want := expected(method, sfs, oname, trusted, bypassed)
						got, _ := do(t, h, req)
						if got != want {
							t.Errorf("trusted=%v %s %s Sec-Fetch-Site=%q Origin=%s(%q): got %q, want %q",
								trusted, method, path, sfs, oname, ovalue, got, want)
						}
						if want != "" {
							rejected[want]++
						}
					}
				}
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = g.Close(ctx)
		cancel()
		got := map[string]int{}
		for _, e := range ev.evs {
			if e.Kind != guard.KindCSRFRejected || e.Stage != "csrf" || e.Status != 403 || e.Reason == "" {
				t.Fatalf("event %+v", e)
			}
			if e.Attrs[0].Key != "reason" || e.Attrs[0].Value != e.Reason || e.Attrs[1].Key != "signal" {
				t.Fatalf("event attrs %+v", e.Attrs)
			}
			got[e.Reason]++
		}
		if len(rejected) < 4 {
			t.Fatalf("matrix rejected too little: %v", rejected)
		}
		if fmt.Sprint(got) != fmt.Sprint(rejected) {
			t.Errorf("trusted=%v: events by reason %v, want %v", trusted, got, rejected)
		}
	}
}

func TestSpoofedAndUnusualHeaders(t *testing.T) {
	t.Parallel()
	_, h, _ := setup(t, csrf.TrustedOrigins(partner))
	tests := []struct {
		name   string
		header http.Header
		want   string
	}{
		{"sfs wrong case", http.Header{"Sec-Fetch-Site": {"Same-Origin"}}, "invalid_fetch_metadata"},
		{"sfs unknown", http.Header{"Sec-Fetch-Site": {"same-planet"}}, "invalid_fetch_metadata"},
		{"sfs unknown, trusted origin", http.Header{"Sec-Fetch-Site": {"weird"}, "Origin": {partner}}, ""},
		{"sfs repeated", http.Header{"Sec-Fetch-Site": {"same-origin", "cross-site"}}, "invalid_fetch_metadata"},
		{"sfs repeated same", http.Header{"Sec-Fetch-Site": {"same-origin", "same-origin"}}, "invalid_fetch_metadata"},
		{"origin repeated", http.Header{"Origin": {site, site}}, "invalid_origin"},
		{"cross-site with userinfo trusted host", http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://x@partner.example"}}, "cross_origin"},
		{"origin with path", http.Header{"Origin": {site + "/"}}, "invalid_origin"},
		{"origin with query", http.Header{"Origin": {site + "?x"}}, "invalid_origin"},
		{"origin backslash", http.Header{"Origin": {`https://example.com\@evil.example`}}, "invalid_origin"},
		{"origin percent", http.Header{"Origin": {"https://example%2ecom"}}, "invalid_origin"},
		{"origin no scheme", http.Header{"Origin": {"example.com"}}, "invalid_origin"},
		{"origin empty host", http.Header{"Origin": {"https://"}}, "invalid_origin"},
		{"origin bad port", http.Header{"Origin": {"https://example.com:99999"}}, "invalid_origin"},
		{"origin NULL", http.Header{"Origin": {"NULL"}}, "null_origin"},
		{"origin http to https site", http.Header{"Origin": {"http://example.com"}}, "origin_mismatch"},
		{"origin other port", http.Header{"Origin": {"https://example.com:8443"}}, "origin_mismatch"},
		{"origin default port", http.Header{"Origin": {"https://example.com:443"}}, ""},
		{"origin upper case", http.Header{"Origin": {"HTTPS://EXAMPLE.COM"}}, ""},
		{"origin subdomain", http.Header{"Origin": {"https://a.example.com"}}, "origin_mismatch"},
		{"origin suffix trick", http.Header{"Origin": {"https://example.com.evil.example"}}, "origin_mismatch"},
		{"trusted with default port", http.Header{"Origin": {"https://partner.example:443"}}, ""},
		{"trusted upper case", http.Header{"Origin": {"https://PARTNER.example"}}, ""},
		{"trusted other scheme", http.Header{"Origin": {"http://partner.example"}}, "origin_mismatch"},
		{"trusted other port", http.Header{"Origin": {"https://partner.example:8443"}}, "origin_mismatch"},
		{"no headers at all", http.Header{}, ""},
	}
	for _, tt := range tests {
		req := httptest.NewRequest("POST", site+"/submit", nil)
		for k, v := range tt.header {
			req.Header[k] = v
		}
		if got, _ := do(t, h, req); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestHostAndScheme(t *testing.T) {
	t.Parallel()
	_, h, _ := setup(t)
	tests := []struct {
		name, url, host, peer, proto, origin, want string
	}{
		{"host with default port", "https://example.com/submit", "example.com:443", "", "", site, ""},
		{"host upper case", "https://example.com/submit", "EXAMPLE.com", "", "", site, ""},
		{"plain http, http origin", "http://example.com/submit", "", "", "", "http://example.com", ""},
		{"plain http, https origin", "http://example.com/submit", "", "", "", site, "origin_mismatch"},
		{"trusted proxy says https", "http://example.com/submit", "", "10.0.0.1:1234", "https", site, ""},
		{"untrusted peer says https", "http://example.com/submit", "", "192.0.2.1:1234", "https", site, "origin_mismatch"},
		{"IPv6 host", "https://[2001:db8::1]/submit", "", "", "", "https://[2001:DB8::1]", ""},
		{"empty host", "https://example.com/submit", "-", "", "", site, "origin_mismatch"},
	}
	for _, tt := range tests {
		req := httptest.NewRequest("POST", tt.url, nil)
		switch tt.host {
		case "":
		case "-":
			req.Host = ""
		default:
			req.Host = tt.host
		}
		if tt.peer != "" {
			req.RemoteAddr = tt.peer
		}
		if tt.proto != "" {
			req.Header.Set("X-Forwarded-Proto", tt.proto)
		}
		req.Header.Set("Origin", tt.origin)
		if got, _ := do(t, h, req); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestBypassIsExact(t *testing.T) {
	t.Parallel()
	_, h, _ := setup(t, csrf.Bypass("POST", "/hook/{x}"))
	cross := func(method, path string) string {
		req := httptest.NewRequest(method, site+path, nil)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", evil)
		got, _ := do(t, h, req)
		return got
	}
	if got := cross("POST", "/hook/stripe"); got != "" {
		t.Errorf("bypassed route rejected: %q", got)
	}
	for _, c := range []struct{ method, path string }{
		{"PUT", "/hook/stripe"}, // other method
		{"POST", "/hook"},       // other route, a prefix of the template
		{"POST", "/submit"},
		{"POST", "/nothing/here"}, // unmatched
	} {
		if got := cross(c.method, c.path); got != "cross_origin" {
			t.Errorf("%s %s: got %q, want cross_origin", c.method, c.path, got)
		}
	}
}

func TestInvalidSettings(t *testing.T) {
	t.Parallel()
	key := []byte(strings.Repeat("k", 32))
	tests := []struct {
		s    csrf.Setting
		want string
	}{
		{csrf.TrustedOrigins("https://app.example/"), `csrf: TrustedOrigins: invalid origin "https://app.example/"`},
		{csrf.TrustedOrigins("*"), `csrf: TrustedOrigins: invalid origin "*"`},
		{csrf.TrustedOrigins("https://*.example.com"), `invalid origin "https://*.example.com"`},
		{csrf.TrustedOrigins("null"), `invalid origin "null"`},
		{csrf.TrustedOrigins("https://u@app.example"), `invalid origin "https://u@app.example": origin has userinfo`},
		{csrf.TrustedOrigins("app.example"), `invalid origin "app.example"`},
		{csrf.TrustedOrigins("https://app.example:0"), `invalid origin "https://app.example:0"`},
		{csrf.Bypass("post", "/x"), `csrf: Bypass: invalid method "post"`},
		{csrf.Bypass("POST", "x"), `csrf: Bypass: route "x" must start with /`},
		{csrf.Bypass("POST", ""), `csrf: Bypass: route "" must start with /`},
		{csrf.Bypass("POST", "/a b"), `contains whitespace`},
		{csrf.WithToken(csrf.TokenConfig{Key: key[:31]}), "csrf: WithToken: key is 31 bytes, want at least 32"},
		{csrf.WithToken(csrf.TokenConfig{Key: key, PreviousKeys: [][]byte{key[:5]}}), "PreviousKeys[0] is 5 bytes"},
		{csrf.WithToken(csrf.TokenConfig{Key: key, CookieName: "a b"}), `invalid CookieName "a b"`},
		{csrf.WithToken(csrf.TokenConfig{Key: key, CookieName: "__Host-x"}), `invalid CookieName "__Host-x"`},
		{csrf.WithToken(csrf.TokenConfig{Key: key, HeaderName: "X:Y"}), `invalid HeaderName "X:Y"`},
		{csrf.WithToken(csrf.TokenConfig{Key: key, FormField: "a=b"}), `invalid FormField "a=b"`},
		{csrf.WithToken(csrf.TokenConfig{Key: key, MaxFormBody: -1}), "MaxFormBody -1 is negative"},
		{csrf.WithToken(csrf.TokenConfig{Key: key, SameSite: http.SameSiteNoneMode}), "SameSite 4 not allowed"},
		{nil, "csrf: New: nil setting"},
	}
	for _, tt := range tests {
		if _, err := csrf.New(tt.s); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New: err %v, want %q", err, tt.want)
		}
		g, err := guard.New(csrf.Option(tt.s))
		if err == nil {
			_ = g.Close(context.Background())
			t.Errorf("guard.New accepted %q", tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "stage csrf") {
			t.Errorf("guard.New: err %v", err)
		}
	}
	if p, err := csrf.New(csrf.TrustedOrigins("HTTPS://App.Example:443", "http://localhost:3000", "http://[::1]:8080")); err != nil || p.Name() != "csrf" || p.Phase() != guard.PhaseCSRF {
		t.Errorf("valid settings: %v", err)
	}
}
