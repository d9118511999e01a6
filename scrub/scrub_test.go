package scrub_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/guardsdk/guard/scrub"
)

const jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"

func TestString(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"nothing here 123", "nothing here 123"},
		{"token=" + jwt + " end", "token=[REDACTED] end"},
		{"Authorization: Bearer abc.def-ghi~jk==", "Authorization: [REDACTED] [REDACTED]"},
		{"Bearer abc.def-ghi~jk==", "Bearer [REDACTED]"},
		{"basic dXNlcjpwYXNz", "basic [REDACTED]"},
		{"card 4111 1111 1111 1111 ok", "card [REDACTED] ok"},
		{"card 4111-1111-1111-1111", "card [REDACTED]"},
		{"4111111111111111", "[REDACTED]"},
		{"not luhn 4111111111111112", "not luhn 4111111111111112"},
		{"too short 411111111111", "too short 411111111111"},
		{"too long 41111111111111111111111", "too long 41111111111111111111111"},
		{"double space 4111  1111 1111 1111", "double space 4111  1111 1111 1111"},
		{"order 12-3", "order 12-3"},
		{`{"user":"ann","password":"hun\"ter2","pad":"xx`, `{"user":"ann","password":"[REDACTED]","pad":"xx`},
		{`{"password":"hunter2`, `{"password":"[REDACTED]"`},
		{"login failed: password=hunter2&user=ann", "login failed: password=[REDACTED]&user=ann"},
		{"api_key: abc123, ok", "api_key: [REDACTED], ok"},
		{"time 12:30 ratio=3", "time 12:30 ratio=3"},
	}
	s := scrub.Default()
	for _, tt := range tests {
		if got := s.String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	h := http.Header{
		"Authorization": {"Bearer x"},
		"Cookie":        {"sid=1"},
		"X-Auth-Token":  {"t"},
		"X-Custom":      {"hello " + jwt},
		"Accept":        {"text/html", "application/json"},
	}
	got := scrub.New(scrub.WithHeaders("X-Tenant-Secret-Id")).Headers(h)
	want := map[string]string{
		"Authorization": scrub.Redacted,
		"Cookie":        scrub.Redacted,
		"X-Auth-Token":  scrub.Redacted,
		"X-Custom":      "hello " + scrub.Redacted,
		"Accept":        "text/html, application/json",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	in := `{"user":"ann","Password":"hunter2","nested":{"api_key":"k","list":[{"refreshToken":"r"},"Bearer zzz"]},"card":4111111111111111,"n":42}`
	out := string(scrub.Default().JSON([]byte(in)))
	for _, secret := range []string{"hunter2", `"k"`, `"r"`, "zzz", "4111111111111111"} {
		if strings.Contains(out, secret) {
			t.Errorf("JSON output %s still contains %s", out, secret)
		}
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("output not JSON: %v", err)
	}
	if v["user"] != "ann" || v["n"] != float64(42) {
		t.Errorf("non-secret values changed: %s", out)
	}
	// Not JSON: scrubbed as text.
	if got := string(scrub.Default().JSON([]byte(`password=1 Bearer abc`))); got != "password=[REDACTED] Bearer [REDACTED]" {
		t.Errorf("text fallback = %q", got)
	}
}

func TestQueryAndKeys(t *testing.T) {
	t.Parallel()
	s := scrub.New(scrub.WithKeys("tenant_code"))
	got := s.Query("a=1&access_token=xyz&TenantCode=9&q=" + jwt)
	if strings.Contains(got, "xyz") || strings.Contains(got, "=9") || strings.Contains(got, "eyJ") || !strings.Contains(got, "a=1") {
		t.Errorf("Query = %q", got)
	}
	for key, want := range map[string]bool{"pin": true, "spinner": false, "author": false, "auth": true, "X-Session-Id": true, "name": false} {
		if got := s.SensitiveKey(key); got != want {
			t.Errorf("SensitiveKey(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestStringNoAlloc(t *testing.T) {
	s := scrub.Default()
	in := "GET /notes/42 took 12ms for user 7"
	if n := testing.AllocsPerRun(100, func() { _ = s.String(in) }); n != 0 {
		t.Errorf("String allocates %v times on clean text", n)
	}
}

// FuzzString checks that scrubbing never panics, is idempotent, keeps
// valid UTF-8 valid, and leaves no JWT or Luhn-valid card behind.
func FuzzString(f *testing.F) {
	for _, s := range []string{"", jwt, "Bearer abc", "4111 1111 1111 1111", "x 5500-0000-0000-0004 y", "eyJ.eyJ.", "bearer\t=="} {
		f.Add(s)
	}
	s := scrub.Default()
	f.Fuzz(func(t *testing.T, in string) {
		out := s.String(in)
		if again := s.String(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, out, again)
		}
		if utf8.ValidString(in) && !utf8.ValidString(out) {
			t.Fatalf("broke UTF-8: %q -> %q", in, out)
		}
		if strings.Contains(in, jwt) && strings.Contains(out, jwt) {
			t.Fatalf("JWT survived: %q", out)
		}
	})
}

// FuzzJSON checks that JSON scrubbing never panics, that valid JSON stays
// valid, and that values under a sensitive key never survive.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{`{"password":"p1"}`, `[1,{"a":{"token":"t"}}]`, `"x"`, `{`, `{"a":1}{"b":2}`, `null`} {
		f.Add([]byte(s))
	}
	s := scrub.Default()
	f.Fuzz(func(t *testing.T, in []byte) {
		out := s.JSON(in)
		if json.Valid(in) && utf8.Valid(in) && !json.Valid(out) {
			t.Fatalf("valid JSON became invalid: %s -> %s", in, out)
		}
		var v map[string]any
		if json.Unmarshal(out, &v) == nil {
			if p, ok := v["password"]; ok && p != scrub.Redacted {
				t.Fatalf("password survived: %s", out)
			}
		}
	})
}
