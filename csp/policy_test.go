package csp

import (
	"strings"
	"testing"
)

func TestDefaults(t *testing.T) {
	t.Parallel()
	if got, want := API().String(), "default-src 'none'; frame-ancestors 'none'"; got != want {
		t.Errorf("API() = %q, want %q", got, want)
	}
	want := "default-src 'none'; script-src 'nonce-{nonce}' 'strict-dynamic'; style-src 'self' 'nonce-{nonce}'; img-src 'self'; font-src 'self'; connect-src 'self'; manifest-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
	if got := HTML().String(); got != want {
		t.Errorf("HTML() =\n %q\nwant\n %q", got, want)
	}
	if API().NeedsNonce() || !HTML().NeedsNonce() {
		t.Error("NeedsNonce wrong")
	}
}

func TestSetReplacesAndCopies(t *testing.T) {
	t.Parallel()
	base := API()
	a := base.Set(ImgSrc, Self)
	b := base.Set(ImgSrc, Host("https://img.example"))
	c := a.Set(DefaultSrc, Self) // replace in place, keeping order
	if base.String() != "default-src 'none'; frame-ancestors 'none'" {
		t.Errorf("base changed: %q", base)
	}
	if a.String() != "default-src 'none'; frame-ancestors 'none'; img-src 'self'" {
		t.Errorf("a = %q", a)
	}
	if b.String() != "default-src 'none'; frame-ancestors 'none'; img-src https://img.example" {
		t.Errorf("b = %q", b)
	}
	if c.String() != "default-src 'self'; frame-ancestors 'none'; img-src 'self'" {
		t.Errorf("c = %q", c)
	}
	if d := c.Remove(ImgSrc); d.String() != "default-src 'self'; frame-ancestors 'none'" || c.String() == d.String() {
		t.Errorf("Remove: %q / %q", c, d)
	}
	if srcs, ok := a.Get(ImgSrc); !ok || len(srcs) != 1 || srcs[0] != Self {
		t.Errorf("Get = %v %v", srcs, ok)
	}
	if _, ok := a.Get(ScriptSrc); ok {
		t.Error("Get of an unset directive")
	}
}

func TestValidSources(t *testing.T) {
	t.Parallel()
	good := []struct {
		d Directive
		s []Source
	}{
		{ScriptSrc, []Source{NonceSource, StrictDynamic, UnsafeInline, Scheme("https")}},
		{ScriptSrc, []Source{HashOf("alert(1)"), StrictDynamic}},
		{ScriptSrc, []Source{"'sha384-" + Source(strings.Repeat("A", 64)) + "'"}},
		{ScriptSrc, []Source{"'sha512-" + Source(strings.Repeat("A", 86)) + "=='"}},
		{ScriptSrc, []Source{Self, WasmUnsafeEval, ReportSample, UnsafeHashes, UnsafeEval}},
		{ImgSrc, []Source{Self, "data:", "blob:", "https://*.cdn.example:443/img/", "*", "cdn.example:*"}},
		{ConnectSrc, []Source{"wss://ws.example", "https:"}},
		{FrameAncestors, []Source{Self, "https://partner.example"}},
		{Sandbox, nil},
		{Sandbox, []Source{"allow-scripts", "allow-forms"}},
		{UpgradeInsecureRequests, nil},
		{RequireTrustedTypesFor, []Source{"'script'"}},
		{TrustedTypes, []Source{"default", "dompurify", "'allow-duplicates'"}},
		{TrustedTypes, []Source{"'none'"}},
	}
	for _, tt := range good {
		if err := API().Set(tt.d, tt.s...).Validate(); err != nil {
			t.Errorf("Set(%s, %q): %v", tt.d, tt.s, err)
		}
	}
}

