// Package fiberroute decides which fiber route a request will match before
// fiber runs its handlers, for guard's fiber v2 and v3 adapters: the two
// versions share their routing rules, and neither exports a way to ask.
// Each adapter tests this package against its fiber version's own
// RoutePatternMatch.
package fiberroute

import "strings"

// Matcher decides whether a request path matches one registered fiber
// route, following fiber's router: the route's path is lowercased unless
// the app is case sensitive and loses its trailing slashes unless routing
// is strict, and a request's detection path is the request path treated
// the same way. The common forms (static paths, "/*", and whole-segment
// ":name" parameters) are compiled here and match without allocating;
// any other form (optional, greedy and constrained parameters, several
// parameters in one segment, escapes) is handed to fiber's own
// RoutePatternMatch, exact but slower.
type Matcher struct {
	Kind  Kind
	exact string    // KindExact: the prettified path
	segs  []segment // KindSegments: the path's segments after the first "/"
}

type Kind uint8

const (
	KindFallback Kind = iota // fiber.RoutePatternMatch decides
	KindExact
	KindStar
	KindSegments
)

type segment struct {
	lit   string // lowercased unless case sensitive
	param bool
}

// Compile compiles the registered route path raw.
func Compile(raw string, caseSensitive, strict bool) Matcher {
	if raw == "" {
		raw = "/"
	}
	if raw[0] != '/' {
		raw = "/" + raw
	}
	pretty := raw
	if !caseSensitive {
		pretty = lowerASCII(pretty)
	}
	if !strict && len(pretty) > 1 {
		pretty = strings.TrimRight(pretty, "/")
	}
	switch {
	case pretty == "/*":
		return Matcher{Kind: KindStar}
	case pretty == "" || strings.IndexByte(pretty, '\\') >= 0:
		return Matcher{}
	case !strings.ContainsAny(pretty, ":+*"):
		return Matcher{Kind: KindExact, exact: pretty}
	}
	parts := strings.Split(pretty[1:], "/")
	segs := make([]segment, len(parts))
	for i, p := range parts {
		switch {
		case p == "":
			return Matcher{}
		case p[0] == ':':
			if !isParamName(p[1:]) {
				return Matcher{}
			}
			segs[i].param = true
		case strings.ContainsAny(p, ":+*"):
			return Matcher{}
		default:
			segs[i].lit = p
		}
	}
	return Matcher{Kind: KindSegments, segs: segs}
}

// isParamName reports whether s is a plain parameter name: fiber ends a
// name at any of "?:\\/-." and reads "<" as the start of a constraint, so
// names of letters, digits and "_" are the ones that need no further
// parsing.
func isParamName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// match reports whether the detection path d matches; it reports false
// for KindFallback, which the caller decides.
func (m *Matcher) Match(d string, caseSensitive bool) bool {
	switch m.Kind {
	case KindStar:
		return true
	case KindExact:
		return equal(d, m.exact, caseSensitive)
	case KindSegments:
		if d == "" || d[0] != '/' {
			return false
		}
		rest := d[1:]
		for i := range m.segs {
			part := rest
			j := strings.IndexByte(rest, '/')
			if j >= 0 {
				part, rest = rest[:j], rest[j+1:]
			}
			last := i == len(m.segs)-1
			if (j >= 0) == last {
				return false // more segments than the route, or fewer
			}
			if m.segs[i].param {
				if part == "" {
					return false
				}
			} else if !equal(part, m.segs[i].lit, caseSensitive) {
				return false
			}
		}
		return true
	}
	return false
}

// DetectionPath is the path fiber matches routes against: without its
// trailing slashes unless routing is strict. (Case is handled by equal.)
func DetectionPath(path string, strict bool) string {
	if !strict && len(path) > 1 && path[len(path)-1] == '/' {
		return strings.TrimRight(path, "/")
	}
	return path
}

// equal compares a request's s with a route's lowered lit, folding ASCII
// case unless caseSensitive, as fiber lowercases only ASCII.
func equal(s, lit string, caseSensitive bool) bool {
	if caseSensitive || len(s) != len(lit) {
		return s == lit
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lit[i] {
			return false
		}
	}
	return true
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
