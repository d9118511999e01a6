package csrf_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/guardsdk/guard"
	"github.com/guardsdk/guard/csrf"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// page fetches /form as user and returns the cookie (name=value) and the
// two masked tokens the handler got from two Token calls.
func page(t *testing.T, h http.Handler, scheme, user string, cookies ...string) (cookie string, setCookies []string, tok1, tok2 string) {
	t.Helper()
	req := httptest.NewRequest("GET", scheme+"://example.com/form", nil)
	if user != "" {
		req.Header.Set("X-Test-User", user)
	}
	for _, c := range cookies {
		req.Header.Add("Cookie", c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("GET /form: %d", rec.Code)
	}
	toks := strings.Fields(rec.Body.String())
	if len(toks) != 2 {
		t.Fatalf("body %q", rec.Body)
	}
	setCookies = rec.Result().Header.Values("Set-Cookie")
	if len(setCookies) > 0 {
		cookie, _, _ = strings.Cut(setCookies[0], ";")
	}
	return cookie, setCookies, toks[0], toks[1]
}

// post sends a POST without fetch metadata or Origin (an old browser).
func post(t *testing.T, h http.Handler, user, cookie, headerTok string, form url.Values) (string, string) {
	t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest("POST", "https://example.com/submit", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest("POST", "https://example.com/submit", nil)
	}
	if user != "" {
		req.Header.Set("X-Test-User", user)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	if headerTok != "" {
		req.Header.Set("X-CSRF-Token", headerTok)
	}
	reason, rec := do(t, h, req)
	return reason, rec.Body.String()
}

func TestTokenFlow(t *testing.T) {
	t.Parallel()
	_, h, _ := setup(t, csrf.WithToken(csrf.TokenConfig{Key: testKey}))
	cookie, sc, tok1, tok2 := page(t, h, "https", "alice")
	if len(sc) != 1 {
		t.Fatalf("two Token calls set %d cookies: %q", len(sc), sc)
	}
	c, err := http.ParseSetCookie(sc[0])
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "__Host-csrf" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
		t.Fatalf("cookie attributes: %q", sc[0])
	}
	if tok1 == tok2 || len(tok1) != 128 {
		t.Fatalf("masked tokens not fresh: %q %q", tok1, tok2)
	}
	// Both masked forms verify, in the header or the form field, and the
	// handler still reads the whole body.
	for _, tok := range []string{tok1, tok2} {
		if got, _ := post(t, h, "alice", cookie, tok, nil); got != "" {
			t.Errorf("header token rejected: %q", got)
		}
		form := url.Values{"csrf_token": {tok}, "note": {"hello"}}
		got, body := post(t, h, "alice", cookie, "", form)
		if got != "" || !strings.Contains(body, "note=hello") {
			t.Errorf("form token: %q body %q", got, body)
		}
	}
	// A second page with the cookie reuses the token: no new cookie, and
	// the new masked token differs but verifies.
	_, sc2, tok3, _ := page(t, h, "https", "alice", cookie)
	if len(sc2) != 0 {
		t.Errorf("valid cookie replaced: %q", sc2)
	}
	if tok3 == tok1 || tok3 == tok2 {
		t.Error("masked token repeated across responses")
	}
	if got, _ := post(t, h, "alice", cookie, tok3, nil); got != "" {
		t.Errorf("second page token rejected: %q", got)
	}
}

func TestTokenRejections(t *testing.T) {
	t.Parallel()
	_, h, _ := setup(t, csrf.WithToken(csrf.TokenConfig{Key: testKey, MaxFormBody: 64}))
	aliceCookie, _, aliceTok, _ := page(t, h, "https", "alice")
	bobCookie, _, bobTok, _ := page(t, h, "https", "bob")
	_, _, otherAliceTok, _ := page(t, h, "https", "alice") // a second alice session

	// Another deployment's key.
	_, h2, _ := setup(t, csrf.WithToken(csrf.TokenConfig{Key: []byte(strings.Repeat("z", 32))}))
	foreignCookie, _, foreignTok, _ := page(t, h2, "https", "alice")

	flip := func(s string) string { // flip one character of the masked part
		b := []byte(s)
		if b[100] == 'A' {
			b[100] = 'B'
		} else {
			b[100] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name, user, cookie, tok, want string
	}{
		{"no cookie, no token", "alice", "", "", "token_missing"},
		{"token without cookie", "alice", "", aliceTok, "token_missing"},
		{"cookie without token", "alice", aliceCookie, "", "token_missing"},
		{"replay to another session", "bob", aliceCookie, aliceTok, "bad_token"},
		{"replay, anonymous", "", aliceCookie, aliceTok, "bad_token"},
		{"cookie of alice, token of bob", "alice", aliceCookie, bobTok, "bad_token"},
		{"cookie of bob, token of bob, as alice", "alice", bobCookie, bobTok, "bad_token"},
		{"other session's token", "alice", aliceCookie, otherAliceTok, "bad_token"},
		{"foreign key", "alice", foreignCookie, foreignTok, "bad_token"},
		{"garbage", "alice", aliceCookie, "garbage", "bad_token"},
		{"truncated", "alice", aliceCookie, aliceTok[:127], "bad_token"},
		{"flipped", "alice", aliceCookie, flip(aliceTok), "bad_token"},
		{"unmasked cookie value as token", "alice", aliceCookie, strings.TrimPrefix(aliceCookie, "__Host-csrf="), "bad_token"},
		{"plain-http cookie name over https", "alice", "csrf=" + strings.TrimPrefix(aliceCookie, "__Host-csrf="), aliceTok, "token_missing"},
		{"valid", "alice", aliceCookie, aliceTok, ""},
	}
	for _, tt := range tests {
		if got, _ := post(t, h, tt.user, tt.cookie, tt.tok, nil); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
	// A tossed cookie beside the real one does not hide it.
	req := httptest.NewRequest("POST", "https://example.com/submit", nil)
	req.Header.Set("X-Test-User", "alice")
	req.Header.Add("Cookie", bobCookie)
	req.Header.Add("Cookie", aliceCookie+"; other=1")
	req.Header.Set("X-CSRF-Token", aliceTok)
	if got, _ := do(t, h, req); got != "" {
		t.Errorf("two cookies: %q", got)
	}
	// Form body over MaxFormBody: 413.
	form := url.Values{"csrf_token": {aliceTok}, "pad": {strings.Repeat("x", 100)}}
	if got, _ := post(t, h, "alice", aliceCookie, "", form); got != "body_too_large" {
		t.Errorf("big form: %q", got)
	}
	// Multipart is not parsed.
	req = httptest.NewRequest("POST", "https://example.com/submit", strings.NewReader("--b\r\n"))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	req.Header.Set("Cookie", aliceCookie)
	req.Header.Set("X-Test-User", "alice")
	if got, _ := do(t, h, req); got != "token_missing" {
		t.Errorf("multipart: %q", got)
	}
}

func TestTokenOnlyWithoutSignals(t *testing.T) {
	t.Parallel()
	_, h, _ := setup(t, csrf.WithToken(csrf.TokenConfig{Key: testKey}))
	cookie, _, tok, _ := page(t, h, "https", "alice")
	send := func(sfs, origin, tok string) string {
		req := httptest.NewRequest("POST", "https://example.com/submit", nil)
		req.Header.Set("X-Test-User", "alice")
		if sfs != "" {
			req.Header.Set("Sec-Fetch-Site", sfs)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if tok != "" {
			req.Header.Set("Cookie", cookie)
			req.Header.Set("X-CSRF-Token", tok)
		}
		got, _ := do(t, h, req)
		return got
	}
	tests := []struct{ sfs, origin, tok, want string }{
		{"same-origin", "", "", ""},               // fetch metadata decides
		{"", site, "", ""},                        // Origin decides
		{"", evil, tok, "origin_mismatch"},        // a token does not override a mismatch
		{"cross-site", evil, tok, "cross_origin"}, // nor fetch metadata
		{"", "null", "", "token_missing"},         // null: the token decides
		{"", "null", tok, ""},                     //
		{"", "https://u@example.com", tok, "invalid_origin"},
		{"", "", "", "token_missing"},
		{"", "", tok, ""},
	}
	for _, tt := range tests {
		if got := send(tt.sfs, tt.origin, tt.tok); got != tt.want {
			t.Errorf("sfs=%q origin=%q token=%v: got %q, want %q", tt.sfs, tt.origin, tt.tok != "", got, tt.want)
		}
	}
}

func TestTokenPlainHTTPAndRotation(t *testing.T) {
	t.Parallel()
	old := []byte(strings.Repeat("o", 32))
	_, hOld, _ := setup(t, csrf.WithToken(csrf.TokenConfig{Key: old, SameSite: http.SameSiteStrictMode}))
	cookie, sc, tok, _ := page(t, hOld, "http", "alice")
	c, _ := http.ParseSetCookie(sc[0])
	if c.Name != "csrf" || c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		t.Fatalf("plain-http cookie: %q", sc[0])
	}
	req := func(h http.Handler) string {
		r := httptest.NewRequest("POST", "http://example.com/submit", nil)
		r.Header.Set("X-Test-User", "alice")
		r.Header.Set("Cookie", cookie)
		r.Header.Set("X-CSRF-Token", tok)
		got, _ := do(t, h, r)
		return got
	}
	_, hNew, _ := setup(t, csrf.WithToken(csrf.TokenConfig{Key: testKey, PreviousKeys: [][]byte{old}, SameSite: http.SameSiteStrictMode}))
	if got := req(hNew); got != "" {
		t.Errorf("previous key no longer verifies: %q", got)
	}
	_, hDropped, _ := setup(t, csrf.WithToken(csrf.TokenConfig{Key: testKey}))
	if got := req(hDropped); got != "bad_token" {
		t.Errorf("dropped key still verifies: %q", got)
	}
	// After rotation, the page mints under the new key.
	newCookie, sc2, _, _ := page(t, hNew, "http", "alice", cookie)
	if len(sc2) != 0 || newCookie != "" {
		t.Errorf("old-key cookie replaced although it verifies: %q", sc2)
	}
}

func TestTokenSessionIDAndLogin(t *testing.T) {
	t.Parallel()
	_, h, _ := setup(t, csrf.WithToken(csrf.TokenConfig{
		Key:       testKey,
		SessionID: func(r *guard.Request) string { return r.Header.Get("X-Session") },
		FormField: "-",
	}))
	req := httptest.NewRequest("GET", "https://example.com/form", nil)
	req.Header.Set("X-Session", "s1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	cookie, _, _ := strings.Cut(rec.Result().Header.Get("Set-Cookie"), ";")
	tok := strings.Fields(rec.Body.String())[0]
	for _, tc := range []struct{ session, want string }{{"s1", ""}, {"s2", "bad_token"}} {
		r := httptest.NewRequest("POST", "https://example.com/submit", strings.NewReader(url.Values{"csrf_token": {tok}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("X-Session", tc.session)
		r.Header.Set("Cookie", cookie)
		r.Header.Set("X-CSRF-Token", tok)
		if got, _ := do(t, h, r); got != tc.want {
			t.Errorf("session %s: %q, want %q", tc.session, got, tc.want)
		}
	}
	// FormField "-": the form field alone is not read.
	r := httptest.NewRequest("POST", "https://example.com/submit", strings.NewReader(url.Values{"csrf_token": {tok}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Session", "s1")
	r.Header.Set("Cookie", cookie)
	if got, _ := do(t, h, r); got != "token_missing" {
		t.Errorf("form field read although off: %q", got)
	}
	// Login: the anonymous token no longer verifies once the session id
	// changes, and the next page mints a new cookie.
	if _, sc, _, _ := page(t, h, "https", "", cookie); len(sc) != 1 {
		t.Errorf("token of another session kept: %q", sc)
	}
}

func TestTokenOutsideGuard(t *testing.T) {
	t.Parallel()
	if csrf.Token(context.Background()) != "" {
		t.Error("Token outside a request")
	}
	_, h, _ := setup(t) // no WithToken
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/form", nil))
	if strings.TrimSpace(rec.Body.String()) != "" || rec.Header().Get("Set-Cookie") != "" {
		t.Errorf("token without WithToken: %q %q", rec.Body, rec.Header())
	}
}
