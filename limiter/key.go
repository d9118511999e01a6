package limiter

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"

	"github.com/guardsdk/guard"
)

// Key says whose budget a request spends under a Rule: it appends the
// request's identity to dst and returns it, or returns false to skip the
// rule for this request (an anonymous request under ByPrincipal, say).
//
// An identity is also the Redis Cluster hash tag of its limits, so it must
// not contain '{' or '}': the functions here escape them (with '%', '|'
// and control bytes) as %XX. A Key must be safe for concurrent use, must
// not panic and must not trust unverified client input as an identity:
// a client that can choose its key can choose an empty budget.
type Key func(r *guard.Request, dst []byte) ([]byte, bool)

// maxIdentity bounds an identity; longer ones are replaced by a digest.
const maxIdentity = 200

// ByIP keys by client address (as resolved by the Guard through trusted
// proxies), IPv6 addresses grouped by /64: one customer usually owns a
// whole /64, and keying by single IPv6 addresses would let one client
// rotate through 2^64 budgets. Requests without a client address share
// one budget, "ip:-".
func ByIP() Key { return ByIPPrefix(32, 64) }

// ByIPPrefix keys by client address grouped by the given prefix lengths
// (v4 in [1, 32], v6 in [1, 128]; out-of-range values are clamped).
func ByIPPrefix(v4, v6 int) Key {
	v4, v6 = min(max(v4, 1), 32), min(max(v6, 1), 128)
	return func(r *guard.Request, dst []byte) ([]byte, bool) {
		return appendIP(dst, r.ClientIP, v4, v6), true
	}
}

func appendIP(dst []byte, a netip.Addr, v4, v6 int) []byte {
	dst = append(dst, "ip:"...)
	if !a.IsValid() {
		return append(dst, '-')
	}
	a = a.Unmap().WithZone("")
	bits := v6
	if a.Is4() {
		bits = v4
	}
	if bits < a.BitLen() {
		p, _ := a.Prefix(bits)
		dst = p.Addr().AppendTo(dst)
		dst = append(dst, '/')
		return appendInt(dst, bits)
	}
	return a.AppendTo(dst)
}

func appendInt(dst []byte, n int) []byte {
	if n >= 100 {
		dst = append(dst, byte('0'+n/100))
		n %= 100
		return append(dst, byte('0'+n/10), byte('0'+n%10))
	}
	if n >= 10 {
		dst = append(dst, byte('0'+n/10))
	}
	return append(dst, byte('0'+n%10))
}

// ByPrincipal keys by the authenticated user (guard.WithPrincipal) and
// skips anonymous requests.
func ByPrincipal() Key {
	return func(r *guard.Request, dst []byte) ([]byte, bool) {
		p := r.Principal()
		if p == "" {
			return dst, false
		}
		return appendIdentity(dst, "u:", p), true
	}
}

// ByPrincipalOrIP keys by the authenticated user, or by client address
// (ByIP) for anonymous requests.
func ByPrincipalOrIP() Key {
	return func(r *guard.Request, dst []byte) ([]byte, bool) {
		if p := r.Principal(); p != "" {
			return appendIdentity(dst, "u:", p), true
		}
		return appendIP(dst, r.ClientIP, 32, 64), true
	}
}

// ByEndpoint keys by method and route template: one budget per endpoint
// shared by all clients (a global limit on an expensive endpoint).
// Combine it with another Key in Composite for per-client, per-endpoint
// budgets.
func ByEndpoint() Key {
	return func(r *guard.Request, dst []byte) ([]byte, bool) {
		dst = append(dst, "ep:"...)
		dst = appendEscaped(dst, r.Method)
		dst = append(dst, ' ')
		return appendEscaped(dst, r.Route), true
	}
}

// ByAPIKey keys by the value of the named request header, an API key, and
// skips requests without it. The value is stored only as a SHA-256
// digest, so the backend never holds a usable key. The header must be one
// your authentication verifies, or a client could mint budgets at will.
func ByAPIKey(header string) Key {
	return func(r *guard.Request, dst []byte) ([]byte, bool) {
		if r.Header == nil {
			return dst, false
		}
		v := r.Header.Get(header)
		if v == "" {
			return dst, false
		}
		sum := sha256.Sum256([]byte(v))
		dst = append(dst, "k:"...)
		return hex.AppendEncode(dst, sum[:16]), true
	}
}

// Composite keys by all of keys together ("per user and endpoint"),
// joined with '|'; it skips the request when any of them does.
func Composite(keys ...Key) Key {
	keys = append([]Key(nil), keys...)
	return func(r *guard.Request, dst []byte) ([]byte, bool) {
		for i, k := range keys {
			if k == nil {
				return dst, false
			}
			if i > 0 {
				dst = append(dst, '|')
			}
			var ok bool
			if dst, ok = k(r, dst); !ok {
				return dst, false
			}
		}
		return dst, true
	}
}

// appendIdentity appends prefix and s escaped, or a digest of s when it
// is too long.
func appendIdentity(dst []byte, prefix, s string) []byte {
	dst = append(dst, prefix...)
	if len(s) > maxIdentity/2 {
		sum := sha256.Sum256([]byte(s))
		dst = append(dst, '#')
		return hex.AppendEncode(dst, sum[:16])
	}
	return appendEscaped(dst, s)
}

// appendEscaped appends s with '{', '}', '%', '|', '#' and control bytes
// written as %XX, so identities are unambiguous and never contain a
// Redis Cluster hash tag delimiter.
func appendEscaped(dst []byte, s string) []byte {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' || c == '}' || c == '%' || c == '|' || c == '#' || c < 0x20 || c == 0x7f:
			dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