func TestInvalidPolicies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p    Policy
		want string
	}{
		{Policy{}, "csp: policy has no directive"},
		{API().Set("script-source", Self), `csp: unknown directive "script-source"`},
		{API().Set("report-uri", "/x"), "csp: report-uri: set it with Policy.ReportURI"},
		{API().Set(ScriptSrc), "csp: script-src: empty source list (use None)"},
		{API().Set(ScriptSrc, None, Self), "'none' must be the only source"},
		{API().Set(ScriptSrc, "'self"), `invalid source "'self"`},
		{API().Set(ScriptSrc, "'SELF'"), `invalid source "'SELF'"`},
		{API().Set(ScriptSrc, "self"), ""}, // a host named "self": valid CSP, if odd
		{API().Set(ScriptSrc, "'nonce-abc'"), "a fixed nonce protects nothing"},
		{API().Set(ImgSrc, NonceSource), "nonces are only valid in script and style directives"},
		{API().Set(ImgSrc, UnsafeInline), "keyword only valid in script and style directives"},
		{API().Set(ScriptSrc, StrictDynamic), "'strict-dynamic' needs NonceSource or a hash"},
		{API().Set(ScriptSrc, "'sha256-abc'"), "want 'sha256-…'"},
		{API().Set(ScriptSrc, "'sha1-"+Source(strings.Repeat("A", 28))+"'"), "want 'sha256-…'"},
		{API().Set(ImgSrc, HashOf("x")), "hashes are only valid"},
		{API().Set(ScriptSrc, "https://a.example; script-src *"), "';' and ','"},
		{API().Set(ScriptSrc, "https://a.example,https://b.example"), "';' and ','"},
		{API().Set(ScriptSrc, "https://a.example\nX: y"), "whitespace"},
		{API().Set(ScriptSrc, "https://exämple.com"), "non-ASCII"},
		{API().Set(ScriptSrc, "https://a..example"), "invalid host"},
		{API().Set(ScriptSrc, "https://-a.example"), "invalid host"},
		{API().Set(ScriptSrc, "https://a.example:99999"), "invalid port"},
		{API().Set(ScriptSrc, "https://a.example/x?y=1"), "query and fragment"},
		{API().Set(ScriptSrc, "1https://a.example"), "invalid scheme"},
		{API().Set(ScriptSrc, Self, Self), "given twice"},
		{API().Set(FrameAncestors, UnsafeInline), "frame-ancestors accepts only"},
		{API().Set(Sandbox, "allow-everything"), `invalid sandbox token "allow-everything"`},
		{API().Set(UpgradeInsecureRequests, Self), "takes no value"},
		{API().Set(RequireTrustedTypesFor, "'style'"), "want exactly"},
		{API().Set(TrustedTypes, "a b"), "invalid policy name"},
		{API().Set(TrustedTypes, "'none'", "x"), "'none' must be the only value"},
		{API().ReportURI(""), "csp: report-uri: empty URL"},
		{API().ReportURI("/r?x=1"), "csp: report-uri: invalid URL"},
		{API().ReportURI("//evil.example/r"), "want a path"},
		{API().ReportURI("http://r.example/r"), "want a path"},
		{API().ReportURI("/r; script-src *"), "invalid URL"},
		{API().ReportTo("a b", "/r"), `csp: report-to: invalid group name "a b"`},
		{API().ReportTo("g", "javascript:alert(1)"), "csp: report-to: invalid URL"},
		// The first error wins, even after valid calls.
		{API().Set("bogus", Self).Set(ImgSrc, Self), `unknown directive "bogus"`},
	}
	for _, tt := range tests {
		err := tt.p.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: unexpected error %v", tt.p.render("N"), err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("err = %v, want containing %q", err, tt.want)
		}
		if tt.want != "" {
			if tt.p.String() != "" {
				t.Errorf("invalid policy rendered %q", tt.p.String())
			}
			if _, err := tt.p.Compile(); err == nil {
				t.Errorf("invalid policy compiled")
			}
		}
	}
}

func TestCompiled(t *testing.T) {
	t.Parallel()
	c, err := HTML().ReportURI("/csp").ReportTo("csp-endpoint", "https://r.example/csp").Compile()
	if err != nil {
		t.Fatal(err)
	}
	if !c.NeedsNonce() {
		t.Fatal("NeedsNonce false")
	}
	got := c.Value("N0NCE")
	if strings.Count(got, "'nonce-N0NCE'") != 2 || !strings.HasSuffix(got, "; report-uri /csp; report-to csp-endpoint") {
		t.Errorf("Value = %q", got)
	}
	if e := c.ReportingEndpoints(); e != `csp-endpoint="https://r.example/csp"` {
		t.Errorf("ReportingEndpoints = %q", e)
	}
	if anc, ok := c.FrameAncestors(); !ok || len(anc) != 1 || anc[0] != "'none'" {
		t.Errorf("FrameAncestors = %q %v", anc, ok)
	}
	s, _ := API().Set(FrameSrc, Self).Compile()
	if s.NeedsNonce() || s.Value("ignored") != "default-src 'none'; frame-ancestors 'none'; frame-src 'self'" {
		t.Errorf("static Value = %q", s.Value("ignored"))
	}
	if !KnownDirective("report-to") || KnownDirective("script") {
		t.Error("KnownDirective")
	}
}

func TestNonceFormat(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		n := newNonce()
		if len(n) != 22 || strings.Trim(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("nonce %q", n)
		}
		if seen[n] {
			t.Fatalf("repeat %q", n)
		}
		seen[n] = true
	}
}

// FuzzSource checks that no string makes the validator panic, and that
// whatever it accepts renders into a header that cannot break out of its
// directive.
func FuzzSource(f *testing.F) {
	for _, s := range []string{"'self'", "https://a.example:8443/p/", "*.a.example", "'sha256-" + strings.Repeat("A", 43) + "='", "data:", "a;b", "'nonce-x'", "https://[::1]", "\x00", "é"} {
		f.Add(s, uint8(0))
	}
	dirs := []Directive{ScriptSrc, ImgSrc, FrameAncestors, Sandbox, TrustedTypes, UpgradeInsecureRequests}
	f.Fuzz(func(t *testing.T, s string, d uint8) {
		p := Policy{}.Set(DefaultSrc, None).Set(dirs[int(d)%len(dirs)], Source(s))
		if p.Validate() != nil {
			return
		}
		out := p.String()
		for i := 0; i < len(out); i++ {
			if out[i] < ' ' || out[i] >= 0x7f || out[i] == ',' {
				t.Fatalf("accepted %q renders unsafe %q", s, out)
			}
		}
		if strings.Count(out, ";") != 1 {
			t.Fatalf("accepted %q added a directive: %q", s, out)
		}
	})
}
