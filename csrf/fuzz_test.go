package csrf

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/guardsdk/guard"
)

func TestParseOrigin(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		"https://example.com":           "https://example.com",
		"https://example.com:443":       "https://example.com",
		"http://example.com:80":         "http://example.com",
		"http://example.com:443":        "http://example.com:443",
		"HTTPS://Example.COM:8443":      "https://example.com:8443",
		"http://[2001:DB8::1]:8080":     "http://[2001:db8::1]:8080",
		"http://127.0.0.1:3000":         "http://127.0.0.1:3000",
		"chrome-extension://abcdef":     "chrome-extension://abcdef",
		"http://localhost":              "http://localhost",
		"https://xn--bcher-kva.example": "https://xn--bcher-kva.example",
	}
	for in, want := range good {
		o, err := parseOrigin(in)
		if err != nil || o.String() != want {
			t.Errorf("parseOrigin(%q) = %q, %v; want %q", in, o, err, want)
		}
	}
	bad := map[string]error{
		"null": errNullOrigin, "Null": errNullOrigin,
		"https://u@example.com": errUserinfo, "https://u:p@example.com:443": errUserinfo,
		"https://example.com@evil.example": errUserinfo,
		"":                                 errMalformed, "https://": errMalformed, "://example.com": errMalformed,
		"example.com": errMalformed, "https:/example.com": errMalformed,
		"https://example.com/": errMalformed, "https://example.com?": errMalformed,
		"https://example.com#": errMalformed, "https://exa mple.com": errMalformed,
		"https://example.com:": errMalformed, "https://example.com:0": errMalformed,
		"https://example.com:080": errMalformed, "https://example.com:65536": errMalformed,
		"https://example.com:-1": errMalformed, "https://[::1": errMalformed,
		"https://[fe80::1%25eth0]": errMalformed, "https://[1.2.3.4]": errMalformed,
		"https://[::1]x": errMalformed, "https://exämple.com": errMalformed,
		"https://example.com\x00": errMalformed, "https://.example.com": errMalformed,
		"https://a..b": errMalformed, "1https://a": errMalformed,
		"https://a\\b": errMalformed, "https://%65xample.com": errMalformed,
		"https://" + strings.Repeat("a", 600): errMalformed,
	}
	for in, want := range bad {
		if _, err := parseOrigin(in); err != want {
			t.Errorf("parseOrigin(%q) err = %v, want %v", in, err, want)
		}
	}
}

func TestMaskRoundTrip(t *testing.T) {
	t.Parallel()
	cfg, err := newTokenConfig(TokenConfig{Key: []byte(strings.Repeat("k", 32))})
	if err != nil {
		t.Fatal(err)
	}
	raw := cfg.mint("alice")
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		m := mask(raw)
		if seen[m] {
			t.Fatal("mask repeated")
		}
		seen[m] = true
		got, ok := unmask(m)
		if !ok || string(got) != string(raw) {
			t.Fatal("round trip")
		}
	}
	if !cfg.verify(raw, "alice") || cfg.verify(raw, "bob") || cfg.verify(raw, "") || cfg.verify(raw[:10], "alice") {
		t.Fatal("verify binding")
	}
	// Length-prefixed MAC input: moving bytes between the session id and
	// the nonce changes the MAC.
	if string(mac(cfg.keys[0], "ab", []byte("c"))) == string(mac(cfg.keys[0], "a", []byte("bc"))) {
		t.Fatal("MAC input is ambiguous")
	}
}

// FuzzParseOrigin: no panic, and anything accepted is a canonical origin
// that parses to itself and has no userinfo, path or odd bytes.
func FuzzParseOrigin(f *testing.F) {
	for _, s := range []string{"https://example.com", "null", "https://u@h", "http://[::1]:80", "https://a.b:443", "x://y", "https://h/p", "https://h:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := parseOrigin(s)
		if err != nil {
			return
		}
		c := o.String()
		if strings.ContainsAny(c[strings.Index(c, "://")+3:], "/?#@\\% ") {
			t.Fatalf("%q accepted as %q", s, c)
		}
		o2, err := parseOrigin(c)
		if err != nil || o2 != o {
			t.Fatalf("%q -> %q does not reparse: %v", s, c, err)
		}
		if !strings.EqualFold(s, c) && !strings.HasSuffix(strings.ToLower(s), ":443") && !strings.HasSuffix(strings.ToLower(s), ":80") {
			t.Fatalf("%q normalised to %q", s, c)
		}
	})
}

// FuzzToken: arbitrary submitted tokens and cookies never verify unless
// they are the real pair, and nothing panics.
func FuzzToken(f *testing.F) {
	cfg, err := newTokenConfig(TokenConfig{Key: []byte(strings.Repeat("k", 32))})
	if err != nil {
		f.Fatal(err)
	}
	// A fixed nonce: fuzz workers rebuild this state and must agree on it.
	nonce := []byte("0123456789abcdef")
	raw := append(append([]byte{}, nonce...), mac(cfg.keys[0], "alice", nonce)...)
	real := mask(raw)
	f.Add(real, "alice")
	f.Add(real[:127]+"A", "alice")
	f.Add(real, "bob")
	f.Add("", "")
	f.Add(strings.Repeat("A", 128), "alice")
	f.Fuzz(func(t *testing.T, sub, sid string) {
		got, ok := unmask(sub)
		if !ok {
			return
		}
		if len(got) != rawLen {
			t.Fatalf("unmask length %d", len(got))
		}
		if cfg.verify(got, sid) && (sid != "alice" || string(got) != string(raw)) {
			t.Fatalf("forged token verified: %q for %q", sub, sid)
		}
	})
}

// FuzzCheck throws arbitrary header values at the whole decision; it must
// not panic and must never allow a cross-site browser request.
func FuzzCheck(f *testing.F) {
	p, err := New(TrustedOrigins("https://partner.example"), WithToken(TokenConfig{Key: []byte(strings.Repeat("k", 32))}))
	if err != nil {
		f.Fatal(err)
	}
	g, err := guard.New(WithStageForTest(p))
	if err != nil {
		f.Fatal(err)
	}
	defer g.Close(context.Background())
	f.Add("POST", "cross-site", "https://evil.example", "", "", "example.com")
	f.Add("PUT", "", "null", "__Host-csrf=AAAA", "BBBB", "example.com:443")
	f.Add("DELETE", "same-origin", "https://u@example.com", "", "", "")
	f.Fuzz(func(t *testing.T, method, sfs, origin, cookie, tok, host string) {
		h := http.Header{}
		if sfs != "" {
			h.Set("Sec-Fetch-Site", sfs)
		}
		if origin != "" {
			h.Set("Origin", origin)
		}
		if cookie != "" {
			h.Set("Cookie", cookie)
		}
		if tok != "" {
			h.Set("X-Csrf-Token", tok)
		}
		r := g.Begin(guard.Incoming{Method: method, Route: "/x", Host: host, TLS: true, Header: h, ResponseHeader: http.Header{}})
		d := p.Check(r)
		if d.Allowed() && (sfs == "cross-site" || sfs == "same-site") && !strings.Contains(strings.ToLower(origin), "partner.example") {
			switch method {
			case "GET", "HEAD", "OPTIONS":
			default:
				t.Fatalf("cross-site %s from %q allowed", method, origin)
			}
		}
	})
}

// WithStageForTest adds p to a Guard without going through Option.
func WithStageForTest(p *Protection) guard.Option { return guard.WithStage(p) }
