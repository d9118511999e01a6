package guard

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Proxy headers a trusted proxy may set, for WithProxyHeaders.
const (
	HeaderXForwardedFor = "X-Forwarded-For"
	HeaderForwarded     = "Forwarded"
	HeaderXRealIP       = "X-Real-Ip"
)

// MaxForwardedHops is how many hops of a forwarding header guard examines,
// from the right, before it stops and keeps the last trusted address.
const MaxForwardedHops = 32

// HeaderReader is the read side of request headers. http.Header satisfies
// it; adapters for other frameworks wrap their own header access.
type HeaderReader interface {
	Get(key string) string
	Values(key string) []string
}

// proxyConfig resolves a client address from the peer address and the
// forwarding headers that trusted proxies set.
type proxyConfig struct {
	trusted []netip.Prefix
	headers []string // canonical names, in order of preference
}

// trusts reports whether a is inside one of the trusted prefixes.
func (p *proxyConfig) trusts(a netip.Addr) bool {
	for _, pr := range p.trusted {
		if pr.Contains(a) {
			return true
		}
	}
	return false
}

// resolve returns the client address. Forwarding headers count only when
// the peer is a trusted proxy; a header's hops are walked from the right,
// skipping trusted proxies, and the first untrusted hop is the client. An
// unparseable hop ends the walk at the last address known good, so a
// forged or garbled header can never make guard report an address the
// trusted chain did not vouch for.
func (p *proxyConfig) resolve(peer netip.Addr, h HeaderReader) netip.Addr {
	if len(p.trusted) == 0 || !peer.IsValid() || !p.trusts(peer) || h == nil {
		return peer
	}
	for _, name := range p.headers {
		vals := h.Values(name)
		if len(vals) == 0 {
			continue
		}
		switch name {
		case HeaderXForwardedFor:
			return p.walk(peer, vals, xffHop)
		case HeaderForwarded:
			return p.walk(peer, vals, forwardedHop)
		case HeaderXRealIP:
			// One value, set by the proxy; several lines mean it was not
			// overwritten, so none is trusted.
			if len(vals) != 1 {
				return peer
			}
			if a, ok := parseHop(strings.TrimSpace(vals[0])); ok {
				return a
			}
			return peer
		}
	}
	return peer
}

// walk goes through the comma-separated hops of vals (several header lines
// are one list, in order) from the right.
func (p *proxyConfig) walk(peer netip.Addr, vals []string, hop func(string) (netip.Addr, bool)) netip.Addr {
	client := peer
	n := 0
	for i := len(vals) - 1; i >= 0; i-- {
		v := vals[i]
		for {
			if n == MaxForwardedHops {
				return client
			}
			n++
			var elem string
			if j := strings.LastIndexByte(v, ','); j >= 0 {
				elem, v = v[j+1:], v[:j]
			} else {
				elem, v = v, ""
			}
			a, ok := hop(elem)
			if !ok {
				return client
			}
			client = a
			if !p.trusts(a) {
				return a
			}
			if v == "" {
				break
			}
		}
	}
	return client
}

// xffHop parses one X-Forwarded-For element: an address, optionally with a
// port ("192.0.2.1:80", "[2001:db8::1]:80").
func xffHop(s string) (netip.Addr, bool) {
	return parseHop(strings.TrimSpace(s))
}

// forwardedHop extracts the for= parameter of one RFC 7239 forwarded-element
// ("for=192.0.2.60;proto=http;by=203.0.113.43"). Obfuscated identifiers,
// "unknown" and elements without for= are not addresses.
func forwardedHop(elem string) (netip.Addr, bool) {
	for elem != "" {
		var pair string
		if j := strings.IndexByte(elem, ';'); j >= 0 {
			pair, elem = elem[:j], elem[j+1:]
		} else {
			pair, elem = elem, ""
		}
		pair = strings.TrimSpace(pair)
		eq := strings.IndexByte(pair, '=')
		if eq < 0 || !strings.EqualFold(strings.TrimSpace(pair[:eq]), "for") {
			continue
		}
		v := strings.TrimSpace(pair[eq+1:])
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
			if strings.IndexByte(v, '\\') >= 0 {
				return netip.Addr{}, false // no address needs escaping
			}
		}
		return parseHop(v)
	}
	return netip.Addr{}, false
}

// parseHop parses an address with an optional port or brackets and unmaps
// IPv4-mapped IPv6. Addresses with an IPv6 zone are refused.
func parseHop(s string) (netip.Addr, bool) {
	if s == "" {
		return netip.Addr{}, false
	}
	var a netip.Addr
	var err error
	switch {
	case s[0] == '[':
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		rest := s[end+1:]
		if rest != "" && !validPort(rest) {
			return netip.Addr{}, false
		}
		a, err = netip.ParseAddr(s[1:end])
		if err == nil && !a.Is6() {
			return netip.Addr{}, false
		}
	case strings.Count(s, ":") == 1:
		j := strings.IndexByte(s, ':')
		if !validPort(s[j:]) {
			return netip.Addr{}, false
		}
		a, err = netip.ParseAddr(s[:j])
		if err == nil && !a.Is4() {
			return netip.Addr{}, false
		}
	default:
		a, err = netip.ParseAddr(s)
	}
	if err != nil || a.Zone() != "" {
		// No proxy writes an interface zone into a forwarding header.
		return netip.Addr{}, false
	}
	return normalizeAddr(a), true
}

