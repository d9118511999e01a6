package csrf

import (
	"errors"
	"net/netip"
	"strings"
)

// maxOriginLen bounds the Origin values guard parses; browsers send a
// scheme, a host of at most 253 bytes and a port.
const maxOriginLen = 512

var (
	errNullOrigin = errors.New(`origin is "null"`)
	errUserinfo   = errors.New("origin has userinfo")
	errMalformed  = errors.New("origin is not scheme://host[:port]")
)

// origin is a parsed, normalised Origin: lower-case scheme and host, the
// scheme's default port dropped.
type origin struct {
	scheme string
	host   string // lower case; IPv6 in brackets
	port   string // "" for the scheme's default port
}

func (o origin) String() string {
	s := o.scheme + "://" + o.host
	if o.port != "" {
		s += ":" + o.port
	}
	return s
}

// parseOrigin parses an Origin header value (RFC 6454 serialisation):
// exactly scheme "://" host [":" port], nothing else. "null", userinfo,
// paths, queries, fragments, percent-encoding, backslashes, whitespace
// and non-ASCII are rejected.
func parseOrigin(s string) (origin, error) {
	if s == "null" || strings.EqualFold(s, "null") {
		return origin{}, errNullOrigin
	}
	if len(s) > maxOriginLen {
		return origin{}, errMalformed
	}
	i := strings.Index(s, "://")
	if i <= 0 || !isScheme(s[:i]) {
		return origin{}, errMalformed
	}
	scheme, rest := strings.ToLower(s[:i]), s[i+3:]
	if strings.IndexByte(rest, '@') >= 0 {
		return origin{}, errUserinfo
	}
	for j := 0; j < len(rest); j++ {
		c := rest[j]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("/?#\\%", c) >= 0 {
			return origin{}, errMalformed
		}
	}
	host, port, ok := splitHostPort(rest)
	if !ok {
		return origin{}, errMalformed
	}
	return origin{scheme: scheme, host: host, port: defaultPort(scheme, port)}, nil
}

// splitHostPort splits and validates host[:port]; it returns the host in
// lower case (IPv6 with brackets) and the port without the colon.
func splitHostPort(s string) (host, port string, ok bool) {
	if s == "" {
		return "", "", false
	}
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", false
		}
		a, err := netip.ParseAddr(s[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", "", false
		}
		host, rest := strings.ToLower(s[:end+1]), s[end+1:]
		if rest == "" {
			return host, "", true
		}
		if rest[0] != ':' || !validPort(rest[1:]) {
			return "", "", false
		}
		return host, rest[1:], true
	}
	host = s
	if j := strings.LastIndexByte(s, ':'); j >= 0 {
		host, port = s[:j], s[j+1:]
		if !validPort(port) {
			return "", "", false
		}
	}
	if !validHost(host) {
		return "", "", false
	}
	return strings.ToLower(host), port, true
}

func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c == '-' || c == '.' || c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return h[0] != '.' && h[len(h)-1] != '.' && !strings.Contains(h, "..")
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 || p[0] == '0' {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n <= 65535
}

func defaultPort(scheme, port string) string {
	if scheme == "https" && port == "443" || scheme == "http" && port == "80" {
		return ""
	}
	return port
}

func isScheme(s string) bool {
	if s == "" || len(s) > 32 || !('a' <= s[0] && s[0] <= 'z' || 'A' <= s[0] && s[0] <= 'Z') {
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

// sameOrigin reports whether o is the origin of a request with the given
// scheme and Host header. Unlike net/http.CrossOriginProtection it
// compares the scheme too: guard knows it (TLS, or a trusted proxy), so an
// http:// page posting to the https:// site is cross-origin.
func sameOrigin(o origin, scheme, hostHeader string) bool {
	if o.scheme != scheme {
		return false
	}
	host, port, ok := splitHostPort(hostHeader)
	if !ok {
		return false
	}
	return o.host == host && o.port == defaultPort(scheme, port)
}
