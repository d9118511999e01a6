package guard

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"unicode"
)

func mustProxies(t testing.TB, headers []string, cidrs ...string) *proxyConfig {
	t.Helper()
	pr, err := parseTrustedProxies(cidrs)
	if err != nil {
		t.Fatal(err)
	}
	if headers == nil {
		headers = []string{HeaderXForwardedFor}
	}
	return &proxyConfig{trusted: pr, headers: headers}
}

func TestResolveClientIP(t *testing.T) {
	t.Parallel()
	all := []string{HeaderForwarded, HeaderXForwardedFor, HeaderXRealIP}
	tests := []struct {
		name    string
		headers []string
		trusted []string
		peer    string
		hdr     map[string][]string
		want    string
	}{
		{"no proxies trusted ignores XFF", nil, nil, "203.0.113.9", map[string][]string{"X-Forwarded-For": {"1.2.3.4"}}, "203.0.113.9"},
		{"untrusted peer spoofing XFF", nil, []string{"10.0.0.0/8"}, "203.0.113.9", map[string][]string{"X-Forwarded-For": {"1.2.3.4"}}, "203.0.113.9"},
		{"trusted peer, one hop", nil, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"X-Forwarded-For": {"198.51.100.7"}}, "198.51.100.7"},
		{"client prepends spoofed hops", nil, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"X-Forwarded-For": {"6.6.6.6, 7.7.7.7, 198.51.100.7"}}, "198.51.100.7"},
		{"several trusted hops skipped", nil, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"X-Forwarded-For": {"6.6.6.6, 198.51.100.7, 10.1.1.1, 10.2.2.2"}}, "198.51.100.7"},
		{"several header lines are one list", nil, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"X-Forwarded-For": {"6.6.6.6", "198.51.100.7, 10.3.3.3"}}, "198.51.100.7"},
		{"garbage hop stops at last trusted", nil, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"X-Forwarded-For": {"6.6.6.6, not-an-ip, 10.9.9.9"}}, "10.9.9.9"},
		{"garbage rightmost keeps peer", nil, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"X-Forwarded-For": {"1.2.3.4, <script>"}}, "10.0.0.1"},
		{"empty element keeps peer", nil, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"X-Forwarded-For": {"1.2.3.4,"}}, "10.0.0.1"},
		{"all hops trusted gives leftmost", nil, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"X-Forwarded-For": {"10.5.5.5, 10.6.6.6"}}, "10.5.5.5"},
		{"port on hop", nil, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"X-Forwarded-For": {"198.51.100.7:5555"}}, "198.51.100.7"},
		{"bracketed v6 with port", nil, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"X-Forwarded-For": {"[2001:db8::1]:443"}}, "2001:db8::1"},
		{"v4-mapped v6 is unmapped", nil, []string{"10.0.0.0/8"}, "::ffff:10.0.0.1", map[string][]string{"X-Forwarded-For": {"::ffff:198.51.100.7"}}, "198.51.100.7"},
		{"v4-mapped hop trusted as v4", nil, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"X-Forwarded-For": {"198.51.100.7, ::ffff:10.4.4.4"}}, "198.51.100.7"},
		{"zone refused", nil, []string{"fe80::/10"}, "fe80::1", map[string][]string{"X-Forwarded-For": {"198.51.100.7, fe80::2%eth0"}}, "fe80::1"},
		{"single trusted address", nil, []string{"192.0.2.10"}, "192.0.2.10", map[string][]string{"X-Forwarded-For": {"198.51.100.7"}}, "198.51.100.7"},
		{"XFF not configured is ignored", []string{HeaderForwarded}, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"X-Forwarded-For": {"198.51.100.7"}}, "10.0.0.1"},
		{"Forwarded for=", []string{HeaderForwarded}, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"Forwarded": {`for=6.6.6.6, for=198.51.100.7;proto=https;by=10.0.0.1`}}, "198.51.100.7"},
		{"Forwarded quoted v6", []string{HeaderForwarded}, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"Forwarded": {`for="[2001:db8:cafe::17]:4711"`}}, "2001:db8:cafe::17"},
		{"Forwarded FOR case-insensitive", []string{HeaderForwarded}, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"Forwarded": {`proto=http;FOR=198.51.100.7`}}, "198.51.100.7"},
		{"Forwarded unknown stops", []string{HeaderForwarded}, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"Forwarded": {`for=6.6.6.6, for=unknown`}}, "10.0.0.1"},
		{"Forwarded obfuscated stops", []string{HeaderForwarded}, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"Forwarded": {`for=6.6.6.6, for=_hidden, for=10.2.2.2`}}, "10.2.2.2"},
		{"Forwarded without for stops", []string{HeaderForwarded}, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"Forwarded": {`by=10.0.0.1`}}, "10.0.0.1"},
		{"Forwarded unbracketed v6 with port rejected", []string{HeaderForwarded}, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"Forwarded": {`for="2001:db8::1:80"`}}, "2001:db8::1:80"},
		{"X-Real-IP from trusted", []string{HeaderXRealIP}, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"X-Real-Ip": {"198.51.100.7"}}, "198.51.100.7"},
		{"X-Real-IP from untrusted", []string{HeaderXRealIP}, []string{"10.0.0.0/8"}, "203.0.113.9", map[string][]string{"X-Real-Ip": {"198.51.100.7"}}, "203.0.113.9"},
		{"X-Real-IP twice is not trusted", []string{HeaderXRealIP}, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"X-Real-Ip": {"6.6.6.6", "198.51.100.7"}}, "10.0.0.1"},
		{"X-Real-IP garbage", []string{HeaderXRealIP}, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"X-Real-Ip": {"1.2.3.4.5"}}, "10.0.0.1"},
		{"first configured header present wins", all, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"X-Forwarded-For": {"198.51.100.8"}, "Forwarded": {"for=198.51.100.7"}}, "198.51.100.7"},
		{"falls to next configured header", all, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"X-Forwarded-For": {"198.51.100.8"}}, "198.51.100.8"},
		{"v4 with port and extra colon rejected", nil, []string{"10.0.0.0/8"}, "10.0.0.1", map[string][]string{"X-Forwarded-For": {"1.2.3.4:80:90"}}, "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := mustProxies(t, tt.headers, tt.trusted...)
			h := http.Header{}
			for k, v := range tt.hdr {
				h[k] = v
			}
			got := p.resolve(netip.MustParseAddr(tt.peer).Unmap(), h)
			if got.String() != tt.want {
				t.Fatalf("resolve = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestResolveHopLimit(t *testing.T) {
	t.Parallel()
	p := mustProxies(t, nil, "10.0.0.0/8")
	hops := make([]string, 0, 100)
	hops = append(hops, "198.51.100.7")
	for i := 0; i < 99; i++ {
		hops = append(hops, "10.0.0.2")
	}
	got := p.resolve(netip.MustParseAddr("10.0.0.1"), http.Header{"X-Forwarded-For": {strings.Join(hops, ",")}})
	if got != netip.MustParseAddr("10.0.0.2") {
		t.Fatalf("beyond MaxForwardedHops: got %v, want the last trusted hop examined", got)
	}
}

func TestForwardedProto(t *testing.T) {
	t.Parallel()
	p := mustProxies(t, []string{HeaderForwarded, HeaderXForwardedFor}, "10.0.0.0/8")
	trusted, untrusted := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("203.0.113.1")
	if got := p.forwardedProto(trusted, http.Header{"X-Forwarded-Proto": {"https"}}); got != "https" {
		t.Fatalf("trusted X-Forwarded-Proto: %q", got)
	}
	if got := p.forwardedProto(untrusted, http.Header{"X-Forwarded-Proto": {"https"}}); got != "" {
		t.Fatalf("untrusted X-Forwarded-Proto believed: %q", got)
	}
	if got := p.forwardedProto(trusted, http.Header{"Forwarded": {"for=1.2.3.4;proto=https"}}); got != "https" {
		t.Fatalf("Forwarded proto: %q", got)
	}
	if got := p.forwardedProto(trusted, http.Header{"X-Forwarded-Proto": {"gopher"}}); got != "" {
		t.Fatalf("bogus proto accepted: %q", got)
	}
}

func TestPeerAddr(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"192.0.2.1:1234":        "192.0.2.1",
		"[::ffff:192.0.2.1]:80": "192.0.2.1",
		"[2001:db8::1]:80":      "2001:db8::1",
		"192.0.2.1":             "192.0.2.1",
		"@":                     "invalid IP",
		"":                      "invalid IP",
		"[::1]":                 "invalid IP",
		"[::1]:x":               "invalid IP",
		"1.2.3.4:":              "invalid IP",
		"1.2.3.4:99999999":      "invalid IP",
		"2001:db8::1":           "2001:db8::1",
		"[fe80::1%eth0]:80":     "fe80::1",
		"/tmp/sock":             "invalid IP",
	} {
		if got := PeerAddr(in).String(); got != want {
			t.Errorf("PeerAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseTrustedProxies(t *testing.T) {
	t.Parallel()
	got, err := parseTrustedProxies([]string{"10.1.2.3/8", "::ffff:192.168.0.0/112", "2001:db8::1"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.168.0.0/16", "2001:db8::1/128"}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("prefix %d = %v, want %v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "nope", "::ffff:0:0/90", "1.2.3.4/"} {
		if _, err := parseTrustedProxies([]string{bad}); err == nil {
			t.Errorf("parseTrustedProxies(%q) accepted", bad)
		}
	}
}

// FuzzForwardingHeaders checks that no X-Forwarded-For, Forwarded or
// X-Real-IP value panics, and that whatever is returned is either the peer
// or an address literally present in the header: guard never invents an
// address, and never believes one when the peer is untrusted.
func FuzzForwardingHeaders(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "for=1.2.3.4", `for="[::1]:80"`, "1.2.3.4, 10.0.0.2", "[::1", "::ffff:1.2.3.4", ",,,", "for=", `for="\"`, "1.2.3.4:99999"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, v string, trustedPeer bool) {
		peer := netip.MustParseAddr("203.0.113.1")
		if trustedPeer {
			peer = netip.MustParseAddr("10.0.0.1")
		}
		for _, hdr := range []string{HeaderXForwardedFor, HeaderForwarded, HeaderXRealIP} {
			p := mustProxies(t, []string{hdr}, "10.0.0.0/8")
			got := p.resolve(peer, http.Header{hdr: {v}})
			if !got.IsValid() {
				t.Fatalf("%s %q: invalid result", hdr, v)
			}
			if got == peer {
				continue
			}
			if !trustedPeer {
				t.Fatalf("%s %q from untrusted peer believed: %v", hdr, v, got)
			}
			if got.Is4In6() || got.Zone() != "" {
				t.Fatalf("%s %q: not normalised: %v", hdr, v, got)
			}
			if !headerMentions(v, got) {
				t.Fatalf("%s %q: %v is not in the header", hdr, v, got)
			}
		}
		_ = p2(v)
	})
}

// p2 exercises the hop parsers directly.
func p2(v string) bool {
	_, a := parseHop(v)
	_, b := forwardedHop(v)
	_, c := xffHop(v)
	return a || b || c
}

// headerMentions reports whether some token of v parses to a.
func headerMentions(v string, a netip.Addr) bool {
	f := func(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune(",;=\"[]", r) }
	for _, tok := range strings.FieldsFunc(v, f) {
		if b, ok := parseHop(tok); ok && b == a {
			return true
		}
		if i := strings.LastIndexByte(tok, ':'); i > 0 {
			if b, ok := parseHop(tok[:i]); ok && b == a {
				return true
			}
		}
		if b, err := netip.ParseAddr(tok); err == nil && normalizeAddr(b) == a {
			return true
		}
	}
	return false
}

// FuzzPeerAddr checks PeerAddr against netip.ParseAddrPort: wherever the
// standard parser accepts a RemoteAddr, PeerAddr returns its address.
func FuzzPeerAddr(f *testing.F) {
	for _, s := range []string{"192.0.2.1:1234", "[::1]:80", "[::ffff:1.2.3.4]:1", "1.2.3.4", "[fe80::1%eth0]:80", ":80", "[]:1",
		"01.2.3.4", "1.2.3.256", "1.2.3.4.5", "1..3.4", "0.0.0.0", "255.255.255.255:65535", "1.2.3.", ".1.2.3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := PeerAddr(s)
		if ap, err := netip.ParseAddrPort(s); err == nil {
			if want := normalizeAddr(ap.Addr()); got != want {
				t.Fatalf("PeerAddr(%q) = %v, ParseAddrPort says %v", s, got, want)
			}
		}
		if got.IsValid() && (got.Is4In6() || got.Zone() != "") {
			t.Fatalf("PeerAddr(%q) = %v not normalised", s, got)
		}
		fast, ok := parseIPv4(s)
		std, err := netip.ParseAddr(s)
		if ok && (err != nil || fast != std) || !ok && err == nil && std.Is4() {
			t.Fatalf("parseIPv4(%q) = %v, %v; netip.ParseAddr says %v, %v", s, fast, ok, std, err)
		}
	})
}