// validPort reports whether s is ":" followed by 1–5 digits.
func validPort(s string) bool {
	if len(s) < 2 || len(s) > 6 || s[0] != ':' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func normalizeAddr(a netip.Addr) netip.Addr {
	return a.Unmap().WithZone("")
}

// NormalizeAddr unmaps an IPv4-mapped IPv6 address and drops any zone: the
// form guard reports client and peer addresses in. Adapters that get the
// peer as a netip.Addr (from a *net.TCPAddr, say) pass it through this.
func NormalizeAddr(a netip.Addr) netip.Addr { return normalizeAddr(a) }

// PeerAddr parses an http.Request.RemoteAddr ("host:port", or a bare
// address) into a normalised address; it returns the zero Addr for
// anything else (a Unix socket path, for example).
func PeerAddr(remoteAddr string) netip.Addr {
	// net/http writes "ip:port" or "[ip6]:port"; the port is not needed,
	// so it is checked for shape but not parsed as a number.
	host := remoteAddr
	if n := len(remoteAddr); n > 0 && remoteAddr[0] == '[' {
		end := strings.LastIndexByte(remoteAddr, ']')
		if end < 0 || (end+1 < n && !validPort(remoteAddr[end+1:])) || (end+1 == n) {
			return netip.Addr{}
		}
		host = remoteAddr[1:end]
	} else if i := strings.LastIndexByte(remoteAddr, ':'); i >= 0 && strings.IndexByte(remoteAddr[:i], ':') < 0 {
		if !validPort(remoteAddr[i:]) {
			return netip.Addr{}
		}
		host = remoteAddr[:i]
	}
	if a, ok := parseIPv4(host); ok {
		return a
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return normalizeAddr(a)
}

// parseIPv4 parses a dotted-quad IPv4 address the way netip.ParseAddr
// does (four decimal fields of at most 255, no leading zeros), in a
// fraction of its time; anything else reports false and is left to
// netip.ParseAddr. FuzzPeerAddr holds the two to the same answers.
func parseIPv4(s string) (netip.Addr, bool) {
	var ip [4]byte
	field, val, digits := 0, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			if digits == 1 && val == 0 {
				return netip.Addr{}, false // leading zero
			}
			val = val*10 + int(c-'0')
			digits++
			if val > 255 {
				return netip.Addr{}, false
			}
		case c == '.':
			if digits == 0 || field == 3 {
				return netip.Addr{}, false
			}
			ip[field] = byte(val)
			field, val, digits = field+1, 0, 0
		default:
			return netip.Addr{}, false
		}
	}
	if field != 3 || digits == 0 {
		return netip.Addr{}, false
	}
	ip[3] = byte(val)
	return netip.AddrFrom4(ip), true
}

// forwardedProto returns the scheme a trusted proxy reports
// (X-Forwarded-Proto, or proto= in Forwarded when that header is enabled),
// or "" when there is none or the peer is not trusted.
func (p *proxyConfig) forwardedProto(peer netip.Addr, h HeaderReader) string {
	if len(p.trusted) == 0 || !peer.IsValid() || !p.trusts(peer) || h == nil {
		return ""
	}
	for _, name := range p.headers {
		if name != HeaderForwarded {
			continue
		}
		vals := h.Values(HeaderForwarded)
		if len(vals) == 0 {
			break
		}
		last := vals[len(vals)-1]
		if j := strings.LastIndexByte(last, ','); j >= 0 {
			last = last[j+1:]
		}
		for _, pair := range strings.Split(last, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if ok && strings.EqualFold(k, "proto") {
				return schemeOf(strings.Trim(v, `"`))
			}
		}
	}
	v := h.Get("X-Forwarded-Proto")
	if j := strings.LastIndexByte(v, ','); j >= 0 {
		v = v[j+1:]
	}
	return schemeOf(strings.TrimSpace(v))
}

func schemeOf(v string) string {
	switch {
	case strings.EqualFold(v, "https"):
		return "https"
	case strings.EqualFold(v, "http"):
		return "http"
	}
	return ""
}

// parseTrustedProxies parses CIDRs or single addresses.
func parseTrustedProxies(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if strings.IndexByte(s, '/') >= 0 {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, err
			}
			if p.Addr().Is4In6() {
				if p.Bits() < 96 {
					return nil, fmt.Errorf("IPv4-mapped prefix %q shorter than /96", s)
				}
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, err
		}
		a = normalizeAddr(a)
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

var _ HeaderReader = http.Header(nil)
